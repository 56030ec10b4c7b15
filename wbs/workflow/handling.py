"""Officers moving cases through their workflow: read where a case is, act, assign.

The engine (`wbs.workflow.service`) knows workflows; this module adds who the actor is and
which case they may see (a case they cannot read is a 404, one they may not change a 403),
the unit's calendar, today's date, and the message to the reporter an action carries.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from wbs.audit import service as audit
from wbs.calendar.service import calendar_for
from wbs.cases import service as cases
from wbs.core.errors import NotFound, ValidationFailed
from wbs.reporting import repository as reports
from wbs.reporting import service as reporting
from wbs.reporting.context import Reporting
from wbs.reporting.models import Report, ReportWrap, SenderRole
from wbs.staff.models import Staff
from wbs.workflow import service as engine
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


async def situation(db: AsyncSession, workflows: Workflows, actor: Staff, report_id: str,
                    clock: engine.Clock) -> Situation:
    report = await cases.readable(db, actor, report_id)
    return await _situation(db, workflows, actor, report, clock)


async def _situation(db: AsyncSession, workflows: Workflows, actor: Staff, report: Report,
                     clock: engine.Clock) -> Situation:
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
    await engine.act(db, workflows, calendar, report=report, unit=unit,
                     actor=actor, action=action, expected_state=expected_state, facts=facts,
                     with_message=message is not None, clock=clock)
    if message is not None:
        await reporting.add_message(db, ctx, report, sender=SenderRole.officer, staff=actor,
                                    message_id=message.message_id, box=message.box)
    return await _situation(db, workflows, actor, report, clock)


ASSIGNING_ROLES = frozenset({"atasan", "verifikator", "upg"})


async def assign(db: AsyncSession, workflows: Workflows, actor: Staff, report_id: str, *,
                 staff_id: int, clock: engine.Clock) -> Situation:
    """Give the case to an officer who can read it and was not left out by the reporter."""
    report = await cases.writable(db, actor, report_id)
    if not {r.value for r in actor.roles} & ASSIGNING_ROLES:
        raise engine.RoleNotAllowed()
    target = await db.get(Staff, staff_id)
    wrap = await db.scalar(select(ReportWrap.id).where(
        ReportWrap.report_id == report.id, ReportWrap.staff_id == staff_id,
        ReportWrap.recipient == SenderRole.officer))
    if target is None or not target.active or target.unit_id != report.unit_id:
        raise NotFound("Petugas tidak ditemukan.", "Staff member not found.")
    if target.id in report.excluded_staff_ids:
        raise ValidationFailed(
            "Petugas ini dikecualikan oleh pelapor dan tidak dapat ditugaskan (recusal).",
            "The reporter left this officer out; they cannot be assigned (recusal).")
    if wrap is None:
        raise ValidationFailed(
            "Petugas ini belum dapat membaca kasus: tambahkan dulu sebagai penerima.",
            "This officer cannot read the case yet: add them as a recipient first.")
    row = await engine.adopt(db, workflows, await calendar_for(db, await reports.unit_of(
        db, report)), report, clock.tz)
    previous = row.assignee_id
    row.assignee_id = target.id
    await db.flush()
    unit = await reports.unit_of(db, report)
    await audit.append(db, unit=unit, actor_id=actor.id, actor=actor.email,
                       action="case.assign", object_type="report",
                       object_id=report.case_number,
                       details={"from": previous, "to": target.id})
    await engine.notify(db, report, "assigned", staff_id=target.id, skip_staff_id=actor.id)
    return await _situation(db, workflows, actor, report, clock)
