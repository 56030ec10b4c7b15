"""Units (ministry -> echelon -> office) and their reporting channels."""

from __future__ import annotations

import enum

from sqlalchemy import Boolean, Enum, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from wbs.core.db import Base, BigId, CreatedMixin, IdMixin
from wbs.core.text import Text


class CaseType(enum.StrEnum):
    """The four channels a unit runs; values are stable identifiers used in URLs and crypto."""

    pengaduan = "pengaduan"
    wbs = "wbs"
    gratifikasi = "gratifikasi"
    benturan_kepentingan = "benturan_kepentingan"


CHANNEL_NAMES: dict[CaseType, Text] = {
    CaseType.pengaduan: Text("Pengaduan Masyarakat", "Public Complaints"),
    CaseType.wbs: Text("Whistle-Blowing System", "Whistle-Blowing System"),
    CaseType.gratifikasi: Text("Laporan Gratifikasi", "Gratification Reports"),
    CaseType.benturan_kepentingan: Text("Benturan Kepentingan", "Conflicts of Interest"),
}


class Unit(IdMixin, CreatedMixin, Base):
    __tablename__ = "units"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("units.id", ondelete="RESTRICT"), index=True
    )

    parent: Mapped[Unit | None] = relationship(remote_side="Unit.id", lazy="raise")
    channels: Mapped[list[Channel]] = relationship(
        back_populates="unit", lazy="raise", order_by="Channel.id"
    )


class Channel(IdMixin, CreatedMixin, Base):
    __tablename__ = "channels"
    __table_args__ = (UniqueConstraint("unit_id", "case_type"),)

    unit_id: Mapped[int] = mapped_column(BigId, ForeignKey("units.id", ondelete="CASCADE"))
    case_type: Mapped[CaseType] = mapped_column(
        Enum(CaseType, name="case_type", native_enum=False, length=32)
    )
    name: Mapped[str] = mapped_column(String(200))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Years a closed case is kept (content; identity): None = the deployment's default
    # (WBS_RETENTION_YEARS, WBS_IDENTITY_RETENTION_YEARS); see wbs.retention.
    retention_years: Mapped[int | None] = mapped_column(Integer)
    identity_retention_years: Mapped[int | None] = mapped_column(Integer)

    unit: Mapped[Unit] = relationship(back_populates="channels", lazy="raise")
