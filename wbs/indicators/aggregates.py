"""Pre-aggregated indicators: a summary row per report and counters per unit, channel and
local month, kept in the same transaction as the changes they count.

Every flush that writes a report, its state, facts, timers, milestones or mailbox messages
marks the report (ORM listener; the engine's one Core update of a state calls `touch`);
before the commit, and before figures are read in the same transaction, each marked
report's summary is computed again from the source tables under a row lock and the counters
get the difference as `n = n + delta` upserts (race-safe on PostgreSQL). `rebuild` computes
everything from scratch (migration backfill, `wbs indicators rebuild`).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, ScalarSelect, Select, delete, event, func, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, UOWTransaction, attributes
from sqlalchemy.util import await_only

from wbs.indicators.models import IndicatorCase, IndicatorCount, IndicatorMeta
from wbs.reporting.models import Message, Report, SenderRole
from wbs.workflow.models import CaseFact, CaseMilestone, CaseState, CaseTimer

T = TypeVar("T")
DEFAULT_TZ = "Asia/Jakarta"
FEEDBACK_DAYS = 90
# Facts read: the choice facts of the breakdowns, and the two of forwarded cases.
READ_FACTS = ("nilai_estimasi", "jenis_laporan", "jenis", "bentuk_pengendalian")
TARGET_FACT, DECISION_FACT = "tujuan_pelimpahan", "keputusan_kpk"
MILESTONES = {
    "verified": "verified",
    "followed_up": "followed_up",
    "completed": "completed",
    "first_response": "first_responded",
}
HISTOGRAMS = ("first_response", "completed")
REPORT_FIELDS = ("unit_id", "case_type", "submitted_at", "server_sealed")
WATCHED = (CaseState, CaseFact, CaseTimer, CaseMilestone, Message)
PENDING = "indicators_pending"
FRESH = "indicators_fresh"
BATCH = 5000


def slot(name: str, key: str = "") -> str:
    return f"{name}|{key}"


def split_slot(slot_: str) -> tuple[str, str]:
    name, _, key = slot_.partition("|")
    return name, key


@dataclass
class Summary:
    unit_id: int | None = None
    case_type: str = ""
    submitted_at: datetime | None = None
    month: date | None = None
    running_due: date | None = None
    feedback: bool = False
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class _Sources:
    state: str | None = None
    milestones: dict[str, int] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)
    timers: list[tuple[date, date | None, date | None]] = field(default_factory=list)
    messages: list[tuple[str, datetime]] = field(default_factory=list)


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


def month_of(at: datetime, tz: str) -> date:
    local = _utc(at).astimezone(ZoneInfo(tz))
    return date(local.year, local.month, 1)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def summarise(report: Any, src: _Sources, tz: str) -> Summary:
    """What one report adds to the indicators (the rules of `repository`'s direct queries)."""
    channel = str(getattr(report.case_type, "value", report.case_type))
    submitted = _utc(report.submitted_at)
    c: Counter[str] = Counter({slot("received"): 1})
    if report.server_sealed:
        c[slot("received_form")] = 1
    for name, wd in src.milestones.items():
        if name in MILESTONES:
            c[slot(MILESTONES[name])] = 1
        if name in HISTOGRAMS:
            c[slot(f"wd.{name}", str(wd))] = 1
    done = "completed" in src.milestones
    late = any(
        stopped is not None and stopped > due and (paused is None or paused > due)
        for due, paused, stopped in src.timers
    )
    if done and not late:
        c[slot("completed_on_time")] = 1
    for name in READ_FACTS:
        value = src.facts.get(name)
        if isinstance(value, str):
            c[slot(f"fact.{name}", value)] = 1
    if "forwarded" in src.milestones:
        c[slot("forwarded", _text(src.facts.get(TARGET_FACT)))] = 1
        if channel == "gratifikasi":
            c[slot("kpk_decision", _text(src.facts.get(DECISION_FACT)))] = 1
    if channel == "gratifikasi":
        c[slot("state", src.state or "")] = 1
    for role, side in ((SenderRole.reporter, "questions"), (SenderRole.officer, "answers")):
        n = sum(1 for r, _at in src.messages if r == role.value)
        if n:
            c[slot(f"mailbox_{side}")] = n
            c[slot(f"mailbox_{side}_cases")] = 1
    limit = submitted + timedelta(days=FEEDBACK_DAYS)
    feedback = any(r == SenderRole.officer.value and _utc(at) <= limit for r, at in src.messages)
    if channel == "wbs" and feedback:
        c[slot("feedback_given")] = 1
    running = [due for due, paused, stopped in src.timers if stopped is None and paused is None]
    return Summary(
        unit_id=report.unit_id,
        case_type=channel,
        submitted_at=submitted,
        month=month_of(submitted, tz),
        running_due=min(running) if running and not done else None,
        feedback=feedback,
        counts=dict(c),
    )


def _role(value: Any) -> str:
    return str(getattr(value, "value", value))


def _load(conn: Connection, ids: Sequence[int], tz: str) -> dict[int, Summary]:
    """Summaries of the reports `ids` (absent reports: none) from the source tables."""
    reports = list(
        conn.execute(
            select(
                Report.id,
                Report.unit_id,
                Report.case_type,
                Report.submitted_at,
                Report.server_sealed,
            ).where(Report.id.in_(ids))
        )
    )
    src = {r.id: _Sources() for r in reports}
    for rid, state in conn.execute(
        select(CaseState.report_id, CaseState.state).where(CaseState.report_id.in_(ids))
    ):
        src[rid].state = state
    for rid, name, wd in conn.execute(
        select(CaseMilestone.report_id, CaseMilestone.name, CaseMilestone.working_days).where(
            CaseMilestone.report_id.in_(ids)
        )
    ):
        src[rid].milestones[name] = wd
    names = (*READ_FACTS, TARGET_FACT, DECISION_FACT)
    for rid, name, value in conn.execute(
        select(CaseFact.report_id, CaseFact.name, CaseFact.value).where(
            CaseFact.report_id.in_(ids), CaseFact.name.in_(names)
        )
    ):
        src[rid].facts[name] = value
    for rid, due, paused, stopped in conn.execute(
        select(
            CaseTimer.report_id, CaseTimer.due_on, CaseTimer.paused_on, CaseTimer.stopped_on
        ).where(CaseTimer.report_id.in_(ids))
    ):
        src[rid].timers.append((due, paused, stopped))
    for rid, role, at in conn.execute(
        select(Message.report_id, Message.sender_role, Message.created_at).where(
            Message.report_id.in_(ids)
        )
    ):
        src[rid].messages.append((_role(role), at))
    return {r.id: summarise(r, src[r.id], tz) for r in reports}


def _chunks(items: Sequence[T], size: int = 0) -> Iterator[Sequence[T]]:
    size = size or BATCH  # read at call time (tests set a small BATCH)
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _tz_query() -> Select[str]:
    return select(IndicatorMeta.value).where(IndicatorMeta.name == "tz")


def stored_tz(conn: Connection) -> str:
    return conn.scalar(_tz_query()) or DEFAULT_TZ


def tz_column() -> ScalarSelect[str]:
    """The time zone the aggregates are kept in, as a scalar subquery (NULL: DEFAULT_TZ), for
    a caller to read it in a query it makes anyway."""
    return _tz_query().scalar_subquery()


def _upsert(conn: Connection, table: Any) -> Any:
    return (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(table)


def _add_counts(conn: Connection, deltas: Mapping[tuple[Any, ...], int]) -> None:
    """`n = n + delta` per counter row, one multi-row upsert statement per 500 rows
    (race-safe), the rows in sorted key order (`_count_rows`): the order every transaction
    locks them in."""
    rows = _count_rows(deltas)
    for chunk in _chunks(rows, 500):
        stmt = _upsert(conn, IndicatorCount).values(list(chunk))
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=list(COUNT_KEY),
                set_={"n": IndicatorCount.n + stmt.excluded.n},
            )
        )


COUNT_KEY = ("unit_id", "span", "month", "case_type", "name", "key")


def _count_rows(totals: Mapping[tuple[Any, ...], int]) -> list[dict[str, Any]]:
    return [
        {**dict(zip(COUNT_KEY, key, strict=True)), "n": n} for key, n in sorted(totals.items()) if n
    ]


def _contributions(s: Summary, sign: int) -> Iterator[tuple[tuple[Any, ...], int]]:
    """Counter rows of one summary: its month's and its year's."""
    if s.unit_id is None or s.month is None:
        return
    year = date(s.month.year, 1, 1)
    for key, n in s.counts.items():
        name, sub = split_slot(key)
        yield (s.unit_id, "m", s.month, s.case_type, name, sub), sign * n
        yield (s.unit_id, "y", year, s.case_type, name, sub), sign * n


def settle(
    conn: Connection, report_ids: Iterable[int], fresh: Mapping[int, Summary] | None = None
) -> None:
    """Recompute the summaries of `report_ids` and move the counters by the difference;
    `fresh`: summaries of reports inserted in this transaction (see `add_fresh`), stored as
    they are, without reading anything.

    Lock order, the same in every transaction (no deadlock on PostgreSQL): first every
    summary row in report id order (chunk after chunk; a fresh one is new, locked by no
    one else), then every counter row in one sorted key order, all in one round after the
    last chunk."""
    deltas: Counter[tuple[Any, ...]] = Counter()
    if fresh:
        conn.execute(insert(IndicatorCase), [{"report_id": i, **_row(s)} for i, s in fresh.items()])
        for s in fresh.values():
            deltas.update(dict(_contributions(s, 1)))
    ids = sorted(set(report_ids))
    tz = stored_tz(conn) if ids else DEFAULT_TZ
    for chunk in _chunks(ids):
        present = sorted(conn.scalars(select(Report.id).where(Report.id.in_(chunk))))
        if present:  # a blank row first, so that every summary is read under a row lock
            stmt = _upsert(conn, IndicatorCase).on_conflict_do_nothing(index_elements=["report_id"])
            conn.execute(stmt, [{"report_id": i, "counts": {}} for i in present])
        old = _locked(conn, chunk)
        fresh = _load(conn, chunk, tz)  # read once locked: sees every earlier commit
        for rid in chunk:
            before, after = old.get(rid), fresh.get(rid)
            for key, n in _contributions(before, -1) if before else ():
                deltas[key] += n
            for key, n in _contributions(after, 1) if after else ():
                deltas[key] += n
        gone = [rid for rid in chunk if rid in old and rid not in fresh]
        if gone:
            conn.execute(delete(IndicatorCase).where(IndicatorCase.report_id.in_(gone)))
        for rid, s in fresh.items():
            conn.execute(
                update(IndicatorCase).where(IndicatorCase.report_id == rid).values(**_row(s))
            )
    _add_counts(conn, deltas)


def _locked(conn: Connection, ids: Sequence[int]) -> dict[int, Summary]:
    rows = conn.execute(
        select(
            IndicatorCase.report_id,
            IndicatorCase.unit_id,
            IndicatorCase.case_type,
            IndicatorCase.submitted_at,
            IndicatorCase.month,
            IndicatorCase.running_due,
            IndicatorCase.feedback,
            IndicatorCase.counts,
        )
        .where(IndicatorCase.report_id.in_(ids))
        .order_by(IndicatorCase.report_id)
        .with_for_update()
    )
    return {
        r.report_id: Summary(
            r.unit_id,
            r.case_type,
            r.submitted_at,
            r.month,
            r.running_due,
            bool(r.feedback),
            dict(r.counts or {}),
        )
        for r in rows
    }


def _row(s: Summary) -> dict[str, Any]:
    return {
        "unit_id": s.unit_id,
        "case_type": s.case_type,
        "submitted_at": s.submitted_at,
        "month": s.month,
        "running_due": s.running_due,
        "feedback": s.feedback,
        "counts": s.counts,
    }


def _bulk_insert(conn: Connection, model: Any, rows: list[dict[str, Any]]) -> None:
    """Many rows at once: COPY on PostgreSQL (psycopg), executemany elsewhere."""
    if not rows:
        return
    driver = getattr(conn.connection, "driver_connection", None)
    if conn.dialect.name != "postgresql" or not hasattr(driver, "cursor"):
        conn.execute(insert(model), rows)
        return
    names = list(rows[0])
    json_columns = {c.name for c in model.__table__.columns if isinstance(c.type, JSON)}
    copy_sql = f"COPY {model.__tablename__} ({', '.join(names)}) FROM STDIN"

    async def copy() -> None:
        assert driver is not None  # noqa: S101 - checked above
        async with driver.cursor() as cursor, cursor.copy(copy_sql) as out:
            for row in rows:
                await out.write_row(
                    [json.dumps(row[n]) if n in json_columns else row[n] for n in names]
                )

    await_only(copy())


# PostgreSQL: the same summaries and counters in three set-based statements (`summarise`'s
# rules; tests/indicators/test_aggregates.py compares them with the kept ones).
_PG_CASES = """
WITH ms AS (
  SELECT report_id,
         max(working_days) FILTER (WHERE name = 'first_response') AS fr_wd,
         max(working_days) FILTER (WHERE name = 'completed') AS co_wd,
         bool_or(name = 'first_response') AS fr, bool_or(name = 'verified') AS ve,
         bool_or(name = 'followed_up') AS fu, bool_or(name = 'completed') AS co,
         bool_or(name = 'forwarded') AS fw
  FROM case_milestones GROUP BY report_id),
fs AS (
  SELECT report_id,
         max(value #>> '{}') FILTER (WHERE name = 'nilai_estimasi') AS nilai_estimasi,
         max(value #>> '{}') FILTER (WHERE name = 'jenis_laporan') AS jenis_laporan,
         max(value #>> '{}') FILTER (WHERE name = 'jenis') AS jenis,
         max(value #>> '{}') FILTER (WHERE name = 'bentuk_pengendalian') AS bentuk_pengendalian,
         max(value #>> '{}') FILTER (WHERE name = 'tujuan_pelimpahan') AS target,
         max(value #>> '{}') FILTER (WHERE name = 'keputusan_kpk') AS decision
  FROM case_facts
  WHERE json_typeof(value) = 'string' AND name IN ('nilai_estimasi', 'jenis_laporan', 'jenis',
        'bentuk_pengendalian', 'tujuan_pelimpahan', 'keputusan_kpk')
  GROUP BY report_id),
ts AS (
  SELECT report_id,
         bool_or(stopped_on IS NOT NULL AND stopped_on > due_on
                 AND (paused_on IS NULL OR paused_on > due_on)) AS late,
         min(due_on) FILTER (WHERE stopped_on IS NULL AND paused_on IS NULL) AS running
  FROM case_timers GROUP BY report_id),
mb AS (
  SELECT m.report_id,
         count(*) FILTER (WHERE m.sender_role::text = 'reporter') AS q,
         count(*) FILTER (WHERE m.sender_role::text = 'officer') AS a,
         bool_or(m.sender_role::text = 'officer'
                 AND m.created_at <= r.submitted_at + interval '2160 hours') AS feedback
  FROM report_messages m JOIN reports r ON r.id = m.report_id GROUP BY m.report_id),
base AS (
  SELECT r.id, r.unit_id, r.case_type::text AS ct, r.submitted_at, r.server_sealed,
         st.state, ms.*, fs.nilai_estimasi, fs.jenis_laporan, fs.jenis,
         fs.bentuk_pengendalian, fs.target, fs.decision, ts.late, ts.running,
         coalesce(mb.q, 0) AS q, coalesce(mb.a, 0) AS a, coalesce(mb.feedback, false) AS fb
  FROM reports r
  LEFT JOIN case_states st ON st.report_id = r.id
  LEFT JOIN ms ON ms.report_id = r.id
  LEFT JOIN fs ON fs.report_id = r.id
  LEFT JOIN ts ON ts.report_id = r.id
  LEFT JOIN mb ON mb.report_id = r.id)
INSERT INTO indicator_cases (report_id, unit_id, case_type, submitted_at, month, running_due,
                             feedback, counts)
SELECT id, unit_id, ct, submitted_at,
       date_trunc('month', submitted_at AT TIME ZONE :tz)::date,
       CASE WHEN co IS NOT TRUE THEN running END,
       fb,
       (jsonb_strip_nulls(jsonb_build_object(
          'received|', 1,
          'received_form|', CASE WHEN server_sealed THEN 1 END,
          'first_responded|', CASE WHEN fr THEN 1 END,
          'verified|', CASE WHEN ve THEN 1 END,
          'followed_up|', CASE WHEN fu THEN 1 END,
          'completed|', CASE WHEN co THEN 1 END,
          'completed_on_time|', CASE WHEN co AND late IS NOT TRUE THEN 1 END,
          'mailbox_questions|', CASE WHEN q > 0 THEN q END,
          'mailbox_questions_cases|', CASE WHEN q > 0 THEN 1 END,
          'mailbox_answers|', CASE WHEN a > 0 THEN a END,
          'mailbox_answers_cases|', CASE WHEN a > 0 THEN 1 END,
          'feedback_given|', CASE WHEN ct = 'wbs' AND fb THEN 1 END))
        || CASE WHEN fr THEN jsonb_build_object('wd.first_response|' || fr_wd, 1)
           ELSE '{}' END
        || CASE WHEN co THEN jsonb_build_object('wd.completed|' || co_wd, 1) ELSE '{}' END
        || CASE WHEN nilai_estimasi IS NOT NULL
           THEN jsonb_build_object('fact.nilai_estimasi|' || nilai_estimasi, 1) ELSE '{}' END
        || CASE WHEN jenis_laporan IS NOT NULL
           THEN jsonb_build_object('fact.jenis_laporan|' || jenis_laporan, 1) ELSE '{}' END
        || CASE WHEN jenis IS NOT NULL
           THEN jsonb_build_object('fact.jenis|' || jenis, 1) ELSE '{}' END
        || CASE WHEN bentuk_pengendalian IS NOT NULL
           THEN jsonb_build_object('fact.bentuk_pengendalian|' || bentuk_pengendalian, 1)
           ELSE '{}' END
        || CASE WHEN fw THEN jsonb_build_object('forwarded|' || coalesce(target, ''), 1)
           ELSE '{}' END
        || CASE WHEN fw AND ct = 'gratifikasi'
           THEN jsonb_build_object('kpk_decision|' || coalesce(decision, ''), 1) ELSE '{}' END
        || CASE WHEN ct = 'gratifikasi'
           THEN jsonb_build_object('state|' || coalesce(state, ''), 1) ELSE '{}' END
       )::json
FROM base
"""
_PG_COUNTS = """
INSERT INTO indicator_counts (unit_id, span, month, case_type, name, key, n)
SELECT c.unit_id, s.span,
       CASE WHEN s.span = 'm' THEN c.month ELSE date_trunc('year', c.month)::date END,
       c.case_type, split_part(e.key, '|', 1), substr(e.key, strpos(e.key, '|') + 1),
       sum(e.value::bigint)
FROM indicator_cases c
CROSS JOIN json_each_text(c.counts) e
CROSS JOIN (VALUES ('m'), ('y')) s(span)
WHERE c.unit_id IS NOT NULL
GROUP BY 1, 2, 3, 4, 5, 6
HAVING sum(e.value::bigint) <> 0
"""


def rebuild(conn: Connection, tz: str | None = None, progress: Any = None) -> int:
    """Every summary and counter computed again from the source tables (in `tz`, or the
    time zone they were built in); returns the number of reports."""
    tz = tz or stored_tz(conn)
    conn.execute(delete(IndicatorCount))
    conn.execute(delete(IndicatorCase))
    conn.execute(delete(IndicatorMeta).where(IndicatorMeta.name == "tz"))
    conn.execute(insert(IndicatorMeta).values(name="tz", value=tz))
    if conn.dialect.name == "postgresql":
        conn.execute(text(_PG_CASES), {"tz": tz})
        conn.execute(text(_PG_COUNTS))
        return int(conn.scalar(select(func.count()).select_from(IndicatorCase)) or 0)
    ids = list(conn.scalars(select(Report.id).order_by(Report.id)))
    totals: Counter[tuple[Any, ...]] = Counter()
    for chunk in _chunks(ids):
        found = _load(conn, chunk, tz)
        _bulk_insert(
            conn, IndicatorCase, [{"report_id": rid, **_row(s)} for rid, s in found.items()]
        )
        for s in found.values():
            for key, n in _contributions(s, 1):
                totals[key] += n
        if progress is not None:
            progress(len(chunk))
    rows = _count_rows(totals)
    _bulk_insert(conn, IndicatorCount, rows)
    return len(ids)


# ------------------------------------------------------------------------------ upkeep


@dataclass(frozen=True)
class NewReport:
    """What a new report's summary depends on while it has no state, timer, fact or message."""

    unit_id: int
    case_type: Any
    submitted_at: datetime
    server_sealed: bool


def add_fresh(db: AsyncSession, report_id: int, report: NewReport, tz: str | None) -> None:
    """Count a report inserted in this transaction outside the ORM (a Core insert, which the
    flush listener never sees): its summary follows from its own values, the stored time
    zone `tz` (None: DEFAULT_TZ) read by the caller in this transaction; it is stored
    before the commit with the marked reports' (`settle`). Sources added to it later in the
    transaction mark it as usual and are settled on top."""
    summary = summarise(report, _Sources(), tz or DEFAULT_TZ)
    db.sync_session.info.setdefault(FRESH, {})[report_id] = summary


def touch(session: Session | AsyncSession, report_id: int) -> None:
    """Mark a report whose sources changed outside the ORM (a Core update)."""
    target = session.sync_session if isinstance(session, AsyncSession) else session
    target.info.setdefault(PENDING, set()).add(report_id)


def _changed_report(obj: Report) -> bool:
    state = attributes.instance_state(obj)
    return any(state.attrs[name].history.has_changes() for name in REPORT_FIELDS)


@event.listens_for(Session, "after_flush")
def _mark(session: Session, _flush: UOWTransaction) -> None:
    pending: set[int] = session.info.setdefault(PENDING, set())
    for obj in session.new:
        if isinstance(obj, Report):
            pending.add(obj.id)
        elif isinstance(obj, WATCHED):
            pending.add(obj.report_id)
    for obj in session.dirty:
        if isinstance(obj, Report) and _changed_report(obj):
            pending.add(obj.id)
        elif isinstance(obj, WATCHED) and session.is_modified(obj):
            pending.add(obj.report_id)
    for obj in session.deleted:
        if isinstance(obj, Report):
            pending.add(obj.id)
        elif isinstance(obj, WATCHED):
            pending.add(obj.report_id)


def settle_pending(session: Session) -> None:
    """Bring the marked reports' aggregates up to date (before a commit or a read)."""
    session.flush()
    fresh: dict[int, Summary] = session.info.pop(FRESH, {})
    pending: set[int] = session.info.pop(PENDING, set())
    if pending or fresh:
        settle(session.connection(), pending, fresh)


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    info = session.info
    if info.get(PENDING) or info.get(FRESH) or session.new or session.dirty or session.deleted:
        settle_pending(session)


@event.listens_for(Session, "after_soft_rollback")
def _forget_fresh(session: Session, previous: Any) -> None:
    """A rolled-back transaction's new reports are gone: nothing of them is counted."""
    if previous.parent is None:
        session.info.pop(FRESH, None)


async def settle_now(db: AsyncSession) -> None:
    await db.run_sync(settle_pending)
