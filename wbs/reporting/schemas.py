"""Typed request and response bodies of the reporting API (see docs/api.md)."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
)

from crypto.encoding import b64u_decode
from crypto.errors import FormatError
from wbs.audit.schemas import TreeHeadOut
from wbs.units.models import CaseType

HEX_KEY_ID = re.compile(r"^[0-9a-f]{32}$")


def _b64u(value: str) -> str:
    try:
        b64u_decode(value)  # the one strict decoder: canonical, no padding
    except FormatError:
        raise ValueError("not base64url without padding") from None
    return value


def _uuid(value: str) -> str:
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        raise ValueError("not a UUID") from None
    if str(parsed) != value.lower():
        raise ValueError("not a canonical UUID")
    return value.lower()


def _key_id(value: str) -> str:
    if not HEX_KEY_ID.match(value):
        raise ValueError("not a key id (32 lower-case hex characters)")
    return value


B64u = Annotated[str, AfterValidator(_b64u)]
Uuid = Annotated[str, Field(min_length=36, max_length=36), AfterValidator(_uuid)]
KeyId = Annotated[str, AfterValidator(_key_id)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


MAX_CUSTODIANS = 16
IdentityWrapText = Annotated[B64u, Field(min_length=1, max_length=4096)]


class Envelope(Strict):
    """The report envelope of docs/crypto-format.md (ciphertext only), version 1 or 2."""

    v: int = Field(ge=1, le=2)
    unit: str = Field(min_length=2, max_length=32)
    channel: CaseType
    report_id: Uuid
    content: B64u = Field(min_length=1)
    identity: B64u | None = None
    # v2 only: the identity key wrapped to each custodian, and its commitment
    identity_wraps: list[IdentityWrapText] | None = Field(
        default=None, min_length=1, max_length=MAX_CUSTODIANS
    )
    identity_commitment: B64u | None = Field(default=None, min_length=43, max_length=43)
    wraps: list[B64u] = Field(min_length=2, max_length=65)
    reporter_key: B64u = Field(min_length=1, max_length=2048)


class AttachmentIn(Strict):
    id: Uuid
    metadata: B64u = Field(min_length=1, max_length=8192)
    size: int = Field(ge=0)


class PowSolution(Strict):
    challenge: str = Field(max_length=128)
    nonce: str = Field(max_length=20)


class SubmissionIn(Strict):
    envelope: Envelope
    lookup: B64u = Field(min_length=43, max_length=43)
    excluded: list[KeyId] = Field(default_factory=list, max_length=64)
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=100)
    pow: PowSolution
    directory_version: int | None = None


class ProofOut(BaseModel):
    v: int
    case_number: str
    unit: str
    submitted_at: str
    envelope_sha256: str
    public_key: str
    signature: str
    audit_leaf: str | None = None
    audit_public_key: str | None = None


class AuditProofOut(BaseModel):
    """The submission's audit entry and its RFC 9162 inclusion proof (`pending` until the
    sequencer has placed it under a signed tree head)."""

    format: str
    entry: str
    leaf_hash: str
    pending: bool
    leaf_index: int | None = None
    tree_head: TreeHeadOut | None = None
    proof: list[str] = []


class SubmittedOut(BaseModel):
    case_number: str
    report_id: str
    unit: str
    channel: CaseType
    submitted_at: datetime
    server_sealed: bool
    status: str
    proof: ProofOut


class PowOut(BaseModel):
    challenge: str
    difficulty: int
    expires_at: datetime
    algorithm: str


class ProofKeyOut(BaseModel):
    public_key: str
    fingerprint: str


class ChannelOut(BaseModel):
    case_type: CaseType
    name: str
    enabled: bool
    ready: bool


class UnitOut(BaseModel):
    code: str
    name: str
    channels: list[ChannelOut]


class DirectoryRecipientOut(BaseModel):
    key_id: str
    public_key: str
    fingerprint: str
    name: str


class DirectoryOut(BaseModel):
    unit: str
    version: int
    public_key: str
    fingerprint: str
    document: str
    signature: str
    signed_at: datetime
    channels: dict[str, list[DirectoryRecipientOut]]
    custodians: list[DirectoryRecipientOut] = []


class MailboxLoginIn(Strict):
    lookup: B64u = Field(min_length=43, max_length=43)
    pow: PowSolution  # solved for this lookup id (GET /api/v1/pow)


class MailboxLoginOut(BaseModel):
    token: str
    expires_at: datetime
    csrf_token: str


class EnvelopeOut(BaseModel):
    """An envelope as served. v2 carries `identity_wraps` and `identity_commitment` (the
    identity withheld: `identity` null and `identity_wraps` empty); v1 has neither key."""

    v: int
    unit: str
    channel: str
    report_id: str
    content: str
    identity: str | None
    identity_wraps: list[str] | None = None
    identity_commitment: str | None = None
    wraps: list[str]
    reporter_key: str

    @model_serializer(mode="wrap")
    def _v1_without_v2_keys(self, handler: SerializerFunctionWrapHandler) -> dict[str, object]:
        data: dict[str, object] = handler(self)
        if self.identity_commitment is None:  # v1: readers refuse the v2 keys there
            data.pop("identity_wraps", None)
            data.pop("identity_commitment", None)
        return data


class MessageOut(BaseModel):
    id: str
    sender_role: str
    box: str
    at: datetime
    attachments: list[str]


class AttachmentOut(BaseModel):
    id: str
    message_id: str | None
    metadata: str
    size: int


class StatusLabel(BaseModel):
    id: str
    en: str


class NoticeOut(BaseModel):
    """A notice the service writes to the reporter (not a sealed message), e.g. that the
    identity was opened; `text` in both languages."""

    kind: str
    at: datetime
    text: StatusLabel


class MailboxOut(BaseModel):
    case_number: str
    report_id: str
    unit: str
    channel: str
    submitted_at: datetime
    server_sealed: bool
    status: str
    status_label: StatusLabel
    envelope: EnvelopeOut
    messages: list[MessageOut]
    attachments: list[AttachmentOut]
    proof: ProofOut
    notices: list[NoticeOut] = []


class MessageIn(Strict):
    id: Uuid
    box: B64u = Field(min_length=1)
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=100)


class MessageCreatedOut(BaseModel):
    id: str
    at: datetime
