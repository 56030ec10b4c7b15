"""`wbs retention run [--dry-run]` and `wbs blobs gc` as an operator runs them."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

from sqlalchemy import func, select

from tests.conftest import TEST_SECRET
from tests.retention.test_retention_races import closed_cases
from wbs.core.db import make_engine, make_sessionmaker
from wbs.core.files import FileStore
from wbs.reporting.models import Report


def wbs(tmp_path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "WBS_DATA_DIR": str(tmp_path),
        "WBS_DATABASE_URL": url,
        "WBS_SECRET_KEY": TEST_SECRET,
        "WBS_RETENTION_BATCH": "2",
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

        dry = await asyncio.to_thread(wbs, tmp_path, fresh_db_url, "retention", "run", "--dry-run")
        assert dry.returncode == 0, dry.stderr
        assert "cases purged (due): 2 " in dry.stdout  # one batch (WBS_RETENTION_BATCH=2)
        async with sessions() as db:
            assert await db.scalar(select(func.count()).where(Report.purged_at.is_(None))) == 3

        done = await asyncio.to_thread(wbs, tmp_path, fresh_db_url, "retention", "run")
        assert done.returncode == 0, done.stderr
        assert "cases purged (done): 3 " in done.stdout and "stored files removed: 3" in done.stdout
        async with sessions() as db:
            left = await db.scalar(select(func.count()).where(Report.id.in_(ids)))
            purged = await db.scalar(select(func.count()).where(Report.purged_at.is_not(None)))
            assert (left, purged) == (3, 3)  # the tombstones stay
        assert list(store.names()) == [orphan]

        kept = await asyncio.to_thread(wbs, tmp_path, fresh_db_url, "blobs", "gc")
        assert kept.returncode == 0 and "blobs: 0 removed" in kept.stdout  # within the grace
        gone = await asyncio.to_thread(wbs, tmp_path, fresh_db_url, "blobs", "gc", "--grace", "0")
        assert gone.returncode == 0 and "blobs: 1 removed" in gone.stdout, gone.stderr
        assert list(store.names()) == []
    finally:
        await engine.dispose()
