"""Bodies of the admin directory API (see docs/api.md, section 3)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from wbs.reporting.schemas import B64u


class DirectoryKeyOut(BaseModel):
    public_key: str | None
    wrapped_private_key: str | None


class StaffKeyOut(BaseModel):
    id: int
    email: str
    name: str
    display_name: str  # what the signed directory publishes as the entry's `name`
    roles: list[str]
    public_key: str
    key_id: str
    fingerprint: str
    key_status: str
    repeated: bool  # another account presents the same key id: signing is refused


class ProposalOut(BaseModel):
    unit: str
    version: int
    next_version: int
    directory_key: DirectoryKeyOut
    document: str | None
    staff: list[StaffKeyOut]
    recipients: dict[str, list[str]]
    custodians: list[str]  # key ids of the identity custodians (the document's `custodians`)


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    public_key: B64u = Field(min_length=43, max_length=64)
    wrapped_private_key: str = Field(min_length=1, max_length=8192)
    document: str = Field(min_length=2, max_length=512 * 1024)
    signature: B64u = Field(min_length=86, max_length=128)


class SignedOut(BaseModel):
    version: int
    approved: list[str]


class OverrideIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    staff_ids: list[int] | None = Field(default=None, max_length=200)


class OverrideOut(BaseModel):
    case_type: str
    staff_ids: list[int]
