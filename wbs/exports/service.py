"""Indicator exports: asking for one, making it (worker or CLI) and handing it out.

The figures come from `wbs.indicators` through `indicator_source()`, the one place the
two packages meet; everything else takes an `IndicatorSource`, so tests and the CLI give
their own. A job is claimed with a conditional update (and `SKIP LOCKED` on PostgreSQL),
holds a lease it renews with each progress step, and writes only while its attempt
number still holds the row; a job whose worker died is taken again when the lease runs
out, at most `MAX_ATTEMPTS` times.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crypto.signing import SigningKey
from wbs.audit import service as audit
from wbs.core.blobs import BlobStore, open_store
from wbs.core.db import utcnow
from wbs.core.errors import Conflict, DomainError, NotFound, ValidationFailed
from wbs.core.settings import Settings
from wbs.core.text import Text
from wbs.exports import package, repository
from wbs.exports.formats import PERIOD, ExportRefused, Figures, check_report
from wbs.exports.models import ExportJob, ExportState
from wbs.staff.models import Staff
from wbs.units import repository as units
from wbs.units.models import Unit

log = logging.getLogger("wbs.exports")

LEASE = timedelta(minutes=10)
MAX_ATTEMPTS = 3
MAX_PENDING = 5  # queued or running jobs per unit
EXPORTERS = repository.EXPORTERS
INTERNAL = Text(
    "Terjadi kesalahan saat membuat ekspor; lihat log server.",
    "Something went wrong while making the export; see the server log.",
)

Progress = Callable[[int], Awaitable[None]]


@dataclass(frozen=True)
class IndicatorSource:
    """Where the figures come from: `figures(db, unit, period, public)` returns the
    indicator report (the JSON contract) and `definitions` names every indicator."""

    figures: Callable[[AsyncSession, Unit, str, bool], Awaitable[Mapping[str, Any]]]
    definitions: Mapping[str, Text]


class IndicatorsUnavailable(DomainError):
    status, code = 503, "indicators_unavailable"
    message_id = "Penghitungan indikator belum tersedia di server ini."
    message_en = "Indicator computation is not available on this server."


def indicator_source(settings: Settings | None = None) -> IndicatorSource:
    """`wbs.indicators`: the figures every export is made from, and their definitions, in
    the service's time zone and small-cell threshold (`WBS_TIMEZONE`, `WBS_INDICATORS_K`)."""
    from wbs.indicators import definitions, service

    options: dict[str, Any] = {}
    if settings is not None:
        options = {"tz": settings.timezone, "k": settings.indicators_k}

    async def figures(db: AsyncSession, unit: Unit, period: str, public: bool) -> Any:
        chosen = service.parse_period(period)
        found = await service.compute(db, unit, chosen, public=public, **options)
        return exportable(found)

    return IndicatorSource(figures, definitions.DEFINITIONS)


def exportable(figures: Mapping[str, Any]) -> dict[str, Any]:
    """The indicator figures an export carries: all but the pages' monthly chart series (a
    month's figures are exported as their own period)."""
    return {k: v for k, v in figures.items() if k != "monthly"}


class SignedDataDukung:
    """The LKE link's evidence package: the unit's signed indicator export (JSON + XLSX) of
    the figures a proposal came from; `wbs export verify` checks it like any export."""

    def __init__(self, master: bytes) -> None:
        self._master = master

    async def package(
        self, db: AsyncSession, unit: Unit, period: str, figures: Any, note: Any
    ) -> tuple[str, bytes]:
        del db, note  # the rule and its reason are on the proposal; the package holds figures
        from wbs.indicators import definitions

        checked = check_report(exportable(figures), definitions.DEFINITIONS, public=False)
        key = package.unit_key(self._master, unit.code)
        data = await asyncio.to_thread(package.build, checked, "xlsx", key)
        return package.package_name(unit.code, period, "xlsx", False), data


def export_store(settings: Settings) -> BlobStore:
    """Finished packages: `exports/<sha256>` in the deployment's blob storage."""
    return open_store(settings, "exports")


def check_request(fmt: str, period: str) -> None:
    if fmt not in package.FORMATS:
        raise ValidationFailed(
            "Format tidak dikenal (json, csv, xlsx, pdf).",
            "Unknown format (json, csv, xlsx, pdf).",
            details={"field": "format"},
        )
    if not PERIOD.match(period):
        raise ValidationFailed(
            "Periode tidak valid: 2026, 2026-Q1 atau 2026-03.",
            "Not a valid period: 2026, 2026-Q1 or 2026-03.",
            details={"field": "period"},
        )


# --------------------------------------------------------------------------- reading


async def readable_unit(db: AsyncSession, actor: Staff, code: str) -> Unit:
    unit = await db.scalar(repository.readable_units(actor).where(Unit.code == code.upper()))
    if unit is None:
        raise NotFound()
    return unit


async def get_job(db: AsyncSession, actor: Staff, job_id: int) -> ExportJob:
    job = await db.scalar(repository.readable_jobs(actor).where(ExportJob.id == job_id))
    if job is None:
        raise NotFound()
    return job


async def list_jobs(db: AsyncSession, actor: Staff, unit: Unit) -> list[ExportJob]:
    return await repository.jobs_of(db, actor, unit)


def export_missing() -> NotFound:
    return NotFound("Berkas ekspor belum atau tidak lagi ada.", "The export file is not there.")


async def job_file(db: AsyncSession, actor: Staff, job_id: int) -> tuple[ExportJob, str]:
    """A finished job and its package's blob name; 404 while it is not done."""
    job = await get_job(db, actor, job_id)
    if job.state != ExportState.done or not job.file_sha256:
        raise export_missing()
    return job, job.file_sha256


async def public_key_of(db: AsyncSession, master: bytes, code: str) -> tuple[Unit, SigningKey]:
    unit = await units.by_code(db, code.strip().upper()[:40])
    if unit is None:
        raise NotFound()
    return unit, package.unit_key(master, unit.code)


# --------------------------------------------------------------------------- asking


async def request_export(
    db: AsyncSession, actor: Staff, unit: Unit, *, fmt: str, period: str, public: bool
) -> ExportJob:
    """Queue an export of the unit's figures (the worker makes it)."""
    check_request(fmt, period)
    pending = await db.scalar(
        select(func.count())
        .select_from(ExportJob)
        .where(
            ExportJob.unit_id == unit.id,
            ExportJob.state.in_((ExportState.queued, ExportState.running)),
        )
    )
    if (pending or 0) >= MAX_PENDING:
        raise Conflict(
            f"Sudah ada {MAX_PENDING} ekspor yang menunggu untuk unit ini; tunggu hingga selesai.",
            f"{MAX_PENDING} exports of this unit are waiting already; wait until they finish.",
        )
    job = ExportJob(
        unit_id=unit.id,
        requested_by_id=actor.id,
        format=fmt,
        period=period,
        public=public,
        state=ExportState.queued,
        progress=0,
        attempts=0,
    )
    db.add(job)
    await db.flush()
    await audit.append(
        db,
        unit=unit,
        actor_id=actor.id,
        actor=actor.email,
        action="export.request",
        object_type=repository.OBJECT_TYPE,
        object_id=job.id,
        details={"format": fmt, "period": period, "public": public},
    )
    return job


# --------------------------------------------------------------------------- making


async def figures_of(
    db: AsyncSession, unit: Unit, period: str, public: bool, source: IndicatorSource
) -> Figures:
    """The unit's checked figures for the period (ExportRefused if they may not leave)."""
    figures = check_report(
        await source.figures(db, unit, period, public), source.definitions, public=public
    )
    if figures.unit != unit.code or figures.period != period:
        raise ExportRefused(
            "Data indikator untuk unit atau periode lain.",
            "The indicator data is for another unit or period.",
        )
    return figures


async def _build(figures: Figures, fmt: str, key: SigningKey, progress: Progress) -> bytes:
    """`package.build` off the event loop, its progress written about once a second."""
    latest = [30]
    task = asyncio.create_task(
        asyncio.to_thread(
            package.build, figures, fmt, key, lambda p: latest.__setitem__(0, 30 + p * 2 // 3)
        )
    )
    shown = latest[0]
    while not task.done():
        await asyncio.wait({task}, timeout=1.0)
        if latest[0] != shown:
            shown = latest[0]
            await progress(shown)
    return task.result()


async def run_jobs(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    source: Callable[[], IndicatorSource] | None = None,
    *,
    clock: Callable[[], datetime] = utcnow,
    limit: int = 4,
) -> int:
    """Make up to `limit` waiting exports, one after another; returns how many ran
    (figures from `source`, by default `wbs.indicators` with the settings' options)."""
    if source is None:
        source = partial(indicator_source, settings)
    ran = 0
    while ran < limit:
        claimed = await _claim(sessions, clock)
        if claimed is None:
            break
        await _run(settings, sessions, claimed, source, clock)
        ran += 1
    return ran


async def _claim(
    sessions: async_sessionmaker[AsyncSession], clock: Callable[[], datetime]
) -> tuple[int, int] | None:
    async with sessions() as db:
        for _ in range(8):  # another worker may take each candidate first
            now = clock()
            job = await repository.next_claimable(db, now)
            if job is None:
                break
            if job.attempts >= MAX_ATTEMPTS:
                await repository.move(
                    db,
                    job.id,
                    job.attempts,
                    state=ExportState.failed,
                    finished_at=now,
                    lease_until=None,
                    error_id="Pembuatan ekspor terhenti berulang kali.",
                    error_en="Making the export stopped repeatedly.",
                )
                await db.commit()
                continue
            attempt = await repository.take(db, job, now, now + LEASE)
            await db.commit()
            if attempt is not None:
                return job.id, attempt
        await db.commit()
    return None


async def _run(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    claimed: tuple[int, int],
    source: Callable[[], IndicatorSource],
    clock: Callable[[], datetime],
) -> None:
    job_id, attempt = claimed

    async def progress(percent: int) -> None:
        async with sessions() as db:
            await repository.move(
                db, job_id, attempt, progress=percent, lease_until=clock() + LEASE
            )
            await db.commit()

    try:
        async with sessions() as db:
            job = await db.get(ExportJob, job_id)
            unit = await db.get(Unit, job.unit_id) if job is not None else None
            if job is None or unit is None:
                return
            fmt, unit_id, unit_code = job.format, unit.id, unit.code
            figures = await figures_of(db, unit, job.period, job.public, source())
        await progress(30)
        key = package.unit_key(settings.secret_bytes(), unit_code)
        data = await _build(figures, fmt, key, progress)
        store = export_store(settings)
        stored = await asyncio.to_thread(store.put, data, package.MAX_PACKAGE_BYTES)
        async with sessions() as db:
            done = await repository.move(
                db,
                job_id,
                attempt,
                state=ExportState.done,
                progress=100,
                finished_at=clock(),
                lease_until=None,
                file_name=package.package_name(unit_code, figures.period, fmt, figures.public),
                file_sha256=stored.name,
                file_size=stored.size,
            )
            unit = await db.get(Unit, unit_id)
            if done and unit is not None:
                await audit.append(
                    db,
                    unit=unit,
                    actor_id=None,
                    actor="worker",
                    action="export.done",
                    object_type=repository.OBJECT_TYPE,
                    object_id=job_id,
                    details={"sha256": stored.name, "size": stored.size, "key": key.fingerprint},
                )
            await db.commit()
    except DomainError as exc:
        await _fail(sessions, job_id, attempt, exc.text, clock)
    except Exception:  # the worker goes on; the reason is in the log, not in the row
        log.exception("export job %s failed", job_id)
        await _fail(sessions, job_id, attempt, INTERNAL, clock)


async def _fail(
    sessions: async_sessionmaker[AsyncSession],
    job_id: int,
    attempt: int,
    text: Text,
    clock: Callable[[], datetime],
) -> None:
    async with sessions() as db:
        await repository.move(
            db,
            job_id,
            attempt,
            state=ExportState.failed,
            finished_at=clock(),
            lease_until=None,
            error_id=text.id[:500],
            error_en=text.en[:500],
        )
        await db.commit()
