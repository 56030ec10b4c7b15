"""Workflows through the officer API: a pengaduan walked to its end, refusals, assignment."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from crypto import envelope as lib_envelope
from crypto import receipt as lib_receipt
from crypto.encoding import b64u_encode
from crypto.keys import KeyPair
from tests.reporting.helpers import (
    enrol,
    mailbox_login,
    publish_directory,
    sign_in,
    submission,
)
from tests.workflow.helpers import officer_message
from wbs.audit import service as audit
from wbs.audit.models import AuditEvent
from wbs.reporting.models import Report
from wbs.units.models import Unit


async def _world(client, make_unit, make_staff):
    unit = await make_unit()
    v = await make_staff(unit, "verifikator")
    v2 = await make_staff(unit, "verifikator")
    auditor = await make_staff(unit, "auditor")
    admin = await make_staff(unit, "admin")
    keys = {}
    for name, account in (("v", v), ("v2", v2)):
        made, _me = await enrol(client, account)
        keys[name] = made.key_pair
        client.cookies.clear()
    csrf = await sign_in(client, admin)
    await publish_directory(client, unit, csrf, KeyPair.generate().public)
    client.cookies.clear()
    return unit, {"v": v, "v2": v2, "auditor": auditor}, keys


async def test_pengaduan_through_the_api(client, db, reporting_ctx, make_unit, make_staff):
    unit, who, keys = await _world(client, make_unit, make_staff)
    body, receipt, sealed = await submission(
        client, unit, [keys["v"], keys["v2"]], channel="pengaduan"
    )
    created = await client.post("/api/v1/reports", json=body)
    assert created.status_code == 201, created.text
    case_id = created.json()["report_id"]

    csrf = await sign_in(client, who["v"])
    page = await client.get(f"/staff/cases/{case_id}")
    assert page.status_code == 200
    assert 'id="action-mulai_verifikasi"' in page.text and "Tahap penanganan" in page.text
    assert "SP4N-LAPOR!" in page.text  # the rule behind the deadline
    assert 'id="kpk-export"' not in page.text  # the KPK form note is for gratifikasi only
    seen = (await client.get(f"/api/v1/cases/{case_id}/workflow")).json()
    assert seen["state"] == "diterima" and seen["status_label"]["en"] == "Received"
    assert [d["name"] for d in seen["deadlines"]] == ["verifikasi"]
    assert [a["action"] for a in seen["actions"]] == ["mulai_verifikasi"]

    async def act(action, expected, facts=None, message=None, token=csrf):
        payload = {"action": action, "expected_state": expected, "facts": facts or {}}
        if message:
            payload["message"] = message
        return await client.post(
            f"/api/v1/cases/{case_id}/actions", json=payload, headers={"x-csrf-token": token}
        )

    out = await act("mulai_verifikasi", "diterima")
    assert out.status_code == 200, out.text
    assert out.json()["assignee"]["id"] == who["v"].staff.id
    # Stale state, wrong state, missing fact, message required: clean 4xx, nothing written.
    stale = await act("mulai_verifikasi", "diterima")
    assert stale.status_code == 409 and stale.json()["error"] == "state_changed"
    assert stale.json()["message_id"] and stale.json()["message_en"]
    wrong = await act("disposisi", "verifikasi", {"tier": "ringan"})
    assert wrong.status_code == 409 and wrong.json()["error"] == "action_not_available"
    missing = await act("nyatakan_terverifikasi", "verifikasi")
    assert missing.status_code == 422 and missing.json()["error"] == "fact_invalid"
    silent = await act("minta_kelengkapan", "verifikasi")
    assert silent.status_code == 422 and silent.json()["error"] == "message_required"
    unknown = await client.post(
        f"/api/v1/cases/{case_id}/actions",
        json={"action": "mulai_verifikasi", "expected_state": "verifikasi", "extra": 1},
        headers={"x-csrf-token": csrf},
    )
    assert unknown.status_code == 422

    asked = await act(
        "minta_kelengkapan",
        "verifikasi",
        message=officer_message(sealed, "Mohon lengkapi waktu kejadian."),
    )
    assert asked.status_code == 200, asked.text
    assert asked.json()["state"] == "perlu_kelengkapan"
    assert [d["paused"] for d in asked.json()["deadlines"]] == [True]
    case = (await client.get(f"/api/v1/cases/{case_id}")).json()
    assert len(case["messages"]) == 1 and case["messages"][0]["sender_role"] == "officer"

    # Still waiting for the reporter: the verification step is not available yet.
    early = await act("nyatakan_terverifikasi", "verifikasi", {"klasifikasi": "pengaduan"})
    assert early.status_code == 409
    client.cookies.clear()

    # The reporter answers in the mailbox: the case is back at verification, the timer runs.
    keys_r = lib_receipt.derive_from_receipt(receipt)
    login = await mailbox_login(client, keys_r.lookup_b64u)
    assert login.status_code == 200, login.text
    mailbox = (await client.get("/api/v1/mailbox")).json()
    assert mailbox["status_label"]["id"] == "Sedang diverifikasi"
    opened = lib_envelope.open_report(mailbox["envelope"], keys_r.key_pair)
    mid = str(uuid.uuid4())
    answer = lib_envelope.seal_message(
        opened.data_key, sealed.envelope.context, "reporter", mid, "Kejadian pukul 10.00."
    )
    sent = await client.post(
        "/api/v1/mailbox/messages",
        json={"id": mid, "box": b64u_encode(answer)},
        headers={"x-csrf-token": login.json()["csrf_token"]},
    )
    assert sent.status_code == 201, sent.text
    client.cookies.clear()
    csrf = await sign_in(client, who["v"])
    back = (await client.get(f"/api/v1/cases/{case_id}/workflow")).json()
    page = (await client.get(f"/staff/cases/{case_id}")).text
    assert 'name="fact:klasifikasi"' in page and 'data-message="required"' in page
    assert back["state"] == "verifikasi" and not back["deadlines"][0]["paused"]
    done = await act(
        "nyatakan_terverifikasi", "verifikasi", {"klasifikasi": "pengaduan"}, token=csrf
    )
    assert done.status_code == 200 and done.json()["facts"] == {"klasifikasi": "pengaduan"}
    client.cookies.clear()

    # An auditor cannot read the case (no wrap): 404, not 403.
    csrf_x = await sign_in(client, who["auditor"])
    hidden = await act("arsipkan", "perlu_kelengkapan", {"alasan_arsip": "duplikat"}, token=csrf_x)
    assert hidden.status_code == 404
    client.cookies.clear()

    report = await db.scalar(select(Report).where(Report.public_id == case_id))
    assert report is not None
    events = [
        e.details.get("action")
        for e in await db.scalars(
            select(AuditEvent).where(
                AuditEvent.unit_id == unit.id, AuditEvent.action == "case.transition"
            )
        )
    ]
    assert events == [
        "mulai_verifikasi",
        "minta_kelengkapan",
        "kelengkapan_diterima",
        "nyatakan_terverifikasi",
    ]
    assert (await audit.verify_unit(db, await db.get(Unit, report.unit_id))).ok


async def test_assignment_respects_recusal(client, db, reporting_ctx, make_unit, make_staff):
    unit, who, keys = await _world(client, make_unit, make_staff)
    v2_key_id = keys["v2"].public.key_id_hex
    body, _receipt, _sealed = await submission(
        client, unit, [keys["v"]], channel="wbs", excluded=[v2_key_id]
    )
    created = await client.post("/api/v1/reports", json=body)
    assert created.status_code == 201, created.text
    case_id = created.json()["report_id"]
    csrf = await sign_in(client, who["v"])
    refused = await client.post(
        f"/api/v1/cases/{case_id}/assignee",
        json={"staff_id": who["v2"].staff.id},
        headers={"x-csrf-token": csrf},
    )
    assert refused.status_code == 422 and "recusal" in refused.json()["message_en"]
    mine = await client.post(
        f"/api/v1/cases/{case_id}/assignee",
        json={"staff_id": who["v"].staff.id},
        headers={"x-csrf-token": csrf},
    )
    assert mine.status_code == 200 and mine.json()["assignee"]["id"] == who["v"].staff.id


async def _gratifikasi_case(client, make_unit, make_staff):
    """A unit with an enrolled UPG officer and one gratifikasi report sent to it."""
    unit = await make_unit()
    upg, admin = await make_staff(unit, "upg"), await make_staff(unit, "admin")
    made, _me = await enrol(client, upg)
    client.cookies.clear()
    await publish_directory(client, unit, await sign_in(client, admin), KeyPair.generate().public)
    client.cookies.clear()
    body, receipt, _sealed = await submission(client, unit, [made.key_pair], channel="gratifikasi")
    created = await client.post("/api/v1/reports", json=body)
    assert created.status_code == 201, created.text
    return upg, receipt, created.json()


async def test_the_mailbox_shows_the_workflows_labels(client, reporting_ctx, make_unit, make_staff):
    _upg, receipt, _created = await _gratifikasi_case(client, make_unit, make_staff)
    login = await mailbox_login(client, lib_receipt.derive_from_receipt(receipt).lookup_b64u)
    assert login.status_code == 200
    mailbox = (await client.get("/api/v1/mailbox")).json()
    assert mailbox["status_label"] == {"id": "Dilaporkan", "en": "Reported"}


async def test_gratifikasi_facts_with_labels_rule_version_and_the_kpk_note(
    client, reporting_ctx, make_unit, make_staff
):
    upg, _receipt, created = await _gratifikasi_case(client, make_unit, make_staff)
    case_id, number = created["report_id"], created["case_number"]
    csrf = await sign_in(client, upg)
    page = (await client.get(f"/staff/cases/{case_id}")).text
    assert 'id="kpk-export"' in page and f"wbs client export-gratifikasi {number}" in page
    before = (await client.get(f"/api/v1/cases/{case_id}/workflow")).json()
    assert before["facts_shown"] == [] and before["rule_version"] is None
    moved = await client.post(
        f"/api/v1/cases/{case_id}/actions",
        json={
            "action": "mulai_verifikasi",
            "expected_state": "dilaporkan",
            "facts": {
                "jenis_laporan": "penerimaan",
                "tanggal_terima": "2026-01-20",
                "nilai_estimasi": "antara_1_10jt",
            },
        },
        headers={"x-csrf-token": csrf},
    )
    assert moved.status_code == 200, moved.text
    seen = (await client.get(f"/api/v1/cases/{case_id}")).json()["workflow"]
    shown = {f["name"]: (f["label"]["en"], f["value"], f["shown"]) for f in seen["facts_shown"]}
    assert shown["jenis_laporan"] == (
        "Kind of report",
        "penerimaan",
        {"id": "Penerimaan gratifikasi", "en": "Gift received"},
    )
    assert shown["tanggal_terima"][2] == {"id": "2026-01-20", "en": "2026-01-20"}
    assert seen["rule_version"] == {
        "code": "perkom_1_2026",
        "label": {"id": "Peraturan KPK 1/2026", "en": "KPK Regulation 1/2026"},
    }


async def test_inbox_pages_are_the_whole_list_cut_in_order(
    client, db, reporting_ctx, make_unit, make_staff, monkeypatch
):
    from wbs.cases import service as cases

    unit, who, keys = await _world(client, make_unit, make_staff)
    ids = []
    for channel in ("pengaduan", "wbs", "pengaduan"):
        body, _r, _s = await submission(client, unit, [keys["v"], keys["v2"]], channel=channel)
        created = await client.post("/api/v1/reports", json=body)
        assert created.status_code == 201, created.text
        ids.append(created.json()["report_id"])
    await sign_in(client, who["v"])
    for query in ("sort=activity", "sort=due"):
        whole = (await client.get(f"/api/v1/cases?{query}")).json()
        monkeypatch.setattr(cases, "PAGE_SIZE", 2)
        pages = [(await client.get(f"/api/v1/cases?{query}&page={n}")).json() for n in (1, 2, 3)]
        monkeypatch.setattr(cases, "PAGE_SIZE", 50)
        assert [len(p) for p in pages] == [2, 1, 0]
        assert pages[0] + pages[1] == whole and len(whole) == 3
    latest = [c["report_id"] for c in (await client.get("/api/v1/cases")).json()]
    assert latest == ids[::-1]
    assert (await client.get("/api/v1/cases?page=0")).status_code == 422
    monkeypatch.setattr(cases, "PAGE_SIZE", 2)
    first = await client.get("/staff/cases")
    assert 'rel="next" href="/staff/cases?sort=activity&amp;show=all&amp;page=2"' in first.text
    second = await client.get("/staff/cases?page=2")
    assert 'rel="prev"' in second.text and 'rel="next"' not in second.text
    assert second.text.count('href="/staff/cases/') == 1


async def test_inbox_by_deadline_and_escalation_to_the_role(
    client, db, reporting_ctx, make_unit, make_staff
):
    from datetime import date

    from wbs.workflow import service as engine
    from wbs.workflow.registry import load_all

    unit, who, keys = await _world(client, make_unit, make_staff)
    atasan = await make_staff(unit, "atasan")
    ids = []
    for channel in ("pengaduan", "wbs"):
        body, _r, _s = await submission(client, unit, [keys["v"], keys["v2"]], channel=channel)
        created = await client.post("/api/v1/reports", json=body)
        assert created.status_code == 201, created.text
        ids.append(created.json()["report_id"])
    csrf = await sign_in(client, who["v"])
    listed = (await client.get("/api/v1/cases?sort=due")).json()
    # pengaduan: 3 WD to verify; wbs: 7 calendar days to acknowledge -> pengaduan first
    # unless the 3 WD run past the 7 days (never), so the order is pengaduan, wbs.
    assert [c["report_id"] for c in listed] == ids
    assert all(c["next_due"] and c["state"] == "diterima" for c in listed)
    taken = await client.post(
        f"/api/v1/cases/{ids[1]}/actions",
        json={"action": "konfirmasi_penerimaan", "expected_state": "diterima"},
        headers={"x-csrf-token": csrf},
    )
    assert taken.status_code == 200, taken.text
    mine = (await client.get("/api/v1/cases?show=mine")).json()
    assert [c["report_id"] for c in mine] == [ids[1]]
    assert (await client.get("/api/v1/cases?sort=sideways")).status_code == 422
    case = (await client.get(f"/api/v1/cases/{ids[1]}")).json()
    assert case["workflow"]["state"] == "verifikasi"
    assert case["workflow"]["assignee"]["id"] == who["v"].staff.id
    assert {d["name"] for d in case["workflow"]["deadlines"]} == {"verifikasi", "umpan_balik"}
    client.cookies.clear()

    far = engine.Clock.on(date.today().replace(year=date.today().year + 1))
    run = await engine.run_timers(db, load_all(), far)
    assert run.escalated >= 2
    await sign_in(client, atasan)
    escalated = (await client.get("/api/v1/workflow/escalations")).json()
    assert {e["case_number"] for e in escalated} >= {c["case_number"] for c in listed}
    assert all(not e["readable"] and e["report_id"] is None for e in escalated)
    page = await client.get("/staff/cases")
    assert "Eskalasi untuk peran Anda" in page.text
    v_page_overdue = await client.get("/staff/cases?show=overdue")
    assert v_page_overdue.status_code == 200
