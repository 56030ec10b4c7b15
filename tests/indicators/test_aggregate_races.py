"""Concurrent transactions on PostgreSQL (and serialised ones on SQLite) move the same
counters and the same report's summary at once: after they commit, the kept aggregates
equal a rebuild from scratch (`n = n + delta` upserts under a row lock, no lost update)."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest

from tests.indicators.test_aggregates import _rebuilt, _snapshot
from tests.workflow.helpers import mailbox_message, make_report
from wbs.calendar.workdays import WorkCalendar
from wbs.core.db import make_engine, make_sessionmaker
from wbs.indicators import aggregates
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


@pytest.mark.parametrize("backend", ["postgresql"])  # SQLite has one writer: no two at once
async def test_opposite_orders_do_not_deadlock(fresh_db_url, monkeypatch):
    """Two transactions write to the same cases (March and July: month and year counter
    rows) in opposite orders and commit at once: both commit, in the one lock order
    `settle` keeps (summaries by id, then counters by key), also across chunks."""
    monkeypatch.setattr(aggregates, "BATCH", 1)  # one chunk per report
    db_engine = make_engine(fresh_db_url)
    sessions = make_sessionmaker(db_engine)
    try:
        async with sessions() as db:
            unit = await create_unit(db, code="SILANG", name="Unit", actor="test")
            days = (date(2026, 3, 2), date(2026, 7, 6), date(2026, 3, 9), date(2026, 7, 13))
            ids = []
            for i, day in enumerate(days):
                report = await make_report(db, unit, "wbs", seq=i + 1, submitted=day)
                ids.append(report.id)
            await db.commit()
        a, b, c, d = ids

        async def writer(order: list[int], both_written: asyncio.Barrier) -> None:
            async with sessions() as db:
                for rid in order:
                    report = await db.get(Report, rid)
                    assert report is not None
                    await mailbox_message(db, report, "officer", date(2026, 8, 3))
                await both_written.wait()  # neither commits before both have written
                await db.commit()

        rounds = 5
        for _round in range(rounds):
            # The same two cases in opposite orders; then two cases each, interleaved
            # by id and sharing counter rows (per chunk, this order used to deadlock).
            for first, second in (([a, b], [b, a]), ([a, d], [c, b])):
                both = asyncio.Barrier(2)
                await asyncio.gather(writer(first, both), writer(second, both))
        async with sessions() as db:
            kept = await _snapshot(db)
            answers = [r for r in kept[0] if r[4] == "mailbox_answers" and r[1] == "y"]
            expected = rounds * 8
            assert answers == [
                (unit.id, "y", date(2026, 1, 1), "wbs", "mailbox_answers", "", expected)
            ]
            assert await _rebuilt(db) == kept
            await db.rollback()
    finally:
        await db_engine.dispose()
