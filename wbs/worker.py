"""Background work: audit log sequencing, case timers, daily digests, outbox delivery,
indicator exports and retention of closed cases.

`wbs worker` runs it for deployments (several workers are safe: timers and outbox rows are
claimed with conditional updates and `SKIP LOCKED`); `wbs serve` runs it in-process in
development so `make run` delivers mail and moves timers without a second command.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from wbs.audit import service as audit
from wbs.core.blobs import open_store
from wbs.core.db import take_turn
from wbs.core.settings import Settings
from wbs.exports import service as export_jobs
from wbs.outbox import delivery
from wbs.outbox import service as outbox
from wbs.outbox.models import DigestSent
from wbs.retention import service as retention
from wbs.staff.models import Staff
from wbs.workflow import service as engine
from wbs.workflow.models import CaseState, CaseTimer
from wbs.workflow.registry import Workflows

log = logging.getLogger("wbs.worker")
DUE_SOON = timedelta(days=3)


@dataclass
class WorkerRun:
    timers: engine.TimerRun
    digests: int
    delivery: delivery.DeliveryRun
    exports: int = 0
    audit: audit.SequencerRun = field(default_factory=audit.SequencerRun)
    retention: retention.RetentionRun | None = None


async def queue_digests(db: AsyncSession, today: date) -> int:
    """One digest per officer with assigned cases overdue or due soon, once a day."""
    overdue = func.sum(case((CaseTimer.due_on < today, 1), else_=0))
    rows = (
        await db.execute(
            select(CaseState.assignee_id, overdue, func.count())
            .join(CaseTimer, CaseTimer.report_id == CaseState.report_id)
            .join(Staff, Staff.id == CaseState.assignee_id)
            .where(
                CaseTimer.stopped_on.is_(None),
                CaseTimer.paused_on.is_(None),
                CaseTimer.due_on <= today + DUE_SOON,
                Staff.active.is_(True),
            )
            .group_by(CaseState.assignee_id)
        )
    ).all()
    queued = 0
    insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    for staff_id, late, total in rows:
        claimed = await db.execute(
            insert(DigestSent)
            .values(staff_id=staff_id, day=today)
            .on_conflict_do_nothing()
            .returning(DigestSent.staff_id)
        )
        if claimed.first() is None:
            continue
        await outbox.enqueue(
            db,
            "digest",
            staff_id=staff_id,
            overdue=int(late or 0),
            due_soon=int(total) - int(late or 0),
        )
        queued += 1
    return queued


async def run_once(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    workflows: Workflows,
    clock: engine.Clock | None = None,
    indicators: Callable[[], export_jobs.IndicatorSource] | None = None,
) -> WorkerRun:
    clock = clock or engine.Clock.current(settings.timezone)
    day = clock.today
    # The audit sequencer first, so the entries of the last round get signed tree heads.
    sequenced = await audit.sequence_all(sessions, settings.secret_bytes())
    # One worker at a time adopts cases and runs timers (`wbs worker` and each in-process
    # worker of `wbs serve --workers N` may be rounds at once): the others skip this round.
    async with sessions() as db:
        if await take_turn(db, "workflow.sync_pending"):
            await engine.sync_pending(db, workflows, settings.timezone)
        await db.commit()
    async with sessions() as db:
        timers = (
            await engine.run_timers(db, workflows, clock)
            if await take_turn(db, "workflow.run_timers")
            else engine.TimerRun()
        )
        await db.commit()
    async with sessions() as db:
        digests = await queue_digests(db, day)
        await db.commit()
    sent = await delivery.deliver(settings, sessions)
    made = await export_jobs.run_jobs(settings, sessions, indicators)
    kept = await retention.run_round(settings, sessions, open_store(settings, "blobs"))
    return WorkerRun(timers, digests, sent, made, sequenced, kept)


async def run_forever(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    workflows: Workflows,
    stop: asyncio.Event,
    interval: float = 30.0,
) -> None:
    """Run until `stop` is set; an error is logged and the next round tries again."""
    while not stop.is_set():
        try:
            await run_once(settings, sessions, workflows)
        except Exception:  # the worker must survive one bad round
            log.exception("worker round failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
