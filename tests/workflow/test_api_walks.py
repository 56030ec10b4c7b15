"""WBS, gratifikasi and benturan kepentingan walked end to end through the JSON API only:
reports sealed as a reporter's browser does, officers acting with `POST .../actions`, the
worker's timer pass, the reporter's mailbox; the server's clock frozen on chosen days across
Nyepi, Idul Fitri 2026 and cuti bersama (18, 20, 23, 24 March). Every due date is counted by
hand: working days (WD) skip weekends, national holidays and cuti bersama."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from wbs.audit import service as audit
from wbs.audit.models import AuditEvent

WBS_OFFICE = {"v": "verifikator", "atasan": "atasan", "inv": "investigator"}
WBS_READERS = {"wbs": ["v", "atasan", "inv"]}


async def _trail(db, office, case_number: str) -> list[str]:
    """The case's transitions and escalations in the unit's audit chain."""
    return [
        e.details.get("action") or e.action
        for e in await db.scalars(
            select(AuditEvent)
            .where(
                AuditEvent.unit_id == office.unit.id,
                AuditEvent.object_id == case_number,
                AuditEvent.action.in_(["case.transition", "case.escalated"]),
            )
            .order_by(AuditEvent.seq)
        )
    ]


async def test_wbs_acknowledged_late_asked_for_4w1h_and_closed_with_a_sanction(db, office):
    o = await office(WBS_OFFICE, WBS_READERS)
    v, atasan, inv = o["v"], o["atasan"], o["inv"]
    await o.on(date(2026, 3, 16))  # Mon 16 Mar: the report arrives
    case = await o.file("wbs")
    cid = case.case_id
    seen = await v.flow(cid)
    assert (seen["state"], seen["status_label"]["id"]) == ("diterima", "Diterima")
    assert [a["action"] for a in seen["actions"]] == ["konfirmasi_penerimaan"]
    assert await atasan.actions(cid) == []  # the atasan reads it but acts later
    due = await v.due(cid)
    assert due["tanda_terima"]["due"] == "2026-03-23"  # 7 calendar days (cuti bersama count)

    # Nobody acknowledges it. Sat 21 Mar (Idul Fitri): 2 days left, the reminder goes out.
    assert (await o.worker(date(2026, 3, 20))).reminded == 0
    assert (await o.worker(date(2026, 3, 21))).reminded == 1
    assert (await o.worker(date(2026, 3, 23))).escalated == 0  # the due day itself
    run = await o.worker(date(2026, 3, 24))
    assert (run.escalated, run.reminded) == (1, 0)
    await o.on(date(2026, 3, 24))
    late = (await v.due(cid))["tanda_terima"]
    assert late["overdue"] and late["escalated_to"] == "atasan"
    escalated = (await atasan.http.get("/api/v1/workflow/escalations")).json()
    assert [(e["case_number"], e["due"], e["readable"]) for e in escalated] == [
        (case.number, "2026-03-23", True)
    ]

    await o.on(date(2026, 3, 25))  # Wed 25 Mar, the first working day after Lebaran
    seen = await v.moved(cid, "konfirmasi_penerimaan", "diterima")
    assert seen["assignee"]["id"] == v.account.staff.id
    due = {d["name"]: d for d in seen["deadlines"]}
    assert set(due) == {"verifikasi", "umpan_balik"}  # the acknowledgement timer stopped
    # 7 WD from Wed 25 Mar: 26, 27, 30, 31 Mar, 1, 2 Apr, (Good Friday 3 Apr), Mon 6 Apr.
    assert due["verifikasi"]["due"] == "2026-04-06"
    assert due["umpan_balik"]["due"] == "2026-06-23"  # 90 days: 6 + 30 + 31 + 23
    assert (await atasan.http.get("/api/v1/workflow/escalations")).json() == []

    await o.on(date(2026, 3, 26))
    silent = await v.act(cid, "minta_keterangan", "verifikasi")
    assert silent.status_code == 422 and silent.json()["error"] == "message_required"
    asked = await v.moved(
        cid, "minta_keterangan", "verifikasi", message=case.message("Kapan dan di mana?")
    )
    assert asked["state"] == "perlu_kelengkapan"
    assert asked["status_label"]["id"] == "Sedang diverifikasi"
    due = {d["name"]: d for d in asked["deadlines"]}
    assert due["verifikasi"]["paused"]
    # The message to the reporter is feedback: 3 months again from Thu 26 Mar -> Wed 24 Jun.
    assert due["umpan_balik"]["due"] == "2026-06-24" and not due["umpan_balik"]["paused"]
    assert await v.actions(cid) == []  # waiting for the reporter

    # Tue 7 Apr: past the old due day, but the verification waits for the reporter.
    assert (await o.worker(date(2026, 4, 7))).escalated == 0
    await o.on(date(2026, 4, 7))
    paused = (await v.due(cid))["verifikasi"]
    assert paused["paused"] and not paused["overdue"]

    # Wed 8 Apr the reporter answers: 1 WD used (26 Mar), 6 left: 9, 10, 13-16 Apr -> Thu 16.
    await o.on(date(2026, 4, 8))
    mailbox = await o.mailbox(case, reply="Rabu 4 Maret, di gudang, oleh kepala seksi.")
    assert mailbox["status_label"]["id"] == "Sedang diverifikasi"
    seen = await v.flow(cid)
    assert seen["state"] == "verifikasi"
    due = {d["name"]: d for d in seen["deadlines"]}
    assert due["verifikasi"]["due"] == "2026-04-16" and not due["verifikasi"]["paused"]

    await o.on(date(2026, 4, 9))
    unassessed = await v.act(cid, "mulai_telaah", "verifikasi", {"unsur_4w1h_lengkap": True})
    assert unassessed.status_code == 422 and unassessed.json()["error"] == "fact_invalid"
    seen = await v.moved(
        cid,
        "mulai_telaah",
        "verifikasi",
        facts={"risiko_pembalasan": "sedang", "unsur_4w1h_lengkap": True},
    )
    assert (seen["state"], seen["status_label"]["id"]) == ("telaah", "Sedang ditindaklanjuti")
    assert [d["name"] for d in seen["deadlines"]] == ["umpan_balik"]
    assert seen["actions"] == []  # referral and audit are for the atasan and investigator
    assert await atasan.actions(cid) == ["audit_investigatif", "limpahkan"]
    assert await inv.actions(cid) == ["audit_investigatif"]
    refused = await v.act(cid, "limpahkan", "telaah", {"tujuan_pelimpahan": "kpk"})
    assert refused.status_code == 403 and refused.json()["error"] == "role_not_allowed"
    assert refused.json()["message_id"] and refused.json()["message_en"]

    await o.on(date(2026, 4, 10))
    seen = await inv.moved(cid, "audit_investigatif", "telaah")
    assert seen["assignee"]["id"] == inv.account.staff.id
    await o.on(date(2026, 5, 11))
    assert (await inv.moved(cid, "susun_rekomendasi", "audit_investigatif"))["state"] == (
        "rekomendasi"
    )
    await o.on(date(2026, 5, 12))
    bare = await atasan.act(cid, "selesaikan", "rekomendasi", {"hasil": "sanksi"})
    assert bare.status_code == 422 and bare.json()["error"] == "message_required"
    done = await atasan.moved(
        cid,
        "selesaikan",
        "rekomendasi",
        facts={"hasil": "sanksi"},
        message=case.message("Terlapor dijatuhi sanksi disiplin."),
    )
    assert (done["state"], done["status"], done["status_label"]["en"]) == (
        "selesai",
        "selesai",
        "Closed",
    )
    assert done["deadlines"] == [] and done["actions"] == []
    assert done["facts"] == {
        "risiko_pembalasan": "sedang",
        "unsur_4w1h_lengkap": True,
        "hasil": "sanksi",
    }
    mailbox = await o.mailbox(case)
    assert mailbox["status_label"] == {"id": "Selesai", "en": "Closed"}
    assert [m["sender_role"] for m in mailbox["messages"]] == ["officer", "reporter", "officer"]
    assert await _trail(db, o, case.number) == [
        "case.escalated",
        "konfirmasi_penerimaan",
        "minta_keterangan",
        "keterangan_diterima",
        "mulai_telaah",
        "audit_investigatif",
        "susun_rekomendasi",
        "selesaikan",
    ]
    assert (await audit.verify_unit(db, o.unit)).ok
