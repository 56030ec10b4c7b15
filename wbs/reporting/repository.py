"""Report queries and the per-(unit, type, year) case counter."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from wbs.core.db import utcnow
from wbs.reporting.models import Attachment, MailboxSession, Message, Report, ReportWrap
from wbs.units.models import CaseType, Unit


async def next_case_seq(db: AsyncSession, unit_id: int, case_type: CaseType, year: int) -> int:
    """Increment the counter row inside the caller's transaction (row lock until commit)."""
    from wbs.reporting.models import CaseCounter

    bump = (
        update(CaseCounter)
        .where(
            CaseCounter.unit_id == unit_id,
            CaseCounter.case_type == case_type.value,
            CaseCounter.year == year,
        )
        .values(last=CaseCounter.last + 1)
        .returning(CaseCounter.last)
    )
    seq = await db.scalar(bump)
    if seq is not None:
        return int(seq)
    values = {"unit_id": unit_id, "case_type": case_type.value, "year": year, "last": 0}
    insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    await db.execute(insert(CaseCounter).values(**values).on_conflict_do_nothing())
    seq = await db.scalar(bump)
    if seq is None:  # pragma: no cover - the row exists now
        raise RuntimeError("case counter row missing")
    return int(seq)


async def unit_of(db: AsyncSession, report: Report) -> Unit:
    """The unit a report belongs to (the foreign key guarantees it exists)."""
    unit = await db.get(Unit, report.unit_id)
    assert unit is not None  # noqa: S101 - foreign key
    return unit


async def by_public_id(db: AsyncSession, public_id: str) -> Report | None:
    return await db.scalar(select(Report).where(Report.public_id == public_id))


async def by_lookup_hash(db: AsyncSession, lookup_hash: str) -> Report | None:
    return await db.scalar(select(Report).where(Report.lookup_hash == lookup_hash))


async def mailbox_report(db: AsyncSession, session_id: str) -> Report | None:
    return await db.scalar(
        select(Report)
        .join(MailboxSession, MailboxSession.report_id == Report.id)
        .where(MailboxSession.id == session_id, MailboxSession.expires_at > utcnow())
    )


async def wraps_of(db: AsyncSession, report_id: int) -> list[ReportWrap]:
    rows = await db.scalars(
        select(ReportWrap).where(ReportWrap.report_id == report_id).order_by(ReportWrap.id)
    )
    return list(rows)


async def messages_of(db: AsyncSession, report_id: int) -> list[Message]:
    rows = await db.scalars(
        select(Message)
        .where(Message.report_id == report_id)
        .order_by(Message.created_at, Message.id)
    )
    return list(rows)


async def attachments_of(db: AsyncSession, report_id: int) -> list[Attachment]:
    rows = await db.scalars(
        select(Attachment).where(Attachment.report_id == report_id).order_by(Attachment.id)
    )
    return list(rows)


async def attachment(db: AsyncSession, report_id: int, public_id: str) -> Attachment | None:
    return await db.scalar(
        select(Attachment).where(
            Attachment.report_id == report_id, Attachment.public_id == public_id
        )
    )


async def public_id_taken(
    db: AsyncSession, model: type[Message | Attachment], public_id: str
) -> bool:
    return (await db.scalar(select(model.id).where(model.public_id == public_id))) is not None
