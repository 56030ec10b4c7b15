"""Case queries; what an officer may read is decided inside the statement."""

from __future__ import annotations

from sqlalchemy import Select, and_, false, select
from sqlalchemy.ext.asyncio import AsyncSession

from crypto.keys import key_id_of
from wbs.reporting.models import Report, ReportWrap
from wbs.staff.models import Staff


def current_key_id(actor: Staff) -> str | None:
    """The key id of the actor's current *approved* key, or None."""
    public_key = actor.approved_public_key
    if public_key is None:
        return None
    try:
        return key_id_of(public_key)
    except ValueError:
        return None


def readable_statement(actor: Staff) -> Select[Report]:
    """Cases carrying a wrap for the actor's current approved key; nothing else exists for them."""
    kid = current_key_id(actor)
    if kid is None:
        return select(Report).where(false())
    return select(Report).join(
        ReportWrap,
        and_(
            ReportWrap.report_id == Report.id,
            ReportWrap.key_id == kid,
            ReportWrap.staff_id == actor.id,
        ),
    )


async def readable_case(db: AsyncSession, actor: Staff, public_id: str) -> Report | None:
    return await db.scalar(readable_statement(actor).where(Report.public_id == public_id))


async def inbox(db: AsyncSession, actor: Staff) -> list[Report]:
    rows = await db.scalars(
        readable_statement(actor).order_by(Report.last_activity_at.desc(), Report.id.desc())
    )
    return list(rows)


async def colleagues(db: AsyncSession, report: Report, present: set[int]) -> list[Staff]:
    """Active staff of the report's unit with an approved key, not in `present`, not excluded."""
    excluded = set(report.excluded_staff_ids or [])
    found = await db.scalars(
        select(Staff)
        .where(
            Staff.unit_id == report.unit_id,
            Staff.active.is_(True),
            Staff.public_key.is_not(None),
            Staff.key_approved_at.is_not(None),
        )
        .order_by(Staff.name, Staff.email)
    )
    return [s for s in found if s.id not in present | excluded]
