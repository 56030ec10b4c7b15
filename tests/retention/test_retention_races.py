"""Retention with several workers at once, and against a case reopened while it runs."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select, text, update

from tests.conftest import make_settings
from tests.workflow.helpers import make_report
from wbs.audit.models import AuditEvent
from wbs.core.db import make_engine, make_sessionmaker
from wbs.core.files import FileStore
from wbs.reporting.models import Attachment, CaseStatus, Report
from wbs.retention import service
from wbs.units.service import create_unit

CLOSED_ON = datetime(2020, 3, 2, 5, tzinfo=UTC)
NOW = datetime(2031, 1, 1, tzinfo=UTC)


async def closed_cases(sessions, store: FileStore, count: int) -> list[int]:
    """`count` cases closed in 2020, each with a stored attachment."""
    ids = []
    async with sessions() as db:
        unit = await create_unit(db, code="RETENSI", name="Unit", actor="test")
        kinds = ("pengaduan", "wbs", "gratifikasi", "benturan_kepentingan")
        for seq in range(1, count + 1):
            report = await make_report(
                db, unit, kinds[seq % 4], seq=seq, submitted=date(2019, 3, 1)
            )
            report.status, report.status_changed_at = CaseStatus.selesai, CLOSED_ON
            report.identity = "box"
            blob = store.put(f"ciphertext {seq}".encode(), 100).name
            db.add(
                Attachment(
                    report_id=report.id, public_id=f"a-{seq}", metadata_box="m", size=1, blob=blob
                )
            )
            ids.append(report.id)
        await db.commit()
    return ids


async def test_concurrent_rounds_purge_each_case_once(tmp_path, fresh_db_url):
    settings = make_settings(tmp_path, fresh_db_url, retention_batch=7)
    engine = make_engine(fresh_db_url)
    sessions = make_sessionmaker(engine)
    store = FileStore(tmp_path / "blobs")
    try:
        ids = await closed_cases(sessions, store, 24)
        purged: list[str] = []
        for _ in range(10):  # rounds of four workers until nothing is due
            runs = await asyncio.gather(
                *(service.run_round(settings, sessions, store, NOW) for _ in range(4)),
                return_exceptions=True,
            )
            assert not [r for r in runs if isinstance(r, BaseException)], runs
            purged += [n for r in runs if not isinstance(r, BaseException) for n in r.purged]
            if not any(r.purged for r in runs if not isinstance(r, BaseException)):
                break
        assert len(purged) == len(set(purged)) == len(ids)
        async with sessions() as db:
            events = await db.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "case.purged")
            )
            assert events == len(ids)
            left = await db.scalar(select(func.count()).where(Report.purged_at.is_(None)))
            assert left == 0
        assert list(store.names()) == []
    finally:
        await engine.dispose()


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_a_case_reopened_while_retention_waits_is_kept(tmp_path, fresh_db_url):
    """The purge's guarded UPDATE waits for the reopening's row lock, then sees the case
    open and leaves it (PostgreSQL re-checks the WHERE after the wait)."""
    settings = make_settings(tmp_path, fresh_db_url)
    engine = make_engine(fresh_db_url)
    sessions = make_sessionmaker(engine)
    store = FileStore(tmp_path / "blobs")
    try:
        first, *others = await closed_cases(sessions, store, 3)
        async with sessions() as reopening:
            await reopening.execute(
                update(Report)
                .where(Report.id == first)
                .values(status=CaseStatus.ditindaklanjuti, status_changed_at=NOW)
            )
            task = asyncio.create_task(service.run_round(settings, sessions, store, NOW))
            while not task.done():  # until the purge waits on the reopening's row lock
                waiting = await reopening.scalar(
                    text("SELECT count(*) FROM pg_locks WHERE NOT granted")
                )
                if waiting:
                    break
                await asyncio.sleep(0.01)
            await reopening.commit()
        done = await task
        async with sessions() as db:
            row = await db.get_one(Report, first)
            assert row.purged_at is None and row.identity == "box"
            assert row.status == CaseStatus.ditindaklanjuti
            assert await db.scalar(select(func.count()).where(Attachment.report_id == first)) == 1
            others_left = await db.scalar(
                select(func.count()).where(Report.id.in_(others), Report.purged_at.is_(None))
            )
            assert others_left == 0
        assert len(done.purged) == 2 and len(list(store.names())) == 1
    finally:
        await engine.dispose()
