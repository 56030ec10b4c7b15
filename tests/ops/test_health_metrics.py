"""/healthz, /readyz and /metrics: what they check, who may read metrics, and that no
concrete path, id or client detail becomes a label or a log field."""

from __future__ import annotations

import io
import json
import logging
import uuid
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from pydantic import SecretStr

from tests.conftest import make_settings
from tests.foundation.test_audit import _append as append_entry
from tests.workflow.helpers import make_report
from wbs.app import create_app
from wbs.audit import service as audit
from wbs.core.logging import JsonFormatter
from wbs.core.settings import Settings
from wbs.ops.metrics import RequestStats
from wbs.ops.stores import STORE_NAMES, file_stores
from wbs.outbox import service as outbox
from wbs.reporting.models import CaseStatus
from wbs.workflow.models import CaseTimer


def _sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample in Prometheus text, or None."""
    for line in text.splitlines():
        if line.startswith("#") or " " not in line:
            continue
        series, value = line.rsplit(" ", 1)
        metric, _, rest = series.partition("{")
        if metric != name:
            continue
        found = dict(part.split("=", 1) for part in rest.rstrip("}").split(",") if "=" in part)
        if all(found.get(k) == f'"{v}"' for k, v in labels.items()):
            return float(value)
    return None


async def test_the_apps_stores_are_the_ones_backups_cover(app, settings):
    roots = {name: store.root for name, store in app.state.file_stores.items()}
    assert roots == {name: store.root for name, store in file_stores(settings).items()}
    assert tuple(roots) == STORE_NAMES


async def test_healthz_needs_no_database_and_readyz_names_the_part(tmp_path):
    settings = make_settings(
        tmp_path / "var",
        "postgresql+psycopg://wbs:hunter2@127.0.0.1:1/nowhere",
        ready_timeout_seconds=5,
    )
    application = create_app(settings)
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        ready = await client.get("/readyz")
        metrics = await client.get("/metrics")
    await application.state.engine.dispose()
    assert ready.status_code == 503
    body = ready.json()
    assert body["status"] == "fail"
    assert body["checks"]["database"] in ("unreachable", "timeout")
    assert body["checks"]["store:blobs"] == "ok" and body["checks"]["store:evidence"] == "ok"
    assert "hunter2" not in ready.text and "127.0.0.1" not in ready.text
    assert metrics.status_code == 200  # a scrape still answers and says so
    assert _sample(metrics.text, "wbs_database_up") == 0


async def test_readyz_ok_and_an_unwritable_store(app, client, settings):
    ready = await client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert set(ready.json()["checks"].values()) == {"ok"}
    assert not [p for p in (settings.data_dir / "blobs").iterdir()]  # the probe is gone
    blocked = settings.data_dir / "elsewhere"
    blocked.write_text("a file where a directory should be")
    app.state.file_stores["evidence"].root = blocked
    ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"] == {
        "database": "ok",
        "store:blobs": "ok",
        "store:evidence": "not_writable",
        "store:exports": "ok",
    }
    assert str(blocked) not in ready.text


async def test_metrics_label_templates_not_values(db, client, make_unit):
    report_id = str(uuid.uuid4())
    for _ in range(3):
        assert (await client.get(f"/api/v1/cases/{report_id}")).status_code == 401
    assert (await client.get(f"/tidak-ada/{report_id}")).status_code == 404
    assert (await client.get("/healthz")).status_code == 200

    unit = await make_unit()
    report = await make_report(db, unit, "pengaduan")
    yesterday = date.today() - timedelta(days=2)
    db.add(
        CaseTimer(
            report_id=report.id,
            name="verifikasi",
            rule="-",
            count="kerja",
            days=5,
            base_on=yesterday - timedelta(days=7),
            due_on=yesterday,
        )
    )
    await outbox.enqueue(db, "transition", report_id=report.id)
    await db.commit()

    text = (await client.get("/metrics")).text
    route = "/api/v1/cases/{report_id}"
    assert _sample(text, "wbs_http_requests_total", method="GET", route=route, status="4xx") == 3
    assert _sample(text, "wbs_http_requests_total", route="unmatched", status="4xx") == 1
    assert _sample(text, "wbs_http_requests_total", route="/healthz", status="2xx") == 1
    count = _sample(text, "wbs_http_request_duration_seconds_count", method="GET", route=route)
    inf = _sample(text, "wbs_http_request_duration_seconds_bucket", route=route, le="+Inf")
    assert count == inf == 3
    assert report_id not in text and "tidak-ada" not in text and "127.0.0.1" not in text
    assert report.case_number not in text
    assert _sample(text, "wbs_database_up") == 1
    assert _sample(text, "wbs_outbox_queue_depth") >= 1
    assert _sample(text, "wbs_outbox_failed") == 0
    assert _sample(text, "wbs_workflow_timers_overdue") >= 1
    assert _sample(text, "wbs_workflow_timers_unhandled") >= 1
    assert _sample(text, "wbs_db_pool_checked_out") is not None
    assert _sample(text, "wbs_info", version="0.1.0") == 1
    # Every sample line parses as name{labels} value.
    samples = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    assert all(float(ln.rsplit(" ", 1)[1]) >= 0 for ln in samples)


async def test_metrics_only_for_operators(app):
    async def get(client_addr, **headers):
        transport = httpx.ASGITransport(app=app, client=client_addr)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            return (await c.get("/metrics", headers=headers)).status_code

    loopback = ("127.0.0.1", 5000)
    assert await get(loopback) == 200
    assert await get(("::1", 5000)) == 200
    assert await get(("10.1.2.3", 5000)) == 404
    # nginx on the same machine connects from loopback too; its header gives it away.
    assert await get(loopback, **{"x-forwarded-proto": "https"}) == 404
    assert await get(loopback, **{"x-forwarded-for": "1.2.3.4"}) == 404

    settings: Settings = app.state.settings
    app.state.settings = settings.model_copy(update={"metrics_token": SecretStr("s3cret-token")})
    try:
        assert await get(loopback) == 404
        assert await get(("10.1.2.3", 5000), authorization="Bearer wrong") == 404
        assert await get(("10.1.2.3", 5000), authorization="Bearer s3cret-token") == 200
    finally:
        app.state.settings = settings


def test_request_stats_memory_is_bounded():
    stats = RequestStats(max_series=3)
    for i in range(50):
        stats.observe("GET", f"/r{i}", 200, 0.01)
    stats.observe("BREW", "/r0", 200, 0.01)
    assert len(stats.series) == 4  # three, and the one overflow series
    assert stats.series[("OTHER", "other", "other")].count == 48
    assert ("OTHER", "/r0", "2xx") not in stats.series  # over the fence: overflow too


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_json_access_log_has_the_template_only(client):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    access = logging.getLogger("wbs.access")
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    report_id = str(uuid.uuid4())
    try:
        await client.get(f"/api/v1/cases/{report_id}", headers={"user-agent": "Agen/1.0"})
    finally:
        access.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines, "no access log line"
    entry = lines[-1]
    assert entry["route"] == "/api/v1/cases/{report_id}" and entry["status"] == 401
    assert entry["method"] == "GET" and entry["level"] == "INFO" and "duration_ms" in entry
    raw = stream.getvalue()
    assert report_id not in raw and "127.0.0.1" not in raw and "Agen" not in raw


async def test_metrics_audit_lag_and_retention_backlog(app, db, client, make_unit, settings):
    sessions = app.state.sessionmaker
    master = settings.secret_bytes()
    unit = await make_unit()
    old = await make_report(db, unit, "pengaduan")
    old.status = CaseStatus.selesai
    old.status_changed_at = datetime.now(UTC) - timedelta(days=366 * 11)  # past 10 years
    await make_report(db, unit, "pengaduan", seq=2)  # open: not due
    await db.commit()
    await audit.sequence_all(sessions, master)
    for i in range(3):
        await append_entry(db, unit, i)
    await db.commit()

    text = (await client.get("/metrics")).text
    assert _sample(text, "wbs_audit_pending") == 3
    assert _sample(text, "wbs_audit_pending_oldest_seconds") >= 0
    assert _sample(text, "wbs_retention_purges_due") == 1
    assert _sample(text, "wbs_retention_identities_due") == 0  # no identity period set
    assert old.case_number not in text

    assert (await audit.sequence_all(sessions, master)).sequenced == 3
    text = (await client.get("/metrics")).text
    assert _sample(text, "wbs_audit_pending") == 0
    assert _sample(text, "wbs_audit_pending_oldest_seconds") == 0
