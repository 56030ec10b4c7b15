"""The one file store and the one bounded multipart parser (`wbs.core.files`), for every use:
report and message attachments (API, into the blob store), the no-JavaScript reporter forms
(into memory only) and ZI evidence (into the evidence store)."""

from __future__ import annotations

import dataclasses
import os
import tempfile
import time
from hashlib import sha256
from pathlib import Path

import httpx
import pytest
from starlette.requests import Request

from wbs.core import files
from wbs.core.errors import ValidationFailed
from wbs.core.files import FileStore, FileTooLarge, FormDamaged, UploadLimits
from wbs.reporting.limits import ReportingLimits
from wbs.zi.documents import DocumentTooLarge
from wbs.zi.evidence import Evidence


def multipart(fields: dict[str, str], uploads: list[tuple[str, str, bytes]]) -> Request:
    """A request carrying a multipart body, as the parser sees one."""
    built = httpx.Request(
        "POST",
        "http://testserver/",
        data=fields,
        files=[
            (name, (filename, data, "application/octet-stream")) for name, filename, data in uploads
        ],
    )
    body = built.read()
    sent = False

    async def receive() -> dict[str, object]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    headers = [(k.lower().encode(), v.encode()) for k, v in built.headers.items()]
    return Request(
        {"type": "http", "method": "POST", "path": "/", "headers": headers, "query_string": b""},
        receive,
    )


def small(limits: UploadLimits) -> UploadLimits:
    return dataclasses.replace(limits, file_bytes=1000, total_bytes=1500, body_bytes=4000)


# Every upload of the service, with where its file parts go.
USES = {
    "report": (small(ReportingLimits().api_upload), "store", FileTooLarge),
    "message": (small(ReportingLimits().api_upload), "store", FileTooLarge),
    "no-js form": (small(ReportingLimits().form_upload), "memory", FileTooLarge),
    "evidence": (
        dataclasses.replace(
            small(Evidence(FileStore(Path()), 1000).upload_limits), total_bytes=1000
        ),
        "store",
        DocumentTooLarge,
    ),
}


@pytest.fixture
def spool(tmp_path, monkeypatch):
    """The process's temp directory, watched: the in-memory path must never use it."""
    directory = tmp_path / "tmp"
    directory.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(directory))
    return directory


def leftovers(store: FileStore) -> list[str]:
    return sorted(p.name for p in store.root.iterdir()) if store.root.exists() else []


@pytest.mark.parametrize("use", USES)
async def test_parts_go_into_memory_or_into_the_store(use, tmp_path, spool):
    limits, where, _errors = USES[use]
    store = FileStore(tmp_path / "store")
    request = multipart({"note": "catatan"}, [("file", "a.pdf", b"%PDF-" + b"x" * 995)])
    upload = await files.parse_multipart(request, limits, store=store if where == "store" else None)
    assert upload.text("note") == "catatan" and upload.text("absent") == ""
    [part] = upload.files("file")
    writer = upload.writer(part)
    if where == "memory":
        assert writer is None and await part.read() == b"%PDF-" + b"x" * 995
        assert leftovers(store) == [] and list(spool.iterdir()) == []
    else:
        assert writer is not None and writer.size == 1000 and writer.head.startswith(b"%PDF-")
        assert next(p.name for p in store.root.iterdir()).startswith(files.TEMP_PREFIX)
        kept = store.put(writer, max_bytes=1000)
        assert kept.name == sha256(b"%PDF-" + b"x" * 995).hexdigest() and kept.created
        assert leftovers(store) == [kept.name]
    await upload.close()
    assert all(not n.startswith(files.TEMP_PREFIX) for n in leftovers(store))


@pytest.mark.parametrize("use", USES)
async def test_over_a_limit_stops_while_arriving_and_leaves_nothing(use, tmp_path, spool):
    limits, where, errors = USES[use]
    store = FileStore(tmp_path / "store")
    target = store if where == "store" else None
    too_big = multipart({}, [("file", "a.pdf", b"x" * 1001)])
    with pytest.raises(errors) as one:
        await files.parse_multipart(too_big, limits, store=target, errors=errors)
    assert one.value.status == 413
    if limits.max_files > 1:  # each file fits, together they do not
        two = multipart({}, [("file", "a", b"x" * 800), ("file", "b", b"y" * 800)])
        with pytest.raises(errors):
            await files.parse_multipart(two, limits, store=target, errors=errors)
    damaged = multipart({"f": "x" * (limits.field_bytes + 1)}, [])
    with pytest.raises(FormDamaged):
        await files.parse_multipart(damaged, limits, store=target, errors=errors)
    assert leftovers(store) == [] and list(spool.iterdir()) == []


@pytest.mark.parametrize("use", USES)
def test_one_content_length_check(use):
    limits, _where, errors = USES[use]

    def request(length: str | None) -> Request:
        headers = [(b"content-length", length.encode())] if length is not None else []
        return Request(
            {"type": "http", "method": "POST", "path": "/", "headers": headers, "query_string": b""}
        )

    files.check_length(request(str(limits.body_bytes)), limits, errors)
    files.check_length(request(None), limits, errors)
    with pytest.raises(errors) as over:
        files.check_length(request(str(limits.body_bytes + 1)), limits, errors)
    assert over.value.status == 413 and isinstance(over.value, FileTooLarge)
    with pytest.raises(ValidationFailed):
        files.check_length(request(None), limits, errors, required=True)


def test_evidence_errors_name_the_file_limit():
    limits = Evidence(FileStore(Path()), 1024).upload_limits
    error = DocumentTooLarge.files(limits)
    assert error.code == "zi_evidence_too_large" and error.details == {"max_bytes": 1024}
    body = DocumentTooLarge.body(limits)
    assert body.text_en == "The evidence file is too large (at most 1 KiB)."
    assert FileTooLarge.files(ReportingLimits().form_upload).text_id.startswith(
        "Lampiran terlalu besar"
    )


def test_store_is_content_addressed_atomic_and_limited(tmp_path, monkeypatch):
    synced: list[Path] = []
    monkeypatch.setattr(files, "fsync_dir", synced.append)
    store = FileStore(tmp_path / "blobs")
    kept = store.put(b"ciphertext-bytes", max_bytes=100)
    assert (
        kept.size == 16
        and kept.created
        and store.path(kept.name).read_bytes() == (b"ciphertext-bytes")
    )
    assert synced == [store.root]  # the rename is made durable too
    again = store.put(b"ciphertext-bytes", max_bytes=100)
    assert again.name == kept.name and not again.created
    with open(tmp_path / "big", "wb") as fh:
        fh.write(os.urandom(3000))
    with pytest.raises(FileTooLarge), open(tmp_path / "big", "rb") as fh:
        store.put(fh, max_bytes=2999)
    assert leftovers(store) == [kept.name]  # no temp left
    with open(tmp_path / "big", "rb") as fh:
        streamed = store.put(fh, max_bytes=3000)
    with open(tmp_path / "copy", "wb") as out:
        store.copy_to(streamed.name, out)
    assert (tmp_path / "copy").read_bytes() == (tmp_path / "big").read_bytes()
    with pytest.raises(ValueError):
        store.path("../etc/passwd")
    store.discard(streamed.name)
    assert sorted(store.names()) == [kept.name]


def test_a_writer_over_its_limit_is_refused_and_leaves_nothing(tmp_path):
    store = FileStore(tmp_path / "evidence")
    writer = store.writer(limit=10)
    writer.write(b"0123456789")
    with pytest.raises(FileTooLarge):
        writer.write(b"!")
    writer.discard()
    assert leftovers(store) == []
    other = FileStore(tmp_path / "other").writer(limit=10)
    with pytest.raises(ValueError):
        store.put(other, max_bytes=10)
    other.discard()


def test_orphans_are_removed_but_fresh_files_are_kept(tmp_path):
    store = FileStore(tmp_path / "blobs")
    kept = store.put(b"referenced", max_bytes=100).name
    orphan = store.put(b"nobody refers to me", max_bytes=100).name
    abandoned = store.writer(limit=100)
    abandoned.write(b"half")
    abandoned.file.close()
    fresh = store.put(b"written by a request still running", max_bytes=100).name
    old = time.time() - 7200
    for name in (kept, orphan, abandoned.path.name):
        os.utime(store.root / name, (old, old))
    removed = store.remove_orphans({kept})
    assert removed == [orphan] and not abandoned.path.exists()  # temp files go unnamed
    assert sorted(store.names()) == sorted([kept, fresh])
    assert store.remove_orphans({kept}, older_than=0) == [fresh]
    assert FileStore(tmp_path / "none").remove_orphans(set()) == []
