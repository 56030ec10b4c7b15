"""End to end on both blob backends (a directory; S3 on a moto server): the app stores a
report's attachment, an officer downloads it, a refused submission leaves nothing stored,
and `wbs blobs gc` removes an orphan but not the attachment."""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime
from hashlib import sha256

import pytest
from sqlalchemy import update

from tests.conftest import make_settings
from tests.reporting.helpers import sign_in, submission
from tests.reporting.test_submission_api import world
from tests.s3 import s3_endpoint, s3_overrides
from wbs.core.blobs import MIB, S3Store
from wbs.ops import blobgc
from wbs.reporting.models import CaseStatus, Report
from wbs.retention import service as retention

__all__ = ["s3_endpoint", "world"]


@pytest.fixture(params=["files", "s3"])
def settings(request, tmp_path, db_url):
    if request.param == "files":
        return make_settings(tmp_path / "var", db_url)
    overrides = s3_overrides(request.getfixturevalue("s3_endpoint"))
    return make_settings(tmp_path / "var", db_url, **overrides)


def temp_left(store) -> list[str]:
    if isinstance(store, S3Store):
        temp = store.client.list_objects_v2(Bucket=store.bucket, Prefix=store.temp_prefix)
        return [o["Key"] for o in temp.get("Contents", [])]
    return [p.name for p in store.root.iterdir() if p.name.startswith(".")]


async def submit_with(client, world, data: bytes) -> tuple[str, str]:
    """A report with one attachment; its report id and attachment id."""
    k = world["keys"]
    body, _receipt, _sealed = await submission(client, world["unit"], [k["v1"], k["v2"]])
    aid = str(uuid.uuid4())
    body["attachments"] = [{"id": aid, "metadata": "AAAA", "size": len(data)}]
    out = await client.post(
        "/api/v1/reports",
        data={"submission": json.dumps(body)},
        files=[("attachment", (aid, data, "application/octet-stream"))],
    )
    assert out.status_code == 201, out.text
    return out.json()["report_id"], aid


async def test_attachment_stored_and_downloaded_by_the_officer(app, client, world, settings):
    store = app.state.reporting.blobs
    assert app.state.file_stores["blobs"].label == store.label
    assert isinstance(store, S3Store) == bool(settings.blob_url)
    k = world["keys"]
    data = os.urandom(6 * MIB + 123)  # more than one 5 MiB part
    report_id, aid = await submit_with(client, world, data)
    assert list(store.names()) == [sha256(data).hexdigest()]
    if settings.blob_url:
        assert not (settings.data_dir / "blobs").exists()  # nothing on the app server's disk

    await sign_in(client, world["v1"])
    got = await client.get(f"/api/v1/cases/{report_id}/attachments/{aid}")
    assert got.status_code == 200 and got.headers["cache-control"] == "no-store"
    assert got.headers["content-length"] == str(len(data)) and got.content == data
    absent = await client.get(f"/api/v1/cases/{report_id}/attachments/{uuid.uuid4()}")
    assert absent.status_code == 404
    client.cookies.clear()

    refused, _r, _s = await submission(client, world["unit"], [k["v1"], k["v2"]], version=7)
    other = str(uuid.uuid4())
    refused["attachments"] = [{"id": other, "metadata": "AAAA", "size": 5}]
    stale = await client.post(
        "/api/v1/reports",
        data={"submission": json.dumps(refused)},
        files=[("attachment", (other, b"ciphr", "application/octet-stream"))],
    )
    assert stale.status_code == 409 and stale.json()["error"] == "directory_changed"
    assert list(store.names()) == [sha256(data).hexdigest()]  # the refused blob went at once
    assert temp_left(store) == []

    orphan = store.put(b"stored by a request that died before its commit", 100).name
    async with app.state.sessionmaker() as db:
        assert await blobgc.collect(db, app.state.file_stores, 3600) == {
            "blobs": [],
            "evidence": [],
            "exports": [],
        }
        removed = await blobgc.collect(db, app.state.file_stores, 0)
    assert removed["blobs"] == [orphan]
    assert list(store.names()) == [sha256(data).hexdigest()]


async def test_retention_removes_a_closed_cases_blob(app, client, world, settings):
    store = app.state.reporting.blobs
    kept_data, gone_data = os.urandom(1000), os.urandom(2000)
    kept_id, _ = await submit_with(client, world, kept_data)
    gone_id, gone_aid = await submit_with(client, world, gone_data)
    closed = datetime(2020, 5, 4, tzinfo=UTC)
    async with app.state.sessionmaker() as db:
        await db.execute(
            update(Report)
            .where(Report.public_id == gone_id)
            .values(status=CaseStatus.selesai, status_changed_at=closed)
        )
        await db.commit()
    now = datetime(2031, 1, 1, tzinfo=UTC)  # 10 years (the default) after closing, and more
    done = await retention.run_round(settings, app.state.sessionmaker, store, now)
    assert len(done.purged) == 1 and done.blobs_removed == 1 and not done.skipped
    assert sorted(store.names()) == [sha256(kept_data).hexdigest()]
    await sign_in(client, world["v1"])
    assert (await client.get(f"/api/v1/cases/{gone_id}")).status_code == 404
    assert (await client.get(f"/api/v1/cases/{gone_id}/attachments/{gone_aid}")).status_code == 404
    assert (await client.get(f"/api/v1/cases/{kept_id}")).status_code == 200
    again = await retention.run_round(settings, app.state.sessionmaker, store, now)
    assert (again.purged, again.blobs_removed) == ([], 0)


async def test_readiness_probes_the_blob_stores(client, settings):
    ready = await client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert "store:blobs" in ready.text and "store:evidence" in ready.text
