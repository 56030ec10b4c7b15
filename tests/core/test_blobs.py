"""One blob test suite, run on both backends: the directory store and S3 (a moto server)."""

from __future__ import annotations

import os
import tracemalloc
from hashlib import sha256
from pathlib import Path
from typing import Any

import pytest

from tests.s3 import s3_endpoint, s3_settings
from wbs.core.blobs import (
    MIB,
    BlobDamaged,
    BlobStore,
    S3Location,
    S3Store,
    blob_response,
    open_stores,
)
from wbs.core.errors import NotFound
from wbs.core.files import FileStore, FileTooLarge
from wbs.core.settings import Settings, SettingsError

__all__ = ["s3_endpoint"]


@pytest.fixture(params=["files", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "files":
        return open_stores(Settings(data_dir=tmp_path))["blobs"]
    endpoint = request.getfixturevalue("s3_endpoint")
    made = open_stores(s3_settings(tmp_path, endpoint))["blobs"]
    assert isinstance(made, S3Store)
    return made


def digest(data: bytes) -> str:
    return sha256(data).hexdigest()


def plant(store: BlobStore, name: str, data: bytes) -> None:
    """Put bytes under a name behind the store's back (damage, as a disk or bucket might)."""
    if isinstance(store, FileStore):
        store.root.mkdir(parents=True, exist_ok=True)
        store.path(name).write_bytes(data)
    else:
        assert isinstance(store, S3Store)
        store.client.put_object(Bucket=store.bucket, Key=store.key(name), Body=data)


def leftovers(store: BlobStore) -> list[str]:
    """Temp files, temp objects and unfinished uploads: what a discarded writer must not leave."""
    if isinstance(store, FileStore):
        return [p.name for p in store.root.iterdir() if p.name.startswith(".tmp-")]
    assert isinstance(store, S3Store)
    s3, bucket = store.client, store.bucket
    temp = s3.list_objects_v2(Bucket=bucket, Prefix=store.temp_prefix).get("Contents", [])
    uploads = s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    return [o["Key"] for o in temp] + [u["Key"] for u in uploads]


def test_put_is_content_addressed(store: BlobStore) -> None:
    data = b"ciphertext \x00\x01" * 100
    first = store.put(data, 10_000)
    assert (first.name, first.size, first.created) == (digest(data), len(data), True)
    again = store.put(data, 10_000)
    assert (again.name, again.created) == (first.name, False)
    assert store.size(first.name) == len(data)
    assert b"".join(store.chunks(first.name)) == data
    assert list(store.names()) == [first.name]
    assert leftovers(store) == []


def test_writer_streams_rereads_and_keeps(store: BlobStore) -> None:
    pieces = [os.urandom(MIB) for _ in range(6)] + [b"tail"]  # more than one 5 MiB part
    data = b"".join(pieces)
    writer = store.writer(len(data))
    for piece in pieces:
        writer.write(piece)
    assert writer.size == len(data) and writer.head == data[:8192]
    with writer.reopen() as written:  # seekable, as the ZIP check of evidence needs
        written.seek(-4, os.SEEK_END)
        assert written.read() == b"tail"
        written.seek(MIB - 2)
        assert written.read(4) == data[MIB - 2 : MIB + 2]
    kept = writer.keep()
    assert kept.name == digest(data) and kept.created
    assert writer.keep() == kept  # once
    assert sha256(b"".join(store.chunks(kept.name))).hexdigest() == kept.name
    assert leftovers(store) == []


def test_discarded_writers_leave_nothing(store: BlobStore) -> None:
    small, large = store.writer(100), store.writer(20 * MIB)
    small.write(b"abc")
    for _ in range(6):  # a multipart upload under way on S3
        large.write(os.urandom(MIB))
    finished = store.writer(100)
    finished.write(b"done")
    finished.flush()
    for writer in (small, large, finished):
        writer.discard()
    assert leftovers(store) == [] and list(store.names()) == []


def test_limits(store: BlobStore) -> None:
    writer = store.writer(10)
    writer.write(b"0123456789")
    with pytest.raises(FileTooLarge):
        writer.write(b"x")
    writer.discard()
    with pytest.raises(FileTooLarge):
        store.put(b"x" * 11, 10)
    ready = store.writer(100)
    ready.write(b"x" * 50)
    with pytest.raises(FileTooLarge):
        store.put(ready, 40)  # a finished writer past the caller's limit is dropped
    assert leftovers(store) == [] and list(store.names()) == []


async def test_missing_blob(store: BlobStore) -> None:
    name = digest(b"never stored")
    assert store.size(name) is None
    with pytest.raises(NotFound):
        await blob_response(store, name, missing=NotFound(), headers={})
    with pytest.raises(NotFound):
        await blob_response(store, None, missing=NotFound(), headers={})
    store.discard(name)  # removing what is not there is no error
    with pytest.raises(ValueError):
        store.size("../" + name[3:])


async def test_download_response_streams_the_content(store: BlobStore) -> None:
    data = os.urandom(3 * MIB + 7)
    name = store.put(data, len(data)).name
    response: Any = await blob_response(
        store, name, missing=NotFound(), headers={"Cache-Control": "no-store"}
    )
    assert response.headers["content-length"] == str(len(data))
    body = b""
    async for piece in response.body_iterator:
        assert len(piece) <= MIB
        body += piece
    assert body == data


def test_damaged_content_is_detected(store: BlobStore) -> None:
    name = digest(b"the real content")
    plant(store, name, b"something else")
    assert store.size(name) == len(b"something else")
    with pytest.raises(BlobDamaged):
        b"".join(store.chunks(name))


def test_gc_removes_unreferenced_after_the_grace(store: BlobStore) -> None:
    kept = store.put(b"referenced", 100).name
    orphan = store.put(b"orphan", 100).name
    unfinished = store.writer(20 * MIB)
    for _ in range(6):
        unfinished.write(os.urandom(MIB))  # a request that died mid-upload
    assert store.remove_orphans({kept}, older_than=3600) == []  # within the grace: kept
    assert sorted(store.names()) == sorted([kept, orphan])
    assert store.remove_orphans({kept}, older_than=0) == [orphan]
    assert list(store.names()) == [kept]
    assert leftovers(store) == []  # the unfinished upload is gone too
    assert b"".join(store.chunks(kept)) == b"referenced"


def test_large_blob_streams_in_bounded_memory(store: BlobStore) -> None:
    """64 MiB in and out; the process holds a few parts at most (tracemalloc peak)."""
    total, hasher = 64 * MIB, sha256()
    block = os.urandom(MIB)
    tracemalloc.start()
    try:
        writer = store.writer(total)
        for i in range(64):
            piece = block[i:] + block[:i]  # 64 different MiB, none kept
            hasher.update(piece)
            writer.write(piece)
        kept = writer.keep()
        assert kept.name == hasher.hexdigest() and kept.size == total
        check, size = sha256(), 0
        for piece in store.chunks(kept.name):
            check.update(piece)
            size += len(piece)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert check.hexdigest() == kept.name and size == total
    assert peak < 24 * MIB, f"peak {peak / MIB:.1f} MiB for a 64 MiB blob"


def test_s3_settings_are_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WBS_CRYPTO_ALLOW_WEAK_KDF", raising=False)  # production refuses it
    assert S3Location.parse("s3://bucket/a/b/") == S3Location("bucket", "a/b/")
    assert S3Location.parse("s3://bucket") == S3Location("bucket", "")
    with pytest.raises(SettingsError):
        Settings(data_dir=tmp_path, blob_url="https://bucket/x")
    with pytest.raises(SettingsError):  # half the credentials
        Settings(data_dir=tmp_path, blob_url="s3://b/p", s3_access_key_id="id")
    production = {
        "env": "production",
        "secret_key": "k" * 40,
        "blob_url": "s3://b/p",
        "s3_access_key_id": "id",
    }
    with pytest.raises(SettingsError):
        Settings(data_dir=tmp_path, s3_secret_access_key="changeme", **production)
    ok = Settings(data_dir=tmp_path, s3_secret_access_key="r" * 40, **production)
    assert ok.blob_url == "s3://b/p"
