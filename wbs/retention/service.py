"""Retention rounds: destroy identities, then purge closed cases to tombstones.

A closed case (status `selesai` or `ditolak`, the statuses of terminal states) is kept
for its channel's years (`Channel.retention_years`, default `WBS_RETENTION_YEARS`) after
it closed; then `purge` removes its content and leaves the report row as a tombstone.
Its identity may go earlier (`identity_retention_years`). Each removal is one guarded
UPDATE (still closed at the same time, not yet done), so a case reopened meanwhile or
taken by another worker is left alone; a round runs under `take_turn` on PostgreSQL.
Blobs are removed after the commit, when no attachment row refers to them any more
(a crash in between leaves them to `wbs blobs gc`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from wbs.audit import service as audit
from wbs.core.blobs import BlobStore
from wbs.core.db import take_turn
from wbs.core.errors import NotFound, ValidationFailed
from wbs.core.settings import Settings
from wbs.retention import repository
from wbs.retention.repository import Due
from wbs.units.models import CaseType, Channel, Unit

ACTOR = "retensi"
PREVIEW_LIMIT = 100_000


@dataclass
class RetentionRun:
    identities: list[str] = field(default_factory=list)  # case numbers
    purged: list[str] = field(default_factory=list)
    blobs_removed: int = 0
    dry_run: bool = False
    skipped: bool = False  # another worker had the turn


def years_before(now: datetime, years: int) -> datetime:
    """The same day and time `years` calendar years earlier (29 Feb -> 28 Feb)."""
    try:
        return now.replace(year=now.year - years)
    except ValueError:
        return now.replace(year=now.year - years, day=28)


async def _cutoffs(
    db: AsyncSession, settings: Settings, now: datetime, *, identity: bool
) -> list[tuple[int, datetime, list[int]]]:
    by_years = await repository.channel_years(
        db, settings.retention_years, settings.identity_retention_years, identity=identity
    )
    return [(years, years_before(now, years), ids) for years, ids in sorted(by_years.items())]


async def _due(
    db: AsyncSession, settings: Settings, now: datetime, *, identity: bool, limit: int = 0
) -> list[Due]:
    cutoffs = await _cutoffs(db, settings, now, identity=identity)
    limit = limit or settings.retention_batch
    return await repository.due(db, cutoffs, identity=identity, limit=limit)


async def backlog(db: AsyncSession, settings: Settings, now: datetime) -> tuple[int, int]:
    """(identities, contents) past their retention period and not yet destroyed."""
    identities = await repository.count_due(
        db, await _cutoffs(db, settings, now, identity=True), identity=True
    )
    contents = await repository.count_due(
        db, await _cutoffs(db, settings, now, identity=False), identity=False
    )
    return identities, contents


async def _audit(db: AsyncSession, item: Due, action: str, now: datetime) -> None:
    unit = await db.get_one(Unit, item.unit_id)  # reports.unit_id: a RESTRICT foreign key
    await audit.append(
        db,
        unit=unit,
        actor_id=None,
        actor=ACTOR,
        action=action,
        object_type="case",
        object_id=item.case_number,
        details={
            "case_type": item.case_type.value,
            "closed_on": item.closed_at.astimezone(UTC).date().isoformat(),
            "deleted_on": now.astimezone(UTC).date().isoformat(),
            "years": item.years,
        },
    )


async def apply(
    db: AsyncSession, settings: Settings, now: datetime
) -> tuple[RetentionRun, set[str]]:
    """One batch in the caller's transaction; the blob names the purged cases used."""
    run, blobs = RetentionRun(), set[str]()
    for item in await _due(db, settings, now, identity=True):
        if await repository.destroy_identity(db, item, now):
            await _audit(db, item, "case.identity_destroyed", now)
            run.identities.append(item.case_number)
    for item in await _due(db, settings, now, identity=False):
        used = await repository.purge(db, item, now)
        if used is not None:
            await _audit(db, item, "case.purged", now)
            run.purged.append(item.case_number)
            blobs.update(used)
    await db.flush()
    return run, blobs


async def set_channel_years(
    db: AsyncSession,
    unit_code: str,
    case_type: CaseType,
    years: int | None,
    identity_years: int | None,
    *,
    actor: str,
) -> Channel:
    """A channel's own retention (None: the deployment's default), audited."""
    found = await repository.channel(db, unit_code.strip().upper(), case_type)
    if found is None:
        raise NotFound("Unit atau kanal tidak ditemukan.", "No such unit or channel.")
    for value in (years, identity_years):
        if value is not None and not 1 <= value <= 100:
            raise ValidationFailed("Retensi 1 sampai 100 tahun.", "Retention is 1 to 100 years.")
    found.retention_years, found.identity_retention_years = years, identity_years
    await db.flush()
    unit = await db.get_one(Unit, found.unit_id)
    await audit.append(
        db,
        unit=unit,
        actor_id=None,
        actor=actor,
        action="channel.retention",
        object_type="channel",
        object_id=case_type.value,
        details={"years": years, "identity_years": identity_years},
    )
    return found


async def preview(db: AsyncSession, settings: Settings, now: datetime) -> RetentionRun:
    """What is due now, up to PREVIEW_LIMIT of each (`--dry-run`): nothing is changed."""
    identities = await _due(db, settings, now, identity=True, limit=PREVIEW_LIMIT)
    purged = await _due(db, settings, now, identity=False, limit=PREVIEW_LIMIT)
    return RetentionRun(
        [d.case_number for d in identities], [d.case_number for d in purged], dry_run=True
    )


async def run_round(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    blobs: BlobStore,
    now: datetime | None = None,
) -> RetentionRun:
    """A worker round: one batch, committed, then the blobs nobody uses any more."""
    now = now or datetime.now(UTC)
    async with sessions() as db:
        if not await take_turn(db, "retention"):
            return RetentionRun(skipped=True)
        run, used = await apply(db, settings, now)
        await db.commit()
    if used:
        async with sessions() as db:
            gone = await repository.unreferenced(db, used)
        for name in sorted(gone):
            await asyncio.to_thread(blobs.discard, name)
        run.blobs_removed = len(gone)
    return run
