"""Queries of retention: which closed cases are due, and the guarded removals."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from wbs.cases.models import Note
from wbs.identity.models import IdentityRequest
from wbs.identity.models import State as IdentityState
from wbs.reporting.models import (
    Attachment,
    CaseStatus,
    IdentityWrap,
    MailboxSession,
    Message,
    Report,
    ReportNotice,
    ReportWrap,
)
from wbs.units.models import CaseType, Channel, Unit

CLOSED = (CaseStatus.selesai, CaseStatus.ditolak)  # the statuses of terminal states
DESTROYED_NOTE = (
    "Identitas pelapor telah dimusnahkan (retensi). / The identity was destroyed (retention)."
)


@dataclass(frozen=True)
class Due:
    """A closed case past a retention period (what the tombstone and the audit name)."""

    report_id: int
    unit_id: int
    case_number: str
    case_type: CaseType
    closed_at: datetime
    years: int


async def channel_years(
    db: AsyncSession, content_default: int, identity_default: int | None, *, identity: bool
) -> dict[int, list[int]]:
    """Channel ids by the years their closed cases are kept: the content, or the identity
    (never longer than the content; channels without an identity period are left out)."""
    by_years: dict[int, list[int]] = defaultdict(list)
    rows = await db.execute(
        select(Channel.id, Channel.retention_years, Channel.identity_retention_years)
    )
    for channel_id, own_content, own_identity in rows:
        years = own_content if own_content is not None else content_default
        if identity:
            kept = own_identity if own_identity is not None else identity_default
            if kept is None:
                continue
            years = min(years, kept)
        by_years[years].append(channel_id)
    return by_years


async def due(
    db: AsyncSession,
    cutoffs: Iterable[tuple[int, datetime, list[int]]],
    *,
    identity: bool,
    limit: int,
) -> list[Due]:
    """Closed cases of these channels closed at or before the cutoff, oldest first."""
    found: list[Due] = []
    for years, cutoff, channel_ids in cutoffs:
        query = select(
            Report.id,
            Report.unit_id,
            Report.case_number,
            Report.case_type,
            Report.status_changed_at,
        ).where(*_due_filter(cutoff, channel_ids, identity=identity))
        rows = await db.execute(query.order_by(Report.status_changed_at, Report.id).limit(limit))
        found += [Due(r[0], r[1], r[2], r[3], r[4], years) for r in rows]
    return sorted(found, key=lambda d: (d.closed_at, d.report_id))[:limit]


def _due_filter(
    cutoff: datetime, channel_ids: list[int], *, identity: bool
) -> list[ColumnElement[bool]]:
    where = [
        Report.channel_id.in_(channel_ids),
        Report.status.in_(CLOSED),
        Report.status_changed_at <= cutoff,
        Report.purged_at.is_(None),
    ]
    if identity:
        where += [Report.identity_destroyed_at.is_(None), Report.identity.is_not(None)]
    return where


async def count_due(
    db: AsyncSession, cutoffs: Iterable[tuple[int, datetime, list[int]]], *, identity: bool
) -> int:
    """How many closed cases are past their period and not yet handled (the backlog)."""
    total = 0
    for _years, cutoff, channel_ids in cutoffs:
        query = select(func.count()).select_from(Report)
        total += (
            await db.scalar(query.where(*_due_filter(cutoff, channel_ids, identity=identity))) or 0
        )
    return total


def _still(item: Due) -> ColumnElement[bool]:
    """The guard: still closed, at the same time, and not purged (a reopened case is not)."""
    return and_(
        Report.id == item.report_id,
        Report.status.in_(CLOSED),
        Report.status_changed_at == item.closed_at,
        Report.purged_at.is_(None),
    )


async def destroy_identity(db: AsyncSession, item: Due, now: datetime) -> bool:
    """Remove the identity box and its wraps; False when the case changed meanwhile."""
    moved = await db.execute(
        update(Report)
        .where(_still(item), Report.identity_destroyed_at.is_(None))
        .values(identity=None, identity_commitment=None, identity_destroyed_at=now)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        return False
    await db.execute(delete(IdentityWrap).where(IdentityWrap.report_id == item.report_id))
    await db.execute(  # open requests can no longer be granted: answered, not left waiting
        update(IdentityRequest)
        .where(
            IdentityRequest.report_id == item.report_id,
            IdentityRequest.state == IdentityState.requested,
        )
        .values(state=IdentityState.denied, decision_note=DESTROYED_NOTE, decided_at=now)
        .execution_options(synchronize_session=False)
    )
    return True


async def purge(db: AsyncSession, item: Due, now: datetime) -> list[str] | None:
    """Leave the tombstone: every box, wrap, note, file row and session of the case goes;
    the report row keeps number, type, dates and what indicators count. Returns the blob
    names the case's attachments used (None when the case changed meanwhile)."""
    moved = await db.execute(
        update(Report)
        .where(_still(item))
        .values(
            content="",
            identity=None,
            identity_commitment=None,
            reporter_key="",
            lookup_hash=f"purged:{item.report_id}",
            purged_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        return None
    await db.execute(
        update(Report)
        .where(Report.id == item.report_id, Report.identity_destroyed_at.is_(None))
        .values(identity_destroyed_at=now)
        .execution_options(synchronize_session=False)
    )
    rid = item.report_id
    blobs = list(await db.scalars(select(Attachment.blob).where(Attachment.report_id == rid)))
    for table in (Attachment, ReportWrap, IdentityWrap, ReportNotice, MailboxSession, Note):
        await db.execute(delete(table).where(table.report_id == rid))
    await db.execute(delete(IdentityRequest).where(IdentityRequest.report_id == rid))
    # Messages stay as metadata (sender, time: indicators count them); their boxes go.
    await db.execute(
        update(Message)
        .where(Message.report_id == rid)
        .values(box="")
        .execution_options(synchronize_session=False)
    )
    return blobs


async def channel(db: AsyncSession, unit_code: str, case_type: CaseType) -> Channel | None:
    return await db.scalar(
        select(Channel)
        .join(Unit, Unit.id == Channel.unit_id)
        .where(Unit.code == unit_code, Channel.case_type == case_type)
    )


async def unreferenced(db: AsyncSession, names: Iterable[str]) -> set[str]:
    """Of these blob names, those no attachment row refers to any more."""
    wanted = set(names)
    if not wanted:
        return set()
    used = set(await db.scalars(select(Attachment.blob).where(Attachment.blob.in_(wanted))))
    return wanted - used
