"""`wbs retention run [--dry-run]` and `wbs blobs gc` as an operator runs them."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

from sqlalchemy import func, select

from tests.conftest import TEST_SECRET
from tests.retention.test_retention_races import closed_cases
from wbs.audit.models import AuditEvent
from wbs.core.db import make_engine, make_sessionmaker
from wbs.core.files import FileStore
from wbs.reporting.models import Attachment, Report
from wbs.units.models import CaseType, Channel


def wbs(tmp_path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "WBS_DATA_DIR": str(tmp_path),
        "WBS_DATABASE_URL": url,
        "WBS_SECRET_KEY": TEST_SECRET,
        "WBS_RETENTION_BATCH": "1",
        "WBS_RETENTION_YEARS": "5",  # closed in 2020: due from 2025
    }
    return subprocess.run(
        [sys.executable, "-m", "wbs", *args], env=env, capture_output=True, text=True, check=False
    )


async def test_dry_run_then_run_then_gc(tmp_path, fresh_db_url):
    engine = make_engine(fresh_db_url)
    sessions = make_sessionmaker(engine)
    store = FileStore(tmp_path / "blobs")
    try:
        ids = await closed_cases(sessions, store, 3)
        orphan = store.put(b"left by a request that died", 100).name
        # The unit keeps its WBS cases 30 years (cases 1: wbs, 2: gratifikasi, 3: benturan).
        made = await asyncio.to_thread(
            wbs, tmp_path, fresh_db_url, "retention", "set", "retensi", "wbs", "--years", "30"
        )
        assert made.returncode == 0, made.stderr
        async with sessions() as db:
            rows = await db.execute(select(Channel.case_type, Channel.retention_years))
            years = {kind: value for kind, value in rows}
            assert years == {k: (30 if k == CaseType.wbs else None) for k in CaseType}
            said = AuditEvent.action == "channel.retention"
            event = await db.scalar(select(AuditEvent).where(said))
            assert event is not None and event.details == {"years": 30, "identity_years": None}
        wrong = await asyncio.to_thread(
            wbs, tmp_path, fresh_db_url, "retention", "set", "NOPE", "wbs", "--years", "3"
        )
        assert wrong.returncode == 1 and "No such unit" in wrong.stderr

        dry = await asyncio.to_thread(wbs, tmp_path, fresh_db_url, "retention", "run", "--dry-run")
        assert dry.returncode == 0, dry.stderr
        assert dry.stdout.count("RETENSI-") == 2  # gratifikasi and benturan, not WBS
        async with sessions() as db:
            assert await db.scalar(select(func.count()).where(Report.purged_at.is_(None))) == 3
        assert "cases purged (due): 2 " in dry.stdout and "RETENSI-WBS" not in dry.stdout
        done = await asyncio.to_thread(wbs, tmp_path, fresh_db_url, "retention", "run")
        assert done.returncode == 0, done.stderr
        assert "cases purged (done): 2 " in done.stdout and "stored files removed: 2" in done.stdout
        async with sessions() as db:
            left = await db.scalar(select(func.count()).where(Report.id.in_(ids)))
            purged = await db.scalar(select(func.count()).where(Report.purged_at.is_not(None)))
            assert (left, purged) == (3, 2)  # the tombstones stay; the WBS case is kept
            wbs_blob = await db.scalar(select(Attachment.blob))
        assert sorted(store.names()) == sorted([orphan, wbs_blob])

        kept = await asyncio.to_thread(wbs, tmp_path, fresh_db_url, "blobs", "gc")
        assert kept.returncode == 0 and "blobs: 0 removed" in kept.stdout  # within the grace
        gone = await asyncio.to_thread(wbs, tmp_path, fresh_db_url, "blobs", "gc", "--grace", "0")
        assert gone.returncode == 0 and "blobs: 1 removed" in gone.stdout, gone.stderr
        assert list(store.names()) == [wbs_blob]
    finally:
        await engine.dispose()
