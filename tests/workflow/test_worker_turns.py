"""Several workers (`wbs worker`, each process of `wbs serve --workers N`) at once: one adopts
cases and runs timers per round, the others skip it; nothing fails, nothing twice."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.conftest import make_settings
from tests.workflow.helpers import make_report
from wbs.core.db import make_engine, make_sessionmaker, take_turn
from wbs.units.service import create_unit
from wbs.worker import run_once
from wbs.workflow.models import CaseState, CaseTimer
from wbs.workflow.registry import load_all
from wbs.workflow.service import Clock


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_one_turn_at_a_time(fresh_db_url):
    engine = make_engine(fresh_db_url)
    sessions = make_sessionmaker(engine)
    try:
        async with sessions() as first, sessions() as second:
            assert await take_turn(first, "uji")
            assert not await take_turn(second, "uji")  # the first holds it
            assert await take_turn(second, "lain")  # another job is free
            await first.commit()
            await second.rollback()
            assert await take_turn(second, "uji")  # released with the first's transaction
            await second.rollback()
    finally:
        await engine.dispose()


async def test_concurrent_worker_rounds_adopt_each_case_once(tmp_path, fresh_db_url):
    settings = make_settings(tmp_path, fresh_db_url)
    engine = make_engine(fresh_db_url)
    sessions = make_sessionmaker(engine)
    workflows = load_all()
    try:
        async with sessions() as db:
            unit = await create_unit(db, code="GILIR", name="Unit", actor="test")
            kinds = ("pengaduan", "wbs", "gratifikasi", "benturan_kepentingan")
            for seq in range(1, 25):
                await make_report(db, unit, kinds[seq % 4], seq=seq, submitted=date(2026, 3, 2))
            await db.commit()
        clock = Clock.on(date(2026, 3, 3))
        runs = await asyncio.gather(
            *(run_once(settings, sessions, workflows, clock) for _ in range(4)),
            return_exceptions=True,
        )
        assert not [r for r in runs if isinstance(r, BaseException)]
        async with sessions() as db:
            assert await db.scalar(select(func.count()).select_from(CaseState)) == 24
            timers = (
                await db.execute(
                    select(CaseTimer.report_id, CaseTimer.name, func.count()).group_by(
                        CaseTimer.report_id, CaseTimer.name
                    )
                )
            ).all()
            assert timers and all(n == 1 for _, _, n in timers)
    finally:
        await engine.dispose()
