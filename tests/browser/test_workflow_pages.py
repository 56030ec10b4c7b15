"""Case workflows through the officer pages in real headless Chromium, against a live server.

- a UPG officer takes a gratification report from `dilaporkan` to `ditetapkan` with the
  action forms of the case page (facts typed in, the message to the reporter encrypted on the
  device); the reporter's mailbox shows the gratification workflow's own status labels
  ("Dilaporkan", then "Diproses") and the officer's message decrypted, and the officer's
  case page and inbox show the same label;
- a verifikator takes a public complaint to `tanggapan_diberikan` (an action sent from a tab
  opened before the case moved is refused with a reason on the form); the worker, run with a
  clock 11 working days later, closes it (`selesai_otomatis`) and both the case page and the
  reporter's mailbox say "Selesai";
- no script error or CSP violation on any of these pages, and neither the report content nor
  the officer's message ever travels readable in a request body.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.browser.live import Live, Watch, start_live
from tests.browser.test_reporting_pages import (
    ADMIN,
    PASS_ADMIN,
    PASS_OFFICER,
    PASS_UPG,
    UNIT,
    UPG,
    enrolled,
    gratification_values,
    new_page,
    open_case,
    sign_directory,
)
from tests.browser.test_reporting_pages import OFFICER as VERIFIKATOR
from wbs.calendar.service import calendar_for
from wbs.core.db import make_sessionmaker
from wbs.reporting import repository as reports
from wbs.worker import run_once
from wbs.workflow.registry import load_all
from wbs.workflow.service import Clock

pytestmark = pytest.mark.browser

CANARY_GIFT = "KANARI-PARSEL-3b1d9e"
CANARY_NAME = "KANARI-NAMA-UPG-8c2f"
CANARY_DECISION = "KANARI-PENETAPAN-61ad0f"
CANARY_COMPLAINT = "KANARI-ADUAN-e4c7a2"
CANARY_RESPONSE = "KANARI-TANGGAPAN-0d9b55"


@pytest.fixture
async def live(tmp_path: Path, databases: Any, serve: Any) -> Live:
    site = await start_live(tmp_path, databases, serve)
    await site.unit(UNIT, "KPP Pratama Uji")
    return site


async def submit(
    reporter: Any,
    live: Live,
    channel: str,
    values: dict[str, str],
    choices: dict[str, str] | None = None,
) -> tuple[str, str]:
    """Send a report through the public form; returns the case number and the receipt."""
    await reporter.goto(f"{live.url}/lapor/{UNIT}/{channel}")
    await reporter.wait_for_selector("#report-form[data-js=ready]", state="attached")
    for selector, value in values.items():
        await reporter.fill(selector, value)
    for selector, value in (choices or {}).items():
        await reporter.select_option(selector, value)
    await reporter.click("#submit-button")
    await reporter.wait_for_function(
        "() => document.getElementById('receipt').dataset.ready"
        " || document.getElementById('submit-status').classList.contains('alert')"
    )
    assert await reporter.get_attribute("#receipt", "data-ready") == "yes", (
        await reporter.text_content("#submit-status")
    )
    case_number = str(await reporter.text_content("[data-slot=case_number]")).strip()
    receipt = str(await reporter.text_content("[data-slot=receipt]")).strip()
    return case_number, receipt


def complaint_values(problem: str, service: str = "Pembuatan NPWP") -> dict[str, str]:
    """The public complaint form's fields."""
    return {
        "#f-layanan": service,
        "#f-masalah": problem,
        "#f-penyelesaian": "Berkas diproses",
        "#f-tempat": "Loket 2",
        "#f-waktu": "November 2026",
    }


async def state_of(page: Any) -> str:
    return str(await page.get_attribute("#workflow-state", "data-state"))


async def take_action(
    page: Any,
    watch: Watch,
    passphrase: str,
    action: str,
    facts: dict[str, str] | None = None,
    message: str | None = None,
) -> None:
    """Fill an action form of the case page, send it, and unlock the reloaded page."""
    form = f"#action-{action}"
    assert await page.is_visible(form), (action, await page.content())
    for name, value in (facts or {}).items():
        field = f"#fact-{action}-{name}"
        if await page.eval_on_selector(field, "e => e.tagName") == "SELECT":
            await page.select_option(field, value)
        else:
            await page.fill(field, value)
    if message is not None:
        await page.fill(f"#message-{action}", message)
    before = await state_of(page)
    try:
        async with page.expect_navigation(timeout=30_000):
            await page.click(f"{form} button[type=submit]")
    except Exception as exc:
        line = await page.text_content(f"{form} .status")
        raise AssertionError(f"{action}: {line!r} {watch.errors}") from exc
    await open_case(page, watch, passphrase)
    assert await state_of(page) != before, action


async def mailbox(browser: Any, live: Live, watch: Watch, receipt: str) -> Any:
    """The reporter's mailbox, opened in the browser with the receipt."""
    page = await new_page(browser, watch)
    await page.goto(f"{live.url}/kotak-surat")
    await page.fill("#tanda_terima", receipt)
    await page.click("#mailbox-login button[type=submit]")
    await page.wait_for_function(
        "() => document.getElementById('mailbox-view')?.dataset.ready"
        " || document.getElementById('login-status')?.classList.contains('alert')"
    )
    assert await page.get_attribute("#mailbox-view", "data-ready") == "yes", (
        await page.text_content("#login-status"),
        watch.errors,
    )
    return page


def clean(watch: Watch) -> None:
    assert watch.csp_violations() == []
    assert watch.errors == []


async def test_upg_takes_a_gratification_case_to_the_kpk_decision(browser: Any, live: Live) -> None:
    await live.staff(UNIT, ADMIN, PASS_ADMIN, "admin")
    await live.staff(UNIT, UPG, PASS_UPG, "upg")
    watch = Watch()
    upg, _ = await enrolled(browser, live, watch, UPG, PASS_UPG)
    admin, _ = await enrolled(browser, live, watch, ADMIN, PASS_ADMIN)
    await sign_directory(admin, live)

    reporter = await new_page(browser, watch)
    case_number, receipt = await submit(
        reporter,
        live,
        "gratifikasi",
        gratification_values(f"Parsel {CANARY_GIFT}", CANARY_NAME),
        {"#f-jenis": "barang", "#f-status": "dititipkan"},
    )
    assert case_number.startswith("GRT-")
    # Before anyone acts, the reporter sees the gratification label of `diterima`.
    first = await mailbox(browser, live, watch, receipt)
    assert await first.text_content("[data-slot=status]") == "Dilaporkan"
    await first.context.close()

    await upg.goto(f"{live.url}/staff/cases")
    await upg.click(f"text={case_number}")
    await open_case(upg, watch, PASS_UPG)
    assert await state_of(upg) == "dilaporkan"
    assert CANARY_GIFT in str(await upg.text_content("[data-slot=fields]"))
    received = (Clock.current(live.settings.timezone).today - timedelta(days=10)).isoformat()
    await take_action(
        upg,
        watch,
        PASS_UPG,
        "mulai_verifikasi",
        {
            "jenis_laporan": "penerimaan",
            "tanggal_terima": received,
            "nilai_estimasi": "antara_1_10jt",
        },
    )
    assert await state_of(upg) == "verifikasi_upg"
    facts = str(await upg.text_content("#facts"))
    assert "Penerimaan gratifikasi" in facts and received in facts
    assert "Rp1 juta sampai Rp10 juta" in facts
    assert UPG.split("@")[0].title() in str(await upg.text_content("#workflow-state"))
    # The statutory 30-working-day timer counts from the day the gift was received.
    assert "30 HK" in str(await upg.text_content("#deadlines"))

    await take_action(
        upg, watch, PASS_UPG, "teruskan_ke_kpk", {"nomor_laporan_kpk": "KPK-GRT-2026-0042"}
    )
    assert await state_of(upg) == "menunggu_penetapan"
    # The decision needs a message to the reporter: the browser refuses to send without one.
    await upg.select_option("#fact-catat_penetapan-keputusan_kpk", "milik_negara")
    await upg.click("#action-catat_penetapan button[type=submit]")
    assert await upg.eval_on_selector("#message-catat_penetapan", "e => !e.validity.valid")
    assert await state_of(upg) == "menunggu_penetapan"
    await take_action(
        upg,
        watch,
        PASS_UPG,
        "catat_penetapan",
        {
            "keputusan_kpk": "milik_negara",
            "nomor_sk": "SK-123/KPK/2026",
        },
        f"KPK menetapkan parsel menjadi milik negara {CANARY_DECISION}",
    )
    assert await state_of(upg) == "ditetapkan"
    assert str(await upg.text_content("#workflow-state-label")).strip() == "Ditetapkan KPK"
    assert CANARY_DECISION in str(await upg.text_content("[data-slot=messages]"))
    assert "Milik negara" in str(await upg.text_content("#facts"))
    # The officer sees the status the reporter sees, in this workflow's words.
    assert str(await upg.text_content("#case-status")).strip() == "Diproses"
    await upg.goto(f"{live.url}/staff/cases")
    row = upg.locator("#cases tbody tr", has_text=case_number)
    assert "Diproses" in str(await row.text_content())

    later = await mailbox(browser, live, watch, receipt)
    assert await later.text_content("[data-slot=status]") == "Diproses"
    assert CANARY_DECISION in str(await later.text_content("[data-slot=messages]"))
    assert CANARY_GIFT in str(await later.text_content("[data-slot=fields]"))

    assert watch.bodies, "no request bodies captured"
    assert any(b"catat_penetapan" in b for b in watch.bodies), "the action was not captured"
    assert watch.leaked(CANARY_GIFT, CANARY_NAME, CANARY_DECISION) == []
    assert await live.leaked(CANARY_GIFT, CANARY_NAME, CANARY_DECISION) == []
    clean(watch)
    for page in (upg, admin, reporter, later):
        await page.context.close()


async def test_complaint_answered_then_closed_by_the_timer(browser: Any, live: Live) -> None:
    await live.staff(UNIT, ADMIN, PASS_ADMIN, "admin")
    await live.staff(UNIT, VERIFIKATOR, PASS_OFFICER, "verifikator")
    watch = Watch()
    officer, _ = await enrolled(browser, live, watch, VERIFIKATOR, PASS_OFFICER)
    admin, _ = await enrolled(browser, live, watch, ADMIN, PASS_ADMIN)
    await sign_directory(admin, live)

    reporter = await new_page(browser, watch)
    case_number, receipt = await submit(
        reporter,
        live,
        "pengaduan",
        complaint_values(f"Berkas ditolak tanpa alasan {CANARY_COMPLAINT}"),
    )

    await officer.goto(f"{live.url}/staff/cases")
    await officer.click(f"text={case_number}")
    await open_case(officer, watch, PASS_OFFICER)
    assert await state_of(officer) == "diterima"
    assert CANARY_COMPLAINT in str(await officer.text_content("[data-slot=fields]"))
    # A second tab of the same officer, opened before the first one acts.
    stale = watch.attach(await officer.context.new_page())
    await stale.goto(officer.url)
    await open_case(stale, watch, PASS_OFFICER)
    await take_action(officer, watch, PASS_OFFICER, "mulai_verifikasi")
    assert await state_of(officer) == "verifikasi"
    # The stale tab's action is refused with a reason on the form, and nothing moves.
    await stale.click("#action-mulai_verifikasi button[type=submit]")
    await stale.wait_for_selector("#action-mulai_verifikasi .status.alert")
    assert "Muat ulang" in str(await stale.text_content("#action-mulai_verifikasi .status"))
    refused = [e for e in watch.errors if "409" in e]
    assert len(refused) == 1, watch.errors  # the browser logs the refused request itself
    watch.errors.remove(refused[0])
    await stale.close()
    await take_action(
        officer, watch, PASS_OFFICER, "nyatakan_terverifikasi", {"klasifikasi": "pengaduan"}
    )
    assert await state_of(officer) == "terverifikasi"
    await take_action(officer, watch, PASS_OFFICER, "disposisi", {"tier": "normatif"})
    assert await state_of(officer) == "didisposisi"
    await take_action(officer, watch, PASS_OFFICER, "mulai_tindak_lanjut")
    assert await state_of(officer) == "ditindaklanjuti"
    assert "Tindak lanjut sesuai tingkat" in str(await officer.text_content("#deadlines"))
    await take_action(
        officer,
        watch,
        PASS_OFFICER,
        "beri_tanggapan",
        None,
        f"Berkas Anda sudah diproses {CANARY_RESPONSE}",
    )
    assert await state_of(officer) == "tanggapan_diberikan"
    assert "Menunggu balasan pelapor" in str(await officer.text_content("#deadlines"))

    answered = await mailbox(browser, live, watch, receipt)
    assert await answered.text_content("[data-slot=status]") == "Sedang ditindaklanjuti"
    assert CANARY_RESPONSE in str(await answered.text_content("[data-slot=messages]"))
    await answered.context.close()

    # The worker, 11 working days on, with no reply from the reporter: closed by the timer.
    sessions = make_sessionmaker(live.engine)
    today = Clock.current(live.settings.timezone).today
    async with sessions() as db:
        report_id = str(await officer.evaluate("() => location.pathname")).rsplit("/", 1)[1]
        report = await reports.by_public_id(db, report_id)
        assert report is not None and report.case_number == case_number
        calendar = await calendar_for(db, await reports.unit_of(db, report))
    workflows = load_all(live.settings.workflows_dir)
    ten = await run_once(
        live.settings,
        sessions,
        workflows,
        clock=Clock.on(calendar.add(today, 10), live.settings.timezone),
    )
    assert ten.timers.closed == 0  # the tenth working day is still within the budget
    run = await run_once(
        live.settings,
        sessions,
        workflows,
        clock=Clock.on(calendar.add(today, 11), live.settings.timezone),
    )
    assert run.timers.closed == 1

    await officer.reload()
    assert await state_of(officer) == "selesai"
    assert str(await officer.text_content("#workflow-state-label")).strip() == "Selesai"
    assert str(await officer.text_content("#case-status")).strip() == "Selesai"
    await open_case(officer, watch, PASS_OFFICER)
    assert not await officer.query_selector(".action-form")
    closed = await mailbox(browser, live, watch, receipt)
    assert await closed.text_content("[data-slot=status]") == "Selesai"

    assert watch.bodies, "no request bodies captured"
    assert any(b"beri_tanggapan" in b for b in watch.bodies), "the action was not captured"
    assert watch.leaked(CANARY_COMPLAINT, CANARY_RESPONSE) == []
    assert await live.leaked(CANARY_COMPLAINT, CANARY_RESPONSE) == []
    clean(watch)
    for page in (officer, admin, reporter, closed):
        await page.context.close()
