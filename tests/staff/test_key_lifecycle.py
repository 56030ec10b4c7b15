"""Officer keys after enrolment: the recovery wrap is kept with the account, a passphrase
change re-wraps the same key pair (reports stay readable), a wrong current passphrase is
refused and counted, weak derivation parameters are refused, and an admin's temporary
passphrase plus the recovery key bring the key back without touching any report."""

from __future__ import annotations

import json

import httpx
import pytest
from sqlalchemy import select

from crypto import envelope as lib_envelope
from crypto import staffkeys
from crypto.keys import KeyPair
from tests.reporting.helpers import enrol, publish_directory, sign_in, submission
from wbs.audit.models import AuditEvent
from wbs.reporting.context import Reporting
from wbs.reporting.limits import ReportingLimits
from wbs.staff import service as staff_service
from wbs.staff.credentials import login_secret_for, new_credentials

NEW_PASS = "kata sandi baru yang panjang"


async def _enrol(client, account) -> staffkeys.StaffKeyEnrolment:
    made, me = await enrol(client, account)
    assert me["recovery_wrapped_private_key"] == made.recovery_wrapped.dumps()
    return made


@pytest.fixture
async def world(app, client, settings, make_unit, make_staff):
    """A unit whose verifikator key (with its recovery wrap) is in a signed directory."""
    app.state.reporting = Reporting.build(
        settings, app.state.security.master, ReportingLimits(pow_difficulty=2)
    )
    unit = await make_unit()
    officer = await make_staff(unit, "verifikator")
    admin = await make_staff(unit, "admin")
    made = await _enrol(client, officer)
    client.cookies.clear()
    csrf = await sign_in(client, admin)
    await publish_directory(client, unit, csrf, KeyPair.generate().public)
    client.cookies.clear()
    return {"unit": unit, "officer": officer, "made": made}


def _change_body(account, current: str, new: str, wrapped: str | None, **kdf_args):
    params = staffkeys.KdfParams.pbkdf2(**kdf_args)
    secret, kdf = staffkeys.new_credentials(new, params, weak_for_tests=True)
    rewrapped = None
    if wrapped is not None:
        rewrapped = staffkeys.rewrap_private_key(
            wrapped, current, new, params, weak_for_tests=True
        ).dumps()
    return {
        "current_login_secret": login_secret_for(current, account.staff.kdf_params),
        "new_login_secret": secret,
        "new_kdf": kdf,
        "wrapped_private_key": rewrapped,
    }


async def _session_ok(client, account, secret: str) -> int:
    out = await client.post(
        "/api/v1/staff/session", json={"email": account.email, "login_secret": secret}
    )
    return out.status_code


async def test_enrolment_keeps_the_recovery_wrap(client, make_unit, make_staff):
    unit = await make_unit()
    account = await make_staff(unit, "verifikator")
    made = await _enrol(client, account)
    me = (await client.get("/api/v1/staff/me")).json()
    assert me["recovery_wrapped_private_key"] == made.recovery_wrapped.dumps()
    assert me["passphrase_changed_at"] is None  # the admin typed it at creation
    recovered = staffkeys.unwrap_with_recovery_key(
        me["recovery_wrapped_private_key"], made.recovery_key
    )
    assert recovered.public.text == made.public
    csrf = me["csrf_token"]

    # A same-key re-wrap may leave the recovery wrap out: the stored one stays.
    rewrapped = staffkeys.wrap_private_key(
        made.key_pair, account.password, account.staff.kdf_params, weak_for_tests=True
    )
    same = await client.put(
        "/api/v1/staff/me/key",
        json={
            "login_secret": account.login_secret,
            "public_key": made.public,
            "wrapped_private_key": rewrapped.dumps(),
        },
        headers={"x-csrf-token": csrf},
    )
    assert same.status_code == 200, same.text
    assert same.json()["recovery_wrapped_private_key"] == made.recovery_wrapped.dumps()
    assert same.json()["wrapped_private_key"] == rewrapped.dumps()

    other = staffkeys.create_staff_key(
        account.password, kdf=account.staff.kdf_params, weak_for_tests=True
    )
    refused = {
        "new key, no recovery wrap": {
            "public_key": other.public,
            "wrapped_private_key": other.wrapped.dumps(),
        },
        "recovery wrap of another key": {
            "public_key": other.public,
            "wrapped_private_key": other.wrapped.dumps(),
            "recovery_wrapped_private_key": made.recovery_wrapped.dumps(),
        },
        "passphrase wrap as recovery wrap": {
            "public_key": other.public,
            "wrapped_private_key": other.wrapped.dumps(),
            "recovery_wrapped_private_key": other.wrapped.dumps(),
        },
        "wrap of another key": {
            "public_key": other.public,
            "wrapped_private_key": made.wrapped.dumps(),
            "recovery_wrapped_private_key": other.recovery_wrapped.dumps(),
        },
    }
    for case, body in refused.items():
        out = await client.put(
            "/api/v1/staff/me/key",
            json={"login_secret": account.login_secret, **body},
            headers={"x-csrf-token": csrf},
        )
        assert out.status_code == 422, case
        assert out.json()["message_id"] and out.json()["message_en"], case
    me = (await client.get("/api/v1/staff/me")).json()
    assert me["public_key"] == made.public  # nothing of the refused keys was stored


async def test_wrong_current_passphrase_is_refused_and_counted(client, db, make_unit, make_staff):
    unit = await make_unit()
    account = await make_staff(unit, "verifikator")
    made = await _enrol(client, account)
    csrf = (await client.get("/api/v1/staff/me")).json()["csrf_token"]
    body = _change_body(
        account,
        account.password,
        NEW_PASS,
        made.wrapped.dumps(),
        iterations=1_000,
        weak_for_tests=True,
    )
    no_csrf = await client.put("/api/v1/staff/me/passphrase", json=body)
    assert no_csrf.status_code == 403
    body["current_login_secret"] = login_secret_for("bukan kata sandinya", account.staff.kdf_params)
    for _ in range(5):
        out = await client.put(
            "/api/v1/staff/me/passphrase", json=body, headers={"x-csrf-token": csrf}
        )
        assert out.status_code == 401 and out.json()["error"] == "current_passphrase_wrong"
        assert out.json()["message_id"] and out.json()["message_en"]
    # The failures count like failed sign-ins: now even the right one waits.
    body["current_login_secret"] = account.login_secret
    locked = await client.put(
        "/api/v1/staff/me/passphrase", json=body, headers={"x-csrf-token": csrf}
    )
    assert locked.status_code == 429
    kdf = dict(account.staff.kdf_params)
    staff = account.staff
    await db.refresh(staff)
    assert staff.kdf_params == kdf
    assert staff.wrapped_private_key == made.wrapped.dumps()
    assert staff.passphrase_changed_at is None


async def test_passphrase_change_keeps_the_key_and_ends_other_sessions(app, client, db, world):
    officer, made = world["officer"], world["made"]
    body, _receipt, _sealed = await submission(client, world["unit"], [made.key_pair])
    out = await client.post("/api/v1/reports", json=body)
    assert out.status_code == 201, out.text
    report_id = out.json()["report_id"]
    old_secret = officer.login_secret

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
        assert await _session_ok(other, officer, old_secret) == 200
        csrf = await sign_in(client, officer)
        change = _change_body(officer, officer.password, NEW_PASS, made.wrapped.dumps())
        changed = await client.put(
            "/api/v1/staff/me/passphrase", json=change, headers={"x-csrf-token": csrf}
        )
        assert changed.status_code == 200, changed.text
        me = changed.json()
        assert me["kdf"] == change["new_kdf"] and me["passphrase_changed_at"]
        assert me["public_key"] == made.public and me["key_status"] == "approved"
        assert me["recovery_wrapped_private_key"] == made.recovery_wrapped.dumps()
        # The other session ended; this one goes on.
        assert (await other.get("/api/v1/staff/me")).status_code == 401
        assert (await client.get("/api/v1/staff/me")).status_code == 200

        client.cookies.clear()
        assert await _session_ok(client, officer, old_secret) == 401
        assert await _session_ok(client, officer, change["new_login_secret"]) == 200
        me = (await client.get("/api/v1/staff/me")).json()
        pair = staffkeys.unwrap_private_key(me["wrapped_private_key"], NEW_PASS)
        with pytest.raises(staffkeys.DecryptError):
            staffkeys.unwrap_private_key(
                me["wrapped_private_key"], officer.password, weak_for_tests=True
            )
        case = (await client.get(f"/api/v1/cases/{report_id}")).json()
        opened = lib_envelope.open_report(case["envelope"], pair)
        assert opened.content == {"apa": "rahasia"}

    events = list(
        await db.scalars(select(AuditEvent).where(AuditEvent.action == "staff.passphrase_change"))
    )
    assert [e.object_id for e in events] == [str(officer.staff.id)]
    assert events[0].details["sessions_ended"] == 2  # the enrolment one and `other`
    text = json.dumps(events[0].details)
    for secret in (change["new_login_secret"], old_secret, NEW_PASS, change["new_kdf"]["salt"]):
        assert secret not in text


async def test_passphrase_change_checks_what_the_device_sends(
    client, make_unit, make_staff, monkeypatch
):
    unit = await make_unit()
    account = await make_staff(unit, "verifikator")
    made = await _enrol(client, account)
    csrf = (await client.get("/api/v1/staff/me")).json()["csrf_token"]
    strong = _change_body(account, account.password, NEW_PASS, made.wrapped.dumps())
    weak = _change_body(
        account,
        account.password,
        NEW_PASS,
        made.wrapped.dumps(),
        iterations=1_000,
        weak_for_tests=True,
    )
    foreign = staffkeys.create_staff_key(NEW_PASS, kdf=strong["new_kdf"])
    cases = {
        "wrap under other parameters": {
            **strong,
            "wrapped_private_key": weak["wrapped_private_key"],
        },
        "wrap of another key": {**strong, "wrapped_private_key": foreign.wrapped.dumps()},
        "recovery wrap instead": {**strong, "wrapped_private_key": made.recovery_wrapped.dumps()},
        "no wrap for an enrolled key": {**strong, "wrapped_private_key": None},
        "unknown profile": {**strong, "new_kdf": {**strong["new_kdf"], "name": "md5"}},
    }
    for case, body in cases.items():
        out = await client.put(
            "/api/v1/staff/me/passphrase", json=body, headers={"x-csrf-token": csrf}
        )
        assert out.status_code == 422, (case, out.text)
    # Without the test escape, parameters below the floor are refused.
    monkeypatch.delenv("WBS_CRYPTO_ALLOW_WEAK_KDF")
    out = await client.put("/api/v1/staff/me/passphrase", json=weak, headers={"x-csrf-token": csrf})
    assert out.status_code == 422 and "weak" in out.json()["message_en"]
    me = (await client.get("/api/v1/staff/me")).json()
    assert me["wrapped_private_key"] == made.wrapped.dumps() and me["passphrase_changed_at"] is None


async def test_account_without_a_key_changes_its_passphrase(client, make_unit, make_staff):
    unit = await make_unit()
    account = await make_staff(unit, "verifikator")
    csrf = await sign_in(client, account)
    body = _change_body(account, account.password, NEW_PASS, None)
    out = await client.put("/api/v1/staff/me/passphrase", json=body, headers={"x-csrf-token": csrf})
    assert out.status_code == 200, out.text
    assert out.json()["key_status"] == "none" and out.json()["passphrase_changed_at"]
    client.cookies.clear()
    assert await _session_ok(client, account, body["new_login_secret"]) == 200


async def test_set_password_then_recovery_keeps_the_key(app, client, db, security, world):
    officer, made = world["officer"], world["made"]
    body, _receipt, _sealed = await submission(client, world["unit"], [made.key_pair])
    out = await client.post("/api/v1/reports", json=body)
    assert out.status_code == 201, out.text
    report_id = out.json()["report_id"]
    await sign_in(client, officer)

    temporary = "sementara dari admin 123"
    secret, kdf = new_credentials(temporary, for_tests=True)
    staff, ended = await staff_service.set_password(
        db, security, email=officer.email, login_secret=secret, kdf_params=kdf, actor="test"
    )
    await db.commit()
    assert ended == 2 and staff.public_key == made.public  # enrolment and this one
    assert staff.recovery_wrapped_private_key == made.recovery_wrapped.dumps()
    assert (await client.get("/api/v1/staff/me")).status_code == 401  # signed out

    client.cookies.clear()
    assert await _session_ok(client, officer, officer.login_secret) == 401
    assert await _session_ok(client, officer, secret) == 200
    me = (await client.get("/api/v1/staff/me")).json()
    assert me["passphrase_changed_at"] is None
    # The passphrase wrap no longer matches the sign-in; the recovery wrap opens the key.
    assert json.loads(me["wrapped_private_key"])["kdf"] != me["kdf"]
    pair = staffkeys.unwrap_with_recovery_key(me["recovery_wrapped_private_key"], made.recovery_key)
    params = staffkeys.KdfParams.pbkdf2()
    new_secret, new_kdf = staffkeys.new_credentials(NEW_PASS, params)
    recovered = await client.put(
        "/api/v1/staff/me/passphrase",
        json={
            "current_login_secret": secret,
            "new_login_secret": new_secret,
            "new_kdf": new_kdf,
            "wrapped_private_key": staffkeys.wrap_private_key(pair, NEW_PASS, params).dumps(),
        },
        headers={"x-csrf-token": me["csrf_token"]},
    )
    assert recovered.status_code == 200, recovered.text
    assert recovered.json()["public_key"] == made.public
    assert recovered.json()["key_status"] == "approved"  # same key: no new approval
    client.cookies.clear()
    assert await _session_ok(client, officer, secret) == 401
    assert await _session_ok(client, officer, new_secret) == 200
    me = (await client.get("/api/v1/staff/me")).json()
    opened_pair = staffkeys.unwrap_private_key(me["wrapped_private_key"], NEW_PASS)
    case = (await client.get(f"/api/v1/cases/{report_id}")).json()
    assert lib_envelope.open_report(case["envelope"], opened_pair).content == {"apa": "rahasia"}
    actions = [
        e.action
        for e in await db.scalars(
            select(AuditEvent)
            .where(AuditEvent.object_type == "staff", AuditEvent.object_id == str(staff.id))
            .order_by(AuditEvent.id)
        )
    ]
    assert "staff.password_set" in actions
    assert actions.index("staff.password_set") < actions.index("staff.passphrase_change")
