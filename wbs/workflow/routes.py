"""Officer workflow API v1: where a case is, the actions an officer may take, assignment."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from wbs.core.bodylimit import KIB, body_limit
from wbs.core.db import DbSession
from wbs.core.settings import Settings
from wbs.reporting.context import ReportingCtx
from wbs.staff.deps import CsrfChecked, CurrentStaff
from wbs.workflow import handling
from wbs.workflow.definition import Fact, Text, Transition, Workflow
from wbs.workflow.registry import Workflows
from wbs.workflow.schemas import (
    ActionIn,
    ActionOut,
    AssigneeOut,
    AssignIn,
    DeadlineOut,
    EscalationOut,
    FactFieldOut,
    FactShownOut,
    OptionOut,
    RuleVersionOut,
    TextOut,
    WorkflowOut,
)
from wbs.workflow.service import Clock

router = APIRouter(tags=["workflow"])
CASE = "/api/v1/cases/{report_id}"


def workflows(request: Request) -> Workflows:
    """The workflows loaded and validated at start (`create_app`)."""
    loaded: Workflows = request.app.state.workflows
    return loaded


WorkflowsDep = Annotated[Workflows, Depends(workflows)]


def clock_of(request: Request) -> Clock:
    settings: Settings = request.app.state.settings
    return Clock.current(settings.timezone)


def text(t: Text) -> TextOut:
    return TextOut(id=t.id, en=t.en)


def fact_field(fact: Fact) -> FactFieldOut:
    return FactFieldOut(
        name=fact.name,
        type=fact.type.value,
        label=text(fact.label),
        options=[OptionOut(code=o.code, label=text(o.label)) for o in fact.options.values()],
        max_length=fact.max_length if fact.type.value == "text" else None,
    )


def action_out(workflow: Workflow, t: Transition) -> ActionOut:
    return ActionOut(
        action=t.action,
        label=text(t.label),
        to=t.target,
        requires=[fact_field(workflow.facts[f]) for f in t.requires],
        optional=[fact_field(workflow.facts[f]) for f in t.optional],
        message=t.message.value,
        when={k: sorted(v) for k, v in t.when.items()},
    )


def workflow_out(seen: handling.Situation) -> WorkflowOut:
    flow = seen.flow
    state = flow.state
    facts = {k: v for k, v in flow.facts.items() if isinstance(v, str | bool)}
    rule = flow.workflow.rule_version_of(flow.facts)
    return WorkflowOut(
        workflow=flow.workflow.id,
        version=state.workflow_version,
        state=state.state,
        state_label=text(flow.state_label),
        status=flow.workflow.states[state.state].status,
        status_label=text(flow.status_label),
        assignee=AssigneeOut(id=seen.assignee.id, name=seen.assignee.name)
        if seen.assignee
        else None,
        deadlines=[
            DeadlineOut(
                name=d.name,
                label=text(d.label),
                rule=d.rule,
                count=d.count,
                days=d.days,
                due=d.due,
                paused=d.paused,
                overdue=d.overdue,
                due_soon=d.due_soon,
                escalated_to=d.escalated_to,
            )
            for d in flow.deadlines
        ],
        actions=[action_out(flow.workflow, t) for t in seen.actions],
        facts=facts,
        facts_shown=[
            FactShownOut(
                name=k,
                label=text(flow.workflow.facts[k].label),
                value=v,
                shown=text(flow.workflow.shown(k, v)),
            )
            for k, v in facts.items()
            if k in flow.workflow.facts
        ],
        rule_version=RuleVersionOut(code=rule.code, label=text(rule.label)) if rule else None,
    )


@router.get(f"{CASE}/workflow", response_model=WorkflowOut)
async def case_workflow(
    report_id: str, request: Request, db: DbSession, staff: CurrentStaff, flows: WorkflowsDep
) -> WorkflowOut:
    seen = await handling.situation(db, flows, staff, report_id, clock_of(request))
    return workflow_out(seen)


@router.post(f"{CASE}/actions", response_model=WorkflowOut, dependencies=[CsrfChecked])
@body_limit(256 * KIB)
async def take_action(
    report_id: str,
    body: ActionIn,
    request: Request,
    db: DbSession,
    staff: CurrentStaff,
    flows: WorkflowsDep,
    ctx: ReportingCtx,
) -> WorkflowOut:
    message = (
        handling.MessageToReporter(body.message.id, body.message.box) if body.message else None
    )
    facts: dict[str, Any] = dict(body.facts)
    seen = await handling.act(
        db,
        ctx,
        flows,
        staff,
        report_id,
        action=body.action,
        expected_state=body.expected_state,
        facts=facts,
        message=message,
        clock=clock_of(request),
    )
    return workflow_out(seen)


@router.post(f"{CASE}/assignee", response_model=WorkflowOut, dependencies=[CsrfChecked])
async def assign(
    report_id: str,
    body: AssignIn,
    request: Request,
    db: DbSession,
    staff: CurrentStaff,
    flows: WorkflowsDep,
) -> WorkflowOut:
    seen = await handling.assign(
        db, flows, staff, report_id, staff_id=body.staff_id, clock=clock_of(request)
    )
    return workflow_out(seen)


@router.get("/api/v1/workflow/escalations", response_model=list[EscalationOut])
async def escalations(
    db: DbSession, staff: CurrentStaff, flows: WorkflowsDep
) -> list[EscalationOut]:
    """Missed deadlines escalated to the actor's roles in their unit (metadata only)."""
    return [
        EscalationOut(
            case_number=e.case_number,
            channel=e.channel,
            state_label=text(e.state_label),
            deadline=text(e.timer_label),
            due=e.due,
            readable=e.readable,
            report_id=e.report_id if e.readable else None,
        )
        for e in await handling.escalations(db, flows, staff)
    ]
