"""The tamper-evident audit log: one hash chain per unit, with signed checkpoints."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from wbs.core.db import Base, BigId, IdMixin


class AuditEvent(IdMixin, Base):
    __tablename__ = "audit_events"
    __table_args__ = (UniqueConstraint("unit_id", "seq"),)

    unit_id: Mapped[int] = mapped_column(BigId, ForeignKey("units.id", ondelete="RESTRICT"))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column()
    actor_id: Mapped[int | None] = mapped_column(BigId)
    actor: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str] = mapped_column(String(128))
    details: Mapped[dict[str, object]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The current end of a unit's chain; locked FOR UPDATE by every append."""

    __tablename__ = "audit_heads"

    unit_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("units.id", ondelete="RESTRICT"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64))


class AuditCheckpoint(IdMixin, Base):
    """An Ed25519 signature over (unit, seq, head hash, time), exportable for auditors."""

    __tablename__ = "audit_checkpoints"
    __table_args__ = (UniqueConstraint("unit_id", "seq"),)

    unit_id: Mapped[int] = mapped_column(BigId, ForeignKey("units.id", ondelete="RESTRICT"))
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column()
    public_key: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(Text)
