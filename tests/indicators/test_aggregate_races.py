"""Concurrent transactions on PostgreSQL (and serialised ones on SQLite) move the same
counters and the same report's summary at once: after they commit, the kept aggregates
equal a rebuild from scratch (`n = n + delta` upserts under a row lock, no lost update)."""

from __future__ import annotations

import asyncio
from datetime import date

from tests.indicators.test_aggregates import _rebuilt, _snapshot
from tests.workflow.helpers import mailbox_message, make_report
from wbs.calendar.workdays import WorkCalendar
from wbs.core.db import make_engine, make_sessionmaker
from wbs.reporting.models import Report
from wbs.units.models import Unit
from wbs.units.service import create_unit
from wbs.workflow import service as engine
from wbs.workflow.registry import load_all
from wbs.workflow.service import Clock

WORKFLOWS = load_all()
N = 12


async def test_concurrent_writers_keep_the_counters_exact(fresh_db_url):
    db_engine = make_engine(fresh_db_url)
    sessions = make_sessionmaker(db_engine)
    try:
        async with sessions() as db:
            unit = await create_unit(db, code="BALAPAN", name="Unit", actor="test")
            first = []
            for i in range(3):
                report = await make_report(db, unit, "wbs", seq=i + 1, submitted=date(2026, 5, 4))
                await engine.begin(
                    db, WORKFLOWS, WorkCalendar(), report, Clock.on(date(2026, 5, 4))
                )
                first.append(report.id)
            await db.commit()
            unit_id = unit.id

        async def writer(n: int) -> None:
            async with sessions() as db:
                owner = await db.get(Unit, unit_id)
                assert owner is not None
                if n % 3 == 0:  # a new case in the same unit, channel and month
                    await make_report(db, owner, "wbs", seq=100 + n, submitted=date(2026, 5, 6))
                else:  # messages on a case others are writing to as well
                    report = await db.get(Report, first[n % len(first)])
                    assert report is not None
                    sender = "officer" if n % 2 else "reporter"
                    await mailbox_message(db, report, sender, date(2026, 5, 5 + n % 4))
                await asyncio.sleep(0)  # let the others reach the same rows
                await db.commit()

        await asyncio.gather(*(writer(n) for n in range(N)))
        async with sessions() as db:
            kept = await _snapshot(db)
            received = [r for r in kept[0] if r[4] == "received" and r[1] == "y"]
            assert received == [(unit_id, "y", date(2026, 1, 1), "wbs", "received", "", 3 + 4)]
            assert await _rebuilt(db) == kept
            await db.rollback()
    finally:
        await db_engine.dispose()
