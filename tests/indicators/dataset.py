"""A data set with known indicators: a unit tree P <- A <- A1, P <- B, cases of all four
workflows walked on the real engine with frozen clocks, across Nyepi, Idul Fitri 2026 and
its cuti bersama, Good Friday, the year boundary (received on 31 Dec, acted on in January)
and the time zone (00:30 WIB on 1 Jan 2026 is still 2025 in UTC).

Every figure the tests expect is counted by hand in the comments below, not by the code
under test. Canaries sit in report content, identity and free-text facts: none may appear
in any indicator output.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from tests.workflow.helpers import mailbox_message, make_report
from wbs.calendar.workdays import WorkCalendar
from wbs.reporting.models import Report
from wbs.staff.models import Staff
from wbs.units.models import Unit
from wbs.workflow import service as engine
from wbs.workflow.registry import load_all
from wbs.workflow.service import Clock

WORKFLOWS = load_all()
CAL = WorkCalendar()
WIB = ZoneInfo("Asia/Jakarta")
CANARY = "CANARY7731"
AS_OF = date(2027, 1, 4)


@dataclass
class Tree:
    p: Unit
    a: Unit
    b: Unit
    a1: Unit
    staff: Staff
    reports: dict[str, Report]


def at(day: date, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=WIB).astimezone(UTC)


async def _case(
    db: AsyncSession,
    tree: Tree,
    unit: Unit,
    name: str,
    case_type: str,
    submitted: datetime,
    *,
    form: bool = False,
) -> Report:
    seq = len(tree.reports) + 1
    report = await make_report(db, unit, case_type, seq=seq)
    report.submitted_at = report.status_changed_at = report.last_activity_at = submitted
    report.server_sealed = form
    report.content = f"{CANARY}-content-{name}"
    report.identity = f"{CANARY}-identity-{name}"
    await db.flush()
    await engine.begin(db, WORKFLOWS, CAL, report, Clock(submitted))
    tree.reports[name] = report
    return report


async def _act(
    db: AsyncSession,
    tree: Tree,
    unit: Unit,
    report: Report,
    steps: list[tuple[str, date, dict[str, Any]]],
) -> None:
    for action, day, facts in steps:
        state = await engine.state_of(db, WORKFLOWS, report)
        flow = WORKFLOWS.of(report.case_type.value)
        message = flow.transitions[action].message.value == "required"
        await engine.act(
            db,
            WORKFLOWS,
            CAL,
            report=report,
            unit=unit,
            actor=tree.staff,
            action=action,
            expected_state=state.state,
            facts=facts,
            with_message=message,
            clock=Clock.on(day),
        )


async def build(db: AsyncSession, make_unit: Any, make_staff: Any) -> Tree:
    p = await make_unit(name="Kementerian Uji")
    a = await make_unit(name="Direktorat A", parent=p.code)
    b = await make_unit(name="Direktorat B", parent=p.code)
    a1 = await make_unit(name="Subdirektorat A1", parent=a.code)
    staff = (await make_staff(p, "verifikator", "atasan", "investigator", "upg")).staff
    t = Tree(p, a, b, a1, staff, {})

    # --- pengaduan ------------------------------------------------------------------------
    # p1 (A1) Tue 17 Mar, browser: first response Wed 25 Mar = 1 WD (18-24 Mar are Nyepi,
    # Idul Fitri and cuti bersama), verified 26 Mar (2 WD), followed up 27 Mar (3 WD),
    # answered 30 Mar; then waits for the reporter: konfirmasi_pelapor (10 WD from 30 Mar,
    # Good Friday skipped) was due 14 Apr and is still running -> overdue, not completed.
    p1 = await _case(db, t, a1, "p1", "pengaduan", at(date(2026, 3, 17)))
    await _act(
        db,
        t,
        a1,
        p1,
        [
            ("mulai_verifikasi", date(2026, 3, 25), {}),
            ("nyatakan_terverifikasi", date(2026, 3, 26), {"klasifikasi": "pengaduan"}),
            ("disposisi", date(2026, 3, 26), {"tier": "ringan"}),
            ("mulai_tindak_lanjut", date(2026, 3, 27), {}),
            ("beri_tanggapan", date(2026, 3, 30), {}),
        ],
    )
    await mailbox_message(db, p1, "officer", date(2026, 3, 30))
    await mailbox_message(db, p1, "reporter", date(2026, 4, 1))
    # p2 (A1) 23:30 WIB on Wed 31 Dec 2025, plain form: a 2025 case. First response Mon
    # 5 Jan = 2 WD (1 Jan holiday, 2 Jan), forwarded (not within remit) Tue 6 Jan = 3 WD,
    # verifikasi (3 WD from 31 Dec: 2, 5, 6 Jan) stopped on its due day: on time.
    p2 = await _case(db, t, a1, "p2", "pengaduan", at(date(2025, 12, 31), 23, 30), form=True)
    await _act(
        db,
        t,
        a1,
        p2,
        [
            ("mulai_verifikasi", date(2026, 1, 5), {}),
            (
                "teruskan_bukan_wewenang",
                date(2026, 1, 6),
                {"instansi_tujuan": f"{CANARY} Dinas Rahasia"},
            ),
        ],
    )
    # p3 (A1) 00:30 WIB on Thu 1 Jan 2026 (still 31 Dec in UTC), plain form: a 2026 case.
    # First response Fri 2 Jan = 1 WD, archived Mon 5 Jan = 2 WD, verifikasi due 6 Jan: on time.
    p3 = await _case(db, t, a1, "p3", "pengaduan", at(date(2026, 1, 1), 0, 30), form=True)
    await _act(
        db,
        t,
        a1,
        p3,
        [
            ("mulai_verifikasi", date(2026, 1, 2), {}),
            ("arsipkan", date(2026, 1, 5), {"alasan_arsip": "duplikat"}),
        ],
    )
    # p4 (B) Tue 2 Jun: first response Wed 10 Jun = 6 WD, forwarded 11 Jun = 7 WD; verifikasi
    # was due Fri 5 Jun and stopped 11 Jun: completed late.
    p4 = await _case(db, t, b, "p4", "pengaduan", at(date(2026, 6, 2)))
    await _act(
        db,
        t,
        b,
        p4,
        [
            ("mulai_verifikasi", date(2026, 6, 10), {}),
            ("teruskan_bukan_wewenang", date(2026, 6, 11), {"instansi_tujuan": CANARY}),
        ],
    )

    # --- wbs ------------------------------------------------------------------------------
    # w1 (A) Tue 17 Mar: acknowledged 25 Mar (1 WD; tanda_terima, 7 days, was due 24 Mar:
    # late), telaah 9 Apr (verified, 11 WD), referred to the Inspektorat Jenderal 13 Apr
    # (followed up and forwarded to APIP, 13 WD), closed 11 May (32 WD). Officer message on
    # 25 Mar: feedback within 90 days.
    w1 = await _case(db, t, a, "w1", "wbs", at(date(2026, 3, 17)))
    await _act(
        db,
        t,
        a,
        w1,
        [
            ("konfirmasi_penerimaan", date(2026, 3, 25), {}),
            ("mulai_telaah", date(2026, 4, 9), {"risiko_pembalasan": "tinggi"}),
            ("limpahkan", date(2026, 4, 13), {"tujuan_pelimpahan": "itjen"}),
            ("susun_rekomendasi", date(2026, 5, 4), {}),
            ("selesaikan", date(2026, 5, 11), {"hasil": "sanksi"}),
        ],
    )
    await mailbox_message(db, w1, "officer", date(2026, 3, 25))
    # w2 (B) Tue 1 Sep: acknowledged 2 Sep (1 WD), cannot be followed up 4 Sep (3 WD), every
    # deadline met. No officer message: its 90 days ended 30 Nov without feedback.
    w2 = await _case(db, t, b, "w2", "wbs", at(date(2026, 9, 1)))
    await _act(
        db,
        t,
        b,
        w2,
        [
            ("konfirmasi_penerimaan", date(2026, 9, 2), {}),
            (
                "nyatakan_tidak_dapat_ditindaklanjuti",
                date(2026, 9, 4),
                {
                    "alasan_tidak_ditindaklanjuti": "bukti_tidak_cukup",
                    "risiko_pembalasan": "rendah",
                },
            ),
        ],
    )
    # w3 (A1) Fri 20 Nov, untouched: tanda_terima due 27 Nov -> overdue; its 90 days end
    # 18 Feb 2027, after the as-of day: not yet due for feedback.
    await _case(db, t, a1, "w3", "wbs", at(date(2026, 11, 20)))
    # w4 (P itself) Mon 2 Feb: acknowledged 3 Feb (1 WD), verification due 12 Feb still
    # running -> overdue. Officer message 10 May, after 2 Feb + 90 days (3 May): late.
    w4 = await _case(db, t, p, "w4", "wbs", at(date(2026, 2, 2)))
    await _act(db, t, p, w4, [("konfirmasi_penerimaan", date(2026, 2, 3), {})])
    await mailbox_message(db, w4, "officer", date(2026, 5, 10))

    # --- gratifikasi ----------------------------------------------------------------------
    # g1 (A) Mon 6 Apr: verification 7 Apr (first response and verified, 1 WD), forwarded to
    # KPK 8 Apr (2 WD), KPK decided milik_negara 20 May; the hand-over (7 WD from 20 May,
    # due 3 Jun) is still running -> overdue, not completed.
    g1 = await _case(db, t, a, "g1", "gratifikasi", at(date(2026, 4, 6)))
    await _act(
        db,
        t,
        a,
        g1,
        [
            (
                "mulai_verifikasi",
                date(2026, 4, 7),
                {
                    "jenis_laporan": "penerimaan",
                    "tanggal_terima": "2026-04-01",
                    "nilai_estimasi": "antara_1_10jt",
                },
            ),
            ("teruskan_ke_kpk", date(2026, 4, 8), {"nomor_laporan_kpk": f"{CANARY}-KPK"}),
            ("catat_penetapan", date(2026, 5, 20), {"keputusan_kpk": "milik_negara"}),
        ],
    )
    # g2 (A1) Wed 1 Jul: a refusal recorded 2 Jul (1 WD), on time.
    g2 = await _case(db, t, a1, "g2", "gratifikasi", at(date(2026, 7, 1)))
    await _act(
        db,
        t,
        a1,
        g2,
        [
            (
                "catat_penolakan_penyaluran",
                date(2026, 7, 2),
                {"jenis_laporan": "penolakan", "tanggal_terima": "2026-06-30"},
            )
        ],
    )
    # g3 (B) Mon 3 Aug: a donation (under Rp1 million) recorded 4 Aug (1 WD), on time.
    g3 = await _case(db, t, b, "g3", "gratifikasi", at(date(2026, 8, 3)))
    await _act(
        db,
        t,
        b,
        g3,
        [
            (
                "catat_penolakan_penyaluran",
                date(2026, 8, 4),
                {
                    "jenis_laporan": "penyaluran",
                    "tanggal_terima": "2026-08-03",
                    "nilai_estimasi": "kurang_1jt",
                },
            )
        ],
    )
    # g4 (B) Mon 5 Oct, plain form, untouched: teruskan_kpk due 19 Oct -> overdue.
    await _case(db, t, b, "g4", "gratifikasi", at(date(2026, 10, 5)), form=True)
    # g5 (P) 23:00 WIB Thu 31 Dec 2026, handled Mon 4 Jan 2027 (1 Jan 2027 a holiday): first
    # response, verified and exempt (completed) all 1 WD, on time: received in 2026.
    g5 = await _case(db, t, p, "g5", "gratifikasi", at(date(2026, 12, 31), 23))
    await _act(
        db,
        t,
        p,
        g5,
        [
            (
                "mulai_verifikasi",
                date(2027, 1, 4),
                {
                    "jenis_laporan": "penerimaan",
                    "tanggal_terima": "2026-12-30",
                    "nilai_estimasi": "lebih_100jt",
                },
            ),
            (
                "nyatakan_tidak_wajib_lapor",
                date(2027, 1, 4),
                {"kode_pengecualian": "karangan_bunga"},
            ),
        ],
    )

    # --- benturan kepentingan -------------------------------------------------------------
    # b1 (A1) Mon 4 May: a declaration recorded 5 May (1 WD, verified), control set 7 May
    # (recusal, 3 WD, analisis_atasan due 13 May: on time), closed Tue 2 Jun = 16 WD
    # (14-15 May, 27-28 May and 1 Jun are holidays or cuti bersama).
    b1 = await _case(db, t, a1, "b1", "benturan_kepentingan", at(date(2026, 5, 4)))
    await _act(
        db,
        t,
        a1,
        b1,
        [
            (
                "tangguhkan_keputusan",
                date(2026, 5, 5),
                {"jenis": "deklarasi", "sifat": "potensial", "sumber_konflik": "keluarga"},
            ),
            ("mulai_analisis", date(2026, 5, 6), {}),
            (
                "tetapkan_pengendalian",
                date(2026, 5, 7),
                {"bentuk_pengendalian": "recusal_delegasi"},
            ),
            ("mulai_pemantauan", date(2026, 5, 8), {}),
            ("selesaikan", date(2026, 6, 2), {}),
        ],
    )
    # b2 (B) Mon 4 May: a complaint not followed up on 20 May = 10 WD, after its 13 May due day.
    b2 = await _case(db, t, b, "b2", "benturan_kepentingan", at(date(2026, 5, 4)))
    await _act(
        db,
        t,
        b,
        b2,
        [
            (
                "tolak",
                date(2026, 5, 20),
                {"jenis": "aduan", "alasan_penolakan": "informasi_tidak_cukup"},
            )
        ],
    )
    # b3 (A) Mon 12 Oct, plain form, untouched: analisis_atasan due 21 Oct -> overdue.
    await _case(db, t, a, "b3", "benturan_kepentingan", at(date(2026, 10, 12)), form=True)
    await db.commit()
    return t
