"""`wbs backup` and `wbs restore` with blobs on S3 (a moto server): blobs stream from one
bucket into the backup directory and from there into another bucket; damage is refused."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import make_settings
from tests.s3 import s3_endpoint, s3_overrides
from wbs.core.blobs import S3Store, open_stores
from wbs.ops import backup as backups

__all__ = ["s3_endpoint"]


@pytest.mark.parametrize("backend", ["sqlite"])  # PostgreSQL dumps: tests/ops/test_backup_drill.py
async def test_backup_and_restore_with_s3_blobs(tmp_path, fresh_db_url, s3_endpoint):
    source = make_settings(tmp_path / "a", fresh_db_url, **s3_overrides(s3_endpoint))
    stores = open_stores(source)
    names = {
        "blobs": stores["blobs"].put(b"ciphertext of an attachment", 100).name,
        "evidence": stores["evidence"].put(b"%PDF-1.4 evidence", 100).name,
    }
    target = tmp_path / "cadangan"
    summary = await asyncio.to_thread(backups.backup, source, target)
    assert summary.stored_files == 2
    assert (target / "blobs" / names["blobs"]).read_bytes() == b"ciphertext of an attachment"
    await asyncio.to_thread(backups.verify, source, target)

    empty = f"sqlite+aiosqlite:///{tmp_path / 'restored.sqlite3'}"
    into = make_settings(tmp_path / "b", empty, **s3_overrides(s3_endpoint))
    await asyncio.to_thread(backups.restore, into, target)
    restored = open_stores(into)
    assert list(restored["blobs"].names()) == [names["blobs"]]
    assert list(restored["evidence"].names()) == [names["evidence"]]
    assert b"".join(restored["evidence"].chunks(names["evidence"])) == b"%PDF-1.4 evidence"
    with pytest.raises(backups.BackupError):  # restored: no longer an empty deployment
        await asyncio.to_thread(backups.restore, into, target)

    damaged = stores["blobs"]
    assert isinstance(damaged, S3Store)
    damaged.client.put_object(Bucket=damaged.bucket, Key=damaged.key(names["blobs"]), Body=b"x")
    with pytest.raises(backups.BackupError, match="damaged"):
        await asyncio.to_thread(backups.backup, source, tmp_path / "lagi")
