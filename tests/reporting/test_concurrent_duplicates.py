"""The same envelope sent many times at once: one case, and a 409 for every twin (review #11).

On PostgreSQL the twins all passed the "already sent?" checks before the first one
committed, then hit `uq_reports_lookup_hash` / `uq_reports_public_id` at flush: HTTP 500.
Here an app with its own engine (a real connection per request) takes 20 copies at once.
"""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from sqlalchemy import func, select

from crypto.keys import KeyPair
from tests.conftest import Account, make_settings
from tests.reporting.helpers import enrol, mailbox_login, publish_directory, sign_in, submission
from wbs.app import create_app
from wbs.audit.models import AuditEvent
from wbs.client.flows import solve_pow
from wbs.reporting.context import Reporting
from wbs.reporting.limits import ReportingLimits
from wbs.reporting.models import CaseCounter, Message, Report, ReportWrap
from wbs.staff import service as staff_service
from wbs.staff.credentials import new_credentials
from wbs.staff.models import Role
from wbs.units.service import create_unit

TWINS = 20


async def _world(app, client: httpx.AsyncClient):
    """A unit, an approved verifikator key in a signed directory, committed for real."""
    code = f"U{uuid.uuid4().hex[:8].upper()}"
    accounts = {}
    async with app.state.sessionmaker() as db:
        unit = await create_unit(db, code=code, name="Unit Uji", parent_code=None, actor="test")
        for role in (Role.verifikator, Role.admin):
            password = f"pw-{uuid.uuid4().hex}"
            login_secret, kdf = new_credentials(password, for_tests=True)
            staff, _seed = await staff_service.create_staff(
                db,
                app.state.security,
                email=f"{uuid.uuid4().hex[:10]}@example.go.id",
                name="Uji",
                unit_code=code,
                roles=[role],
                login_secret=login_secret,
                kdf_params=kdf,
                with_totp=False,
                actor="test",
            )
            accounts[role] = Account(staff, password)
        await db.commit()
    made, _me = await enrol(client, accounts[Role.verifikator])
    client.cookies.clear()
    csrf = await sign_in(client, accounts[Role.admin])
    await publish_directory(client, unit, csrf, KeyPair.generate().public)
    client.cookies.clear()
    return unit, made.key_pair


def _app(tmp_path, url: str):
    """An app with its own engine (a connection per request), work free, buckets lifted."""
    app = create_app(make_settings(tmp_path / "var", url))
    app.state.reporting = Reporting.build(
        app.state.settings,
        app.state.security.master,
        ReportingLimits(pow_difficulty=0, submit_rate_per_minute=10_000),
    )
    return app


def _client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_the_same_envelope_twenty_times_at_once(tmp_path, fresh_db_url):
    app = _app(tmp_path, fresh_db_url)
    try:
        async with _client(app) as c:
            unit, officer = await _world(app, c)
            body, _receipt, _sealed = await submission(c, unit, [officer])
            responses = await asyncio.gather(
                *(c.post("/api/v1/reports", json=body) for _ in range(TWINS))
            )
            statuses = sorted(r.status_code for r in responses)
            assert statuses == [201] + [409] * (TWINS - 1), {r.text[:200] for r in responses}
            for refused in (r for r in responses if r.status_code == 409):
                # spent work, or the report id / receipt stored by the twin that won
                assert refused.json()["error"] in {
                    "conflict",
                    "report_already_sent",
                    "receipt_in_use",
                }
                assert refused.json()["message_id"] and refused.json()["message_en"]

            # A reporter's message sent twice at once: one stored, one 409.
            login = await mailbox_login(c, body["lookup"])
            assert login.status_code == 200, login.text
            token = login.json()["token"]
            message = {"id": str(uuid.uuid4()), "box": body["envelope"]["content"]}
            sent = await asyncio.gather(
                *(
                    c.post(
                        "/api/v1/mailbox/messages",
                        json=message,
                        headers={"authorization": f"Bearer {token}"},
                    )
                    for _ in range(5)
                )
            )
            assert sorted(r.status_code for r in sent) == [201] + [409] * 4, [
                r.text[:200] for r in sent
            ]

        async with app.state.sessionmaker() as db:
            assert await db.scalar(select(func.count()).select_from(Report)) == 1
            assert await db.scalar(select(func.count()).select_from(ReportWrap)) == 2
            assert await db.scalar(select(func.count()).select_from(Message)) == 1
    finally:
        await app.state.engine.dispose()


async def test_twins_with_their_own_proofs_meet_the_unique_constraints(tmp_path, fresh_db_url):
    """Each copy solved its own challenge, so no spent-work row stops the twins early: all
    pass the "already sent?" checks and race to insert the report. The constraint decides:
    one 201, nineteen 409s (never a 500), one case, one counter step, one audit entry."""
    app = _app(tmp_path, fresh_db_url)
    try:
        async with _client(app) as c:
            unit, officer = await _world(app, c)
            body, _receipt, _sealed = await submission(c, unit, [officer])
            report_id = body["envelope"]["report_id"]
            copies = []
            for _ in range(TWINS):
                challenge = (await c.get("/api/v1/pow")).json()
                copies.append({**body, "pow": solve_pow(challenge, report_id)})
            responses = await asyncio.gather(
                *(c.post("/api/v1/reports", json=copy) for copy in copies)
            )
            statuses = sorted(r.status_code for r in responses)
            assert statuses == [201] + [409] * (TWINS - 1), {r.text[:200] for r in responses}
            refusals = {r.json()["message_en"] for r in responses if r.status_code == 409}
            assert refusals <= {"This report was already sent.", "This receipt is already in use."}

        async with app.state.sessionmaker() as db:
            assert await db.scalar(select(func.count()).select_from(Report)) == 1
            assert await db.scalar(select(func.count()).select_from(ReportWrap)) == 2
            assert await db.scalar(select(CaseCounter.last)) == 1  # the losers' steps undone
            submitted = select(func.count()).where(AuditEvent.action == "report.submit")
            assert await db.scalar(submitted) == 1
    finally:
        await app.state.engine.dispose()


async def test_unique_violation_names_the_constraint_on_both_backends(db):
    from sqlalchemy import insert
    from sqlalchemy.exc import IntegrityError

    from wbs.core.db import unique_violation
    from wbs.units.models import Channel, Unit

    unit = await create_unit(db, code="UQTEST", name="Unit", parent_code=None, actor="test")
    await db.flush()
    for statement, name in (
        (insert(Unit).values(code="UQTEST", name="Lagi"), "uq_units_code"),
        (
            insert(Channel).values(unit_id=unit.id, case_type="wbs", name="x"),
            "uq_channels_unit_id_case_type",
        ),
        (insert(Channel).values(unit_id=unit.id, case_type="wbs"), None),  # NOT NULL
    ):
        with pytest.raises(IntegrityError) as hit:
            async with db.begin_nested():
                await db.execute(statement)
        assert unique_violation(hit.value) == name
