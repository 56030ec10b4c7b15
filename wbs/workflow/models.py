"""Where a case is in its workflow: state, assignee, recorded facts and running timers.

Facts are recorded by officers at a transition and are readable by the server on purpose
(classification, tier, value band, decisions, outcome): the indicators are computed from
them. Report content is never copied here.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from wbs.core.db import Base, BigId, IdMixin, utcnow


class CaseState(Base):
    """One row per case: its workflow, internal state and assignee."""

    __tablename__ = "case_states"

    report_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True
    )
    workflow: Mapped[str] = mapped_column(String(48))
    workflow_version: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(48))
    entered_at: Mapped[datetime] = mapped_column(default=utcnow)
    assignee_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("staff.id", ondelete="SET NULL"), index=True
    )


class CaseFact(IdMixin, Base):
    """The current value of one fact; every change is in the audit log."""

    __tablename__ = "case_facts"
    __table_args__ = (UniqueConstraint("report_id", "name"),)

    report_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("reports.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(48))
    value: Mapped[object] = mapped_column(JSON)
    action: Mapped[str] = mapped_column(String(48))
    recorded_by_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("staff.id", ondelete="SET NULL")
    )
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class CaseTimer(IdMixin, Base):
    """One deadline of a case: counted from `base_on`, due on `due_on`, maybe paused."""

    __tablename__ = "case_timers"
    __table_args__ = (UniqueConstraint("report_id", "name"),)

    report_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("reports.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(48))
    rule: Mapped[str] = mapped_column(String(300))
    count: Mapped[str] = mapped_column(String(16))
    days: Mapped[int] = mapped_column(Integer)
    base_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date, index=True)
    # Closed pauses as [[paused_on, resumed_on], ...] (ISO dates); an open one in paused_on.
    pauses: Mapped[list[list[str]]] = mapped_column(JSON, default=list)
    paused_on: Mapped[date | None] = mapped_column(Date)
    stopped_on: Mapped[date | None] = mapped_column(Date)
    expired_on: Mapped[date | None] = mapped_column(Date)
    reminded_on: Mapped[date | None] = mapped_column(Date)
    escalated_to: Mapped[str | None] = mapped_column(String(16), index=True)


class CaseMilestone(IdMixin, Base):
    """The first time a case reached a milestone, and in how many working days since it
    arrived (counted on the unit's calendar when it happened): what indicators aggregate."""

    __tablename__ = "case_milestones"
    __table_args__ = (UniqueConstraint("report_id", "name"),)

    report_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("reports.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(24))
    state: Mapped[str] = mapped_column(String(48))
    reached_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    working_days: Mapped[int] = mapped_column(Integer)
