"""Case queries; what an officer may read is decided inside the statement."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from crypto.keys import key_id_of
from wbs.cases.models import Note
from wbs.reporting.models import Attachment, Message, Report, ReportWrap
from wbs.staff.models import Staff
from wbs.units.models import Unit


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


# What a list of cases never shows (nor needs to adopt a case into its workflow): the boxes,
# keys and proofs stay in the database, the page is read from the rest of the row.
UNLISTED = (
    Report.content,
    Report.identity,
    Report.identity_commitment,
    Report.reporter_key,
    Report.envelope_sha256,
    Report.proof_signature,
    Report.lookup_hash,
    Report.excluded_key_ids,
    Report.excluded_staff_ids,
)


async def inbox(
    db: AsyncSession,
    actor: Staff,
    *,
    limit: int,
    offset: int = 0,
    where: Sequence[ColumnElement[bool]] = (),
    first: Sequence[ColumnElement[Any]] = (),
) -> list[Report]:
    """A page of the actor's readable cases matching `where`, ordered by `first`, then the
    latest activity first (index `ix_reports_activity`)."""
    rows = await db.scalars(
        readable_statement(actor)
        .options(*(defer(column, raiseload=True) for column in UNLISTED))
        .where(*where)
        .order_by(*first, Report.last_activity_at.desc(), Report.id.desc())
        .limit(limit)
        .offset(offset)
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


async def counts_per_report(
    db: AsyncSession, model: type[Message] | type[Attachment], report_ids: list[int]
) -> dict[int, int]:
    """report id -> number of its messages (or attachments), for reports that have any."""
    if not report_ids:
        return {}
    rows = await db.execute(
        select(model.report_id, func.count())
        .where(model.report_id.in_(report_ids))
        .group_by(model.report_id)
    )
    return {report_id: int(count) for report_id, count in rows}


async def unit_codes(db: AsyncSession, unit_ids: set[int]) -> dict[int, str]:
    rows = await db.execute(select(Unit.id, Unit.code).where(Unit.id.in_(unit_ids)))
    return {unit_id: code for unit_id, code in rows}


async def unit(db: AsyncSession, unit_id: int) -> Unit | None:
    return await db.get(Unit, unit_id)


async def notes_with_authors(db: AsyncSession, report_id: int) -> list[tuple[Note, str]]:
    """The case's internal notes, oldest first, each with its author's e-mail."""
    rows = await db.execute(
        select(Note, Staff.email)
        .join(Staff, Staff.id == Note.author_id)
        .where(Note.report_id == report_id)
        .order_by(Note.created_at, Note.id)
    )
    return [(note, email) for note, email in rows]


async def staff_by_id(db: AsyncSession, staff_ids: set[int]) -> dict[int, Staff]:
    return {s.id: s for s in await db.scalars(select(Staff).where(Staff.id.in_(staff_ids)))}


async def staff(db: AsyncSession, staff_id: int) -> Staff | None:
    return await db.get(Staff, staff_id)


async def note_exists(db: AsyncSession, public_id: str) -> bool:
    return await db.scalar(select(Note.id).where(Note.public_id == public_id)) is not None


async def has_wrap(db: AsyncSession, report_id: int, key_id: str) -> bool:
    """Whether the case already carries a wrap of its data key for this key id."""
    found = await db.scalar(
        select(ReportWrap.id).where(ReportWrap.report_id == report_id, ReportWrap.key_id == key_id)
    )
    return found is not None


def add_note(db: AsyncSession, note: Note) -> None:
    db.add(note)


def add_wrap(db: AsyncSession, wrap: ReportWrap) -> None:
    db.add(wrap)
