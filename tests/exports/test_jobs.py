"""Export jobs on the real databases: asked for on the API or the page, made by the worker,
downloaded, verified; who may do it; failures, leases and concurrent workers."""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crypto.encoding import b64u_decode
from tests.conftest import csrf_from, login, make_settings
from tests.exports.reports import DEFINITIONS, report
from wbs.audit.models import AuditEvent
from wbs.core.db import make_engine, make_sessionmaker, utcnow
from wbs.exports import package, repository, service
from wbs.exports.models import ExportJob, ExportState
from wbs.exports.service import IndicatorSource, IndicatorsUnavailable
from wbs.staff.models import Role, Staff
from wbs.units.models import Unit
from wbs.units.service import create_unit
from wbs.worker import run_once

CANARY = "isi laporan CANARY-91c2 nama pelapor"


async def _figures(db: AsyncSession, unit: Unit, period: str, public: bool) -> Mapping[str, Any]:
    return report(unit.code, period, public=public)


SOURCE = IndicatorSource(_figures, DEFINITIONS)


async def _headers(client: httpx.AsyncClient) -> dict[str, str]:
    return {"X-CSRF-Token": await csrf_from(client, "/staff")}


async def _ask(client: httpx.AsyncClient, code: str, **body: Any) -> httpx.Response:
    return await client.post(
        f"/api/v1/units/{code}/exports", headers=await _headers(client), json=body
    )


async def test_asked_on_the_api_made_by_the_worker_downloaded_and_verified(
    app, client, make_unit, make_staff, db
) -> None:
    parent = await make_unit()
    child = await make_unit(parent=parent.code)
    auditor = await make_staff(parent, "auditor")
    assert (await login(client, auditor)).status_code == 303

    asked = await _ask(client, child.code, period="2026", format="xlsx", public=True)
    assert asked.status_code == 201, asked.text
    job = asked.json()
    assert (job["state"], job["progress"], job["file"], job["unit"]) == (
        "queued",
        0,
        None,
        child.code,
    )
    assert (await client.get(f"/api/v1/exports/{job['id']}/file")).status_code == 404

    run = await run_once(
        app.state.settings, app.state.sessionmaker, app.state.workflows, indicators=lambda: SOURCE
    )
    assert run.exports == 1

    done = (await client.get(f"/api/v1/exports/{job['id']}")).json()
    assert (done["state"], done["progress"], done["error"]) == ("done", 100, None)
    assert done["file"]["name"] == f"indikator-{child.code}-2026-xlsx-publik.zip"
    download = await client.get(done["file"]["url"])
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/zip"
    assert download.headers["content-disposition"].startswith("attachment;")
    assert hashlib.sha256(download.content).hexdigest() == done["file"]["sha256"]
    assert len(download.content) == done["file"]["size"]

    key = (await client.get(f"/api/v1/units/{child.code}/export-key")).json()
    pem = serialization.load_pem_public_key(key["public_key_pem"].encode())
    assert pem.public_bytes_raw() == b64u_decode(key["public_key"])  # type: ignore[union-attr]
    verified = package.verify(download.content, b64u_decode(key["public_key"]))
    assert (verified.unit, verified.period, verified.public) == (child.code, "2026", True)
    assert verified.key_id == key["key_id"] and verified.consistent == ("indikator.xlsx",)

    actions = list(
        await db.scalars(
            select(AuditEvent.action).where(AuditEvent.unit_id == child.id).order_by(AuditEvent.id)
        )
    )
    assert actions[-2:] == ["export.request", "export.done"]

    page = await client.get(f"/admin/units/{child.code}/exports")
    assert page.status_code == 200
    assert done["file"]["name"] in page.text and 'http-equiv="refresh"' not in page.text
    assert key["key_id"] in page.text


async def test_asked_on_the_page_with_progress_until_done(
    app, client, make_unit, make_staff
) -> None:
    unit = await make_unit()
    atasan = await make_staff(unit, "atasan")
    assert (await login(client, atasan)).status_code == 303
    page = f"/admin/units/{unit.code}/exports"
    token = await csrf_from(client, page)
    sent = await client.post(
        page, data={"csrf_token": token, "period": "2026-Q1", "format": "pdf", "public": "ya"}
    )
    assert sent.status_code == 303 and sent.headers["location"] == page
    waiting = await client.get(page)
    assert '<meta http-equiv="refresh" content="3">' in waiting.text
    assert re.search(r'<progress max="100" value="0">', waiting.text)
    bad = await client.post(page, data={"csrf_token": token, "period": "2026-Q5"})
    assert bad.status_code == 422
    assert await service.run_jobs(app.state.settings, app.state.sessionmaker, lambda: SOURCE) == 1
    shown = await client.get(page)
    assert "indikator-" in shown.text and "-2026-Q1-pdf-publik.zip" in shown.text
    assert 'http-equiv="refresh"' not in shown.text


async def test_who_may_export(app, client, make_unit, make_staff) -> None:
    parent = await make_unit()
    child = await make_unit(parent=parent.code)
    other = await make_unit()
    admin_child = await make_staff(child, "admin")
    verifikator = await make_staff(parent, "verifikator", "investigator", "upg", "custodian")
    stranger = await make_staff(other, "auditor")

    assert (await login(client, admin_child)).status_code == 303
    assert (await _ask(client, parent.code, period="2026")).status_code == 404  # above it
    made = await _ask(client, child.code, period="2026")
    assert made.status_code == 201
    job_id = made.json()["id"]
    assert (await client.get(f"/admin/units/{parent.code}/exports")).status_code == 404

    for account in (verifikator, stranger):
        client.cookies.clear()
        assert (await login(client, account)).status_code == 303
        assert (await _ask(client, child.code, period="2026")).status_code == 404
        assert (await client.get(f"/api/v1/exports/{job_id}")).status_code == 404
        assert (await client.get(f"/api/v1/exports/{job_id}/file")).status_code == 404
        assert (await client.get(f"/admin/units/{child.code}/exports")).status_code == 404


async def test_a_unit_may_have_only_a_few_exports_waiting(app, client, make_unit, make_staff):
    unit = await make_unit()
    admin = await make_staff(unit, "admin")
    assert (await login(client, admin)).status_code == 303
    for _ in range(service.MAX_PENDING):
        assert (await _ask(client, unit.code, period="2026", format="json")).status_code == 201
    assert (await _ask(client, unit.code, period="2026")).status_code == 409


async def test_figures_with_text_fail_the_job_and_the_text_goes_nowhere(
    app, client, make_unit, make_staff, db
) -> None:
    unit = await make_unit()
    admin = await make_staff(unit, "admin")
    assert (await login(client, admin)).status_code == 303

    async def leaky(db: AsyncSession, unit: Unit, period: str, public: bool) -> Mapping[str, Any]:
        body = report(unit.code, period, public=public)
        body["channels"]["wbs"]["forwarded"]["kpk"] = CANARY
        return body

    job_id = (await _ask(client, unit.code, period="2026", format="csv", public=True)).json()["id"]
    ran = await service.run_jobs(
        app.state.settings, app.state.sessionmaker, lambda: IndicatorSource(leaky, DEFINITIONS)
    )
    assert ran == 1
    failed = (await client.get(f"/api/v1/exports/{job_id}")).json()
    assert failed["state"] == "failed" and failed["file"] is None
    assert "channels.wbs.forwarded.kpk" in failed["error"]["message_en"]
    assert CANARY not in str(failed)
    page = await client.get(f"/admin/units/{unit.code}/exports")
    assert "forwarded.kpk" in page.text and CANARY not in page.text
    store = service.export_store(app.state.settings)
    assert all(CANARY.encode() not in store.path(n).read_bytes() for n in store.names())


async def _queued(db: AsyncSession, make_unit, make_staff, role: Role, **ask: Any) -> ExportJob:
    """An export queued by the service directly (as the routes do after their checks)."""
    unit = await make_unit()
    account = await make_staff(unit, role)
    staff = await db.get(Staff, account.staff.id)
    assert staff is not None
    job = await service.request_export(
        db, staff, unit, **({"fmt": "json", "period": "2026", "public": False} | ask)
    )
    await db.commit()
    return job


async def test_no_indicators_no_export(app, make_unit, make_staff, db) -> None:
    job = await _queued(db, make_unit, make_staff, Role.admin)

    def unavailable() -> IndicatorSource:
        raise IndicatorsUnavailable()

    assert await service.run_jobs(app.state.settings, app.state.sessionmaker, unavailable) == 1
    await db.refresh(job)
    assert job.state == ExportState.failed
    assert job.error_en == IndicatorsUnavailable.message_en


async def test_a_lost_lease_is_taken_over_and_the_old_worker_is_fenced_off(
    app, make_unit, make_staff, db
) -> None:
    job = await _queued(db, make_unit, make_staff, Role.admin, fmt="csv", public=True)
    sessions = app.state.sessionmaker
    start = utcnow()

    first = await service._claim(sessions, lambda: start)
    assert first == (job.id, 1)
    assert await service._claim(sessions, lambda: start) is None  # held under its lease
    later = start + service.LEASE + timedelta(seconds=1)
    assert (
        await service.run_jobs(app.state.settings, sessions, lambda: SOURCE, clock=lambda: later)
        == 1
    )
    await db.refresh(job)
    assert (job.state, job.attempts) == (ExportState.done, 2)
    # the first worker wakes up: whatever it writes now changes nothing
    async with sessions() as late:
        assert not await repository.move(late, job.id, 1, state=ExportState.failed)
        await late.commit()
    await db.refresh(job)
    assert job.state == ExportState.done


async def test_a_job_whose_worker_keeps_dying_fails(app, make_unit, make_staff, db) -> None:
    job = await _queued(db, make_unit, make_staff, Role.auditor)
    step = service.LEASE + timedelta(seconds=1)
    start = utcnow()
    for attempt in range(1, service.MAX_ATTEMPTS + 1):
        at = start + attempt * step
        claimed = await service._claim(app.state.sessionmaker, lambda at=at: at)  # type: ignore[misc]
        assert claimed == (job.id, attempt)
    end = start + (service.MAX_ATTEMPTS + 1) * step
    assert await service._claim(app.state.sessionmaker, lambda: end) is None
    await db.refresh(job)
    assert job.state == ExportState.failed and "repeatedly" in (job.error_en or "")


async def test_concurrent_workers_make_each_export_once(backend, fresh_db_url, tmp_path) -> None:
    settings = make_settings(tmp_path / "var", fresh_db_url)
    engine = make_engine(fresh_db_url)
    sessions = make_sessionmaker(engine)
    try:
        async with sessions() as db:
            unit = await create_unit(db, code="PARALEL", name="Unit Paralel", actor="test")
            staff = Staff(email="p@example.go.id", name="P", unit_id=unit.id, password_hash="x")
            db.add(staff)
            await db.flush()
            for month in range(1, service.MAX_PENDING + 1):
                await service.request_export(
                    db, staff, unit, fmt="json", period=f"2026-0{month}", public=True
                )
            await db.commit()
        counts = await asyncio.gather(
            *(service.run_jobs(settings, sessions, lambda: SOURCE, limit=10) for _ in range(3))
        )
        assert sum(counts) == service.MAX_PENDING
        async with sessions() as db:
            jobs = list(await db.scalars(select(ExportJob)))
        assert len(jobs) == service.MAX_PENDING
        assert all(j.state == ExportState.done and j.attempts == 1 for j in jobs)
    finally:
        await engine.dispose()


@pytest.mark.parametrize("period", ["2026-13", "26", "2026-Q0", "2026-Q1; DROP", ""])
async def test_bad_periods_are_refused(client, make_unit, make_staff, period: str) -> None:
    unit = await make_unit()
    admin = await make_staff(unit, "admin")
    assert (await login(client, admin)).status_code == 303
    assert (await _ask(client, unit.code, period=period)).status_code == 422
