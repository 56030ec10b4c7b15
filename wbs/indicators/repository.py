"""Indicator queries: aggregates in SQL over workflow states, milestones, timers, facts and
mailbox metadata; never report content.

Every query takes the same scope: reports of a unit's subtree (recursive CTE) submitted in
`[start, end)` (UTC instants of the period's local midnights), and groups by unit and
channel, so one unit, a parent with its children, or a whole tree come from the same
handful of statements. Percentiles are nearest rank with `ROW_NUMBER()` and `COUNT()` window
functions, the same SQL on PostgreSQL and SQLite.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    String,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    not_,
    or_,
    select,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from wbs.core.db import utcnow
from wbs.indicators.aggregates import FEEDBACK_DAYS, READ_FACTS
from wbs.indicators.models import IndicatorCase, IndicatorCount, IndicatorMeta, IndicatorPattern
from wbs.reporting.models import Message, Report, SenderRole
from wbs.units.models import CaseType, Unit
from wbs.units.repository import subtree_ids
from wbs.workflow.models import CaseFact, CaseMilestone, CaseState, CaseTimer

# Choice facts the indicators read. Text facts (instansi_tujuan, nomor_laporan_kpk, nomor_sk)
# are never selected, so free text cannot reach a figure.
CHOICE_FACTS = READ_FACTS


class days_between(FunctionElement[float]):  # noqa: N801 - reads as a SQL function
    """Days (fractional) from the first timestamp to the second, on either backend."""

    type = Float()
    inherit_cache = True


@compiles(days_between, "postgresql")
def _days_pg(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    a, b = list(element.clauses)
    return (
        f"(EXTRACT(EPOCH FROM ({compiler.process(b, **kw)} - {compiler.process(a, **kw)}))"
        " / 86400.0)"
    )


@compiles(days_between)
def _days_sqlite(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    a, b = list(element.clauses)
    return f"(julianday({compiler.process(b, **kw)}) - julianday({compiler.process(a, **kw)}))"


@dataclass(frozen=True)
class Scope:
    """Reports of some units (a subtree, found with `units_below`) received in [start, end)
    (UTC). The ids go into the statements as values, so the planner knows how few they are."""

    unit_ids: tuple[int, ...]
    start: datetime
    end: datetime

    def where(self) -> ColumnElement[bool]:
        return and_(
            Report.unit_id.in_(self.unit_ids),
            Report.submitted_at >= self.start,
            Report.submitted_at < self.end,
        )


@dataclass(frozen=True)
class UnitRow:
    id: int
    code: str
    name: str
    parent_id: int | None


async def units_below(db: AsyncSession, root_id: int) -> list[UnitRow]:
    """The unit and every unit below it."""
    rows = await db.execute(
        select(Unit.id, Unit.code, Unit.name, Unit.parent_id)
        .where(Unit.id.in_(subtree_ids(root_id)))
        .order_by(Unit.code)
    )
    return [UnitRow(*r) for r in rows]


async def readable_unit(db: AsyncSession, root_unit_id: int, code: str) -> Unit | None:
    """The unit `code` if it is `root_unit_id` or below it."""
    return await db.scalar(
        select(Unit).where(Unit.code == code, Unit.id.in_(subtree_ids(root_unit_id)))
    )


async def unit_by_code(db: AsyncSession, code: str) -> Unit | None:
    return await db.scalar(select(Unit).where(Unit.code == code))


async def root_of(db: AsyncSession, unit_id: int) -> int:
    """The top unit of the tree `unit_id` belongs to (recursive CTE upwards)."""
    up = select(Unit.id, Unit.parent_id).where(Unit.id == unit_id).cte("up", recursive=True)
    parent = aliased(Unit)
    up = up.union_all(select(parent.id, parent.parent_id).where(parent.id == up.c.parent_id))
    found = await db.scalar(select(up.c.id).where(up.c.parent_id.is_(None)))
    return int(found) if found is not None else unit_id


def _rows(result: Any) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in result]


async def cases(db: AsyncSession, scope: Scope) -> list[tuple[Any, ...]]:
    """(unit_id, case_type, received, received_form)."""
    sealed = Report.server_sealed.is_(True)
    stmt = (
        select(
            Report.unit_id,
            Report.case_type,
            func.count(),
            func.count().filter(sealed),
        )
        .where(scope.where())
        .group_by(Report.unit_id, Report.case_type)
    )
    return _rows(await db.execute(stmt))


async def milestones(db: AsyncSession, scope: Scope) -> list[tuple[Any, ...]]:
    """(unit_id, case_type, milestone, cases)."""
    stmt = (
        select(Report.unit_id, Report.case_type, CaseMilestone.name, func.count())
        .join(CaseMilestone, CaseMilestone.report_id == Report.id)
        .where(scope.where())
        .group_by(Report.unit_id, Report.case_type, CaseMilestone.name)
    )
    return _rows(await db.execute(stmt))


def _completed() -> ColumnElement[bool]:
    return exists().where(CaseMilestone.report_id == Report.id, CaseMilestone.name == "completed")


def late_timer() -> ColumnElement[bool]:
    """A deadline stopped after its due date (one paused when it stopped was late only if
    the pause began after the due date: a pause does not spend the budget)."""
    return and_(
        CaseTimer.stopped_on.is_not(None),
        CaseTimer.stopped_on > CaseTimer.due_on,
        or_(CaseTimer.paused_on.is_(None), CaseTimer.paused_on > CaseTimer.due_on),
    )


def running_overdue(today: date) -> ColumnElement[bool]:
    return and_(
        CaseTimer.stopped_on.is_(None),
        CaseTimer.paused_on.is_(None),
        CaseTimer.due_on < today,
    )


async def deadlines(db: AsyncSession, scope: Scope, today: date) -> list[tuple[Any, ...]]:
    """(unit_id, case_type, completed_on_time, overdue)."""
    late = exists().where(CaseTimer.report_id == Report.id, late_timer())
    overdue = exists().where(CaseTimer.report_id == Report.id, running_overdue(today))
    done = _completed()
    stmt = (
        select(
            Report.unit_id,
            Report.case_type,
            func.count().filter(and_(done, not_(late))),
            func.count().filter(and_(not_(done), overdue)),
        )
        .where(scope.where())
        .group_by(Report.unit_id, Report.case_type)
    )
    return _rows(await db.execute(stmt))


async def facts(db: AsyncSession, scope: Scope) -> list[tuple[Any, ...]]:
    """(unit_id, case_type, fact, JSON text of the value, cases) for the choice facts read."""
    value = cast(CaseFact.value, String).label("value")
    stmt = (
        select(Report.unit_id, Report.case_type, CaseFact.name, value, func.count())
        .join(CaseFact, CaseFact.report_id == Report.id)
        .where(scope.where(), CaseFact.name.in_(CHOICE_FACTS))
        .group_by(Report.unit_id, Report.case_type, CaseFact.name, value)
    )
    return _rows(await db.execute(stmt))


async def forwarded(db: AsyncSession, scope: Scope) -> list[tuple[Any, ...]]:
    """(unit_id, case_type, referral target JSON, KPK decision JSON, cases) of forwarded cases."""
    target = aliased(CaseFact)
    decision = aliased(CaseFact)
    target_value = cast(target.value, String).label("target")
    decision_value = cast(decision.value, String).label("decision")
    stmt = (
        select(Report.unit_id, Report.case_type, target_value, decision_value, func.count())
        .join(CaseMilestone, CaseMilestone.report_id == Report.id)
        .outerjoin(target, and_(target.report_id == Report.id, target.name == "tujuan_pelimpahan"))
        .outerjoin(
            decision, and_(decision.report_id == Report.id, decision.name == "keputusan_kpk")
        )
        .where(scope.where(), CaseMilestone.name == "forwarded")
        .group_by(Report.unit_id, Report.case_type, target_value, decision_value)
    )
    return _rows(await db.execute(stmt))


async def states(db: AsyncSession, scope: Scope, case_type: CaseType) -> list[tuple[Any, ...]]:
    """(unit_id, state or None when not adopted yet, cases) of one channel."""
    stmt = (
        select(Report.unit_id, CaseState.state, func.count())
        .outerjoin(CaseState, CaseState.report_id == Report.id)
        .where(scope.where(), Report.case_type == case_type)
        .group_by(Report.unit_id, CaseState.state)
    )
    return _rows(await db.execute(stmt))


async def mailbox(db: AsyncSession, scope: Scope) -> list[tuple[Any, ...]]:
    """(unit_id, case_type, sender role, messages, cases)."""
    stmt = (
        select(
            Report.unit_id,
            Report.case_type,
            Message.sender_role,
            func.count(),
            func.count(Message.report_id.distinct()),
        )
        .join(Message, Message.report_id == Report.id)
        .where(scope.where())
        .group_by(Report.unit_id, Report.case_type, Message.sender_role)
    )
    return _rows(await db.execute(stmt))


async def feedback(db: AsyncSession, scope: Scope, due_before: datetime) -> list[tuple[Any, ...]]:
    """(unit_id, WBS reports whose 90 days ended by `due_before`, of which given feedback)."""
    answered = exists().where(
        Message.report_id == Report.id,
        Message.sender_role == SenderRole.officer,
        days_between(Report.submitted_at, Message.created_at) <= FEEDBACK_DAYS,
    )
    stmt = (
        select(Report.unit_id, func.count(), func.count().filter(answered))
        .where(
            scope.where(),
            Report.case_type == CaseType.wbs,
            Report.submitted_at <= due_before,
        )
        .group_by(Report.unit_id)
    )
    return _rows(await db.execute(stmt))


async def monthly(
    db: AsyncSession, scope: Scope, bounds: Sequence[datetime]
) -> list[tuple[Any, ...]]:
    """(case_type, month index, received) with months split at the UTC `bounds`."""
    month: ColumnElement[int] = literal(0)
    if bounds:
        month = case(
            *[(Report.submitted_at < b, literal(i)) for i, b in enumerate(bounds)],
            else_=literal(len(bounds)),
        )
    stmt = (
        select(Report.case_type, month, func.count())
        .where(scope.where())
        .group_by(Report.case_type, month)
    )
    return _rows(await db.execute(stmt))


def _rank_is(rank: Any, n: Any, num: int, den: int) -> ColumnElement[bool]:
    """rank == ceil(num/den * n), in integers: den*rank >= num*n > den*(rank-1)."""
    return and_(den * rank >= num * n, den * (rank - 1) < num * n)


async def percentiles(
    db: AsyncSession, scope: Scope, branches: dict[int, int]
) -> list[tuple[Any, ...]]:
    """(branch, case_type or 'total', milestone, n, median, p90) of the working days to first
    response and to completion, nearest rank; `branches` maps each unit to the figure set
    it counts in (one unit for a roll-up, each child for the side-by-side view)."""
    targets = set(branches.values())
    branch: ColumnElement[int] = (
        literal(targets.pop()) if len(targets) == 1 else case(branches, value=Report.unit_id)
    )
    wd = CaseMilestone.working_days
    per_channel = (branch, Report.case_type, CaseMilestone.name)
    overall = (branch, CaseMilestone.name)
    ranked = (
        select(
            branch.label("branch"),
            cast(Report.case_type, String).label("channel"),
            CaseMilestone.name.label("milestone"),
            wd.label("v"),
            func.row_number().over(partition_by=per_channel, order_by=wd).label("rn"),
            func.count().over(partition_by=per_channel).label("n"),
            func.row_number().over(partition_by=overall, order_by=wd).label("rn_all"),
            func.count().over(partition_by=overall).label("n_all"),
        )
        .join(CaseMilestone, CaseMilestone.report_id == Report.id)
        .where(
            scope.where(),
            CaseMilestone.name.in_(("first_response", "completed")),
        )
        .cte("ind_ranked")
    )
    c = ranked.c

    def pick(rank: Any, n: Any, num: int, den: int) -> Any:
        return func.max(case((_rank_is(rank, n, num, den), c.v)))

    by_channel: Select[Any] = select(
        c.branch, c.channel, c.milestone, c.n, pick(c.rn, c.n, 1, 2), pick(c.rn, c.n, 9, 10)
    ).group_by(c.branch, c.channel, c.milestone, c.n)
    total: Select[Any] = select(
        c.branch,
        literal("total", String),
        c.milestone,
        c.n_all,
        pick(c.rn_all, c.n_all, 1, 2),
        pick(c.rn_all, c.n_all, 9, 10),
    ).group_by(c.branch, c.milestone, c.n_all)
    return _rows(await db.execute(union_all(by_channel, total)))


# ------------------------------------------------------------------------------ aggregates


async def stored_tz(db: AsyncSession) -> str | None:
    """The time zone the counters' months are in (None: never built)."""
    found = await db.scalar(select(IndicatorMeta.value).where(IndicatorMeta.name == "tz"))
    return str(found) if found is not None else None


def _span(start: date, end: date, year: bool) -> ColumnElement[bool]:
    """Counter rows of a period: its year's row, or its months'."""
    c = IndicatorCount
    if year:
        return and_(c.span == "y", c.month == start)
    return and_(c.span == "m", c.month >= start, c.month < end)


async def counted(
    db: AsyncSession, unit_ids: Sequence[int], start: date, end: date, year: bool
) -> list[tuple[Any, ...]]:
    """(unit_id, channel, name, key, n) summed over the period (histograms left out)."""
    c = IndicatorCount
    stmt = (
        select(c.unit_id, c.case_type, c.name, c.key, func.sum(c.n))
        .where(c.unit_id.in_(unit_ids), _span(start, end, year), not_(c.name.startswith("wd.")))
        .group_by(c.unit_id, c.case_type, c.name, c.key)
    )
    return _rows(await db.execute(stmt))


async def histograms(
    db: AsyncSession, branches: dict[int, int], start: date, end: date, year: bool
) -> list[tuple[Any, ...]]:
    """(branch, channel, milestone, working days, cases) over the period; `branches` maps
    each unit to the figure set it counts in."""
    c = IndicatorCount
    targets = set(branches.values())
    branch: ColumnElement[int] = (
        literal(targets.pop()) if len(targets) == 1 else case(branches, value=c.unit_id)
    )
    stmt = (
        select(branch, c.case_type, c.name, c.key, func.sum(c.n))
        .where(
            c.unit_id.in_(tuple(branches)),
            _span(start, end, year),
            c.name.in_(("wd.first_response", "wd.completed")),
        )
        .group_by(branch, c.case_type, c.name, c.key)
    )
    return _rows(await db.execute(stmt))


async def counted_by_month(
    db: AsyncSession, unit_ids: Sequence[int], start: date, end: date, name: str
) -> list[tuple[Any, ...]]:
    """(channel, month, n) of one counter summed over units."""
    c = IndicatorCount
    stmt = (
        select(c.case_type, c.month, func.sum(c.n))
        .where(c.unit_id.in_(unit_ids), _span(start, end, False), c.name == name)
        .group_by(c.case_type, c.month)
    )
    return _rows(await db.execute(stmt))


async def counted_feedback(
    db: AsyncSession, unit_ids: Sequence[int], months: Sequence[date]
) -> list[tuple[Any, ...]]:
    """(unit_id, WBS reports, of which given feedback) of whole local months."""
    if not months:
        return []
    c = IndicatorCount
    stmt = (
        select(
            c.unit_id,
            func.sum(c.n).filter(c.name == "received"),
            func.sum(c.n).filter(c.name == "feedback_given"),
        )
        .where(
            c.unit_id.in_(unit_ids),
            c.case_type == CaseType.wbs.value,
            c.span == "m",
            c.month.in_(months),
            c.name.in_(("received", "feedback_given")),
        )
        .group_by(c.unit_id)
    )
    return _rows(await db.execute(stmt))


async def summary_feedback(
    db: AsyncSession, unit_ids: Sequence[int], start: datetime, end: datetime, due_before: datetime
) -> list[tuple[Any, ...]]:
    """(unit_id, WBS reports received in [start, end) and by `due_before`, given feedback)."""
    s = IndicatorCase
    stmt = (
        select(s.unit_id, func.count(), func.count().filter(s.feedback.is_(True)))
        .where(
            s.unit_id.in_(unit_ids),
            s.case_type == CaseType.wbs.value,
            s.submitted_at >= start,
            s.submitted_at < end,
            s.submitted_at <= due_before,
        )
        .group_by(s.unit_id)
    )
    return _rows(await db.execute(stmt))


async def summary_overdue(db: AsyncSession, scope: Scope, today: date) -> list[tuple[Any, ...]]:
    """(unit_id, channel, cases not completed with a running deadline due before today)."""
    s = IndicatorCase
    stmt = (
        select(s.unit_id, s.case_type, func.count())
        .where(
            s.unit_id.in_(scope.unit_ids),
            s.running_due.is_not(None),
            s.running_due < today,
            s.submitted_at >= scope.start,
            s.submitted_at < scope.end,
        )
        .group_by(s.unit_id, s.case_type)
    )
    return _rows(await db.execute(stmt))


async def cached_pattern(
    db: AsyncSession, root_id: int, period: str, k: int
) -> IndicatorPattern | None:
    return await db.get(IndicatorPattern, (root_id, period, k))


async def store_pattern(
    db: AsyncSession,
    root_id: int,
    period: str,
    k: int,
    digest: str,
    primary: list[list[str]],
    complementary: list[list[str]],
) -> None:
    """Insert or replace the cached pattern (an upsert: concurrent requests both succeed)."""
    bind = db.get_bind()
    values = {
        "root_id": root_id,
        "period": period,
        "k": k,
        "digest": digest,
        "primary": primary,
        "complementary": complementary,
        "computed_at": utcnow(),
    }
    dialect = postgresql if bind.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(IndicatorPattern).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["root_id", "period", "k"],
        set_={
            k_: stmt.excluded[k_] for k_ in ("digest", "primary", "complementary", "computed_at")
        },
    )
    await db.execute(stmt)
