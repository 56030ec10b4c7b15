"""Readiness checks and the gauges /metrics computes at scrape time."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

import wbs
from wbs.audit import service as audit
from wbs.core.blobs import BlobStore
from wbs.core.db import utcnow
from wbs.core.settings import Settings
from wbs.ops.metrics import Gauge
from wbs.outbox.delivery import queue_counts
from wbs.retention import service as retention
from wbs.workflow.service import Clock, overdue_timers

log = logging.getLogger("wbs.ops")


@dataclass(frozen=True)
class Readiness:
    """Each part's state: `ok`, or a short reason without details (no URL, no path)."""

    checks: dict[str, str]

    @property
    def ok(self) -> bool:
        return all(v == "ok" for v in self.checks.values())


async def check_database(engine: AsyncEngine, timeout: float) -> str:
    async def ping() -> None:
        async with engine.connect() as conn:
            # Outside a transaction: on SQLite it must not wait for the writers' lock.
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("SELECT 1"))

    try:
        await asyncio.wait_for(ping(), timeout)
    except TimeoutError:
        log.warning("readiness: database did not answer within %ss", timeout)
        return "timeout"
    except Exception as exc:  # any driver error: the database is not usable
        log.warning("readiness: database unreachable (%s)", type(exc).__name__)
        return "unreachable"
    return "ok"


async def check_store(store: BlobStore, timeout: float) -> str:
    try:
        await asyncio.wait_for(asyncio.to_thread(store.probe), timeout)
    except TimeoutError:
        return "timeout"
    except Exception as exc:  # OSError, or any S3 client error: the store is not usable
        log.warning("readiness: blob store not writable (%s)", type(exc).__name__)
        return "not_writable"
    return "ok"


async def readiness(
    engine: AsyncEngine, stores: Mapping[str, BlobStore], timeout: float
) -> Readiness:
    names = ["database", *(f"store:{name}" for name in stores)]
    results = await asyncio.gather(
        check_database(engine, timeout), *(check_store(s, timeout) for s in stores.values())
    )
    return Readiness(dict(zip(names, results, strict=True)))


async def gauges(
    settings: Settings, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> list[Gauge]:
    """Version, pool, outbox, timers, audit sequencer lag and retention backlog; the
    database ones only when it answers in time."""
    out = [Gauge("wbs_info", "wbs version of this process.", 1, (("version", wbs.__version__),))]
    out += pool_gauges(engine)

    async def from_database() -> list[Gauge]:
        async with sessions() as db:
            queue = await queue_counts(db)
            overdue, unhandled = await overdue_timers(db, Clock.current(settings.timezone).today)
            now = utcnow()
            audit_pending, audit_age = await audit.pending(db, now)
            identities, contents = await retention.backlog(db, settings, now)
        return [
            Gauge("wbs_outbox_queue_depth", "Outbox rows still to deliver.", queue.pending),
            Gauge(
                "wbs_outbox_retrying", "Outbox rows to deliver that failed before.", queue.retrying
            ),
            Gauge("wbs_outbox_failed", "Outbox rows given up after every attempt.", queue.failed),
            Gauge(
                "wbs_workflow_timers_overdue", "Running case timers past their due day.", overdue
            ),
            Gauge(
                "wbs_workflow_timers_unhandled",
                "Overdue case timers the worker has not handled yet (worker lag).",
                unhandled,
            ),
            Gauge(
                "wbs_audit_pending",
                "Audit entries the sequencer has not given a place in the log yet.",
                audit_pending,
            ),
            Gauge(
                "wbs_audit_pending_oldest_seconds",
                "Age of the oldest audit entry not yet sequenced (0 when none).",
                audit_age,
            ),
            Gauge(
                "wbs_retention_identities_due",
                "Closed cases whose identity is past its retention period, not yet destroyed.",
                identities,
            ),
            Gauge(
                "wbs_retention_purges_due",
                "Closed cases past their retention period, not yet purged.",
                contents,
            ),
        ]

    try:
        found = await asyncio.wait_for(from_database(), settings.ready_timeout_seconds)
    except Exception as exc:  # the scrape still answers, saying the database did not
        log.warning("metrics: database query failed (%s)", type(exc).__name__)
        return [*out, Gauge("wbs_database_up", "The database answered this scrape.", 0)]
    return [*out, Gauge("wbs_database_up", "The database answered this scrape.", 1), *found]


def pool_gauges(engine: AsyncEngine) -> list[Gauge]:
    pool = engine.sync_engine.pool
    out = []
    for name, method, help_text in (
        ("wbs_db_pool_size", "size", "Connections the pool keeps."),
        ("wbs_db_pool_checked_out", "checkedout", "Connections in use."),
    ):
        reader = getattr(pool, method, None)
        if callable(reader):
            out.append(Gauge(name, help_text, float(reader())))
    return out
