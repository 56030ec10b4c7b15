"""Bodies of the identity release API (docs/api.md, section 4a)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from wbs.identity.models import Alasan
from wbs.reporting.schemas import B64u, EnvelopeOut, StatusLabel

NOTE_MAX = 500


class RequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Alasan
    # free text, shown only to the requester and the unit's custodians (never audited)
    note: str | None = Field(default=None, max_length=NOTE_MAX)


class RequestOut(BaseModel):
    id: str
    report_id: str
    case_number: str
    reason: Alasan
    reason_label: StatusLabel
    note: str | None
    state: str
    created_at: datetime
    decided_at: datetime | None
    decision_note: str | None


class PendingOut(RequestOut):
    """An open request as the custodian's device needs it to re-wrap (envelope v2): the
    identity box, this custodian's own identity wrap, the commitment and the requester's
    approved public key; `identity`/`identity_wrap` are null for v1 and when this
    custodian's key holds no wrap of the report."""

    unit: str
    channel: str
    envelope_version: int
    requester: str
    requester_key_id: str
    requester_public_key: str | None
    identity: str | None
    identity_wrap: str | None
    identity_commitment: str | None


class ApproveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # v2: the identity key wrapped to the requester's key (crypto-format.md); v1: null
    wrap: B64u | None = Field(default=None, min_length=1, max_length=4096)


class DenyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(min_length=1, max_length=NOTE_MAX)


class ReleasedOut(BaseModel):
    request_id: str
    report_id: str
    case_number: str
    envelope: EnvelopeOut
    # v2: the identity wrap made for this requester's key; null for v1 (identity under DK)
    wrap: str | None
