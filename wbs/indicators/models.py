"""The indicator aggregates, and the index the direct queries need on reports.

Every indicator query selects a subtree's reports received in a period and groups them by
unit and channel: one index on (unit_id, submitted_at) carrying the channel, the entry path
and the id answers that without reading the table (PostgreSQL index-only scans).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from wbs.core.db import Base, BigId, utcnow
from wbs.reporting.models import Report

_reports = Report.__table__.c
REPORTS_BY_UNIT_AND_DAY = Index(
    "ix_reports_unit_submitted",
    _reports.unit_id,
    _reports.submitted_at,
    _reports.case_type,
    _reports.server_sealed,
    _reports.id,
)


class IndicatorCase(Base):
    """One row per report: what it adds to the counters (`counts`, "name|key" -> n, so a
    change subtracts the old and adds the new) and the two facts read against the as-of day:
    the earliest running deadline of a case not completed, and WBS feedback within 90 days."""

    __tablename__ = "indicator_cases"
    __table_args__ = (
        Index("ix_indicator_cases_unit_submitted", "unit_id", "submitted_at", "case_type"),
        Index(
            "ix_indicator_cases_running",
            "unit_id",
            "running_due",
            "submitted_at",
            "case_type",
            postgresql_where=text("running_due IS NOT NULL"),
            sqlite_where=text("running_due IS NOT NULL"),
        ),
    )

    report_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True
    )
    unit_id: Mapped[int | None] = mapped_column(BigId)
    case_type: Mapped[str] = mapped_column(String(32), default="")
    submitted_at: Mapped[datetime | None] = mapped_column()
    month: Mapped[date | None] = mapped_column(Date)
    running_due: Mapped[date | None] = mapped_column(Date)
    feedback: Mapped[bool] = mapped_column(Boolean, default=False)
    counts: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)


class IndicatorCount(Base):
    """Counters per unit, channel and local month, and again per local year (in the
    `IndicatorMeta` tz): a count ("received"), a keyed count ("fact.nilai_estimasi" /
    "kurang_1jt") or a working-day histogram ("wd.completed" / "12"). Changed only by
    `n = n + delta` upserts."""

    __tablename__ = "indicator_counts"

    unit_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    span: Mapped[str] = mapped_column(String(1), primary_key=True)  # "m" month, "y" year
    month: Mapped[date] = mapped_column(Date, primary_key=True)  # its first day
    case_type: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(48), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger)


class IndicatorMeta(Base):
    """Settings the aggregates were built with (`tz`: the time zone of their months)."""

    __tablename__ = "indicator_meta"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(String(64))


class IndicatorPattern(Base):
    """The public suppression pattern of a unit tree and year, for the figures whose
    digest it records (any change in the figures changes the digest: computed anew)."""

    __tablename__ = "indicator_patterns"

    root_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("units.id", ondelete="CASCADE"), primary_key=True
    )
    period: Mapped[str] = mapped_column(String(16), primary_key=True)
    k: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))
    primary: Mapped[list[list[str]]] = mapped_column(JSON)
    complementary: Mapped[list[list[str]]] = mapped_column(JSON)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)


from wbs.indicators import aggregates as _aggregates  # noqa: E402  (registers the listeners)

__all__ = ["REPORTS_BY_UNIT_AND_DAY", "IndicatorCase", "IndicatorCount", "_aggregates"]
