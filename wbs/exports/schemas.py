"""Models of the exports JSON API: what an export request takes and what a job shows."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from wbs.exports.formats import PERIOD
from wbs.exports.models import ExportJob, ExportState

Format = Literal["json", "csv", "xlsx", "pdf"]


class ExportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    period: str = Field(
        pattern=PERIOD.pattern,
        description="A year (2026), a quarter (2026-Q1) or a month (2026-03).",
    )
    format: Format = Field(
        default="xlsx",
        description="The data file beside indikator.json in the package (json: only that).",
    )
    public: bool = Field(
        default=False,
        description="Suppressed small counts, fit for publication; otherwise internal.",
    )


class ExportFileOut(BaseModel):
    name: str
    size: int
    sha256: str = Field(description="SHA-256 of the whole package (the ZIP file).")
    url: str


class ExportErrorOut(BaseModel):
    message_id: str
    message_en: str


class ExportJobOut(BaseModel):
    id: int
    unit: str
    format: Format
    period: str
    public: bool
    state: ExportState = Field(description="queued -> running -> done | failed")
    progress: int = Field(ge=0, le=100, description="Percent done while running.")
    created_at: str
    started_at: str | None
    finished_at: str | None
    file: ExportFileOut | None = Field(description="The signed package, once done.")
    error: ExportErrorOut | None = Field(description="Why it failed (Indonesian, English).")

    @classmethod
    def of(cls, job: ExportJob, unit_code: str) -> ExportJobOut:
        file = None
        if job.state == ExportState.done and job.file_sha256 and job.file_name:
            file = ExportFileOut(
                name=job.file_name,
                size=job.file_size or 0,
                sha256=job.file_sha256,
                url=f"/api/v1/exports/{job.id}/file",
            )
        error = None
        if job.state == ExportState.failed:
            error = ExportErrorOut(message_id=job.error_id or "", message_en=job.error_en or "")
        return cls(
            id=job.id,
            unit=unit_code,
            format=job.format,
            period=job.period,
            public=job.public,
            state=job.state,
            progress=job.progress,
            created_at=job.created_at.isoformat(),
            started_at=job.started_at.isoformat() if job.started_at else None,
            finished_at=job.finished_at.isoformat() if job.finished_at else None,
            file=file,
            error=error,
        )


class ExportKeyOut(BaseModel):
    unit: str
    algorithm: Literal["Ed25519"] = "Ed25519"
    public_key: str = Field(description="The raw 32-byte public key, base64url.")
    key_id: str = Field(description="Its fingerprint, as `wbs export verify` prints it.")
    public_key_pem: str = Field(description="The same key as PEM, for OpenSSL.")
