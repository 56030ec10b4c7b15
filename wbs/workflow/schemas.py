"""API shapes of a case's workflow: state, deadlines, the actions an officer may take."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from wbs.reporting.schemas import MessageIn

Name = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,47}$")]
FactValue = Annotated[str, StringConstraints(max_length=500)] | bool


class TextOut(BaseModel):
    id: str
    en: str


class OptionOut(BaseModel):
    code: str
    label: TextOut


class FactFieldOut(BaseModel):
    """A fact an action records; the server can read it (never put report content here)."""

    name: str
    type: Literal["choice", "text", "date", "boolean"]
    label: TextOut
    options: list[OptionOut] = []
    max_length: int | None = None


class ActionOut(BaseModel):
    action: str
    label: TextOut
    to: str
    requires: list[FactFieldOut]
    optional: list[FactFieldOut]
    message: Literal["none", "optional", "required"]
    when: dict[str, list[str]] = {}


class DeadlineOut(BaseModel):
    name: str
    label: TextOut
    rule: str
    count: Literal["working", "calendar"]
    days: int
    due: date
    paused: bool
    overdue: bool
    due_soon: bool
    escalated_to: str | None


class AssigneeOut(BaseModel):
    id: int
    name: str


class FactShownOut(BaseModel):
    """A recorded fact with its label and its value as people read it."""

    name: str
    label: TextOut
    value: str | bool
    shown: TextOut


class RuleVersionOut(BaseModel):
    code: str
    label: TextOut


class WorkflowOut(BaseModel):
    workflow: str
    version: int
    state: str
    state_label: TextOut
    status: str
    status_label: TextOut
    assignee: AssigneeOut | None
    deadlines: list[DeadlineOut]
    actions: list[ActionOut]
    facts: dict[str, str | bool]
    facts_shown: list[FactShownOut] = []
    # The rule version in force on the case's rule date (gratifikasi: tanggal_terima).
    rule_version: RuleVersionOut | None = None


class ActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Name
    expected_state: Name
    facts: dict[Name, FactValue] = Field(default_factory=dict, max_length=20)
    message: MessageIn | None = None


class AssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    staff_id: int = Field(ge=1)


class EscalationOut(BaseModel):
    """A missed deadline escalated to one of the actor's roles; `report_id` only when the
    actor can open the case (otherwise a colleague who can must add them)."""

    case_number: str
    channel: str
    state_label: TextOut
    deadline: TextOut
    due: date
    readable: bool
    report_id: str | None
