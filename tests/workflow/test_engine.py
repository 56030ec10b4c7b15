"""The workflow engine on a real database: transitions, facts, timers across Idul Fitri 2026."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from tests.workflow.helpers import mailbox_message, make_report
from wbs.audit import service as audit
from wbs.audit.models import AuditEvent
from wbs.calendar.workdays import WorkCalendar
from wbs.outbox.models import OutboxMessage
from wbs.workflow import service as engine
from wbs.workflow.registry import load_all
from wbs.workflow.service import Clock

WORKFLOWS = load_all()
CAL = WorkCalendar()
TZ = "Asia/Jakarta"


async def _case(db, make_unit, make_staff, case_type, *roles):
    unit = await make_unit()
    officers = {role: (await make_staff(unit, role)).staff for role in roles}
    report = await make_report(db, unit, case_type)
    await engine.begin(db, WORKFLOWS, CAL, report, Clock.on(date(2026, 3, 17)))
    return unit, report, officers


async def _act(db, unit, report, actor, action, expected, today, facts=None, message=False):
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
        clock=Clock.on(today),
    )


async def _deadlines(db, report, today):
    seen = await engine.view(db, WORKFLOWS, CAL, report, Clock.on(today))
    return {d.name: d for d in seen.deadlines}, seen


async def test_pengaduan_verification_pauses_across_idul_fitri(db, make_unit, make_staff):
    unit, report, who = await _case(
        db, make_unit, make_staff, "pengaduan", "verifikator", "atasan", "investigator"
    )
    v = who["verifikator"]
    due, _ = await _deadlines(db, report, date(2026, 3, 17))
    # Tue 17 Mar + 3 WD: 18 cuti, 19 Nyepi, 20 cuti, 21-22 Idul Fitri, 23-24 cuti -> 27 Mar.
    assert due["verifikasi"].due == date(2026, 3, 27)

    await _act(db, unit, report, v, "mulai_verifikasi", "diterima", date(2026, 3, 25))
    await _act(
        db, unit, report, v, "minta_kelengkapan", "verifikasi", date(2026, 3, 25), message=True
    )
    due, seen = await _deadlines(db, report, date(2026, 3, 30))
    assert due["verifikasi"].paused and not due["verifikasi"].overdue
    assert seen.status_label.id == "Sedang diverifikasi"
    # The reporter answers on Wed 1 Apr: 1 WD used (25 Mar), 2 left from 1 Apr:
    # Thu 2 Apr, (Good Friday 3 Apr), Mon 6 Apr.
    await mailbox_message(db, report, "reporter", date(2026, 4, 1))
    await engine.sync(db, WORKFLOWS, CAL, report, unit, TZ)
    due, seen = await _deadlines(db, report, date(2026, 4, 1))
    assert seen.state.state == "verifikasi"
    assert due["verifikasi"].due == date(2026, 4, 6) and not due["verifikasi"].paused

    await _act(
        db,
        unit,
        report,
        v,
        "nyatakan_terverifikasi",
        "verifikasi",
        date(2026, 4, 2),
        facts={"klasifikasi": "pengaduan"},
    )
    await _act(
        db,
        unit,
        report,
        who["atasan"],
        "disposisi",
        "terverifikasi",
        date(2026, 4, 2),
        facts={"tier": "normatif"},
    )
    due, _ = await _deadlines(db, report, date(2026, 4, 2))
    assert "verifikasi" not in due
    assert due["disposisi"].due == date(2026, 4, 10)  # 5 WD after Thu 2 Apr, skipping 3 Apr
    assert due["penyelesaian"].due == date(2026, 6, 1)  # 60 calendar days from 2 Apr
    await _act(
        db,
        unit,
        report,
        who["investigator"],
        "mulai_tindak_lanjut",
        "didisposisi",
        date(2026, 4, 6),
    )
    due, seen = await _deadlines(db, report, date(2026, 4, 6))
    assert due["tindak_lanjut"].due == date(2026, 4, 13)  # normatif: 5 WD
    assert seen.state.assignee_id == who["investigator"].id
    await _act(
        db,
        unit,
        report,
        who["investigator"],
        "beri_tanggapan",
        "ditindaklanjuti",
        date(2026, 4, 8),
        message=True,
    )
    due, _ = await _deadlines(db, report, date(2026, 4, 8))
    assert due["konfirmasi_pelapor"].due == date(2026, 4, 22)

    # Nothing happens on the due day; the day after, the case closes by itself.
    assert (await engine.run_timers(db, WORKFLOWS, Clock.on(date(2026, 4, 22)))).closed == 0
    run = await engine.run_timers(db, WORKFLOWS, Clock.on(date(2026, 4, 23)))
    assert run.closed == 1
    await db.refresh(report)
    assert report.status.value == "selesai"
    assert (await engine.state_of(db, WORKFLOWS, report)).state == "selesai"
    # Running the timers again changes nothing.
    assert (await engine.run_timers(db, WORKFLOWS, Clock.on(date(2026, 4, 23)))).closed == 0

    actions = [
        e.details["action"]
        for e in await db.scalars(
            select(AuditEvent)
            .where(AuditEvent.unit_id == unit.id, AuditEvent.action == "case.transition")
            .order_by(AuditEvent.id)
        )
    ]
    assert actions == [
        "mulai_verifikasi",
        "minta_kelengkapan",
        "kelengkapan_diterima",
        "nyatakan_terverifikasi",
        "disposisi",
        "mulai_tindak_lanjut",
        "beri_tanggapan",
        "selesai_otomatis",
    ]
    assert (await audit.verify_unit(db, unit)).ok


async def test_a_reply_reopens_a_response(db, make_unit, make_staff):
    unit, report, who = await _case(db, make_unit, make_staff, "pengaduan", "verifikator")
    v = who["verifikator"]
    for action, expected, facts, message in (
        ("mulai_verifikasi", "diterima", {}, False),
        ("nyatakan_terverifikasi", "verifikasi", {"klasifikasi": "aspirasi"}, False),
        ("disposisi", "terverifikasi", {"tier": "ringan"}, False),
        ("mulai_tindak_lanjut", "didisposisi", {}, False),
        ("beri_tanggapan", "ditindaklanjuti", {}, True),
    ):
        await _act(db, unit, report, v, action, expected, date(2026, 5, 4), facts, message)
    await mailbox_message(db, report, "reporter", date(2026, 5, 6))
    await engine.sync(db, WORKFLOWS, CAL, report, unit, TZ)
    due, seen = await _deadlines(db, report, date(2026, 5, 6))
    assert seen.state.state == "ditindaklanjuti"
    assert "konfirmasi_pelapor" not in due
    assert due["tindak_lanjut"].due == date(2026, 5, 8)  # ringan: 2 WD, restarted


async def test_refusals_are_clean(db, make_unit, make_staff):
    unit, report, who = await _case(
        db, make_unit, make_staff, "pengaduan", "verifikator", "auditor"
    )
    v, auditor = who["verifikator"], who["auditor"]
    today = date(2026, 3, 17)
    with pytest.raises(engine.RoleNotAllowed):
        await _act(db, unit, report, auditor, "mulai_verifikasi", "diterima", today)
    with pytest.raises(engine.NotFromHere):
        await _act(db, unit, report, v, "disposisi", "diterima", today, {"tier": "ringan"})
    with pytest.raises(engine.StateChanged):
        await _act(db, unit, report, v, "mulai_verifikasi", "verifikasi", today)
    with pytest.raises(engine.UnknownAction):
        await _act(db, unit, report, v, "hapus_kasus", "diterima", today)
    with pytest.raises(engine.NotFromHere):
        await _act(db, unit, report, v, "selesai_otomatis", "diterima", today)
    await _act(db, unit, report, v, "mulai_verifikasi", "diterima", today)
    with pytest.raises(engine.FactProblem, match="Report class"):
        await _act(db, unit, report, v, "nyatakan_terverifikasi", "verifikasi", today)
    with pytest.raises(engine.FactProblem):
        await _act(
            db,
            unit,
            report,
            v,
            "nyatakan_terverifikasi",
            "verifikasi",
            today,
            {"klasifikasi": "gosip"},
        )
    with pytest.raises(engine.FactProblem):
        await _act(
            db,
            unit,
            report,
            v,
            "nyatakan_terverifikasi",
            "verifikasi",
            today,
            {"klasifikasi": "aspirasi", "tier": "ringan"},
        )
    with pytest.raises(engine.MessageRequired):
        await _act(db, unit, report, v, "minta_kelengkapan", "verifikasi", today)
    with pytest.raises(engine.FactProblem):
        await _act(
            db,
            unit,
            report,
            v,
            "teruskan_bukan_wewenang",
            "verifikasi",
            today,
            {"instansi_tujuan": "x" * 201},
            message=True,
        )
    # Nothing half-written: still at verifikasi, no facts recorded.
    assert (await engine.state_of(db, WORKFLOWS, report)).state == "verifikasi"
    assert await engine.facts_of(db, report.id) == {}


async def test_gratifikasi_thresholds_follow_the_date_received(db, make_unit, make_staff):
    unit, report, who = await _case(db, make_unit, make_staff, "gratifikasi", "upg")
    upg = who["upg"]
    today = date(2026, 3, 2)
    with pytest.raises(engine.FactProblem, match="only for"):
        await _act(
            db,
            unit,
            report,
            upg,
            "mulai_verifikasi",
            "dilaporkan",
            today,
            {
                "jenis_laporan": "penolakan",
                "tanggal_terima": "2026-02-02",
                "nilai_estimasi": "kurang_1jt",
            },
        )
    with pytest.raises(engine.FactProblem, match="after today"):
        await _act(
            db,
            unit,
            report,
            upg,
            "mulai_verifikasi",
            "dilaporkan",
            today,
            {
                "jenis_laporan": "penerimaan",
                "tanggal_terima": "2026-03-03",
                "nilai_estimasi": "kurang_1jt",
            },
        )
    await _act(
        db,
        unit,
        report,
        upg,
        "mulai_verifikasi",
        "dilaporkan",
        today,
        {
            "jenis_laporan": "penerimaan",
            "tanggal_terima": "2026-02-02",
            "nilai_estimasi": "kurang_1jt",
        },
    )
    due, _ = await _deadlines(db, report, today)
    # 30 WD from Mon 2 Feb 2026: 16-17 Feb Imlek, so 29 WD by Tue 17 Mar; then Nyepi and
    # Idul Fitri (18-24 Mar) -> Wed 25 Mar.
    assert due["wajib_lapor_kpk"].due == date(2026, 3, 25)
    with pytest.raises(engine.FactProblem, match="KPK Regulation 1/2026"):
        await _act(
            db,
            unit,
            report,
            upg,
            "nyatakan_tidak_wajib_lapor",
            "verifikasi_upg",
            today,
            {"kode_pengecualian": "pernikahan_1jt"},
            message=True,
        )
    await _act(
        db,
        unit,
        report,
        upg,
        "nyatakan_tidak_wajib_lapor",
        "verifikasi_upg",
        today,
        {"kode_pengecualian": "pernikahan_1_5jt"},
        message=True,
    )
    assert (await engine.state_of(db, WORKFLOWS, report)).state == "tidak_wajib_lapor"
    facts = await engine.facts_of(db, report.id)
    assert facts["kode_pengecualian"] == "pernikahan_1_5jt"


async def test_escalation_and_reminder_reach_the_outbox(db, make_unit, make_staff):
    _unit, report, _who = await _case(db, make_unit, make_staff, "benturan_kepentingan", "atasan")
    # 7 WD from Tue 17 Mar 2026, 18-24 Mar being Nyepi, Idul Fitri and cuti bersama:
    # 25, 26, 27, 30, 31 Mar, 1, 2 Apr -> Thu 2 Apr.
    due, _ = await _deadlines(db, report, date(2026, 3, 17))
    assert due["analisis_atasan"].due == date(2026, 4, 2)
    assert (await engine.run_timers(db, WORKFLOWS, Clock.on(date(2026, 3, 30)))).reminded == 0
    assert (await engine.run_timers(db, WORKFLOWS, Clock.on(date(2026, 3, 31)))).reminded == 1
    assert (await engine.run_timers(db, WORKFLOWS, Clock.on(date(2026, 4, 1)))).reminded == 0
    assert (await engine.run_timers(db, WORKFLOWS, Clock.on(date(2026, 4, 2)))).escalated == 0
    run = await engine.run_timers(db, WORKFLOWS, Clock.on(date(2026, 4, 3)))
    assert run.escalated == 1
    due, _ = await _deadlines(db, report, date(2026, 4, 3))
    assert due["analisis_atasan"].overdue and due["analisis_atasan"].escalated_to == "atasan"
    kinds = [
        (m.payload["reason"], m.payload["role"])
        for m in await db.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.kind == "case_needs_you")
            .order_by(OutboxMessage.id)
        )
        if m.payload["case"] == report.public_id
    ]
    assert ("escalated", "atasan") in kinds and ("due_soon", "atasan") in kinds
    for message in await db.scalars(select(OutboxMessage)):
        assert set(message.payload) <= {"case", "unit_id", "reason", "staff_id", "role"}


@pytest.mark.parametrize("today", [date(2026, 3, 31), date(2026, 4, 3)])  # reminder, expiry
async def test_a_timer_left_running_on_a_closed_case_is_stopped(db, make_unit, make_staff, today):
    """A database from before closing stopped every timer: the worker stops such a timer
    instead of reminding or escalating anyone about a closed case."""
    _unit, report, _who = await _case(db, make_unit, make_staff, "benturan_kepentingan", "atasan")
    workflow = WORKFLOWS.of(report.case_type.value)
    row = await engine.state_of(db, WORKFLOWS, report)
    row.state = next(name for name, node in workflow.states.items() if node.terminal)
    await db.flush()
    timers = await engine.timers_of(db, report.id)
    assert [t.stopped_on for t in timers] == [None]  # what such a database holds

    run = await engine.run_timers(db, WORKFLOWS, Clock.on(today))
    assert (run.stopped, run.reminded, run.escalated, run.closed) == (1, 0, 0, 0)
    (timer,) = await engine.timers_of(db, report.id)
    assert timer.stopped_on == today and timer.expired_on is None
    messages = await db.scalars(select(OutboxMessage).where(OutboxMessage.kind == "case_needs_you"))
    assert [m for m in messages if m.payload["case"] == report.public_id] == []
    again = await engine.run_timers(db, WORKFLOWS, Clock.on(date(2026, 5, 4)))
    assert (again.stopped, again.reminded, again.escalated) == (0, 0, 0)
