"""Submission rules through the API on both databases: exact recipients, exclusion, versions,
proof-of-work, limits, duplicates; the receipt mailbox; officer access, colleagues, status."""

from __future__ import annotations

import json
import uuid

import pytest

from crypto import envelope as lib_envelope
from crypto import proof as lib_proof
from crypto import receipt as lib_receipt
from crypto.encoding import b64u_decode, b64u_encode
from crypto.keys import KeyPair
from tests.reporting.helpers import enrol, mailbox_login, publish_directory, sign_in, submission
from wbs.reporting.context import Reporting
from wbs.reporting.limits import ReportingLimits


async def _enrol(client, account) -> KeyPair:
    made, me = await enrol(client, account)
    assert me["key_status"] == "pending"
    return made.key_pair


@pytest.fixture
async def world(app, client, settings, make_unit, make_staff):
    """A unit with two approved verifikator keys in a signed directory (version 1)."""
    app.state.reporting = Reporting.build(
        settings, app.state.security.master, ReportingLimits(pow_difficulty=2)
    )
    unit = await make_unit()
    v1 = await make_staff(unit, "verifikator")
    v2 = await make_staff(unit, "verifikator")
    admin = await make_staff(unit, "admin")
    keys = {"v1": await _enrol(client, v1), "v2": await _enrol(client, v2)}
    csrf = await sign_in(client, admin)
    published = await publish_directory(client, unit, csrf, KeyPair.generate().public)
    assert len(published["approved"]) == 2
    client.cookies.clear()
    return {"unit": unit, "v1": v1, "v2": v2, "admin": admin, "keys": keys}


async def test_submission_and_its_proof(client, world):
    k = world["keys"]
    body, _receipt, _sealed = await submission(client, world["unit"], [k["v1"], k["v2"]])
    out = await client.post("/api/v1/reports", json=body)
    assert out.status_code == 201, out.text
    assert out.json()["case_number"].startswith("WBS-") and "set-cookie" not in out.headers
    assert out.headers["cache-control"] == "no-store"
    lib_proof.verify_proof(out.json()["proof"], envelope=body["envelope"])
    again = await client.post("/api/v1/reports", json=body)
    assert again.status_code in (409, 422)  # same report id (the PoW is bound to it too)


@pytest.mark.parametrize("case", ["missing", "extra", "bad_exclusion", "stale", "pow"])
async def test_refused_submissions(client, world, case):
    k = world["keys"]
    recipients, excluded, version = [k["v1"], k["v2"]], [], 1
    if case == "missing":
        recipients = [k["v1"]]  # v2 silently left out, not declared as excluded
    elif case == "extra":
        recipients = [k["v1"], k["v2"], KeyPair.generate()]
    elif case == "bad_exclusion":
        excluded = [KeyPair.generate().public.key_id_hex]
    elif case == "stale":
        version = 0
    body, _r, _s = await submission(
        client, world["unit"], recipients, excluded=excluded, version=version
    )
    if case == "pow":
        body["pow"]["nonce"] = str(int(body["pow"]["nonce"]) + 1)
        challenge = body["pow"]["challenge"]  # change its MAC's last character, always
        body["pow"]["challenge"] = challenge[:-1] + ("1" if challenge.endswith("0") else "0")
    out = await client.post("/api/v1/reports", json=body)
    expected = {"missing": 422, "extra": 422, "bad_exclusion": 422, "stale": 409, "pow": 422}
    assert out.status_code == expected[case], out.text
    assert out.json()["message_id"] and out.json()["message_en"]


async def test_exclusion_mailbox_and_officer_access(client, world):
    k = world["keys"]
    body, receipt, sealed = await submission(
        client, world["unit"], [k["v1"]], excluded=[k["v2"].public.key_id_hex]
    )
    out = await client.post("/api/v1/reports", json=body)
    assert out.status_code == 201, out.text
    report_id = out.json()["report_id"]

    wrong = lib_receipt.derive_from_receipt(lib_receipt.new_receipt())
    assert (await mailbox_login(client, wrong.lookup_b64u)).status_code == 404
    keys = lib_receipt.derive_from_receipt(receipt)
    login = await mailbox_login(client, keys.lookup_b64u)
    assert login.status_code == 200 and "wbs_mailbox" in login.headers["set-cookie"]
    view = (await client.get("/api/v1/mailbox")).json()
    assert len(view["envelope"]["wraps"]) == 1  # only the reporter's own wrap
    opened = lib_envelope.open_report(view["envelope"], keys.key_pair)
    assert opened.content == {"apa": "rahasia"}
    mid = str(uuid.uuid4())
    box = lib_envelope.seal_message(
        opened.data_key, sealed.envelope.context, "reporter", mid, "hai"
    )
    message = {"id": mid, "box": b64u_encode(box)}
    no_csrf = await client.post("/api/v1/mailbox/messages", json=message)
    assert no_csrf.status_code == 403  # the cookie alone cannot post
    sent = await client.post(
        "/api/v1/mailbox/messages",
        json=message,
        headers={"x-csrf-token": login.json()["csrf_token"]},
    )
    assert sent.status_code == 201
    client.cookies.clear()

    # The excluded officer: 404, not in the inbox; the recipient reads it.
    await sign_in(client, world["v2"])
    assert (await client.get(f"/api/v1/cases/{report_id}")).status_code == 404
    assert (await client.get("/api/v1/cases")).json() == []
    client.cookies.clear()
    csrf = await sign_in(client, world["v1"])
    case = (await client.get(f"/api/v1/cases/{report_id}")).json()
    assert case["envelope"]["identity"] is None and len(case["envelope"]["wraps"]) == 1
    dk = lib_envelope.envelope_data_key(case["envelope"], k["v1"])
    first = b64u_decode(case["messages"][0]["box"])
    assert lib_envelope.open_message(dk, sealed.envelope.context, "reporter", mid, first) == "hai"
    # Adding the excluded colleague back is refused, whatever the wrap.
    wrap = lib_envelope.wrap_data_key(dk, sealed.envelope.context, k["v2"].public)
    added = await client.post(
        f"/api/v1/cases/{report_id}/recipients",
        json={"staff_id": world["v2"].staff.id, "wrap": b64u_encode(wrap)},
        headers={"x-csrf-token": csrf},
    )
    assert added.status_code == 404
    moved = await client.post(
        f"/api/v1/cases/{report_id}/actions",
        json={"action": "konfirmasi_penerimaan", "expected_state": "diterima"},
        headers={"x-csrf-token": csrf},
    )
    assert moved.status_code == 200
    stale = await client.post(
        f"/api/v1/cases/{report_id}/actions",
        json={"action": "konfirmasi_penerimaan", "expected_state": "diterima"},
        headers={"x-csrf-token": csrf},
    )
    assert stale.status_code in (409, 422)
    assert json.dumps(case).count("rahasia") == 0


async def test_limits_on_text_files_and_file_count(app, client, world, settings):
    app.state.reporting = Reporting.build(
        settings,
        app.state.security.master,
        ReportingLimits(pow_difficulty=0, report_max_files=1, report_max_content_bytes=1024),
    )
    k = world["keys"]
    body, _r, _s = await submission(
        client, world["unit"], [k["v1"], k["v2"]], content={"apa": "x" * 2048}
    )
    big = await client.post("/api/v1/reports", json=body)  # content box > 1 byte + box overhead
    assert big.status_code == 413 and "KiB" in big.json()["message_en"]
    assert "Isi laporan" in big.json()["message_id"]

    app.state.reporting = Reporting.build(
        settings, app.state.security.master, ReportingLimits(pow_difficulty=0, report_max_files=1)
    )
    body, _r, _s = await submission(client, world["unit"], [k["v1"], k["v2"]])
    ids = [str(uuid.uuid4()), str(uuid.uuid4())]
    body["attachments"] = [{"id": i, "metadata": "AAAA", "size": 3} for i in ids]
    files = [("attachment", (i, b"abc", "application/octet-stream")) for i in ids]
    many = await client.post("/api/v1/reports", data={"submission": json.dumps(body)}, files=files)
    assert many.status_code == 422 and many.json()["error"] == "too_many_files"
    assert "lampiran" in many.json()["message_id"] and "attachments" in many.json()["message_en"]
    mismatch = dict(body, attachments=body["attachments"][:1])
    app.state.reporting.limits.report_max_files = 2
    odd = await client.post(
        "/api/v1/reports", data={"submission": json.dumps(mismatch)}, files=files
    )
    # The same report id again: its proof of work was spent by the refused attempt.
    assert odd.status_code == 409 and "reload" in odd.json()["message_en"]
    fresh, _r, _s = await submission(client, world["unit"], [k["v1"], k["v2"]])
    fresh["attachments"] = body["attachments"][:1]
    odd = await client.post("/api/v1/reports", data={"submission": json.dumps(fresh)}, files=files)
    assert odd.status_code == 422  # declared list and sent files differ
    assert not (settings.data_dir / "blobs").exists() or not any(
        (settings.data_dir / "blobs").iterdir()
    )


async def test_refused_submission_leaves_no_attachment_blob(client, world, settings):
    k = world["keys"]
    body, _r, _s = await submission(client, world["unit"], [k["v1"], k["v2"]], version=7)
    aid = str(uuid.uuid4())
    body["attachments"] = [{"id": aid, "metadata": "AAAA", "size": 5}]
    out = await client.post(
        "/api/v1/reports",
        data={"submission": json.dumps(body)},
        files=[("attachment", (aid, b"ciphr", "application/octet-stream"))],
    )
    assert out.status_code == 409 and out.json()["error"] == "directory_changed"
    blobs = settings.data_dir / "blobs"
    assert blobs.is_dir() and [p.name for p in blobs.iterdir()] == []
