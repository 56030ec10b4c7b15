"""Reporting limits and anti-abuse settings (WBS_* environment variables), built per app."""

from __future__ import annotations

from dataclasses import replace

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from wbs.core.files import UploadLimits

KIB = 1024
MIB = 1024 * 1024
FORM_FIELD_BYTES = 256 * KIB  # one text field of a no-JavaScript form


class ReportingLimits(BaseSettings):
    """Sizes, proof-of-work difficulty and global rate limits for the reporter endpoints."""

    model_config = SettingsConfigDict(env_prefix="WBS_", extra="ignore")

    pow_difficulty: int = Field(default=18, ge=0, le=32)
    pow_ttl_seconds: int = Field(default=600, ge=30)
    # Adaptive work: once the submission (or failed-login) bucket is more than
    # `pow_load_start` full, challenges ask for more bits, up to `pow_difficulty_rise` more
    # when it is full (each bit doubles the work); the bucket refuses only past that.
    pow_difficulty_rise: int = Field(default=4, ge=0, le=12)
    pow_load_start: float = Field(default=0.25, ge=0.0, lt=1.0)
    # Global (not per client: we never look at addresses) buckets, per minute, kept in the
    # database (`rate_buckets`) so that every app process and server shares them.
    submit_rate_per_minute: int = Field(default=600, ge=1)
    mailbox_login_rate_per_minute: int = Field(default=120, ge=1)
    mailbox_session_seconds: int = Field(default=1800, ge=60)
    # Pages without JavaScript cannot hash: their forms carry a signed, single-use challenge
    # that is accepted only between `min` and `max` seconds after the page was served.
    report_form_min_seconds: int = Field(default=5, ge=0, le=600)
    report_form_max_seconds: int = Field(default=3600, ge=60, le=86400)
    # Server-sealed (no-JavaScript) submissions have their own, smaller share, so a flood on
    # that cheaper path cannot use up the budget of reporters who pay with hashes.
    plain_submit_rate_per_minute: int = Field(default=60, ge=1)
    # What a reporter may add to one report through the mailbox (messages and their files).
    mailbox_max_messages_per_report: int = Field(default=200, ge=1)
    mailbox_max_bytes_per_report: int = Field(default=200 * MIB, ge=1)

    report_max_content_bytes: int = Field(default=256 * KIB, ge=1)
    report_max_identity_bytes: int = Field(default=32 * KIB, ge=1)
    report_max_message_bytes: int = Field(default=64 * KIB, ge=1)
    report_max_files: int = Field(default=10, ge=0)
    report_max_file_bytes: int = Field(default=25 * MIB, ge=1)
    report_max_total_bytes: int = Field(default=100 * MIB, ge=1)
    report_max_recipients: int = Field(default=64, ge=1)

    @property
    def upload_body_bytes(self) -> int:
        """The largest API body with files: a submission or a message (JSON or multipart)."""
        return (
            self.report_max_total_bytes
            + self.report_max_content_bytes * 2
            + self.report_max_identity_bytes * 2
            + MIB
        )

    @property
    def form_body_bytes(self) -> int:
        """The largest no-JavaScript form with attachments (report or mailbox message)."""
        return self.report_max_total_bytes + 2 * MIB

    @property
    def note_body_bytes(self) -> int:
        """An officer's encrypted note: a message box in base64url, in JSON."""
        return self.report_max_message_bytes * 2 + 4 * KIB

    @property
    def api_upload(self) -> UploadLimits:
        """A multipart API body: the JSON part and the encrypted file parts."""
        return UploadLimits(
            body_bytes=self.upload_body_bytes,
            file_bytes=self.report_max_file_bytes,
            total_bytes=self.report_max_total_bytes,
            max_files=self.report_max_files + 1,  # one more, so the service names the limit
            max_fields=4,
            field_bytes=self.report_max_content_bytes * 2 + self.report_max_identity_bytes * 2,
        )

    @property
    def form_upload(self) -> UploadLimits:
        """A no-JavaScript form with attachments (parsed into memory only)."""
        return replace(
            self.api_upload,
            body_bytes=self.form_body_bytes,
            max_fields=64,
            field_bytes=FORM_FIELD_BYTES,
        )
