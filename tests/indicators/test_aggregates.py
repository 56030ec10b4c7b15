"""The pre-aggregated indicators (wbs/indicators/aggregates.py) on PostgreSQL and SQLite:
figures read from the aggregates equal the direct queries over every case, the counters the
workflow engine keeps up equal a rebuild from scratch after random walks, and the public
suppression pattern is cached per tree and year and recomputed when the figures change."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from tests.indicators.dataset import AS_OF, CAL, WORKFLOWS, build
from tests.workflow.helpers import mailbox_message, make_report
from wbs.core.errors import DomainError
from wbs.indicators import aggregates
from wbs.indicators.models import IndicatorCase, IndicatorCount, IndicatorPattern
from wbs.indicators.service import compute, parse_period
from wbs.workflow import service as engine
from wbs.workflow.definition import FactType, Trigger
from wbs.workflow.service import Clock

PERIODS = ("2025", "2026", "2026-Q1", "2026-03", "2026-11")
AS_OF_DAYS = (AS_OF, date(2026, 6, 15), date(2026, 12, 31))


def _strip(figures: Any) -> Any:
    if isinstance(figures, dict):
        return {k: _strip(v) for k, v in figures.items() if k != "generated_at"}
    if isinstance(figures, list):
        return [_strip(v) for v in figures]
    return figures


async def _both(db: Any, unit: Any, period: str, **options: Any) -> tuple[Any, Any]:
    chosen = parse_period(period)
    counted = await compute(db, unit, chosen, **options)
    direct = await compute(db, unit, chosen, direct=True, **options)
    return _strip(counted), _strip(direct)


async def _snapshot(db: Any) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    c = IndicatorCount
    counts = (
        await db.execute(
            select(c.unit_id, c.span, c.month, c.case_type, c.name, c.key, c.n).where(c.n != 0)
        )
    ).all()
    s = IndicatorCase
    cases = (
        await db.execute(
            select(
                s.report_id,
                s.unit_id,
                s.case_type,
                s.submitted_at,
                s.month,
                s.running_due,
                s.feedback,
                s.counts,
            )
        )
    ).all()
    return sorted(tuple(r) for r in counts), sorted((*r[:7], sorted(r[7].items())) for r in cases)


async def _rebuilt(db: Any) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    await db.run_sync(lambda s: aggregates.rebuild(s.connection()))
    return await _snapshot(db)


@pytest.fixture
async def tree(db, make_unit, make_staff):
    return await build(db, make_unit, make_staff)


async def test_aggregates_give_the_direct_figures(db, tree):
    """Every unit of the hand-counted tree, five periods, three as-of days (the WBS
    feedback cut-off falls inside a month), with and without children."""
    for unit in (tree.p, tree.a, tree.b, tree.a1):
        for period in PERIODS:
            for today in AS_OF_DAYS:
                if parse_period(period).start > today:
                    continue
                for children in (False, True):
                    counted, direct = await _both(
                        db, unit, period, public=False, today=today, children=children
                    )
                    assert counted == direct, (unit.code, period, today, children)
    counted, direct = await _both(db, tree.p, "2026", public=False, today=AS_OF)
    assert counted["total"]["received"] > 0  # the data set is there
    assert (await db.scalar(select(IndicatorCount.n).limit(1))) is not None  # and counted


async def test_public_figures_and_the_cached_pattern(db, tree):
    for unit in (tree.p, tree.a, tree.a1):
        counted, direct = await _both(
            db, unit, "2026", public=True, today=AS_OF, k=3, children=True
        )
        assert counted == direct
    cached = await db.get(IndicatorPattern, (tree.p.id, "2026", 3))
    assert cached is not None and cached.primary  # the data set has small cells
    first = cached.digest
    again = await compute(db, tree.b, parse_period("2026"), public=True, today=AS_OF, k=3)
    await db.refresh(cached)
    assert cached.digest == first  # unchanged figures: the stored pattern was used
    assert _strip(again) == _strip(
        await compute(db, tree.b, parse_period("2026"), public=True, today=AS_OF, k=3, direct=True)
    )
    # A new case in B changes the figures: the pattern is computed again and stored.
    report = await make_report(db, tree.b, "wbs", seq=900, submitted=date(2026, 7, 1))
    assert report.id
    after = await compute(db, tree.b, parse_period("2026"), public=True, today=AS_OF, k=3)
    await db.refresh(cached)
    assert cached.digest != first
    direct = await compute(
        db, tree.b, parse_period("2026"), public=True, today=AS_OF, k=3, direct=True
    )
    assert _strip(after) == _strip(direct)


def _facts_for(flow: Any, transition: Any, rng: random.Random, day: date) -> dict[str, Any]:
    given: dict[str, Any] = {}
    names = list(transition.requires) + [n for n in transition.optional if rng.random() < 0.5]
    for name in names:
        fact = flow.facts[name]
        if name in transition.when:
            given[name] = rng.choice(sorted(transition.when[name]))
        elif fact.type is FactType.choice:
            given[name] = rng.choice(sorted(fact.options))
        elif fact.type is FactType.boolean:
            given[name] = rng.random() < 0.5
        elif fact.type is FactType.date:
            given[name] = (day - timedelta(days=rng.randrange(0, 20))).isoformat()
        else:
            given[name] = "teks bebas"
    return given


async def _walk(db: Any, tree: Any, rng: random.Random, n: int) -> None:
    units = (tree.p, tree.a, tree.b, tree.a1)
    kinds = ("pengaduan", "wbs", "gratifikasi", "benturan_kepentingan")
    for i in range(n):
        unit = rng.choice(units)
        received = date(2025, 11, 1) + timedelta(days=rng.randrange(0, 500))
        report = await make_report(db, unit, rng.choice(kinds), seq=1000 + i, submitted=received)
        report.server_sealed = rng.random() < 0.3
        await db.flush()
        if rng.random() < 0.8:
            await engine.begin(db, WORKFLOWS, CAL, report, Clock.on(received))
        day = received
        flow = WORKFLOWS.of(report.case_type.value)
        for _step in range(rng.randrange(0, 7)):
            day += timedelta(days=rng.randrange(0, 12))
            if rng.random() < 0.25:
                sender = rng.choice(("reporter", "officer"))
                await mailbox_message(db, report, sender, day)
                await engine.sync(db, WORKFLOWS, CAL, report, unit, "Asia/Jakarta")
                continue
            state = await engine.state_of(db, WORKFLOWS, report)
            options = [
                t
                for t in flow.actions_from(state.state)
                if t.trigger is Trigger.officer and t.roles & {r.value for r in tree.staff.roles}
            ]
            if not options:
                break
            transition = rng.choice(options)
            try:
                async with db.begin_nested():
                    await engine.act(
                        db,
                        WORKFLOWS,
                        CAL,
                        report=report,
                        unit=unit,
                        actor=tree.staff,
                        action=transition.action,
                        expected_state=state.state,
                        facts=_facts_for(flow, transition, rng, day),
                        with_message=transition.message.value == "required",
                        clock=Clock.on(day),
                    )
            except DomainError:
                continue
        if rng.random() < 0.1:  # moved to another unit and day after the fact
            report.unit_id = rng.choice(units).id
            report.submitted_at = report.submitted_at - timedelta(days=40)
            await db.flush()


@pytest.mark.parametrize("seed", [1, 2])
async def test_maintained_counters_equal_a_rebuild_after_random_walks(db, tree, seed):
    await _walk(db, tree, random.Random(seed), 40)
    await aggregates.settle_now(db)
    kept = await _snapshot(db)
    assert kept[0] and len(kept[1]) == len(tree.reports) + 40
    assert await _rebuilt(db) == kept
    for unit in (tree.p, tree.a1):
        for period in ("2025", "2026", "2026-Q2", "2027-01"):
            counted, direct = await _both(
                db, unit, period, public=False, today=date(2027, 3, 1), children=True
            )
            assert counted == direct, (unit.code, period)
        counted, direct = await _both(db, unit, "2026", public=True, today=date(2027, 3, 1))
        assert counted == direct


async def test_another_time_zone_reads_the_cases_directly(db, tree):
    """Counters are by month in the zone they were built in; figures asked in another zone
    are computed from the cases (the same as the direct path), until a rebuild."""
    makassar = dict(public=False, today=AS_OF, tz="Asia/Makassar", children=True)
    counted, direct = await _both(db, tree.p, "2026", **makassar)
    assert counted == direct
    await db.run_sync(lambda s: aggregates.rebuild(s.connection(), "Asia/Makassar"))
    assert await db.run_sync(lambda s: aggregates.stored_tz(s.connection())) == "Asia/Makassar"
    for period in ("2026", "2026-03"):
        counted, direct = await _both(db, tree.p, period, **makassar)
        assert counted == direct
