"""Security review #1, #6 and #10 (keys): a key id belongs to one account; departed and
dropped officers; the directory publishes no e-mail; case reads and downloads are audited;
an excluded officer who rotated keys stays excluded."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from crypto import directory as lib_directory
from crypto import staffkeys
from crypto.keys import KeyPair
from tests.conftest import CSRF_RE, login
from tests.reporting.helpers import enrol, sign_in, submission
from wbs.audit.models import AuditEvent
from wbs.reporting.context import Reporting
from wbs.reporting.limits import ReportingLimits
from wbs.reporting.models import Report
from wbs.staff import service as staff_service
from wbs.staff.credentials import login_secret_for
from wbs.staff.models import Staff


class UnitSigner:
    """The admin's device: one unit directory key, used for every version."""

    def __init__(self) -> None:
        self.key = lib_directory.new_signing_key()
        self.admin_public = KeyPair.generate().public

    async def publish(self, client, unit, csrf: str, *, expect: int = 200) -> dict[str, Any]:
        plan = (await client.get(f"/api/v1/admin/units/{unit.code}/directory")).json()
        by_id = {s["key_id"]: s for s in plan["staff"]}
        document = {
            "v": 1,
            "unit": unit.code,
            "version": plan["next_version"],
            "channels": {
                c: [
                    {
                        "key_id": k,
                        "public_key": by_id[k]["public_key"],
                        "fingerprint": by_id[k]["fingerprint"],
                        "name": by_id[k].get("display_name", by_id[k]["name"]),
                    }
                    for k in kids
                ]
                for c, kids in plan["recipients"].items()
            },
        }
        return await self.put(client, unit, csrf, document, expect=expect)

    async def put(self, client, unit, csrf, document, *, expect: int = 200) -> dict[str, Any]:
        signed = lib_directory.sign_directory(self.key, document)
        wrapped = lib_directory.wrap_signing_key(self.key, self.admin_public)
        out = await client.put(
            f"/api/v1/admin/units/{unit.code}/directory",
            json={**signed, "wrapped_private_key": wrapped},
            headers={"x-csrf-token": csrf},
        )
        assert out.status_code == expect, out.text
        return dict(out.json())


@pytest.fixture
def reporting_ctx(app, settings):
    app.state.reporting = Reporting.build(
        settings, app.state.security.master, ReportingLimits(pow_difficulty=2)
    )


async def _submit(client, unit, recipients, **kwargs) -> str:
    body, _receipt, _sealed = await submission(client, unit, recipients, **kwargs)
    out = await client.post("/api/v1/reports", json=body)
    assert out.status_code == 201, out.text
    return str(out.json()["report_id"])


async def _events(db, action: str) -> list[AuditEvent]:
    return list(await db.scalars(select(AuditEvent).where(AuditEvent.action == action)))


# ------------------------------------------------------------------ #1 colleague-key hijack


async def test_colleague_key_cannot_be_enrolled_and_new_reports_reach_the_holder(
    client, db, reporting_ctx, make_unit, make_staff
):
    """Officer B (auditor) enrols officer A's public key (with wraps that only claim it):
    refused with 409; after the routine signature new reports reach A, not B."""
    unit = await make_unit()
    a = await make_staff(unit, "verifikator")
    b = await make_staff(unit, "auditor", "verifikator")
    admin = await make_staff(unit, "admin")
    made, _me = await enrol(client, a)
    client.cookies.clear()

    csrf_b = await sign_in(client, b)
    hijack = await client.put(
        "/api/v1/staff/me/key",
        json={
            "public_key": made.public,
            "wrapped_private_key": made.wrapped.dumps(),
            "recovery_wrapped_private_key": made.recovery_wrapped.dumps(),
            "login_secret": login_secret_for(b.password, b.staff.kdf_params),
        },
        headers={"x-csrf-token": csrf_b},
    )
    assert hijack.status_code == 409, hijack.text
    assert hijack.json()["error"] == "key_taken"
    assert hijack.json()["message_id"] and hijack.json()["message_en"]
    client.cookies.clear()

    csrf = await sign_in(client, admin)
    signer = UnitSigner()
    out = await signer.publish(client, unit, csrf)
    assert out["approved"] == [made.key_pair.public.fingerprint]
    client.cookies.clear()

    report_id = await _submit(client, unit, [made.key_pair])
    await sign_in(client, a)
    assert (await client.get(f"/api/v1/cases/{report_id}")).status_code == 200
    client.cookies.clear()
    csrf_b = await sign_in(client, b)
    assert (await client.get(f"/api/v1/cases/{report_id}")).status_code == 404
    moved = await client.post(
        f"/api/v1/cases/{report_id}/actions",
        json={"action": "konfirmasi_penerimaan", "expected_state": "diterima"},
        headers={"x-csrf-token": csrf_b},
    )
    assert moved.status_code == 404


async def test_signing_refuses_a_key_presented_by_two_accounts(client, db, make_unit, make_staff):
    """Legacy data (enrolled before key ids were unique): the proposal flags the repeated key
    and the server refuses to sign a directory listing it."""
    unit = await make_unit()
    a = await make_staff(unit, "verifikator")
    b = await make_staff(unit, "verifikator")
    admin = await make_staff(unit, "admin")
    made, _me = await enrol(client, a)
    client.cookies.clear()
    await db.execute(update(Staff).where(Staff.id == b.staff.id).values(public_key=made.public))
    await db.commit()

    csrf = await sign_in(client, admin)
    plan = (await client.get(f"/api/v1/admin/units/{unit.code}/directory")).json()
    flags = {s["id"]: s.get("repeated") for s in plan["staff"]}
    assert flags == {a.staff.id: True, b.staff.id: True}
    assert plan["recipients"]["wbs"] == [made.key_pair.public.key_id_hex] * 2
    out = await UnitSigner().publish(client, unit, csrf, expect=422)
    assert out["error"] == "directory_repeated_key"
    row = await db.get(Staff, a.staff.id, populate_existing=True)
    assert row is not None and row.key_approved_at is None


# ------------------------------------------------------------------ #10 no e-mail published


async def test_directory_publishes_display_names_not_e_mails(
    client, db, reporting_ctx, make_unit, make_staff
):
    unit = await make_unit()
    officer = await make_staff(unit, "verifikator")  # name "Uji"
    nameless = await make_staff(unit, "verifikator")
    await db.execute(
        update(Staff).where(Staff.id == nameless.staff.id).values(name=nameless.staff.email)
    )
    await db.commit()
    admin = await make_staff(unit, "admin")
    await enrol(client, officer)
    client.cookies.clear()
    made, _me = await enrol(client, nameless)
    client.cookies.clear()
    csrf = await sign_in(client, admin)
    signer = UnitSigner()
    plan = (await client.get(f"/api/v1/admin/units/{unit.code}/directory")).json()
    names = {s["id"]: s["display_name"] for s in plan["staff"]}
    assert names[officer.staff.id] == "Uji"
    assert names[nameless.staff.id] == f"verifikator {made.key_pair.public.key_id_hex[:8]}"

    # A document that still carries e-mail addresses is refused.
    by_id = {s["key_id"]: s for s in plan["staff"]}
    with_email = {
        "v": 1,
        "unit": unit.code,
        "version": 1,
        "channels": {
            c: [
                {
                    "key_id": k,
                    "public_key": by_id[k]["public_key"],
                    "name": by_id[k]["display_name"],
                    "email": by_id[k]["email"],
                }
                for k in kids
            ]
            for c, kids in plan["recipients"].items()
        },
    }
    refused = await signer.put(client, unit, csrf, with_email, expect=422)
    assert refused["error"] == "directory_invalid"

    await signer.publish(client, unit, csrf)
    client.cookies.clear()
    served = (await client.get(f"/api/v1/units/{unit.code}/directory")).json()
    text = json.dumps(served)
    assert "@" not in served["document"]
    assert officer.email not in text and nameless.email not in text
    verified = lib_directory.verify_signed_directory(served, unit=unit.code)
    assert sorted(e.name for e in verified.channels["wbs"]) == sorted(names.values())


# ------------------------------------------------------------------ #6 departed officers


async def test_deactivated_officer_is_signed_out_and_cannot_sign_in(
    app, client, db, make_unit, make_staff
):
    unit = await make_unit()
    officer = await make_staff(unit, "verifikator")
    admin = await make_staff(unit, "admin")
    await enrol(client, officer)  # the officer's session lives in `client`
    assert (await client.get("/api/v1/staff/me")).status_code == 200

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
        assert (await login(other, admin)).status_code == 303
        page = await other.get("/admin")
        assert f"/admin/staff/{officer.staff.id}/deactivate" in page.text
        token = CSRF_RE.search(page.text)
        assert token
        out = await other.post(
            f"/admin/staff/{officer.staff.id}/deactivate",
            data={"csrf_token": token.group(1)},
        )
        assert out.status_code == 303, out.text
        # An admin cannot lock themselves out.
        self_out = await other.post(
            f"/admin/staff/{admin.staff.id}/deactivate", data={"csrf_token": token.group(1)}
        )
        assert self_out.status_code == 422

    assert (await client.get("/api/v1/staff/me")).status_code == 401  # session ended
    client.cookies.clear()
    again = await client.post(
        "/api/v1/staff/session",
        json={"email": officer.email, "login_secret": officer.login_secret},
    )
    assert again.status_code == 401
    assert (await login(client, officer)).status_code == 401

    row = await db.get(Staff, officer.staff.id, populate_existing=True)
    assert row is not None and row.active is False and row.key_approved_at is None
    [event] = await _events(db, "staff.deactivate")
    assert event.actor == admin.email and event.object_id == str(officer.staff.id)
    assert event.details["sessions_ended"] == 1


async def test_deactivate_service_ends_sessions_and_clears_approval(
    client, db, security, make_unit, make_staff
):
    """What `wbs staff deactivate EMAIL` runs."""
    unit = await make_unit()
    officer = await make_staff(unit, "verifikator")
    await db.execute(
        update(Staff)
        .where(Staff.id == officer.staff.id)
        .values(key_approved_at=staff_service.utcnow())
    )
    await db.commit()
    await sign_in(client, officer)
    ended = await staff_service.deactivate_by_email(db, officer.email.upper())
    await db.commit()
    assert ended == 1
    assert (await client.get("/api/v1/staff/me")).status_code == 401
    with pytest.raises(staff_service.Conflict):
        await staff_service.deactivate_by_email(db, officer.email)
    await db.rollback()


async def test_officer_dropped_from_the_directory_can_no_longer_change_the_case(
    client, db, reporting_ctx, make_unit, make_staff
):
    unit = await make_unit()
    stays = await make_staff(unit, "verifikator")
    dropped = await make_staff(unit, "verifikator")
    admin = await make_staff(unit, "admin")
    k_stays, _ = await enrol(client, stays)
    client.cookies.clear()
    k_dropped, _ = await enrol(client, dropped)
    client.cookies.clear()
    csrf = await sign_in(client, admin)
    signer = UnitSigner()
    await signer.publish(client, unit, csrf)
    client.cookies.clear()
    report_id = await _submit(client, unit, [k_stays.key_pair, k_dropped.key_pair])

    csrf = await sign_in(client, admin)
    for channel in ("wbs", "pengaduan"):  # every channel the verifikator role handles
        override = await client.put(
            f"/api/v1/admin/units/{unit.code}/channels/{channel}/recipients",
            json={"staff_ids": [stays.staff.id]},
            headers={"x-csrf-token": csrf},
        )
        assert override.status_code == 200, override.text
    await signer.publish(client, unit, csrf)  # version 2 without the dropped officer
    client.cookies.clear()

    csrf = await sign_in(client, dropped)
    assert (await client.get(f"/api/v1/cases/{report_id}")).status_code == 200  # past wrap
    moved = await client.post(
        f"/api/v1/cases/{report_id}/actions",
        json={"action": "konfirmasi_penerimaan", "expected_state": "diterima"},
        headers={"x-csrf-token": csrf},
    )
    assert moved.status_code == 403, moved.text
    assert moved.json()["error"] == "key_not_in_directory"
    assert moved.json()["message_id"] and moved.json()["message_en"]
    note = await client.post(
        f"/api/v1/cases/{report_id}/notes",
        json={"id": str(uuid.uuid4()), "box": "AAAA"},
        headers={"x-csrf-token": csrf},
    )
    assert note.status_code == 403
    client.cookies.clear()

    csrf = await sign_in(client, stays)
    ok = await client.post(
        f"/api/v1/cases/{report_id}/actions",
        json={"action": "konfirmasi_penerimaan", "expected_state": "diterima"},
        headers={"x-csrf-token": csrf},
    )
    assert ok.status_code == 200, ok.text


# ------------------------------------------------------------------ #10 audit of reads


async def test_case_reads_and_attachment_downloads_are_audited(
    client, db, reporting_ctx, make_unit, make_staff
):
    unit = await make_unit()
    officer = await make_staff(unit, "verifikator")
    admin = await make_staff(unit, "admin")
    made, _ = await enrol(client, officer)
    client.cookies.clear()
    csrf = await sign_in(client, admin)
    await UnitSigner().publish(client, unit, csrf)
    client.cookies.clear()

    body, _receipt, _sealed = await submission(
        client, unit, [made.key_pair], content={"apa": "rahasia-kanari"}
    )
    aid = str(uuid.uuid4())
    body["attachments"] = [{"id": aid, "metadata": "AAAAAAAAAAAAAAAAAAAAAAAA", "size": 5}]
    out = await client.post(
        "/api/v1/reports",
        data={"submission": json.dumps(body)},
        files=[("attachment", (aid, b"ciphr", "application/octet-stream"))],
    )
    assert out.status_code == 201, out.text
    report_id, number = out.json()["report_id"], out.json()["case_number"]

    await sign_in(client, officer)
    assert (await client.get(f"/api/v1/cases/{report_id}")).status_code == 200
    got = await client.get(f"/api/v1/cases/{report_id}/attachments/{aid}")
    assert got.status_code == 200 and got.content == b"ciphr"

    [read] = await _events(db, "case.read")
    [download] = await _events(db, "case.attachment_download")
    for event in (read, download):
        assert event.actor_id == officer.staff.id and event.actor == officer.email
        assert event.object_type == "report" and event.object_id == number
        dumped = json.dumps(event.details)
        assert "rahasia" not in dumped and "ciphr" not in dumped
        assert body["lookup"] not in dumped
    assert read.details == {} and download.details == {"attachment_id": aid}


# ------------------------------------------------------------------ #10 exclusion by account


async def test_excluded_officer_with_a_pending_new_key_stays_excluded(
    client, db, reporting_ctx, make_unit, make_staff
):
    unit = await make_unit()
    handler = await make_staff(unit, "verifikator")
    excluded = await make_staff(unit, "verifikator")
    admin = await make_staff(unit, "admin")
    k_handler, _ = await enrol(client, handler)
    client.cookies.clear()
    k_old, _ = await enrol(client, excluded)
    client.cookies.clear()
    csrf = await sign_in(client, admin)
    await UnitSigner().publish(client, unit, csrf)
    client.cookies.clear()

    # The excluded officer rotates to a new key (pending until the next signature).
    csrf = await sign_in(client, excluded)
    new = staffkeys.create_staff_key(
        excluded.password, kdf=excluded.staff.kdf_params, weak_for_tests=True
    )
    rotated = await client.put(
        "/api/v1/staff/me/key",
        json={
            "public_key": new.public,
            "wrapped_private_key": new.wrapped.dumps(),
            "recovery_wrapped_private_key": new.recovery_wrapped.dumps(),
            "login_secret": login_secret_for(excluded.password, excluded.staff.kdf_params),
        },
        headers={"x-csrf-token": csrf},
    )
    assert rotated.status_code == 200 and rotated.json()["key_status"] == "pending"
    client.cookies.clear()

    report_id = await _submit(
        client, unit, [k_handler.key_pair], excluded=[k_old.key_pair.public.key_id_hex]
    )
    report = await db.scalar(select(Report).where(Report.public_id == report_id))
    assert report is not None
    assert report.excluded_key_ids == [k_old.key_pair.public.key_id_hex]
    assert report.excluded_staff_ids == [excluded.staff.id]
