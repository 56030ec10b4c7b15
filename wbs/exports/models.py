"""Export jobs: an indicator export asked for on a page or the API, made by the worker."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Enum, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from wbs.core.db import Base, BigId, CreatedMixin, IdMixin
from wbs.core.text import Text
from wbs.units.models import Unit


class ExportState(enum.StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


STATE_NAMES: dict[ExportState, Text] = {
    ExportState.queued: Text("menunggu", "queued"),
    ExportState.running: Text("sedang dibuat", "running"),
    ExportState.done: Text("selesai", "done"),
    ExportState.failed: Text("gagal", "failed"),
}


class ExportJob(IdMixin, CreatedMixin, Base):
    """One export: its request, its progress and, when done, its signed package
    (`<data dir>/exports/<file_sha256>`). `attempts` fences a worker's writes: a worker
    whose lease ran out and was taken over no longer matches and changes nothing."""

    __tablename__ = "export_jobs"

    unit_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("units.id", ondelete="CASCADE"), index=True
    )
    requested_by_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("staff.id", ondelete="SET NULL")
    )
    format: Mapped[str] = mapped_column(String(8))
    period: Mapped[str] = mapped_column(String(7))
    public: Mapped[bool] = mapped_column(Boolean)
    state: Mapped[ExportState] = mapped_column(
        Enum(ExportState, name="export_state", native_enum=False, length=16),
        default=ExportState.queued,
        index=True,
    )
    progress: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None] = mapped_column()
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    error_id: Mapped[str | None] = mapped_column(String(500))
    error_en: Mapped[str | None] = mapped_column(String(500))
    file_name: Mapped[str | None] = mapped_column(String(120))
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    file_size: Mapped[int | None] = mapped_column(BigInteger)

    unit: Mapped[Unit] = relationship(lazy="raise")
