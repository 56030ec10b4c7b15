"""Identity requests: an officer asks for a reporter's identity, a custodian decides.

The reason is a code (`Alasan`) plus an optional note; the note is free text shown only to
the requester and the unit's custodians, never written to audit, mail or logs.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from wbs.core.db import Base, BigId, IdMixin, utcnow
from wbs.core.text import Text as Label


class Alasan(enum.StrEnum):
    """Why an officer needs the reporter's identity (the reason codes)."""

    klarifikasi = "klarifikasi"
    perlindungan = "perlindungan"
    pemeriksaan = "pemeriksaan"
    permintaan_aph = "permintaan_aph"
    lainnya = "lainnya"


REASONS: dict[Alasan, Label] = {
    Alasan.klarifikasi: Label(
        "klarifikasi keterangan pelapor", "clarifying the reporter's account"
    ),
    Alasan.perlindungan: Label("perlindungan pelapor", "protecting the reporter"),
    Alasan.pemeriksaan: Label(
        "pemeriksaan lanjutan yang memerlukan keterangan pelapor",
        "a further examination that needs the reporter's testimony",
    ),
    Alasan.permintaan_aph: Label(
        "permintaan resmi aparat penegak hukum", "a formal request of law enforcement"
    ),
    Alasan.lainnya: Label(
        "alasan lain yang dicatat petugas", "another reason the officer recorded"
    ),
}


class State(enum.StrEnum):
    requested = "requested"
    approved = "approved"
    denied = "denied"


class IdentityRequest(IdMixin, Base):
    """One officer's request for one case's identity; at most one open per (case, officer)."""

    __tablename__ = "identity_requests"
    __table_args__ = (
        Index(
            "uq_identity_requests_open",
            "report_id",
            "requester_id",
            unique=True,
            postgresql_where=text("state = 'requested'"),
            sqlite_where=text("state = 'requested'"),
        ),
    )

    public_id: Mapped[str] = mapped_column(String(36), unique=True)
    report_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("reports.id", ondelete="CASCADE"), index=True
    )
    unit_id: Mapped[int] = mapped_column(BigId, ForeignKey("units.id"), index=True)
    requester_id: Mapped[int] = mapped_column(BigId, ForeignKey("staff.id"), index=True)
    # the requester's approved key when asking: a release is wrapped to this key only
    requester_key_id: Mapped[str] = mapped_column(String(32))
    reason: Mapped[Alasan] = mapped_column(
        Enum(Alasan, name="identity_reason", native_enum=False, length=32)
    )
    note: Mapped[str | None] = mapped_column(Text)
    state: Mapped[State] = mapped_column(
        Enum(State, name="identity_request_state", native_enum=False, length=16),
        default=State.requested,
    )
    decided_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff.id"))
    decision_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column()
