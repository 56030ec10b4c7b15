"""Officers moving cases through their workflow: read where a case is, act, assign.

The engine (`wbs.workflow.service`) knows workflows; this module adds who the actor is and
which case they may see (a case they cannot read is a 404, one they may not change a 403),
the unit's calendar, today's date, and the message to the reporter an action carries.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, ScalarSelect, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from wbs.audit import service as audit
from wbs.calendar.service import calendar_for
from wbs.cases import repository as case_queries
from wbs.cases import service as cases
from wbs.core.errors import NotFound, ValidationFailed
from wbs.reporting import repository as reports
from wbs.reporting import service as reporting
from wbs.reporting.context import Reporting
from wbs.reporting.models import Report, ReportWrap, SenderRole
from wbs.staff.models import Staff
from wbs.workflow import service as engine
from wbs.workflow.definition import Text
from wbs.workflow.models import CaseState, CaseTimer
from wbs.workflow.registry import Workflows


@dataclass(frozen=True)
class Situation:
    """A case's workflow position as one officer sees it."""

    report: Report
    flow: engine.CaseWorkflow
    assignee: Staff | None
    roles: frozenset[str]

    @property
    def actions(self) -> list[Any]:
        return self.flow.actions_for(self.roles)


async def situation(
    db: AsyncSession, workflows: Workflows, actor: Staff, report_id: str, clock: engine.Clock
) -> Situation:
    report = await cases.readable(db, actor, report_id)
    return await situation_of(db, workflows, actor, report, clock)


async def situation_of(
    db: AsyncSession, workflows: Workflows, actor: Staff, report: Report, clock: engine.Clock
) -> Situation:
    """The situation of a case the caller already loaded through `cases.readable`."""
    unit = await reports.unit_of(db, report)
    calendar = await calendar_for(db, unit)
    await engine.sync(db, workflows, calendar, report, unit, clock.tz)
    flow = await engine.view(db, workflows, calendar, report, clock)
    assignee = await db.get(Staff, flow.state.assignee_id) if flow.state.assignee_id else None
    return Situation(report, flow, assignee, frozenset(r.value for r in actor.roles))


@dataclass(frozen=True)
class MessageToReporter:
    message_id: str
    box: str


async def act(
    db: AsyncSession,
    ctx: Reporting,
    workflows: Workflows,
    actor: Staff,
    report_id: str,
    *,
    action: str,
    expected_state: str,
    facts: Mapping[str, Any],
    message: MessageToReporter | None,
    clock: engine.Clock,
) -> Situation:
    """Take an action (and send its message to the reporter) in one transaction."""
    report = await cases.writable(db, actor, report_id)
    unit = await reports.unit_of(db, report)
    calendar = await calendar_for(db, unit)
    await engine.sync(db, workflows, calendar, report, unit, clock.tz)
    await engine.act(
        db,
        workflows,
        calendar,
        report=report,
        unit=unit,
        actor=actor,
        action=action,
        expected_state=expected_state,
        facts=facts,
        with_message=message is not None,
        clock=clock,
    )
    if message is not None:
        await reporting.add_message(
            db,
            ctx,
            report,
            sender=SenderRole.officer,
            staff=actor,
            message_id=message.message_id,
            box=message.box,
        )
    return await situation_of(db, workflows, actor, report, clock)


ASSIGNING_ROLES = frozenset({"atasan", "verifikator", "upg"})


async def assign(
    db: AsyncSession,
    workflows: Workflows,
    actor: Staff,
    report_id: str,
    *,
    staff_id: int,
    clock: engine.Clock,
) -> Situation:
    """Give the case to an officer who can read it and was not left out by the reporter."""
    report = await cases.writable(db, actor, report_id)
    if not {r.value for r in actor.roles} & ASSIGNING_ROLES:
        raise engine.RoleNotAllowed()
    target = await db.get(Staff, staff_id)
    wrap = await db.scalar(
        select(ReportWrap.id).where(
            ReportWrap.report_id == report.id,
            ReportWrap.staff_id == staff_id,
            ReportWrap.recipient == SenderRole.officer,
        )
    )
    if target is None or not target.active or target.unit_id != report.unit_id:
        raise NotFound("Petugas tidak ditemukan.", "Staff member not found.")
    if target.id in report.excluded_staff_ids:
        raise ValidationFailed(
            "Petugas ini dikecualikan oleh pelapor dan tidak dapat ditugaskan (recusal).",
            "The reporter left this officer out; they cannot be assigned (recusal).",
        )
    if wrap is None:
        raise ValidationFailed(
            "Petugas ini belum dapat membaca kasus: tambahkan dulu sebagai penerima.",
            "This officer cannot read the case yet: add them as a recipient first.",
        )
    row = await engine.adopt(
        db, workflows, await calendar_for(db, await reports.unit_of(db, report)), report, clock.tz
    )
    previous = row.assignee_id
    row.assignee_id = target.id
    await db.flush()
    unit = await reports.unit_of(db, report)
    await audit.append(
        db,
        unit=unit,
        actor_id=actor.id,
        actor=actor.email,
        action="case.assign",
        object_type="report",
        object_id=report.case_number,
        details={"from": previous, "to": target.id},
    )
    await engine.notify(db, report, "assigned", staff_id=target.id, skip_staff_id=actor.id)
    return await situation_of(db, workflows, actor, report, clock)


@dataclass(frozen=True)
class InboxItem:
    summary: cases.CaseSummary
    state: str
    state_label: Text
    status_label: Text
    next_due: date | None
    overdue: bool
    due_soon: bool
    assignee_id: int | None


SORTS = ("activity", "due")
FILTERS = ("all", "overdue", "due_soon", "mine")
DUE_SOON_DAYS = 3


def next_due() -> ScalarSelect[date]:
    """The nearest running deadline of the outer query's report (None: none runs)."""
    return (
        select(func.min(CaseTimer.due_on))
        .where(
            CaseTimer.report_id == Report.id,
            CaseTimer.stopped_on.is_(None),
            CaseTimer.paused_on.is_(None),
        )
        .correlate(Report)
        .scalar_subquery()
    )


async def inbox(
    db: AsyncSession,
    workflows: Workflows,
    actor: Staff,
    clock: engine.Clock,
    *,
    sort: str = "activity",
    show: str = "all",
    page: int = 1,
) -> list[InboxItem]:
    """A page of the cases this officer can open, with their step and nearest deadline;
    filtered and ordered in the query (`cases.PAGE_SIZE` a page)."""
    today = clock.today
    due = next_due()
    where: list[ColumnElement[bool]] = []
    if show == "overdue":
        where.append(due < today)
    elif show == "due_soon":
        where.append(due <= today + timedelta(days=DUE_SOON_DAYS))
    elif show == "mine":
        where.append(
            exists().where(CaseState.report_id == Report.id, CaseState.assignee_id == actor.id)
        )
    first: list[ColumnElement[Any]] = [due.is_(None), due.asc()] if sort == "due" else []
    if where or first:
        # these read states and timers: first adopt the readable cases that have none yet
        # (new reports); the latest-activity order does not, and adopts its page's below
        fresh = await db.scalars(
            case_queries.readable_statement(actor).where(
                ~exists().where(CaseState.report_id == Report.id)
            )
        )
        for report in fresh:
            await _adopted(db, workflows, clock, report)
    summaries = await cases.inbox(db, actor, page=page, where=where, first=first)
    ids = [s.report.id for s in summaries]
    states = (
        {
            r.report_id: r
            for r in await db.scalars(select(CaseState).where(CaseState.report_id.in_(ids)))
        }
        if ids
        else {}
    )
    for summary in summaries:
        if summary.report.id not in states:
            states[summary.report.id] = await _adopted(db, workflows, clock, summary.report)
    timers: dict[int, list[CaseTimer]] = {}
    if ids:
        for timer in await db.scalars(
            select(CaseTimer).where(
                CaseTimer.report_id.in_(ids),
                CaseTimer.stopped_on.is_(None),
                CaseTimer.paused_on.is_(None),
            )
        ):
            timers.setdefault(timer.report_id, []).append(timer)
    items = []
    for summary in summaries:
        row = states[summary.report.id]
        workflow = workflows.of(summary.report.case_type.value)
        dues = sorted(t.due_on for t in timers.get(summary.report.id, []))
        items.append(
            InboxItem(
                summary=summary,
                state=row.state,
                state_label=workflow.states[row.state].label,
                status_label=workflow.status_label(row.state),
                next_due=dues[0] if dues else None,
                overdue=bool(dues) and dues[0] < today,
                due_soon=bool(dues) and today <= dues[0] <= today + timedelta(days=DUE_SOON_DAYS),
                assignee_id=row.assignee_id,
            )
        )
    return items


async def _adopted(
    db: AsyncSession, workflows: Workflows, clock: engine.Clock, report: Report
) -> CaseState:
    unit = await reports.unit_of(db, report)
    return await engine.adopt(db, workflows, await calendar_for(db, unit), report, clock.tz)


@dataclass(frozen=True)
class Escalation:
    case_number: str
    channel: str
    state_label: Text
    timer_label: Text
    due: date
    readable: bool
    report_id: str


async def escalations(db: AsyncSession, workflows: Workflows, actor: Staff) -> list[Escalation]:
    """Cases of the actor's unit whose missed deadline was escalated to one of the actor's
    roles: metadata only; the case itself opens only for officers it is wrapped to."""
    roles = [r.value for r in actor.roles]
    rows = (
        await db.execute(
            select(Report, CaseTimer, CaseState)
            .join(CaseTimer, CaseTimer.report_id == Report.id)
            .join(CaseState, CaseState.report_id == Report.id)
            .where(
                Report.unit_id == actor.unit_id,
                CaseTimer.stopped_on.is_(None),
                CaseTimer.escalated_to.in_(roles),
            )
            .order_by(CaseTimer.due_on)
            .limit(200)
        )
    ).all()
    readable = (
        {
            r.id
            for r in await db.scalars(
                case_queries.readable_statement(actor).where(
                    Report.id.in_([row[0].id for row in rows])
                )
            )
        }
        if rows
        else set()
    )
    found = []
    for report, timer, state in rows:
        workflow = workflows.of(report.case_type.value)
        spec = workflow.timers.get(timer.name)
        found.append(
            Escalation(
                case_number=report.case_number,
                channel=report.case_type.value,
                state_label=workflow.states[state.state].label,
                timer_label=spec.label if spec else Text(timer.name, timer.name),
                due=timer.due_on,
                readable=report.id in readable,
                report_id=report.public_id,
            )
        )
    return found
