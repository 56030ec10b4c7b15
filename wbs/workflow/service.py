"""The workflow engine: one transition function for every case type, timers, deadlines.

Every change goes through `act` (officers) or `_move` (the system: a reporter's message, a
timer running out): table-driven from the workflow file, role-checked, guarded against
races with `UPDATE ... WHERE state = :expected`, audited (action, from, to, facts; never
content), starting, pausing and stopping timers and writing notifications to the outbox in
the same transaction. Services only flush; the request commits.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from wbs.audit import service as audit
from wbs.calendar.service import calendar_for
from wbs.calendar.workdays import DayCount, WorkCalendar
from wbs.core.db import utcnow
from wbs.core.errors import Conflict, DomainError, Forbidden, ValidationFailed
from wbs.indicators import aggregates as indicator_aggregates
from wbs.outbox import service as outbox
from wbs.reporting.models import Message, Report, SenderRole
from wbs.staff.models import Staff
from wbs.units.models import Unit
from wbs.workflow.definition import (
    FactType,
    MessageRule,
    Milestone,
    Text,
    Timer,
    Transition,
    Trigger,
    Workflow,
)
from wbs.workflow.models import CaseFact, CaseMilestone, CaseState, CaseTimer
from wbs.workflow.registry import Workflows

SYSTEM = "sistem"
CalendarSource = Callable[[AsyncSession, Unit], Awaitable[WorkCalendar]]
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_FACTS_PER_ACTION = 20
# Reminders come at most 60 working days ahead: no timer further out is looked at.
REMIND_WINDOW = timedelta(days=100)


class UnknownAction(ValidationFailed):
    code = "unknown_action"
    message_id = "Tindakan tidak dikenal untuk jenis kasus ini."
    message_en = "Unknown action for this kind of case."


class StateChanged(Conflict):
    code = "state_changed"


class NotFromHere(Conflict):
    code = "action_not_available"


class RoleNotAllowed(Forbidden):
    code = "role_not_allowed"
    message_id = "Peran Anda tidak dapat melakukan tindakan ini."
    message_en = "Your role cannot take this action."


class FactProblem(ValidationFailed):
    code = "fact_invalid"


class MessageRequired(ValidationFailed):
    code = "message_required"
    message_id = "Tindakan ini memerlukan pesan kepada pelapor."
    message_en = "This action needs a message to the reporter."


def local_day(at: datetime, tz: str) -> date:
    """The calendar day of a UTC timestamp in the deployment's timezone."""
    return at.astimezone(ZoneInfo(tz)).date()


@dataclass(frozen=True)
class Clock:
    """Now, and the local day deadlines are counted in (frozen in tests)."""

    now: datetime
    tz: str = "Asia/Jakarta"

    @property
    def today(self) -> date:
        return local_day(self.now, self.tz)

    @classmethod
    def current(cls, tz: str) -> Clock:
        return cls(utcnow(), tz)

    @classmethod
    def on(cls, day: date, tz: str = "Asia/Jakarta", hour: int = 9) -> Clock:
        """A moment on a local day (09:00 by default), for tests and tools."""
        local = datetime(day.year, day.month, day.day, hour, tzinfo=ZoneInfo(tz))
        return cls(local.astimezone(UTC), tz)


@dataclass(frozen=True)
class Deadline:
    name: str
    label: Text
    rule: str
    count: str
    days: int
    due: date
    paused: bool
    overdue: bool
    due_soon: bool
    escalated_to: str | None


@dataclass(frozen=True)
class CaseWorkflow:
    """A case's place in its workflow as an actor sees it."""

    workflow: Workflow
    state: CaseState
    facts: dict[str, Any]
    deadlines: list[Deadline]

    @property
    def status_label(self) -> Text:
        return self.workflow.status_label(self.state.state)

    @property
    def state_label(self) -> Text:
        return self.workflow.states[self.state.state].label

    def actions_for(self, roles: frozenset[str]) -> list[Transition]:
        return [
            t
            for t in self.workflow.actions_from(self.state.state)
            if t.trigger is Trigger.officer and t.roles & roles
        ]


def _workflow(workflows: Workflows, report: Report) -> Workflow:
    return workflows.of(report.case_type.value)


async def state_of(db: AsyncSession, workflows: Workflows, report: Report) -> CaseState:
    """The case's state row; a case from before workflows is adopted at its status."""
    row = await db.get(CaseState, report.id)
    if row is not None:
        return row
    workflow = _workflow(workflows, report)
    state = next(
        (n for n, s in workflow.states.items() if s.status == report.status.value), workflow.initial
    )
    row = CaseState(
        report_id=report.id,
        workflow=workflow.id,
        workflow_version=workflow.version,
        state=state,
        entered_at=report.status_changed_at,
    )
    db.add(row)
    await db.flush()
    return row


async def begin(
    db: AsyncSession, workflows: Workflows, calendar: WorkCalendar, report: Report, clock: Clock
) -> CaseState:
    """Put a new case at its workflow's initial state and start that state's timers."""
    workflow = _workflow(workflows, report)
    row = CaseState(
        report_id=report.id,
        workflow=workflow.id,
        workflow_version=workflow.version,
        state=workflow.initial,
        entered_at=clock.now,
    )
    db.add(row)
    await db.flush()
    await _timers_on_enter(db, workflow, calendar, report, None, workflow.initial, {}, clock.today)
    return row


async def facts_of(db: AsyncSession, report_id: int) -> dict[str, Any]:
    rows = await db.scalars(select(CaseFact).where(CaseFact.report_id == report_id))
    return {r.name: r.value for r in rows}


async def timers_of(db: AsyncSession, report_id: int) -> list[CaseTimer]:
    rows = await db.scalars(
        select(CaseTimer).where(CaseTimer.report_id == report_id).order_by(CaseTimer.id)
    )
    return list(rows)


def deadline(workflow: Workflow, calendar: WorkCalendar, timer: CaseTimer, today: date) -> Deadline:
    spec = workflow.timers.get(timer.name)
    label = spec.label if spec else Text(timer.name, timer.name)
    remind = max(spec.remind_before if spec else 0, 1)
    active = timer.stopped_on is None
    paused = timer.paused_on is not None
    left = calendar.spent(today, timer.due_on, DayCount(timer.count))
    return Deadline(
        name=timer.name,
        label=label,
        rule=timer.rule,
        count=timer.count,
        days=timer.days,
        due=timer.due_on,
        paused=paused,
        overdue=active and not paused and today > timer.due_on,
        due_soon=active and not paused and today <= timer.due_on and left <= remind,
        escalated_to=timer.escalated_to if active else None,
    )


async def view(
    db: AsyncSession, workflows: Workflows, calendar: WorkCalendar, report: Report, clock: Clock
) -> CaseWorkflow:
    workflow = _workflow(workflows, report)
    row = await state_of(db, workflows, report)
    timers = [t for t in await timers_of(db, report.id) if t.stopped_on is None]
    return CaseWorkflow(
        workflow,
        row,
        await facts_of(db, report.id),
        [deadline(workflow, calendar, t, clock.today) for t in timers],
    )


def _fact_value(workflow: Workflow, name: str, raw: Any, rule_on: date | None) -> str | bool:
    fact = workflow.facts[name]
    label = fact.label

    def bad(id_: str, en: str) -> FactProblem:
        return FactProblem(f"{label.id}: {id_}", f"{label.en}: {en}")

    if fact.type is FactType.boolean:
        if isinstance(raw, bool):
            return raw
        if raw in ("true", "false", "ya", "tidak"):
            return raw in ("true", "ya")
        raise bad("isi ya atau tidak.", "give true or false.")
    if not isinstance(raw, str):
        raise bad("nilai tidak valid.", "not a valid value.")
    text = raw.strip()
    if fact.type is FactType.choice:
        option = fact.options.get(text)
        if option is None:
            raise bad(f"pilihan {text[:48]!r} tidak dikenal.", f"unknown option {text[:48]!r}.")
        if option.rules and rule_on is not None:
            version = workflow.rule_version(rule_on)
            if version is None or version.code not in option.rules:
                shown = version.label if version else Text("-", "-")
                raise bad(
                    f"{option.label.id} tidak berlaku menurut {shown.id}.",
                    f"{option.label.en} does not apply under {shown.en}.",
                )
        return text
    if fact.type is FactType.date:
        try:
            day = date.fromisoformat(text[:10]) if len(text) == 10 else None
        except ValueError:
            day = None
        if day is None or not 2004 <= day.year <= 2100:
            raise bad("tanggal tidak valid (YYYY-MM-DD).", "not a date (YYYY-MM-DD).")
        return day.isoformat()
    if not text or len(text) > fact.max_length or CONTROL.search(text):
        raise bad(
            f"wajib diisi, paling banyak {fact.max_length} karakter.",
            f"required, at most {fact.max_length} characters.",
        )
    return text


def checked_facts(
    workflow: Workflow,
    transition: Transition,
    given: Mapping[str, Any],
    recorded: Mapping[str, Any],
    today: date,
) -> dict[str, str | bool]:
    """The facts this step records, validated; required ones given now or recorded before."""
    if len(given) > MAX_FACTS_PER_ACTION:
        raise FactProblem("Terlalu banyak fakta.", "Too many facts.")
    allowed = set(transition.requires) | set(transition.optional)
    for name in given:
        if name not in allowed:
            raise FactProblem(
                f"Fakta {str(name)[:48]!r} tidak dicatat pada tindakan ini.",
                f"The fact {str(name)[:48]!r} is not recorded by this action.",
            )
    rule_on: date | None = None
    if workflow.rule_fact:
        source = given.get(workflow.rule_fact, recorded.get(workflow.rule_fact))
        if source is not None:
            value = _fact_value(workflow, workflow.rule_fact, source, None)
            rule_on = date.fromisoformat(str(value))
            if rule_on > today:
                label = workflow.facts[workflow.rule_fact].label
                raise FactProblem(
                    f"{label.id}: tidak boleh setelah hari ini.",
                    f"{label.en}: cannot be after today.",
                )
    values = {
        name: _fact_value(workflow, name, raw, rule_on)
        for name, raw in given.items()
        if not (
            isinstance(raw, str)
            and not raw.strip()
            and workflow.facts[name].type is not FactType.text
        )
    }
    merged = {**recorded, **values}
    for name in transition.requires:
        if name not in merged:
            label = workflow.facts[name].label
            raise FactProblem(f"{label.id} wajib diisi.", f"{label.en} is required.")
    for name, options in transition.when.items():
        if merged.get(name) not in options:
            label = workflow.facts[name].label
            raise FactProblem(
                f"Tindakan ini hanya untuk {label.id}: "
                + ", ".join(workflow.facts[name].options[o].label.id for o in sorted(options)),
                f"This action is only for {label.en}: "
                + ", ".join(workflow.facts[name].options[o].label.en for o in sorted(options)),
            )
    return values


async def act(
    db: AsyncSession,
    workflows: Workflows,
    calendar: WorkCalendar,
    *,
    report: Report,
    unit: Unit,
    actor: Staff,
    action: str,
    expected_state: str,
    facts: Mapping[str, Any],
    with_message: bool,
    clock: Clock,
) -> CaseState:
    """An officer takes an action on a case (the API's POST .../actions)."""
    workflow = _workflow(workflows, report)
    transition = workflow.transitions.get(action)
    if transition is None:
        raise UnknownAction()
    row = await state_of(db, workflows, report)
    if row.state != expected_state:
        now = workflow.states[row.state].label
        raise StateChanged(
            f"Kasus sudah berpindah ke tahap {now.id}. Muat ulang lalu coba lagi.",
            f"The case has moved on to {now.en}. Reload and try again.",
        )
    if row.state not in transition.sources:
        here = workflow.states[row.state].label
        raise NotFromHere(
            f"Tindakan {transition.label.id} tidak tersedia pada tahap {here.id}.",
            f"{transition.label.en} is not available at {here.en}.",
        )
    if transition.trigger is not Trigger.officer:
        raise NotFromHere(
            f"{transition.label.id} dilakukan oleh sistem, bukan petugas.",
            f"{transition.label.en} is taken by the system, not by an officer.",
        )
    if not {r.value for r in actor.roles} & transition.roles:
        raise RoleNotAllowed()
    if transition.message is MessageRule.required and not with_message:
        raise MessageRequired()
    if transition.message is MessageRule.none and with_message:
        raise ValidationFailed(
            "Tindakan ini tidak mengirim pesan kepada pelapor.",
            "This action sends no message to the reporter.",
        )
    recorded = await facts_of(db, report.id)
    values = checked_facts(workflow, transition, facts, recorded, clock.today)
    return await _move(
        db,
        workflow,
        calendar,
        report=report,
        unit=unit,
        row=row,
        transition=transition,
        actor=actor,
        values=values,
        clock=clock,
    )


async def _move(
    db: AsyncSession,
    workflow: Workflow,
    calendar: WorkCalendar,
    *,
    report: Report,
    unit: Unit,
    row: CaseState,
    transition: Transition,
    actor: Staff | None,
    values: Mapping[str, str | bool],
    clock: Clock,
) -> CaseState:
    source, target = row.state, transition.target
    recorded = await facts_of(db, report.id)
    now, today = clock.now, clock.today
    changes: dict[str, Any] = {"state": target, "entered_at": now} if source != target else {}
    if transition.assign_to_actor and actor is not None:
        changes["assignee_id"] = actor.id
    if changes:
        moved = await db.execute(
            update(CaseState)
            .where(CaseState.report_id == report.id, CaseState.state == source)
            .values(**changes)
            .execution_options(synchronize_session=False)
        )
        if getattr(moved, "rowcount", 0) != 1:
            raise StateChanged(
                "Kasus baru saja diubah petugas lain. Muat ulang lalu coba lagi.",
                "Another officer changed the case just now. Reload and try again.",
            )
    indicator_aggregates.touch(db, report.id)  # the Core update above bypasses the ORM
    status = workflow.states[target].status
    report_changes: dict[str, Any] = {"last_activity_at": now}
    if status != report.status.value:
        report_changes.update(status=status, status_changed_at=now)
    await db.execute(
        update(Report)
        .where(Report.id == report.id)
        .values(**report_changes)
        .execution_options(synchronize_session=False)
    )
    for name, value in values.items():
        fact = await db.scalar(
            select(CaseFact).where(CaseFact.report_id == report.id, CaseFact.name == name)
        )
        if fact is None:
            db.add(
                CaseFact(
                    report_id=report.id,
                    name=name,
                    value=value,
                    action=transition.action,
                    recorded_by_id=actor.id if actor else None,
                    recorded_at=now,
                )
            )
        else:
            fact.value, fact.action, fact.recorded_at = value, transition.action, now
            fact.recorded_by_id = actor.id if actor else None
    await db.flush()
    if source != target:
        await _timers_on_enter(
            db, workflow, calendar, report, source, target, {**recorded, **values}, today
        )
        marks = list(workflow.states[target].marks)
        if source == workflow.initial:
            marks.insert(0, Milestone.first_response)
        await _record_milestones(db, calendar, report, target, marks, clock)
    await audit.append(
        db,
        unit=unit,
        actor_id=actor.id if actor else None,
        actor=actor.email if actor else SYSTEM,
        action="case.transition",
        object_type="report",
        object_id=report.case_number,
        details={"action": transition.action, "from": source, "to": target, "facts": dict(values)},
    )
    await db.refresh(row)
    await db.refresh(report)
    await notify(
        db,
        report,
        "transition",
        staff_id=row.assignee_id,
        skip_staff_id=actor.id if actor else None,
    )
    return row


async def _record_milestones(
    db: AsyncSession,
    calendar: WorkCalendar,
    report: Report,
    state: str,
    marks: Sequence[Milestone],
    clock: Clock,
) -> None:
    """The first time the case reaches each milestone (the state row lock serialises this)."""
    if not marks:
        return
    reached = set(
        await db.scalars(select(CaseMilestone.name).where(CaseMilestone.report_id == report.id))
    )
    arrived = local_day(report.submitted_at, clock.tz)
    for mark in marks:
        if mark.value not in reached:
            db.add(
                CaseMilestone(
                    report_id=report.id,
                    name=mark.value,
                    state=state,
                    reached_at=clock.now,
                    working_days=calendar.spent(arrived, clock.today),
                )
            )
    await db.flush()


async def notify(
    db: AsyncSession,
    report: Report,
    reason: str,
    *,
    staff_id: int | None = None,
    role: str | None = None,
    skip_staff_id: int | None = None,
) -> None:
    """'A case needs you' for one officer or a role of the case's unit: never content."""
    if staff_id is None and role is None:
        return
    if staff_id is not None and staff_id == skip_staff_id:
        return
    await outbox.enqueue(
        db,
        "case_needs_you",
        case=report.public_id,
        unit_id=report.unit_id,
        reason=reason,
        staff_id=staff_id,
        role=role,
    )


def _budget(spec: Timer, facts: Mapping[str, Any]) -> int:
    if spec.days_fact:
        return spec.days_by_option.get(str(facts.get(spec.days_fact)), 0)
    return spec.days


async def _timers_on_enter(
    db: AsyncSession,
    workflow: Workflow,
    calendar: WorkCalendar,
    report: Report,
    source: str | None,
    target: str,
    facts: Mapping[str, Any],
    today: date,
) -> None:
    """Stop, pause, resume and start the case's timers as it enters `target`; a terminal
    state stops every timer (a closed case has no deadline left)."""
    existing = {t.name: t for t in await timers_of(db, report.id)}
    closing = workflow.states[target].terminal
    for spec in workflow.timers.values():
        timer = existing.get(spec.name)
        running = timer is not None and timer.stopped_on is None
        if running and timer is not None and (closing or target in spec.stops):
            timer.stopped_on = today
            continue
        if running and timer is not None:
            if target in spec.pauses and timer.paused_on is None:
                timer.paused_on = today
            elif target not in spec.pauses and timer.paused_on is not None:
                timer.pauses = [*timer.pauses, [timer.paused_on.isoformat(), today.isoformat()]]
                timer.paused_on = None
                timer.due_on = _due(calendar, timer)
        if target in spec.starts and not running:
            days = _budget(spec, facts)
            if days <= 0:
                continue
            base = date.fromisoformat(str(facts[spec.start_fact])) if spec.start_fact else today
            if timer is None:
                timer = CaseTimer(report_id=report.id, name=spec.name)
                db.add(timer)
            timer.rule, timer.count, timer.days = spec.rule, spec.count.value, days
            timer.stopped_on = None
            _restart(timer, calendar, base)
    await db.flush()


def _restart(timer: CaseTimer, calendar: WorkCalendar, base: date) -> None:
    """Count the timer's whole budget again from `base`: no pause, expiry, reminder or
    escalation carried over."""
    timer.base_on, timer.pauses, timer.paused_on = base, [], None
    timer.expired_on = timer.reminded_on = None
    timer.escalated_to = None
    timer.due_on = calendar.add(base, timer.days, DayCount(timer.count))


def _due(calendar: WorkCalendar, timer: CaseTimer) -> date:
    spans = [(date.fromisoformat(a), date.fromisoformat(b)) for a, b in timer.pauses]
    return calendar.due_with_pauses(timer.base_on, timer.days, spans, DayCount(timer.count))


async def adopt(
    db: AsyncSession, workflows: Workflows, calendar: WorkCalendar, report: Report, tz: str
) -> CaseState:
    """The case's state row, created (with its timers) for a case that has none yet.

    New reports are adopted here rather than in the submission's transaction, which stays
    short; timers count from the day the report arrived (or the day its status last changed,
    for cases from before workflows), so adopting later changes no deadline.
    """
    row = await db.get(CaseState, report.id)
    if row is not None:
        return row
    row = await state_of(db, workflows, report)
    workflow = _workflow(workflows, report)
    base = report.submitted_at if row.state == workflow.initial else report.status_changed_at
    await _timers_on_enter(db, workflow, calendar, report, None, row.state, {}, local_day(base, tz))
    return row


async def sync(
    db: AsyncSession,
    workflows: Workflows,
    calendar: WorkCalendar,
    report: Report,
    unit: Unit,
    tz: str,
) -> CaseState:
    """Bring a case up to date with its mailbox: adopt it, let a reporter's message take the
    step that waits for it, and restart feedback timers an officer's message answered.

    Runs from the worker and before an officer reads or acts; days are the messages' own.
    """
    row = await adopt(db, workflows, calendar, report, tz)
    workflow = _workflow(workflows, report)
    step = next(
        (t for t in workflow.actions_from(row.state) if t.trigger is Trigger.reporter_message), None
    )
    if step is not None:
        answered = await db.scalar(
            select(Message.created_at)
            .where(
                Message.report_id == report.id,
                Message.sender_role == SenderRole.reporter,
                Message.created_at > row.entered_at,
            )
            .order_by(Message.created_at)
            .limit(1)
        )
        if answered is not None:
            row = await _move(
                db,
                workflow,
                calendar,
                report=report,
                unit=unit,
                row=row,
                transition=step,
                actor=None,
                values={},
                clock=Clock(answered, tz),
            )
    restartable = {t.name for t in workflow.timers.values() if t.restart_on_officer_message}
    if restartable:
        last = await db.scalar(
            select(func.max(Message.created_at)).where(
                Message.report_id == report.id, Message.sender_role == SenderRole.officer
            )
        )
        if last is not None:
            day = local_day(last, tz)
            for timer in await timers_of(db, report.id):
                if timer.name in restartable and timer.stopped_on is None and day > timer.base_on:
                    _restart(timer, calendar, day)
            await db.flush()
    return row


async def sync_pending(
    db: AsyncSession,
    workflows: Workflows,
    tz: str,
    *,
    calendars: CalendarSource = calendar_for,
    limit: int = 500,
) -> int:
    """The worker's sweep: cases never adopted, and cases with mailbox activity since their
    last step or their feedback timer's start."""
    flows = workflows.by_type.values()
    waiting = {
        t_from
        for w in flows
        for t in w.transitions.values()
        if t.trigger is Trigger.reporter_message
        for t_from in t.sources
    }
    restartable = {t.name for w in flows for t in w.timers.values() if t.restart_on_officer_message}
    new = (
        select(Report.id)
        .outerjoin(CaseState, CaseState.report_id == Report.id)
        .where(CaseState.report_id.is_(None))
    )
    replied = (
        select(CaseState.report_id)
        .join(Message, Message.report_id == CaseState.report_id)
        .where(
            CaseState.state.in_(waiting),
            Message.sender_role == SenderRole.reporter,
            Message.created_at > CaseState.entered_at,
        )
    )
    restart = (
        select(CaseTimer.report_id)
        .join(Message, Message.report_id == CaseTimer.report_id)
        .where(
            CaseTimer.name.in_(restartable),
            CaseTimer.stopped_on.is_(None),
            Message.sender_role == SenderRole.officer,
            func.date(Message.created_at) > CaseTimer.base_on,
        )
    )
    ids: set[int] = set()
    for query in (new, replied, restart):
        ids |= set(await db.scalars(query.distinct().limit(limit)))
    for report_id in sorted(ids):
        report = await db.get(Report, report_id)
        unit = await db.get(Unit, report.unit_id) if report else None
        if report is None or unit is None:
            continue
        await sync(db, workflows, await calendars(db, unit), report, unit, tz)
    return len(ids)


@dataclass
class TimerRun:
    expired: int = 0
    escalated: int = 0
    closed: int = 0
    reminded: int = 0
    stopped: int = 0  # running timers found on closed cases (made before closing stopped them)


async def run_timers(
    db: AsyncSession,
    workflows: Workflows,
    clock: Clock,
    *,
    calendars: CalendarSource = calendar_for,
    limit: int = 500,
) -> TimerRun:
    """Handle timers that ran out before today and remind those about to; safe to run twice.

    Each timer is claimed with `UPDATE ... WHERE expired_on IS NULL` (or reminded_on), so
    several workers never act on the same one. A timer still running on a case in a terminal
    state (databases from before closing stopped every timer) is stopped, never acted on.
    """
    run = TimerRun()
    today = clock.today
    due = await db.scalars(
        select(CaseTimer)
        .where(
            CaseTimer.stopped_on.is_(None),
            CaseTimer.expired_on.is_(None),
            CaseTimer.paused_on.is_(None),
            CaseTimer.due_on < today,
        )
        .order_by(CaseTimer.due_on, CaseTimer.id)
        .limit(limit)
    )
    for timer in list(due):
        claimed = await db.execute(
            update(CaseTimer)
            .where(CaseTimer.id == timer.id, CaseTimer.expired_on.is_(None))
            .values(expired_on=today)
            .execution_options(synchronize_session=False)
        )
        if getattr(claimed, "rowcount", 0) != 1:
            continue
        run.expired += 1
        await db.refresh(timer)
        report = await db.get(Report, timer.report_id)
        if report is None:
            continue
        unit = await db.get(Unit, report.unit_id)
        assert unit is not None  # noqa: S101 - a report's unit exists (FK)
        workflow = _workflow(workflows, report)
        spec = workflow.timers.get(timer.name)
        if spec is None:
            continue
        row = await state_of(db, workflows, report)
        if _closed(workflow, row, timer, today):
            run.stopped += 1
            continue
        calendar = await calendars(db, unit)
        if spec.on_expiry.action:
            step = workflow.transitions[spec.on_expiry.action]
            if row.state in step.sources:
                try:
                    await _move(
                        db,
                        workflow,
                        calendar,
                        report=report,
                        unit=unit,
                        row=row,
                        transition=step,
                        actor=None,
                        values={},
                        clock=clock,
                    )
                    run.closed += 1
                except DomainError:
                    pass
        elif spec.on_expiry.escalate:
            timer.escalated_to = spec.on_expiry.escalate
            await audit.append(
                db,
                unit=unit,
                actor_id=None,
                actor=SYSTEM,
                action="case.escalated",
                object_type="report",
                object_id=report.case_number,
                details={
                    "timer": timer.name,
                    "due": timer.due_on.isoformat(),
                    "role": spec.on_expiry.escalate,
                },
            )
            await notify(db, report, "escalated", role=spec.on_expiry.escalate)
            run.escalated += 1
    await db.flush()
    soon = await db.scalars(
        select(CaseTimer)
        .where(
            CaseTimer.stopped_on.is_(None),
            CaseTimer.expired_on.is_(None),
            CaseTimer.paused_on.is_(None),
            CaseTimer.reminded_on.is_(None),
            CaseTimer.due_on >= today,
            CaseTimer.due_on <= today + REMIND_WINDOW,
        )
        .order_by(CaseTimer.due_on, CaseTimer.id)
        .limit(limit)
    )
    for timer in list(soon):
        report = await db.get(Report, timer.report_id)
        if report is None:
            continue
        workflow = _workflow(workflows, report)
        spec = workflow.timers.get(timer.name)
        if spec is None or not spec.remind_before:
            continue
        unit = await db.get(Unit, report.unit_id)
        assert unit is not None  # noqa: S101
        calendar = await calendars(db, unit)
        if calendar.spent(today, timer.due_on, DayCount(timer.count)) > spec.remind_before:
            continue
        claimed = await db.execute(
            update(CaseTimer)
            .where(CaseTimer.id == timer.id, CaseTimer.reminded_on.is_(None))
            .values(reminded_on=today)
            .execution_options(synchronize_session=False)
        )
        if getattr(claimed, "rowcount", 0) != 1:
            continue
        row = await state_of(db, workflows, report)
        if _closed(workflow, row, timer, today):
            run.stopped += 1
            continue
        await notify(
            db,
            report,
            "due_soon",
            staff_id=row.assignee_id,
            role=None if row.assignee_id else _first_role(spec, workflow, row.state),
        )
        run.reminded += 1
    await db.flush()
    return run


def _closed(workflow: Workflow, row: CaseState, timer: CaseTimer, today: date) -> bool:
    """Stop `timer` (just claimed) if its case is in a terminal state; whether it did."""
    node = workflow.states.get(row.state)
    if node is None or not node.terminal:
        return False
    timer.stopped_on, timer.expired_on, timer.reminded_on = today, None, None
    return True


def _first_role(spec: Timer, workflow: Workflow, state: str) -> str | None:
    for t in workflow.actions_from(state):
        if t.roles:
            return sorted(t.roles)[0]
    return spec.on_expiry.escalate


async def overdue_timers(db: AsyncSession, today: date) -> tuple[int, int]:
    """(running timers past their due day, of which the worker has not handled yet): what
    /metrics reports; the second one growing means the worker is behind or down."""
    row = (
        await db.execute(
            select(
                func.count(),
                func.count().filter(CaseTimer.expired_on.is_(None)),
            ).where(
                CaseTimer.stopped_on.is_(None),
                CaseTimer.paused_on.is_(None),
                CaseTimer.due_on < today,
            )
        )
    ).one()
    return int(row[0]), int(row[1])
