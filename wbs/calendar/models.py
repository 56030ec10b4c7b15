"""A unit's working-day policy: cuti bersama as leave or as working days, extra closures."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from wbs.core.db import Base, BigId, CreatedMixin, IdMixin


class UnitCalendar(Base):
    """Per-unit switch; a unit without a row follows the default (cuti bersama is leave)."""

    __tablename__ = "unit_calendars"

    unit_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("units.id", ondelete="CASCADE"), primary_key=True
    )
    cuti_bersama_libur: Mapped[bool] = mapped_column(Boolean, default=True)


class UnitClosure(IdMixin, CreatedMixin, Base):
    """A day the unit is closed besides national holidays (e.g. a regional holiday)."""

    __tablename__ = "unit_closures"
    __table_args__ = (UniqueConstraint("unit_id", "day"),)

    unit_id: Mapped[int] = mapped_column(BigId, ForeignKey("units.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(200))
