"""Submissions write through Core statements (no ORM flush), so they count their report in
the indicators themselves (`aggregates.add_fresh`): the kept aggregates still equal a
rebuild from the source tables, and a rolled-back submission counts nothing."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from tests.indicators.test_aggregates import _rebuilt, _snapshot
from tests.reporting.helpers import submission
from tests.reporting.test_submission_api import world  # noqa: F401 - the fixture
from wbs.indicators import aggregates
from wbs.indicators.models import IndicatorCase, IndicatorMeta
from wbs.units.models import CaseType


async def test_submissions_keep_the_indicators_exact(client, world, db):  # noqa: F811
    await db.merge(IndicatorMeta(name="tz", value="Asia/Jayapura"))  # counted in the stored zone
    await db.commit()
    k = world["keys"]
    for _ in range(3):
        body, _receipt, _sealed = await submission(client, world["unit"], [k["v1"], k["v2"]])
        assert (await client.post("/api/v1/reports", json=body)).status_code == 201
    again = await client.post("/api/v1/reports", json=body)  # a twin: 409, rolled back
    assert again.status_code == 409, again.text
    kept = await _snapshot(db)
    received = [r for r in kept[0] if r[4] == "received" and r[1] == "m"]
    assert [(r[0], r[3], r[6]) for r in received] == [(world["unit"].id, "wbs", 3)]
    assert len(kept[1]) == 3
    assert await _rebuilt(db) == kept
    await db.rollback()


async def test_a_rolled_back_fresh_report_is_forgotten(db, make_unit):
    unit = await make_unit()
    report = aggregates.NewReport(unit.id, CaseType.wbs, datetime.now(UTC), False)
    await db.execute(select(1))  # in a transaction, as a submission's inserts are
    aggregates.add_fresh(db, 10**9, report, None)  # no such report: it would break the commit
    await db.rollback()
    await db.commit()
    assert await db.scalar(select(func.count()).select_from(IndicatorCase)) == 0
