"""Export job queries; who may read a unit's exports is decided inside the query."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, false, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from wbs.exports.models import ExportJob, ExportState
from wbs.staff.models import Role, Staff
from wbs.staff.service import has_role
from wbs.units.models import Unit
from wbs.units.repository import subtree_ids

OBJECT_TYPE = "export_job"
EXPORTERS = (Role.admin, Role.auditor, Role.atasan)
HISTORY = 50  # jobs a unit's page shows


def readable_unit_ids(actor: Staff) -> Select[int]:
    """Admins, auditors and atasan: their unit and every unit below it; nobody else any."""
    if has_role(actor, *EXPORTERS):
        return subtree_ids(actor.unit_id)
    return select(Unit.id).where(false())


def readable_units(actor: Staff) -> Select[Unit]:
    return select(Unit).where(Unit.id.in_(readable_unit_ids(actor)))


def readable_jobs(actor: Staff) -> Select[ExportJob]:
    return (
        select(ExportJob)
        .where(ExportJob.unit_id.in_(readable_unit_ids(actor)))
        .options(selectinload(ExportJob.unit))
    )


async def jobs_of(db: AsyncSession, actor: Staff, unit: Unit) -> list[ExportJob]:
    rows = await db.scalars(
        readable_jobs(actor)
        .where(ExportJob.unit_id == unit.id)
        .order_by(ExportJob.id.desc())
        .limit(HISTORY)
    )
    return list(rows)


async def next_claimable(db: AsyncSession, now: datetime) -> ExportJob | None:
    """The oldest job waiting, or running under a lease that ran out (its worker died)."""
    stmt = (
        select(ExportJob)
        .where(
            or_(
                ExportJob.state == ExportState.queued,
                (ExportJob.state == ExportState.running) & (ExportJob.lease_until < now),
            )
        )
        .order_by(ExportJob.id)
        .limit(1)
        .execution_options(populate_existing=True)
    )
    if db.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return await db.scalar(stmt)


async def move(db: AsyncSession, job_id: int, attempt: int, **values: object) -> bool:
    """Change a running job, only while `attempt` still holds it; False when it does not."""
    moved = await db.execute(
        update(ExportJob)
        .where(
            ExportJob.id == job_id,
            ExportJob.attempts == attempt,
            ExportJob.state == ExportState.running,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(moved, "rowcount", 0) == 1)


async def take(
    db: AsyncSession, job: ExportJob, now: datetime, lease_until: datetime
) -> int | None:
    """Claim `job` as it was read (state and attempts unchanged meanwhile): the attempt
    number that now holds it, or None when another worker was first."""
    moved = await db.execute(
        update(ExportJob)
        .where(
            ExportJob.id == job.id,
            ExportJob.state == job.state,
            ExportJob.attempts == job.attempts,
        )
        .values(
            state=ExportState.running,
            attempts=job.attempts + 1,
            lease_until=lease_until,
            started_at=now,
            progress=0,
        )
        .execution_options(synchronize_session=False)
    )
    return job.attempts + 1 if getattr(moved, "rowcount", 0) == 1 else None
