"""The app's evidence files (data dukung): their size limit, their store, the upload.

Built once per app in `create_app` (`app.state.evidence`); routes get it as `EvidenceCtx`.
The bytes live in the `evidence` blob store under their sha256 (`wbs.core.blobs`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from wbs.core.blobs import BlobStore, open_store
from wbs.core.files import (
    FormDamaged,
    Upload,
    UploadLimits,
    check_length,
    parse_multipart,
)
from wbs.core.settings import Settings
from wbs.zi.documents import DocumentRefused, DocumentTooLarge

MiB = 1024 * 1024
DEFAULT_MAX_BYTES = 20 * MiB
FIELD_BYTES = 16 * 1024  # one text field of the form (a note is at most 2000 characters)
MAX_FIELDS = 8
FORM_OVERHEAD = MAX_FIELDS * FIELD_BYTES + 64 * 1024
BODY_SLACK = 64 * 1024


class DocumentSettings(BaseSettings):
    """`WBS_ZI_EVIDENCE_MAX_BYTES`: the largest evidence file accepted (default 20 MiB)."""

    model_config = SettingsConfigDict(env_prefix="WBS_ZI_EVIDENCE_", extra="ignore")

    max_bytes: int = Field(default=DEFAULT_MAX_BYTES, ge=1, le=1024 * MiB)


def body_bytes(max_bytes: int) -> int:
    """The body limit of the evidence upload routes (see wbs.core.bodylimit): the ceiling
    `receive` checks (the file limit and the form's other fields) and a little more, so
    that `receive`, which names the file limit (`zi_evidence_too_large`), answers first."""
    return max_bytes + FORM_OVERHEAD + BODY_SLACK


@dataclass(frozen=True)
class Evidence:
    store: BlobStore
    max_bytes: int

    @classmethod
    def build(cls, settings: Settings, documents: DocumentSettings | None = None) -> Evidence:
        documents = documents or DocumentSettings()
        return cls(open_store(settings, "evidence"), documents.max_bytes)

    @property
    def upload_limits(self) -> UploadLimits:
        return UploadLimits(
            body_bytes=self.max_bytes + FORM_OVERHEAD,
            file_bytes=self.max_bytes,
            total_bytes=self.max_bytes,
            max_files=1,
            max_fields=MAX_FIELDS,
            field_bytes=FIELD_BYTES,
        )


def of_app(app: Any) -> Evidence:
    evidence: Evidence = app.state.evidence
    return evidence


def evidence(request: Request) -> Evidence:
    """The request's app's evidence files (a dependency)."""
    return of_app(request.app)


def upload_body_limit(app: Any) -> int:
    return body_bytes(of_app(app).max_bytes)


EvidenceCtx = Annotated[Evidence, Depends(evidence)]


@asynccontextmanager
async def receive(request: Request, files: Evidence) -> AsyncIterator[Upload]:
    """Parse a multipart upload within the limit; the temp file is gone afterwards."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise DocumentRefused(
            "Kirim berkas sebagai multipart/form-data.",
            "Send the file as multipart/form-data.",
            details={"field": "file"},
        )
    limits = files.upload_limits
    check_length(request, limits, DocumentTooLarge)
    try:
        upload = await parse_multipart(request, limits, store=files.store, errors=DocumentTooLarge)
    except FormDamaged:
        raise DocumentRefused(
            "Formulir terlalu besar atau rusak.", "The form is too large or damaged."
        ) from None
    try:
        yield upload
    finally:
        await upload.close()
