"""Internal notes on a case: officer-only boxes the reporter never receives."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from wbs.core.db import Base, BigId, IdMixin, utcnow


class Note(IdMixin, Base):
    __tablename__ = "case_notes"

    report_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("reports.id", ondelete="CASCADE"), index=True
    )
    public_id: Mapped[str] = mapped_column(String(36), unique=True)
    author_id: Mapped[int] = mapped_column(BigId, ForeignKey("staff.id", ondelete="RESTRICT"))
    author_key_id: Mapped[str] = mapped_column(String(32))
    box: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
