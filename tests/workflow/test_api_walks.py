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
            .order_by(AuditEvent.id)
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


async def test_wbs_not_followed_up_and_referred_with_the_feedback_deadline_escalated(db, office):
    o = await office(WBS_OFFICE, WBS_READERS)
    v, atasan, inv = o["v"], o["atasan"], o["inv"]
    await o.on(date(2026, 3, 17))  # Tue 17 Mar, the day before Nyepi's cuti bersama
    weak, referred = await o.file("wbs"), await o.file("wbs")
    for case in (weak, referred):
        assert (await v.due(case.case_id))["tanda_terima"]["due"] == "2026-03-24"  # 7 days

    await o.on(date(2026, 3, 25))
    for case in (weak, referred):
        seen = await v.moved(case.case_id, "konfirmasi_penerimaan", "diterima")
        due = {d["name"]: d["due"] for d in seen["deadlines"]}
        # 7 WD: 26, 27, 30, 31 Mar, 1, 2, 6 Apr; feedback 90 days from Wed 25 Mar.
        assert due == {"verifikasi": "2026-04-06", "umpan_balik": "2026-06-23"}

    await o.on(date(2026, 3, 27))
    reasons = {"alasan_tidak_ditindaklanjuti": "bukti_tidak_cukup"}
    unassessed = await v.act(
        weak.case_id,
        "nyatakan_tidak_dapat_ditindaklanjuti",
        "verifikasi",
        reasons,
        weak.message("Bukti awal tidak cukup."),
    )
    assert unassessed.status_code == 422 and unassessed.json()["message_en"] == (
        "Risk of retaliation against the reporter is required."
    )
    reasons["risiko_pembalasan"] = "rendah"
    silent = await v.act(
        weak.case_id, "nyatakan_tidak_dapat_ditindaklanjuti", "verifikasi", reasons
    )
    assert silent.status_code == 422 and silent.json()["error"] == "message_required"
    closed = await v.moved(
        weak.case_id,
        "nyatakan_tidak_dapat_ditindaklanjuti",
        "verifikasi",
        facts=reasons,
        message=weak.message("Bukti awal tidak cukup untuk ditindaklanjuti."),
    )
    assert (closed["state"], closed["status"]) == ("tidak_dapat_ditindaklanjuti", "ditolak")
    assert closed["deadlines"] == [] and closed["actions"] == []
    mailbox = await o.mailbox(weak)
    assert mailbox["status_label"] == {
        "id": "Tidak dapat ditindaklanjuti",
        "en": "Cannot be followed up",
    }
    assert [m["sender_role"] for m in mailbox["messages"]] == ["officer"]

    rid = referred.case_id
    await v.moved(rid, "mulai_telaah", "verifikasi", facts={"risiko_pembalasan": "tinggi"})
    await o.on(date(2026, 3, 30))
    nowhere = await atasan.act(rid, "limpahkan", "telaah", {"tujuan_pelimpahan": "polisi"})
    assert nowhere.status_code == 422 and nowhere.json()["error"] == "fact_invalid"
    seen = await atasan.moved(rid, "limpahkan", "telaah", facts={"tujuan_pelimpahan": "apip"})
    assert (seen["state"], seen["state_label"]["id"]) == ("dilimpahkan", "Dilimpahkan")
    assert seen["facts"]["tujuan_pelimpahan"] == "apip"
    # No word to the reporter since 25 Mar: a week before 23 Jun the atasan is reminded,
    # the day after it the missed feedback is escalated to the atasan.
    assert (await o.worker(date(2026, 6, 15))).reminded == 0
    assert (await o.worker(date(2026, 6, 16))).reminded == 1
    assert (await o.worker(date(2026, 6, 23))).escalated == 0
    assert (await o.worker(date(2026, 6, 24))).escalated == 1
    await o.on(date(2026, 6, 24))
    feedback = (await v.due(rid))["umpan_balik"]
    assert feedback["overdue"] and feedback["escalated_to"] == "atasan"
    escalated = (await atasan.http.get("/api/v1/workflow/escalations")).json()
    assert [(e["case_number"], e["deadline"]["id"]) for e in escalated] == [
        (referred.number, "Umpan balik kepada pelapor")
    ]
    await o.on(date(2026, 6, 25))
    await inv.moved(rid, "susun_rekomendasi", "dilimpahkan")
    done = await atasan.moved(
        rid,
        "selesaikan",
        "rekomendasi",
        facts={"hasil": "pemulihan_kerugian"},
        message=referred.message("Kerugian negara telah dipulihkan."),
    )
    assert (done["state"], done["deadlines"]) == ("selesai", [])
    assert (await o.mailbox(referred))["status_label"]["id"] == "Selesai"
    assert await _trail(db, o, referred.number) == [
        "konfirmasi_penerimaan",
        "mulai_telaah",
        "limpahkan",
        "case.escalated",
        "susun_rekomendasi",
        "selesaikan",
    ]
    assert (await audit.verify_unit(db, o.unit)).ok


GRAT_OFFICE = {"upg": "upg", "atasan": "atasan"}
GRAT_READERS = {"gratifikasi": ["upg"]}


async def test_gratifikasi_paused_escalated_forwarded_to_kpk_decided_and_closed(db, office):
    o = await office(GRAT_OFFICE, GRAT_READERS)
    upg, atasan = o["upg"], o["atasan"]
    await o.on(date(2026, 3, 16))  # Mon 16 Mar
    gift = await o.file("gratifikasi")
    gid = gift.case_id
    seen = await upg.flow(gid)
    assert (seen["state"], seen["status_label"]["id"]) == ("dilaporkan", "Dilaporkan")
    assert [a["action"] for a in seen["actions"]] == [
        "mulai_verifikasi",
        "catat_penolakan_penyaluran",
    ]
    # 10 WD from Mon 16 Mar: 17, (18-24 Nyepi, Idul Fitri, cuti bersama), 25, 26, 27, 30,
    # 31 Mar, 1, 2, (3 Good Friday), 6, 7 Apr.
    assert (await upg.due(gid))["teruskan_kpk"]["due"] == "2026-04-07"

    await o.on(date(2026, 3, 17))
    received = {"jenis_laporan": "penerimaan", "nilai_estimasi": "antara_10_100jt"}
    future = await upg.act(
        gid, "mulai_verifikasi", "dilaporkan", {**received, "tanggal_terima": "2026-03-18"}
    )
    assert future.status_code == 422 and "after today" in future.json()["message_en"]
    seen = await upg.moved(
        gid, "mulai_verifikasi", "dilaporkan", facts={**received, "tanggal_terima": "2026-03-13"}
    )
    assert seen["rule_version"]["code"] == "perkom_1_2026"  # received after 14 Jan 2026
    assert seen["assignee"]["id"] == upg.account.staff.id
    due = {d["name"]: d["due"] for d in seen["deadlines"]}
    # 30 WD from the day received, Fri 13 Mar: 16, 17 (2), 25-27 (5), 30, 31 (7), 1, 2 Apr
    # (9), 6-10 (14), 13-17 (19), 20-24 (24), 27-30 (28), (1 May Labour Day), 4, 5 May (30).
    assert due == {"teruskan_kpk": "2026-04-07", "wajib_lapor_kpk": "2026-05-05"}

    await o.on(date(2026, 3, 25))  # the UPG asks for the details: a pause
    seen = await upg.moved(
        gid, "minta_kelengkapan", "verifikasi_upg", message=gift.message("Siapa pemberinya?")
    )
    due = {d["name"]: d for d in seen["deadlines"]}
    assert seen["state"] == "perlu_kelengkapan" and due["teruskan_kpk"]["paused"]
    assert not due["wajib_lapor_kpk"]["paused"]  # the statutory 30 WD keep running
    # 20 WD to complete from Wed 25 Mar: 26, 27, 30, 31 (4), 1, 2 (6), 6-10 (11),
    # 13-17 (16), 20-23 Apr (20).
    assert due["kelengkapan"]["due"] == "2026-04-23"

    # Mon 30 Mar the reporter completes it: 2 WD used (17, 25 Mar), 8 left from 30 Mar:
    # 31 Mar, 1, 2, 6, 7, 8, 9, 10 Apr.
    await o.on(date(2026, 3, 30))
    mailbox = await o.mailbox(gift, reply="Pemberinya rekanan pengadaan.")
    assert mailbox["status_label"]["id"] == "Diverifikasi UPG"
    seen = await upg.flow(gid)
    due = {d["name"]: d for d in seen["deadlines"]}
    assert seen["state"] == "verifikasi_upg" and set(due) == {"teruskan_kpk", "wajib_lapor_kpk"}
    assert due["teruskan_kpk"]["due"] == "2026-04-10" and not due["teruskan_kpk"]["paused"]

    # The UPG misses its 10 WD: escalated to the atasan the working day after Fri 10 Apr.
    assert (await o.worker(date(2026, 4, 10))).escalated == 0
    assert (await o.worker(date(2026, 4, 11))).escalated == 1
    await o.on(date(2026, 4, 13))
    escalated = (await atasan.http.get("/api/v1/workflow/escalations")).json()
    assert escalated == [
        {
            "case_number": gift.number,
            "channel": "gratifikasi",
            "state_label": {"id": "Verifikasi UPG", "en": "UPG verification"},
            "deadline": {"id": "UPG meneruskan ke KPK", "en": "UPG forwards to KPK"},
            "due": "2026-04-10",
            "readable": False,  # the atasan is not a recipient of gratifikasi reports
            "report_id": None,
        }
    ]
    seen = await upg.moved(
        gid, "teruskan_ke_kpk", "verifikasi_upg", facts={"nomor_laporan_kpk": "GRAT-2026-0042"}
    )
    assert (seen["state"], seen["status_label"]["id"]) == ("menunggu_penetapan", "Diproses")
    # KPK decides within 30 WD from Mon 13 Apr: 14-17 (4), 20-24 (9), 27-30 (13), (1 May),
    # 4-8 (18), 11-13 (21), (14-15 Ascension), 18-22 (26), 25, 26 (28), (27-28 Idul Adha),
    # 29 May (29), (1 Jun Pancasila), Tue 2 Jun (30).
    assert [(d["name"], d["due"]) for d in seen["deadlines"]] == [("penetapan_kpk", "2026-06-02")]
    assert (await atasan.http.get("/api/v1/workflow/escalations")).json() == []

    # KPK is late: the case comes back to the UPG on Wed 3 Jun.
    assert (await o.worker(date(2026, 6, 3))).escalated == 1
    await o.on(date(2026, 6, 3))
    back = (await upg.http.get("/api/v1/workflow/escalations")).json()
    assert [(e["case_number"], e["readable"], e["report_id"]) for e in back] == [
        (gift.number, True, gid)
    ]

    await o.on(date(2026, 6, 4))
    decided = {"keputusan_kpk": "milik_negara_dapat_diganti_uang", "nomor_sk": "77/GRAT/2026"}
    silent = await upg.act(gid, "catat_penetapan", "menunggu_penetapan", decided)
    assert silent.status_code == 422 and silent.json()["error"] == "message_required"
    seen = await upg.moved(
        gid,
        "catat_penetapan",
        "menunggu_penetapan",
        facts=decided,
        message=gift.message("KPK menetapkan milik negara; dapat diganti uang."),
    )
    assert seen["state"] == "ditetapkan"
    # Hand-over within 7 WD from Thu 4 Jun: 5, 8-12, Mon 15 Jun.
    assert [(d["name"], d["due"]) for d in seen["deadlines"]] == [
        ("tindak_lanjut_sk", "2026-06-15")
    ]
    shown = {f["name"]: f["shown"]["en"] for f in seen["facts_shown"]}
    assert shown["keputusan_kpk"] == "State property (may be kept against payment)"
    await o.on(date(2026, 6, 8))
    await upg.moved(gid, "tindak_lanjuti_sk", "ditetapkan")
    await o.on(date(2026, 6, 10))
    done = await upg.moved(gid, "selesaikan", "tindak_lanjut_sk")
    assert (done["state"], done["status"], done["deadlines"]) == ("selesai", "selesai", [])
    assert (await o.mailbox(gift))["status_label"] == {"id": "Selesai", "en": "Closed"}
    assert await _trail(db, o, gift.number) == [
        "mulai_verifikasi",
        "minta_kelengkapan",
        "kelengkapan_diterima",
        "case.escalated",
        "teruskan_ke_kpk",
        "case.escalated",
        "catat_penetapan",
        "tindak_lanjuti_sk",
        "selesaikan",
    ]
    assert (await audit.verify_unit(db, o.unit)).ok


async def test_gratifikasi_exempt_refused_and_dropped_after_20_working_days(db, office):
    o = await office(GRAT_OFFICE, GRAT_READERS)
    upg = o["upg"]
    await o.on(date(2026, 3, 17))
    exempt, refusal = await o.file("gratifikasi"), await o.file("gratifikasi")

    await o.on(date(2026, 3, 25))
    seen = await upg.moved(
        exempt.case_id,
        "mulai_verifikasi",
        "dilaporkan",
        facts={
            "jenis_laporan": "penerimaan",
            "tanggal_terima": "2026-03-21",  # a Lebaran gift from a coworker
            "nilai_estimasi": "kurang_1jt",
        },
    )
    # 30 WD from Sat 21 Mar: 25-27 (3), 30, 31 (5), 1, 2 Apr (7), 6-10 (12), 13-17 (17),
    # 20-24 (22), 27-30 (26), (1 May), 4-7 May (30).
    assert {d["name"]: d["due"] for d in seen["deadlines"]}["wajib_lapor_kpk"] == "2026-05-07"
    old_rule = await upg.act(
        exempt.case_id,
        "nyatakan_tidak_wajib_lapor",
        "verifikasi_upg",
        {"kode_pengecualian": "rekan_kerja_200rb"},
        exempt.message("Tidak wajib lapor."),
    )
    assert old_rule.status_code == 422 and "KPK Regulation 1/2026" in old_rule.text
    done = await upg.moved(
        exempt.case_id,
        "nyatakan_tidak_wajib_lapor",
        "verifikasi_upg",
        facts={"kode_pengecualian": "rekan_kerja_500rb"},
        message=exempt.message("Pemberian antar-rekan kerja di bawah Rp500.000."),
    )
    assert (done["state"], done["status_label"]["id"], done["deadlines"]) == (
        "tidak_wajib_lapor",
        "Selesai",
        [],
    )
    assert done["facts"]["kode_pengecualian"] == "rekan_kerja_500rb"

    refused = {"jenis_laporan": "penolakan", "tanggal_terima": "2026-03-16"}
    wrong_path = await upg.act(
        refusal.case_id,
        "mulai_verifikasi",
        "dilaporkan",
        {**refused, "nilai_estimasi": "kurang_1jt"},
    )
    assert wrong_path.status_code == 422 and wrong_path.json()["error"] == "fact_invalid"
    recorded = await upg.moved(
        refusal.case_id, "catat_penolakan_penyaluran", "dilaporkan", facts=refused
    )
    assert (recorded["state"], recorded["status"], recorded["deadlines"]) == (
        "dicatat",
        "selesai",
        [],
    )
    assert (await o.mailbox(refusal))["status_label"]["id"] == "Selesai"

    await o.on(date(2026, 4, 1))  # Wed 1 Apr
    silent = await o.file("gratifikasi")
    sid = silent.case_id
    await o.on(date(2026, 4, 2))
    await upg.moved(
        sid,
        "mulai_verifikasi",
        "dilaporkan",
        facts={
            "jenis_laporan": "penerimaan",
            "tanggal_terima": "2026-03-30",
            "nilai_estimasi": "antara_1_10jt",
        },
    )
    await o.on(date(2026, 4, 6))
    seen = await upg.moved(
        sid, "minta_kelengkapan", "verifikasi_upg", message=silent.message("Mohon lengkapi.")
    )
    # 20 WD from Mon 6 Apr: 7-10 (4), 13-17 (9), 20-24 (14), 27-30 (18), (1 May), 4, 5 May.
    assert {d["name"]: d["due"] for d in seen["deadlines"]}["kelengkapan"] == "2026-05-05"
    assert (await o.worker(date(2026, 5, 5))).closed == 0
    run = await o.worker(date(2026, 5, 6))
    assert (run.closed, run.escalated) == (1, 0)
    await o.on(date(2026, 5, 6))
    gone = await upg.flow(sid)
    assert (gone["state"], gone["status"], gone["status_label"]["id"]) == (
        "gugur",
        "ditolak",
        "Gugur",
    )
    assert gone["actions"] == [] and gone["deadlines"] == []
    assert (await o.mailbox(silent))["status_label"] == {"id": "Gugur", "en": "Dropped"}
    # Nothing more happens to a dropped case.
    assert (await o.worker(date(2026, 5, 14))).escalated == 0
    assert await _trail(db, o, silent.number) == [
        "mulai_verifikasi",
        "minta_kelengkapan",
        "gugur",
    ]
    assert (await audit.verify_unit(db, o.unit)).ok


async def test_conflict_of_interest_every_form_of_control_to_its_end(db, office):
    o = await office(
        {"v": "verifikator", "atasan": "atasan"}, {"benturan_kepentingan": ["atasan", "v"]}
    )
    v, atasan = o["v"], o["atasan"]
    await o.on(date(2026, 3, 17))  # Tue 17 Mar
    cases = {
        name: await o.file("benturan_kepentingan")
        for name in ("tidak_ada_konflik", "pembatasan", "recusal_delegasi", "mutasi", "ditolak")
    }
    ids = {name: c.case_id for name, c in cases.items()}
    for cid in ids.values():
        seen = await v.flow(cid)
        assert (seen["state"], seen["status_label"]["id"]) == ("dilaporkan", "Diterima")
        assert [a["action"] for a in seen["actions"]] == ["tangguhkan_keputusan", "tolak"]
        # 7 WD from Tue 17 Mar: (18-24 Nyepi, Idul Fitri, cuti bersama) 25, 26, 27, 30, 31
        # Mar, 1, 2 Apr.
        assert [(d["name"], d["due"]) for d in seen["deadlines"]] == [
            ("analisis_atasan", "2026-04-02")
        ]

    await o.on(date(2026, 3, 25))
    kinds = {
        "tidak_ada_konflik": ("deklarasi", "potensial", "keluarga"),
        "pembatasan": ("deklarasi_berkala", "potensial", "kepentingan_pribadi"),
        "recusal_delegasi": ("deklarasi", "aktual", "keluarga"),
        "mutasi": ("aduan", "aktual", "dibayar_pihak"),
    }
    for name, (jenis, sifat, sumber) in kinds.items():
        seen = await v.moved(
            ids[name],
            "tangguhkan_keputusan",
            "dilaporkan",
            facts={"jenis": jenis, "sifat": sifat, "sumber_konflik": sumber},
        )
        assert (seen["state"], seen["status_label"]["id"]) == (
            "keputusan_ditangguhkan",
            "Sedang dianalisis",
        )
        assert seen["actions"] == []  # the analysis is the atasan's
    rejected = await v.moved(
        ids["ditolak"],
        "tolak",
        "dilaporkan",
        facts={"jenis": "aduan", "alasan_penolakan": "bukan_benturan_kepentingan"},
        message=cases["ditolak"].message("Bukan benturan kepentingan."),
    )
    assert (rejected["state"], rejected["status"], rejected["deadlines"]) == (
        "tidak_ditindaklanjuti",
        "ditolak",
        [],
    )
    assert (await o.mailbox(cases["ditolak"]))["status_label"]["en"] == "Cannot be followed up"
    not_theirs = await v.act(ids["mutasi"], "mulai_analisis", "keputusan_ditangguhkan")
    assert not_theirs.status_code == 403 and not_theirs.json()["error"] == "role_not_allowed"

    await o.on(date(2026, 3, 26))
    for name in kinds:
        seen = await atasan.moved(ids[name], "mulai_analisis", "keputusan_ditangguhkan")
        assert seen["assignee"]["id"] == atasan.account.staff.id
        assert [a["action"] for a in seen["actions"]] == [
            "nyatakan_tidak_ada_konflik",
            "tetapkan_pengendalian",
        ]
    await o.on(date(2026, 3, 27))
    none = await atasan.moved(
        ids["tidak_ada_konflik"],
        "nyatakan_tidak_ada_konflik",
        "analisis_atasan",
        facts={"bentuk_pengendalian": "tidak_ada_konflik"},
    )
    assert (none["state"], none["status_label"]["id"], none["deadlines"]) == (
        "selesai",
        "Selesai",
        [],
    )
    # Two working days before the due day the atasan is reminded of the three left.
    assert (await o.worker(date(2026, 3, 30))).reminded == 0
    assert (await o.worker(date(2026, 3, 31))).reminded == 3
    await o.on(date(2026, 4, 2))  # the due day: still in time
    await atasan.moved(
        ids["pembatasan"],
        "tetapkan_pengendalian",
        "analisis_atasan",
        facts={"bentuk_pengendalian": "pembatasan"},
    )
    # The day after, the two still without a form of control are escalated.
    assert (await o.worker(date(2026, 4, 2))).escalated == 0
    assert (await o.worker(date(2026, 4, 3))).escalated == 2  # Good Friday: overdue anyway
    await o.on(date(2026, 4, 6))
    late = (await atasan.due(ids["mutasi"]))["analisis_atasan"]
    assert late["overdue"] and late["escalated_to"] == "atasan"
    escalated = (await atasan.http.get("/api/v1/workflow/escalations")).json()
    assert sorted(e["case_number"] for e in escalated) == sorted(
        cases[n].number for n in ("recusal_delegasi", "mutasi")
    )
    mixed = await atasan.act(
        ids["mutasi"],
        "tetapkan_pengendalian",
        "analisis_atasan",
        {"bentuk_pengendalian": "tidak_ada_konflik"},
    )
    assert mixed.status_code == 422 and mixed.json()["error"] == "fact_invalid"
    for name in ("recusal_delegasi", "mutasi"):
        seen = await atasan.moved(
            ids[name],
            "tetapkan_pengendalian",
            "analisis_atasan",
            facts={"bentuk_pengendalian": name},
            message=cases[name].message("Bentuk pengendalian telah ditetapkan."),
        )
        assert (seen["state"], seen["status_label"]["id"]) == (
            "pengendalian",
            "Dalam pengendalian",
        )
        assert seen["deadlines"] == []
    assert (await atasan.http.get("/api/v1/workflow/escalations")).json() == []

    await o.on(date(2026, 4, 7))
    for name in ("pembatasan", "recusal_delegasi", "mutasi"):
        assert (await v.moved(ids[name], "mulai_pemantauan", "pengendalian"))["state"] == (
            "dipantau"
        )
        early = await v.act(ids[name], "selesaikan", "dipantau")
        assert early.status_code == 403  # closing is the atasan's
    await o.on(date(2026, 6, 30))
    for name in ("pembatasan", "recusal_delegasi", "mutasi"):
        done = await atasan.moved(ids[name], "selesaikan", "dipantau")
        assert (done["state"], done["facts"]["bentuk_pengendalian"]) == ("selesai", name)
        assert (await o.mailbox(cases[name]))["status_label"]["id"] == "Selesai"
    assert await _trail(db, o, cases["mutasi"].number) == [
        "tangguhkan_keputusan",
        "mulai_analisis",
        "case.escalated",
        "tetapkan_pengendalian",
        "mulai_pemantauan",
        "selesaikan",
    ]
    assert (await audit.verify_unit(db, o.unit)).ok
