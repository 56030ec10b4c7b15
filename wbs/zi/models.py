"""Assessments of a unit's LKE worksheet per year and assessor, their answers and evidence."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from wbs.core.db import Base, BigId, CreatedMixin, IdMixin, utcnow
from wbs.core.text import Text as Bilingual  # sqlalchemy.Text is imported above
from wbs.units.models import Unit


class Assessor(enum.StrEnum):
    """Who answered the worksheet: the unit itself, the internal team, the national team."""

    unit = "unit"
    tpi = "tpi"
    tpn = "tpn"


ASSESSOR_NAMES: dict[Assessor, Bilingual] = {
    Assessor.unit: Bilingual("Penilaian mandiri unit", "Unit self-assessment"),
    Assessor.tpi: Bilingual("Tim Penilai Internal (TPI)", "Internal assessment team (TPI)"),
    Assessor.tpn: Bilingual("Tim Penilai Nasional (TPN)", "National assessment team (TPN)"),
}


class AnswerSource(enum.StrEnum):
    entered = "entered"  # typed by a person
    computed = "computed"  # computed from case data; `computed_from` holds the figures
    indicators = "indicators"  # an accepted proposal from the indicators (`computed_from`: which)


class Assessment(IdMixin, CreatedMixin, Base):
    __tablename__ = "zi_assessments"
    __table_args__ = (UniqueConstraint("unit_id", "year", "assessor"),)

    unit_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("units.id", ondelete="RESTRICT"), index=True
    )
    year: Mapped[int] = mapped_column(Integer)
    rules_id: Mapped[str] = mapped_column(String(32))
    assessor: Mapped[Assessor] = mapped_column(
        Enum(Assessor, name="zi_assessor", native_enum=False, length=8)
    )
    created_by_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("staff.id", ondelete="SET NULL")
    )
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Bumped by every save (UPDATE ... WHERE version = :expected): no lost updates.
    version: Mapped[int] = mapped_column(Integer, default=1)

    unit: Mapped[Unit] = relationship(lazy="raise")
    answers: Mapped[list[Answer]] = relationship(
        back_populates="assessment",
        lazy="raise",
        cascade="all, delete-orphan",
        order_by="Answer.id",
    )
    evidence: Mapped[list[Evidence]] = relationship(
        back_populates="assessment",
        lazy="raise",
        cascade="all, delete-orphan",
        order_by="Evidence.id",
    )


class Answer(IdMixin, Base):
    """One answer: an option label, a number as text (hasil), or {input code: count}."""

    __tablename__ = "zi_answers"
    __table_args__ = (UniqueConstraint("assessment_id", "item_code"),)

    assessment_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("zi_assessments.id", ondelete="CASCADE"), index=True
    )
    item_code: Mapped[str] = mapped_column(String(16))
    value: Mapped[Any] = mapped_column(JSON)
    source: Mapped[AnswerSource] = mapped_column(
        Enum(AnswerSource, name="zi_answer_source", native_enum=False, length=16),
        default=AnswerSource.entered,
    )
    computed_from: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("staff.id", ondelete="SET NULL")
    )

    assessment: Mapped[Assessment] = relationship(back_populates="answers", lazy="raise")


class Evidence(IdMixin, CreatedMixin, Base):
    """Data dukung for one item: a document link, a document reference, or an uploaded file.

    An uploaded file has `sha256` set: its bytes are `<data dir>/evidence/<sha256>`.
    """

    __tablename__ = "zi_evidence"

    assessment_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("zi_assessments.id", ondelete="CASCADE"), index=True
    )
    item_code: Mapped[str] = mapped_column(String(16))
    link: Mapped[str | None] = mapped_column(String(2000))
    file_ref: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    file_name: Mapped[str | None] = mapped_column(String(200))
    content_type: Mapped[str | None] = mapped_column(String(100))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    created_by_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("staff.id", ondelete="SET NULL")
    )

    assessment: Mapped[Assessment] = relationship(back_populates="evidence", lazy="raise")

    @property
    def is_file(self) -> bool:
        return self.sha256 is not None


class ProposalStatus(enum.StrEnum):
    proposed = "proposed"  # waiting for an assessor
    accepted = "accepted"  # became the answer (source `indicators`), data dukung attached
    overridden = "overridden"  # the assessor gave their own answer; kept for the record
    superseded = "superseded"  # a later proposal run replaced it before anyone decided
    unsupported = "unsupported"  # the figures support no answer; `reason` says why


class ProposalRun(IdMixin, CreatedMixin, Base):
    """One look at a unit's indicators for an assessment: the period and every figure read."""

    __tablename__ = "zi_proposal_runs"

    assessment_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("zi_assessments.id", ondelete="CASCADE"), index=True
    )
    period: Mapped[str] = mapped_column(String(32))
    period_start: Mapped[str | None] = mapped_column(String(10))
    period_end: Mapped[str | None] = mapped_column(String(10))
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("staff.id", ondelete="SET NULL")
    )


class Proposal(IdMixin, CreatedMixin, Base):
    """An answer proposed for one item from the indicators, and what the assessor did with it."""

    __tablename__ = "zi_proposals"
    __table_args__ = (Index("ix_zi_proposals_assessment_item", "assessment_id", "item_code"),)

    assessment_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("zi_assessments.id", ondelete="CASCADE")
    )
    run_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("zi_proposal_runs.id", ondelete="CASCADE"), index=True
    )
    item_code: Mapped[str] = mapped_column(String(16))
    rule_id: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(32))
    value: Mapped[Any] = mapped_column(JSON, nullable=True)  # label or {input: count}
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)  # the figures the rule used
    reason: Mapped[dict[str, str] | None] = mapped_column(JSON)  # {"id", "en"} when no value
    status: Mapped[ProposalStatus] = mapped_column(
        Enum(ProposalStatus, name="zi_proposal_status", native_enum=False, length=16)
    )
    answer: Mapped[Any] = mapped_column(JSON, nullable=True)  # the assessor's, when overridden
    decided_at: Mapped[datetime | None] = mapped_column()
    decided_by_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("staff.id", ondelete="SET NULL")
    )
    evidence_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("zi_evidence.id", ondelete="SET NULL")
    )
