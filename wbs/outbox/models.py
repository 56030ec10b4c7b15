"""Transactional outbox: side effects (mail) written in the same transaction as the change."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from wbs.core.db import Base, BigId, CreatedMixin, IdMixin


class OutboxMessage(IdMixin, CreatedMixin, Base):
    __tablename__ = "outbox"

    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, object]] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    available_at: Mapped[datetime] = mapped_column(index=True)
    sent_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)


class DigestSent(Base):
    """One daily deadline digest per officer per day (the unique key makes it race-safe)."""

    __tablename__ = "outbox_digests"

    staff_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
