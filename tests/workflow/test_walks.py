"""WBS, gratifikasi and benturan kepentingan walked end to end on the engine with time frozen
across Imlek, Nyepi, Idul Fitri 2026 and their cuti bersama; every date counted by hand."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from tests.workflow.helpers import mailbox_message, make_report
from wbs.audit import service as audit
from wbs.audit.models import AuditEvent
from wbs.calendar.workdays import WorkCalendar
from wbs.workflow import service as engine
from wbs.workflow.models import CaseMilestone
from wbs.workflow.registry import load_all
from wbs.workflow.service import Clock

WORKFLOWS = load_all()
CAL = WorkCalendar()
TZ = "Asia/Jakarta"


async def _setup(db, make_unit, make_staff, case_type, roles, start):
    unit = await make_unit()
    who = {role: (await make_staff(unit, role)).staff for role in roles}
    report = await make_report(db, unit, case_type, submitted=start)
    await engine.begin(db, WORKFLOWS, CAL, report, Clock.on(start))
    return unit, report, who


def _acting(db, unit, report):
    async def act(actor, action, expected, day, facts=None, message=False):
        return await engine.act(
            db,
            WORKFLOWS,
            CAL,
            report=report,
            unit=unit,
            actor=actor,
            action=action,
            expected_state=expected,
            facts=facts or {},
            with_message=message,
            clock=Clock.on(day),
        )

    return act


async def _due(db, report, day):
    seen = await engine.view(db, WORKFLOWS, CAL, report, Clock.on(day))
    return {d.name: d for d in seen.deadlines}, seen


async def _trail(db, unit):
    return [
        e.details.get("action") or e.action
        for e in await db.scalars(
            select(AuditEvent)
            .where(
                AuditEvent.unit_id == unit.id,
                AuditEvent.action.in_(["case.transition", "case.escalated"]),
            )
            .order_by(AuditEvent.id)
        )
    ]


async def test_wbs_from_receipt_to_sanction(db, make_unit, make_staff):
    unit, report, who = await _setup(
        db,
        make_unit,
        make_staff,
        "wbs",
        ("verifikator", "atasan", "investigator"),
        date(2026, 3, 17),
    )
    act = _acting(db, unit, report)
    due, _ = await _due(db, report, date(2026, 3, 17))
    assert due["tanda_terima"].due == date(2026, 3, 24)  # 7 calendar days
    # Not acknowledged by Tue 24 Mar: on Wed 25 Mar the deadline is escalated to atasan.
    assert (await engine.run_timers(db, WORKFLOWS, Clock.on(date(2026, 3, 25)))).escalated == 1
    await act(who["verifikator"], "konfirmasi_penerimaan", "diterima", date(2026, 3, 25))
    due, _ = await _due(db, report, date(2026, 3, 25))
    assert "tanda_terima" not in due
    # 7 WD from Wed 25 Mar: 26, 27, 30, 31 Mar, 1, 2 Apr, (Good Friday 3 Apr), 6 Apr.
    assert due["verifikasi"].due == date(2026, 4, 6)
    assert due["umpan_balik"].due == date(2026, 6, 23)  # 90 days
    await act(who["verifikator"], "minta_keterangan", "verifikasi", date(2026, 3, 27), message=True)
    due, _ = await _due(db, report, date(2026, 4, 7))
    assert due["verifikasi"].paused and not due["verifikasi"].overdue
    # The reporter answers on Wed 8 Apr: 2 WD used (26, 27 Mar), 5 left -> Wed 15 Apr.
    await mailbox_message(db, report, "reporter", date(2026, 4, 8))
    await engine.sync(db, WORKFLOWS, CAL, report, unit, TZ)
    due, seen = await _due(db, report, date(2026, 4, 8))
    assert seen.state.state == "verifikasi" and due["verifikasi"].due == date(2026, 4, 15)
    with pytest.raises(engine.FactProblem):  # the retaliation risk is assessed first
        await act(who["verifikator"], "mulai_telaah", "verifikasi", date(2026, 4, 9))
    await act(
        who["verifikator"],
        "mulai_telaah",
        "verifikasi",
        date(2026, 4, 9),
        {"risiko_pembalasan": "tinggi", "unsur_4w1h_lengkap": True},
    )
    # Feedback to the reporter restarts the 3-month clock: Fri 10 Apr + 90 -> Thu 9 Jul.
    await mailbox_message(db, report, "officer", date(2026, 4, 10))
    await engine.sync(db, WORKFLOWS, CAL, report, unit, TZ)
    due, _ = await _due(db, report, date(2026, 4, 10))
    assert due["umpan_balik"].due == date(2026, 7, 9) and "verifikasi" not in due
    with pytest.raises(engine.RoleNotAllowed):
        await act(
            who["verifikator"],
            "limpahkan",
            "telaah",
            date(2026, 4, 13),
            {"tujuan_pelimpahan": "kpk"},
        )
    await act(who["atasan"], "limpahkan", "telaah", date(2026, 4, 13), {"tujuan_pelimpahan": "kpk"})
    await act(who["investigator"], "susun_rekomendasi", "dilimpahkan", date(2026, 5, 4))
    with pytest.raises(engine.MessageRequired):
        await act(
            who["atasan"], "selesaikan", "rekomendasi", date(2026, 5, 11), {"hasil": "sanksi"}
        )
    await act(
        who["atasan"],
        "selesaikan",
        "rekomendasi",
        date(2026, 5, 11),
        {"hasil": "sanksi"},
        message=True,
    )
    due, seen = await _due(db, report, date(2026, 5, 11))
    assert seen.state.state == "selesai" and due == {}
    await db.refresh(report)
    assert report.status.value == "selesai"
    assert await _trail(db, unit) == [
        "case.escalated",
        "konfirmasi_penerimaan",
        "minta_keterangan",
        "keterangan_diterima",
        "mulai_telaah",
        "limpahkan",
        "susun_rekomendasi",
        "selesaikan",
    ]
    assert (await engine.facts_of(db, report.id)) == {
        "risiko_pembalasan": "tinggi",
        "unsur_4w1h_lengkap": True,
        "tujuan_pelimpahan": "kpk",
        "hasil": "sanksi",
    }
    # Milestones with working days since the report arrived (Tue 17 Mar), for indicators:
    # 25 Mar is the first working day after Nyepi and Idul Fitri; 9 Apr the 11th; 13 Apr
    # the 13th; 11 May the 32nd (Good Friday 3 Apr and Labour Day 1 May skipped).
    reached = {
        m.name: m.working_days
        for m in await db.scalars(select(CaseMilestone).where(CaseMilestone.report_id == report.id))
    }
    assert reached == {
        "first_response": 1,
        "verified": 11,
        "followed_up": 13,
        "forwarded": 13,
        "completed": 32,
    }
    assert (await audit.verify_unit(db, unit)).ok


async def test_wbs_that_cannot_be_followed_up(db, make_unit, make_staff):
    unit, report, who = await _setup(
        db, make_unit, make_staff, "wbs", ("verifikator",), date(2026, 3, 17)
    )
    act = _acting(db, unit, report)
    await act(who["verifikator"], "konfirmasi_penerimaan", "diterima", date(2026, 3, 18))
    await act(
        who["verifikator"],
        "nyatakan_tidak_dapat_ditindaklanjuti",
        "verifikasi",
        date(2026, 3, 25),
        {"alasan_tidak_ditindaklanjuti": "bukti_tidak_cukup", "risiko_pembalasan": "rendah"},
        message=True,
    )
    await db.refresh(report)
    assert report.status.value == "ditolak"


async def test_gratifikasi_dropped_after_20_working_days(db, make_unit, make_staff):
    unit, report, who = await _setup(
        db, make_unit, make_staff, "gratifikasi", ("upg",), date(2026, 2, 2)
    )
    act = _acting(db, unit, report)
    due, _ = await _due(db, report, date(2026, 2, 2))
    # 10 WD from Mon 2 Feb: 3-6, 9-13, (16-17 Imlek), 18 Feb.
    assert due["teruskan_kpk"].due == date(2026, 2, 18)
    await act(
        who["upg"],
        "mulai_verifikasi",
        "dilaporkan",
        date(2026, 2, 3),
        {
            "jenis_laporan": "penerimaan",
            "tanggal_terima": "2026-01-20",
            "nilai_estimasi": "antara_1_10jt",
        },
    )
    due, _ = await _due(db, report, date(2026, 2, 3))
    # 30 WD from Tue 20 Jan: 21-23, 26-30 Jan, 2-6, 9-13, 18-20, 23-27 Feb, 2-5 Mar.
    assert due["wajib_lapor_kpk"].due == date(2026, 3, 5)
    await act(who["upg"], "minta_kelengkapan", "verifikasi_upg", date(2026, 2, 4), message=True)
    due, _ = await _due(db, report, date(2026, 2, 4))
    # 20 WD from Wed 4 Feb: 5-6, 9-13, 18-20, 23-27 Feb, 2-6 Mar -> Fri 6 Mar.
    assert due["kelengkapan"].due == date(2026, 3, 6) and due["teruskan_kpk"].paused
    assert (await engine.run_timers(db, WORKFLOWS, Clock.on(date(2026, 3, 6)))).closed == 0
    run = await engine.run_timers(db, WORKFLOWS, Clock.on(date(2026, 3, 9)))
    assert run.closed == 1
    await db.refresh(report)
    assert (await engine.state_of(db, WORKFLOWS, report)).state == "gugur"
    assert report.status.value == "ditolak"
    # A dropped case has no deadline left: the statutory 30 WD stop with it.
    assert (await _due(db, report, date(2026, 3, 9)))[0] == {}


async def test_gratifikasi_to_kpk_decision_and_record_only_refusal(db, make_unit, make_staff):
    unit, report, who = await _setup(
        db, make_unit, make_staff, "gratifikasi", ("upg",), date(2026, 3, 2)
    )
    act = _acting(db, unit, report)
    upg = who["upg"]
    await act(
        upg,
        "mulai_verifikasi",
        "dilaporkan",
        date(2026, 3, 2),
        {
            "jenis_laporan": "penerimaan",
            "tanggal_terima": "2026-02-27",
            "nilai_estimasi": "antara_10_100jt",
        },
    )
    await act(
        upg,
        "teruskan_ke_kpk",
        "verifikasi_upg",
        date(2026, 3, 2),
        {"nomor_laporan_kpk": "GRAT-2026-0042"},
    )
    due, _ = await _due(db, report, date(2026, 3, 2))
    # 30 WD from Mon 2 Mar across Nyepi, Idul Fitri and Good Friday -> Tue 21 Apr.
    assert due["penetapan_kpk"].due == date(2026, 4, 21)
    await act(
        upg,
        "catat_penetapan",
        "menunggu_penetapan",
        date(2026, 4, 14),
        {"keputusan_kpk": "milik_negara", "nomor_sk": "1234/GRAT/04/2026"},
        message=True,
    )
    due, seen = await _due(db, report, date(2026, 4, 14))
    assert seen.state.state == "ditetapkan" and seen.status_label.id == "Diproses"
    assert due["tindak_lanjut_sk"].due == date(2026, 4, 23)  # 7 WD
    await act(upg, "tindak_lanjuti_sk", "ditetapkan", date(2026, 4, 20))
    await act(upg, "selesaikan", "tindak_lanjut_sk", date(2026, 4, 22))
    assert (await engine.state_of(db, WORKFLOWS, report)).state == "selesai"

    refusal = await make_report(db, unit, "gratifikasi", seq=2)
    await engine.begin(db, WORKFLOWS, CAL, refusal, Clock.on(date(2026, 3, 2)))
    await engine.act(
        db,
        WORKFLOWS,
        CAL,
        report=refusal,
        unit=unit,
        actor=upg,
        action="catat_penolakan_penyaluran",
        expected_state="dilaporkan",
        facts={"jenis_laporan": "penolakan", "tanggal_terima": "2026-02-27"},
        with_message=False,
        clock=Clock.on(date(2026, 3, 3)),
    )
    assert (await engine.state_of(db, WORKFLOWS, refusal)).state == "dicatat"
    assert (await _due(db, refusal, date(2026, 3, 3)))[0] == {}


async def test_conflict_of_interest_recusal_and_monitoring(db, make_unit, make_staff):
    unit, report, who = await _setup(
        db,
        make_unit,
        make_staff,
        "benturan_kepentingan",
        ("verifikator", "atasan"),
        date(2026, 3, 17),
    )
    act = _acting(db, unit, report)
    await act(
        who["verifikator"],
        "tangguhkan_keputusan",
        "dilaporkan",
        date(2026, 3, 17),
        {"jenis": "deklarasi", "sifat": "aktual", "sumber_konflik": "keluarga"},
    )
    await act(who["atasan"], "mulai_analisis", "keputusan_ditangguhkan", date(2026, 3, 25))
    with pytest.raises(engine.FactProblem):  # "no conflict" is not a form of control
        await act(
            who["atasan"],
            "tetapkan_pengendalian",
            "analisis_atasan",
            date(2026, 3, 26),
            {"bentuk_pengendalian": "tidak_ada_konflik"},
        )
    await act(
        who["atasan"],
        "tetapkan_pengendalian",
        "analisis_atasan",
        date(2026, 3, 26),
        {"bentuk_pengendalian": "recusal_delegasi"},
    )
    due, seen = await _due(db, report, date(2026, 3, 26))
    assert "analisis_atasan" not in due and seen.state.assignee_id == who["atasan"].id
    await act(who["atasan"], "mulai_pemantauan", "pengendalian", date(2026, 3, 27))
    await act(who["atasan"], "selesaikan", "dipantau", date(2026, 6, 30))
    assert (await engine.state_of(db, WORKFLOWS, report)).state == "selesai"
    assert (await audit.verify_unit(db, unit)).ok
