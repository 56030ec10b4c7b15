"""Bodies of the officer case API (see docs/api.md, section 4)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from wbs.reporting.schemas import (
    AttachmentOut,
    B64u,
    EnvelopeOut,
    MessageOut,
    StatusLabel,
    Uuid,
)
from wbs.workflow.schemas import WorkflowOut


class CaseSummaryOut(BaseModel):
    report_id: str
    case_number: str
    unit: str
    channel: str
    status: str
    submitted_at: datetime
    last_activity_at: datetime
    server_sealed: bool
    messages: int
    attachments: int
    state: str | None = None
    state_label: StatusLabel | None = None
    next_due: date | None = None
    overdue: bool = False
    due_soon: bool = False
    assignee_id: int | None = None


class NoteOut(BaseModel):
    id: str
    author_key_id: str
    author: str
    box: str
    at: datetime


class RecipientOut(BaseModel):
    key_id: str
    staff_id: int | None
    name: str
    email: str


class CaseOut(BaseModel):
    report_id: str
    case_number: str
    unit: str
    channel: str
    status: str
    status_label: StatusLabel
    submitted_at: datetime
    server_sealed: bool
    has_identity: bool
    envelope: EnvelopeOut
    messages: list[MessageOut]
    notes: list[NoteOut]
    attachments: list[AttachmentOut]
    recipients: list[RecipientOut]
    # Where the case is in its workflow: state, assignee, deadlines, the actions allowed now.
    workflow: WorkflowOut | None = None


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Uuid
    box: B64u = Field(min_length=1)


class RecipientIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    staff_id: int
    wrap: B64u = Field(min_length=1, max_length=8192)


class RecipientAddedOut(BaseModel):
    key_id: str
