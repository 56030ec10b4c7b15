"""Reports (one case per submission), their wraps, messages, attachments and mailbox sessions.

Everything report-related here is ciphertext (b64u text of the `crypto-format.md` boxes) or
metadata; the server cannot read a report.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from wbs.core.db import Base, BigId, IdMixin, utcnow
from wbs.units.models import CaseType


class CaseStatus(enum.StrEnum):
    """Reporter-visible status of a case; its labels and how a case moves between them
    come from the case type's workflow file (`workflows/*.yaml`, `wbs.workflow`)."""

    diterima = "diterima"
    diverifikasi = "diverifikasi"
    ditindaklanjuti = "ditindaklanjuti"
    selesai = "selesai"
    ditolak = "ditolak"


class SenderRole(enum.StrEnum):
    reporter = "reporter"
    officer = "officer"


class CaseCounter(Base):
    """The last case number issued per (unit, case type, year); incremented in the transaction."""

    __tablename__ = "case_counters"

    unit_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("units.id", ondelete="CASCADE"), primary_key=True
    )
    case_type: Mapped[str] = mapped_column(String(32), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Report(IdMixin, Base):
    """One submission = one case. Content, identity and wraps are ciphertext."""

    __tablename__ = "reports"
    __table_args__ = (
        UniqueConstraint("unit_id", "case_number"),
        # The officer inbox's order, latest activity first: a page is read off the index.
        Index("ix_reports_activity", "last_activity_at", "id"),
    )

    public_id: Mapped[str] = mapped_column(String(36), unique=True)
    unit_id: Mapped[int] = mapped_column(BigId, ForeignKey("units.id", ondelete="RESTRICT"))
    channel_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("channels.id", ondelete="RESTRICT"), index=True
    )
    case_type: Mapped[CaseType] = mapped_column(
        Enum(CaseType, name="report_case_type", native_enum=False, length=32)
    )
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    case_number: Mapped[str] = mapped_column(String(32))
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(default=utcnow)
    server_sealed: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[CaseStatus] = mapped_column(
        Enum(CaseStatus, name="case_status", native_enum=False, length=32),
        default=CaseStatus.diterima,
    )
    status_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Keyed hash (crypto.atrest.keyed_digest) of the receipt-derived lookup id.
    lookup_hash: Mapped[str] = mapped_column(String(64), unique=True)
    envelope_version: Mapped[int] = mapped_column(Integer)
    content: Mapped[str] = mapped_column(Text)
    # v1: the identity box under the data key; v2: under the identity key (its wraps are
    # `identity_wraps` rows), committed to by `identity_commitment` (b64u, v2 only).
    identity: Mapped[str | None] = mapped_column(Text)
    identity_commitment: Mapped[str | None] = mapped_column(String(64))
    reporter_key: Mapped[str] = mapped_column(Text)
    envelope_sha256: Mapped[str] = mapped_column(String(64))
    proof_signature: Mapped[str] = mapped_column(String(128))
    directory_version: Mapped[int] = mapped_column(Integer)
    # Key ids (hex) of the officers the reporter left out; they can never be added.
    excluded_key_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    excluded_staff_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    # What the reporter has added through the mailbox (metered against ReportingLimits).
    mailbox_messages: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    mailbox_bytes: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # Retention (wbs.retention): when the identity box and its wraps were destroyed, and
    # when the whole content was; a purged report is the case's tombstone (number, type,
    # dates and the metadata indicators count; no box, wrap, message text or file).
    identity_destroyed_at: Mapped[datetime | None] = mapped_column()
    purged_at: Mapped[datetime | None] = mapped_column()


class ReportWrap(IdMixin, Base):
    """The data key wrapped to one recipient (an officer's key, or the reporter's key)."""

    __tablename__ = "report_wraps"
    __table_args__ = (UniqueConstraint("report_id", "key_id"),)

    report_id: Mapped[int] = mapped_column(BigId, ForeignKey("reports.id", ondelete="CASCADE"))
    key_id: Mapped[str] = mapped_column(String(32), index=True)
    recipient: Mapped[SenderRole] = mapped_column(
        Enum(SenderRole, name="wrap_recipient", native_enum=False, length=16)
    )
    staff_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("staff.id", ondelete="RESTRICT"), index=True
    )
    wrap: Mapped[str] = mapped_column(Text)
    added_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IdentityWrapKind(enum.StrEnum):
    original = "original"  # made by the reporter's device for a custodian
    released = "released"  # made by a custodian's device for an approved requester


class IdentityWrap(IdMixin, Base):
    """The identity key of a v2 report wrapped to one key (ciphertext, crypto-format.md)."""

    __tablename__ = "identity_wraps"
    __table_args__ = (UniqueConstraint("report_id", "key_id", "kind"),)

    report_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("reports.id", ondelete="CASCADE"), index=True
    )
    key_id: Mapped[str] = mapped_column(String(32))
    staff_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff.id"), index=True)
    kind: Mapped[IdentityWrapKind] = mapped_column(
        Enum(IdentityWrapKind, name="identity_wrap_kind", native_enum=False, length=16)
    )
    wrap: Mapped[str] = mapped_column(Text)
    # for a released wrap: the identity request it answers (wbs.identity)
    request_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReportNotice(IdMixin, Base):
    """A notice the service shows the reporter in the mailbox (not a sealed message): its
    kind names the bilingual text; `details` holds codes only, never free text."""

    __tablename__ = "report_notices"

    report_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("reports.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    details: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Message(IdMixin, Base):
    """A mailbox message (reporter <-> officers), a box under the report's data key."""

    __tablename__ = "report_messages"

    report_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("reports.id", ondelete="CASCADE"), index=True
    )
    public_id: Mapped[str] = mapped_column(String(36), unique=True)
    sender_role: Mapped[SenderRole] = mapped_column(
        Enum(SenderRole, name="message_sender", native_enum=False, length=16)
    )
    staff_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff.id"))
    box: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Attachment(IdMixin, Base):
    """An encrypted attachment stream on disk (content-addressed) and its metadata box."""

    __tablename__ = "report_attachments"

    report_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("reports.id", ondelete="CASCADE"), index=True
    )
    message_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("report_messages.id", ondelete="CASCADE")
    )
    public_id: Mapped[str] = mapped_column(String(36), unique=True)
    metadata_box: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(BigInteger)
    blob: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MailboxSession(Base):
    """A reporter's mailbox after a receipt login; only the token's SHA-256 is stored."""

    __tablename__ = "mailbox_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    report_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("reports.id", ondelete="CASCADE"), index=True
    )
    expires_at: Mapped[datetime] = mapped_column()


class SpentWork(Base):
    """An accepted proof of work or form challenge, kept until it would expire anyway.

    The primary key makes acceptance single-use, also between concurrent requests.
    """

    __tablename__ = "spent_work"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class RateBucket(Base):
    """A rate limit shared by every app process: how full it is (`level`, draining at the
    bucket's rate) as of `updated` (seconds since the epoch). Changed only by one
    `UPDATE ... WHERE` statement (`repository.take_token`)."""

    __tablename__ = "rate_buckets"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    level: Mapped[float] = mapped_column(Float, default=0.0)
    updated: Mapped[float] = mapped_column(Float, default=0.0)
