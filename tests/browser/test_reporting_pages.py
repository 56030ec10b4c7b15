"""Reporter and officer pages in real headless Chromium against a live wbs server.

- every public page loads without a CSP violation or script error; screenshots of the
  landing page and the form (written to WBS_SCREENSHOTS or the test's tmp dir);
- the browser path end to end: officer and admin enrol device keys, the admin signs the
  directory, a reporter sends a whistle-blowing report with an attachment (only ciphertext
  in every request body), the officer reads it decrypted and replies, and the reporter reads
  the reply with the receipt;
- the no-JavaScript path end to end.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from crypto.signing import signing_fingerprint
from tests.browser.live import Live, Watch, start_live

pytestmark = pytest.mark.browser

UNIT = "KPPUJI"
PASS_ADMIN = "admin kata sandi panjang 1"
PASS_OFFICER = "petugas kata sandi panjang 2"
PASS_OTHER = "petugas lain kata sandi 3"
PASS_UPG = "upg kata sandi panjang 4"
ADMIN, OFFICER, OTHER, UPG = (f"{n}@uji.go.id" for n in ("admin", "verifikator", "rekan", "upg"))


@pytest.fixture
async def live(tmp_path: Path, databases: Any, serve: Any) -> Live:
    site = await start_live(tmp_path, databases, serve)
    await site.unit(UNIT, "KPP Pratama Uji")
    return site


async def new_page(browser: Any, watch: Watch, *, javascript: bool = True) -> Any:
    context = await browser.new_context(
        locale="id-ID",
        timezone_id="Asia/Jakarta",
        java_script_enabled=javascript,
        viewport={"width": 390, "height": 844},
        accept_downloads=True,
    )
    page = await context.new_page()
    page.set_default_timeout(60_000)
    return watch.attach(page)


def shots_dir(tmp_path: Path) -> Path:
    target = Path(os.environ.get("WBS_SCREENSHOTS", tmp_path / "shots"))
    target.mkdir(parents=True, exist_ok=True)
    return target


async def test_public_pages_pass_the_csp(browser: Any, live: Live, tmp_path: Path) -> None:
    watch = Watch()
    page = await new_page(browser, watch)
    shots = shots_dir(tmp_path)
    for path in (
        "/",
        f"/lapor/{UNIT}",
        f"/lapor/{UNIT}?lang=en",
        f"/lapor/{UNIT}/wbs",
        f"/lapor/{UNIT}/gratifikasi?lang=en",
        f"/lapor/{UNIT}/pengaduan",
        f"/lapor/{UNIT}/benturan_kepentingan",
        "/kotak-surat",
        f"/lapor/{UNIT}/poster",
        "/staff/login",
    ):
        response = await page.goto(live.url + path)
        assert response.status == 200, path
        await page.wait_for_load_state("networkidle")
    await page.goto(f"{live.url}/lapor/{UNIT}")
    await page.screenshot(path=str(shots / "landing.png"), full_page=True)
    await page.goto(f"{live.url}/lapor/{UNIT}/wbs")
    # No signed directory yet: the page says the keys cannot be verified and will not send.
    await page.wait_for_function("() => document.getElementById('report-form').dataset.js")
    assert await page.eval_on_selector("#report-form", "f => f.dataset.js") == "failed"
    assert await page.is_disabled("#submit-button")
    await page.screenshot(path=str(shots / "form.png"), full_page=True)
    # Keyboard: the skip link is the first stop and leads to the main content.
    await page.keyboard.press("Tab")
    assert await page.evaluate("() => document.activeElement.className") == "skip"
    assert watch.csp_violations() == []
    assert [e for e in watch.errors if "pageerror" in e] == []
    await page.context.close()


async def test_pages_have_an_icon_and_log_no_console_error(browser: Any, live: Live) -> None:
    """The base template links /static/favicon.svg (allowed by the CSP's img-src 'self'), so
    Chromium asks for no /favicon.ico, whose 404 was a console error on every page."""
    context = await browser.new_context(locale="id-ID", timezone_id="Asia/Jakarta")
    page = await context.new_page()
    errors: list[str] = []
    missing: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    for path in ("/", f"/lapor/{UNIT}", "/kotak-surat", "/staff/login"):
        response = await page.goto(live.url + path)
        assert response.status == 200, path
        await page.wait_for_load_state("networkidle")
        icon = await page.get_attribute('link[rel="icon"]', "href")
        assert icon == "/static/favicon.svg", path
    assert (errors, missing) == ([], [])
    served = await page.request.get(live.url + "/static/favicon.svg")
    assert served.status == 200 and served.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in await served.body()
    await context.close()


async def wait_ok(page: Any, element_id: str) -> None:
    """Wait until a status line reports success (class `ok`)."""
    await page.wait_for_function(
        "id => document.getElementById(id).classList.contains('ok')", arg=element_id
    )


async def enrolled(
    browser: Any, live: Live, watch: Watch, email: str, passphrase: str
) -> tuple[Any, str]:
    """A signed-in staff page whose device key is enrolled; returns it and the fingerprint."""
    page = await new_page(browser, watch)
    await login(page, live, email, passphrase)
    return page, await enrol(page, live, passphrase)


async def sign_directory(admin: Any, live: Live) -> str:
    await admin.goto(f"{live.url}/admin/units/{UNIT}/keys")
    await admin.wait_for_selector("#directory-staff tbody tr")
    table = str(await admin.text_content("#directory-staff"))
    await admin.fill("#sign-passphrase", PASS_ADMIN)
    await admin.click("#sign-form button[type=submit]")
    await wait_ok(admin, "sign-status")
    return table


async def open_case(page: Any, watch: Watch, passphrase: str) -> None:
    """Unlock the device key on the case page and wait for the decrypted view."""
    await page.wait_for_url("**/staff/cases/*")
    await page.fill("#unlock-passphrase", passphrase)
    await page.click("#unlock-form button[type=submit]")
    await page.wait_for_function(
        "() => document.getElementById('case-view')?.dataset.ready"
        " || document.getElementById('unlock-status')?.classList.contains('alert')"
    )
    assert await page.get_attribute("#case-view", "data-ready") == "yes", (
        await page.text_content("#unlock-status"),
        watch.errors,
    )


async def login(page: Any, live: Live, email: str, passphrase: str) -> None:
    await page.goto(f"{live.url}/staff/login")
    await page.fill("#email", email)
    await page.fill("#password", passphrase)
    await page.click("#login-form button[type=submit]")
    await page.wait_for_url(f"{live.url}/staff")


async def enrol(page: Any, live: Live, passphrase: str) -> str:
    await page.goto(f"{live.url}/staff/key")
    await page.fill("#enrol-passphrase", passphrase)
    await page.click("#enrol-form button[type=submit]")
    await page.wait_for_function(
        "() => document.getElementById('key-state').dataset.status === 'pending'"
    )
    return str(await page.text_content("#key-fingerprint"))


def gratification_values(gift: str, name: str) -> dict[str, str]:
    """The gratification form's fields (selector -> value), with the reporter's identity."""
    return {
        "#f-penerima": "Kepala Seksi",
        "#f-pemberi": "PT Contoh, Jakarta",
        "#f-hubungan": "rekanan",
        "#f-uraian": gift,
        "#f-nilai": "1500000",
        "#f-tanggal": "2026-11-20",
        "#f-tempat": "Kantor",
        "#f-kronologi": "Diantar kurir",
        "#i-nama": name,
        "#i-nik": "3171234567890123",
        "#i-jabatan": "Pelaksana",
        "#i-alamat": "Jakarta",
        "#i-telepon": "0812000000",
    }


def text_file(name: str, text: str) -> dict[str, Any]:
    return {"name": name, "mimeType": "text/plain", "buffer": text.encode()}


CANARY_TEXT = "KANARI-ISI-7f3a9c"
CANARY_WHO = "KANARI-SIAPA-51be0d"
CANARY_FILE = "KANARI-LAMPIRAN-c0ffee"
CANARY_REPLY = "KANARI-BALASAN-4d2e11"
CANARY_ANSWER = "KANARI-JAWABAN-9a8b7c"
CANARY_NOTE = "KANARI-CATATAN-77e1aa"
CANARY_REPLY_FILE = "KANARI-BERKAS-PETUGAS-0b0e"


async def test_browser_path_end_to_end(
    browser: Any, live: Live, tmp_path: Path, caplog: Any
) -> None:
    await live.staff(UNIT, UPG, PASS_UPG, "upg")
    await live.staff(UNIT, ADMIN, PASS_ADMIN, "admin")
    await live.staff(UNIT, OFFICER, PASS_OFFICER, "verifikator")
    await live.staff(UNIT, OTHER, PASS_OTHER, "verifikator")
    watch = Watch()

    officer, officer_fp = await enrolled(browser, live, watch, OFFICER, PASS_OFFICER)
    other, other_fp = await enrolled(browser, live, watch, OTHER, PASS_OTHER)
    upg, _ = await enrolled(browser, live, watch, UPG, PASS_UPG)

    admin, _ = await enrolled(browser, live, watch, ADMIN, PASS_ADMIN)
    table = await sign_directory(admin, live)
    assert officer_fp in table and other_fp in table
    assert "versi 1" in await admin.text_content("#sign-status")

    # The reporter: verified directory, encryption, proof-of-work, ciphertext only.
    reporter = await new_page(browser, watch)
    await reporter.goto(f"{live.url}/lapor/{UNIT}/wbs")
    await reporter.wait_for_selector("#report-form[data-js=ready]", state="attached")
    state = str(await reporter.text_content("#crypto-state"))
    assert "terverifikasi" in state
    # The poster prints the same unit key fingerprint the form shows after verifying.
    poster = await new_page(browser, watch)
    await poster.goto(f"{live.url}/lapor/{UNIT}/poster")
    unit_fp = str(await poster.text_content("code.fingerprint")).strip()
    assert len(unit_fp) > 20 and unit_fp in state
    await poster.context.close()
    await reporter.fill("#f-apa", f"Pungutan liar di loket {CANARY_TEXT}")
    await reporter.fill("#f-siapa", f"Petugas loket {CANARY_WHO}")
    await reporter.fill("#f-di_mana", "Loket 3")
    await reporter.fill("#f-kapan", "Maret 2026")
    await reporter.fill("#f-bagaimana", "Meminta uang tambahan")
    await reporter.set_input_files("#lampiran", [text_file("bukti.txt", f"bukti {CANARY_FILE}")])
    # Leave the colleague out: only the first officer may read the report.
    excluded = await reporter.eval_on_selector_all(
        "input[name=kecualikan]", "bs => bs.map(b => [b.value, b.labels[0].textContent])"
    )
    rekan = next(value for value, label in excluded if "Rekan" in label)
    await reporter.check(f"#ex-{rekan}")
    cookies_before = await reporter.context.cookies()
    await reporter.click("#submit-button")
    await reporter.wait_for_function(
        "() => document.getElementById('receipt').dataset.ready"
        " || document.getElementById('submit-status').classList.contains('alert')"
    )
    assert await reporter.get_attribute("#receipt", "data-ready") == "yes", (
        await reporter.text_content("#submit-status"),
        watch.errors,
    )
    case_number = (await reporter.text_content("[data-slot=case_number]")).strip()
    receipt = (await reporter.text_content("[data-slot=receipt]")).strip()
    assert case_number.startswith("WBS-") and len(receipt.replace("-", "")) == 20
    assert "peramban" in await reporter.text_content("[data-slot=path-browser]")
    assert await reporter.is_hidden("#report-form")
    assert cookies_before == [] and await reporter.context.cookies() == []

    # The officer reads it decrypted and replies.
    await officer.goto(f"{live.url}/staff/cases")
    await officer.click(f"text={case_number}")
    await open_case(officer, watch, PASS_OFFICER)
    content = await officer.text_content("[data-slot=fields]")
    assert CANARY_TEXT in content and CANARY_WHO in content
    async with officer.expect_download() as download_info:
        await officer.locator("[data-slot=attachments] button").click()
    download = await download_info.value
    assert download.suggested_filename == "bukti.txt"
    assert Path(await download.path()).read_text() == f"bukti {CANARY_FILE}"
    await officer.fill("#reply-text", f"Mohon bukti tambahan {CANARY_REPLY}")
    await officer.set_input_files("#reply-files", [text_file("daftar.txt", CANARY_REPLY_FILE)])
    await officer.click("#reply-form button[type=submit]")
    await wait_ok(officer, "reply-status")

    # The officer adds a colleague (the gratification officer): their device re-wraps the key.
    options = await officer.eval_on_selector_all(
        "#colleague-select option:not([hidden])", "os => os.map(o => o.textContent)"
    )
    assert any(UPG in o for o in options)
    assert not any(OTHER in o for o in options)  # left out by the reporter
    await officer.select_option("#colleague-select", label=next(o for o in options if UPG in o))
    await officer.click("#colleague-form button[type=submit]")
    await wait_ok(officer, "colleague-status")
    await officer.fill("#note-text", f"Catatan internal {CANARY_NOTE}")
    await officer.click("#note-form button[type=submit]")
    await wait_ok(officer, "note-status")
    await officer.screenshot(path=str(shots_dir(tmp_path) / "case.png"), full_page=True)
    case_path = await officer.evaluate("() => location.pathname")
    # The workflow's first step (for a WBS report: acknowledge and start verification).
    async with officer.expect_navigation():
        await officer.click(".action-form button[type=submit]")
    assert (await officer.text_content("#case-status")).strip() == "Sedang diverifikasi"
    await upg.goto(live.url + case_path)
    await open_case(upg, watch, PASS_UPG)
    assert CANARY_TEXT in await upg.text_content("[data-slot=fields]")
    assert CANARY_NOTE in await upg.text_content("[data-slot=notes]")

    # The colleague left out by the reporter cannot open the case.
    response = await other.goto(f"{live.url}/staff/cases")
    assert case_number not in await other.content()
    report_link = await officer.evaluate("() => location.pathname")
    response = await other.goto(live.url + report_link)
    assert response.status == 404

    # The reporter opens the mailbox with the receipt, reads the reply and answers.
    await reporter.goto(f"{live.url}/kotak-surat")
    await reporter.fill("#tanda_terima", receipt.lower())
    await reporter.click("#mailbox-login button[type=submit]")
    await reporter.wait_for_selector("#mailbox-view[data-ready=yes]")
    assert CANARY_REPLY in await reporter.text_content("[data-slot=messages]")
    assert CANARY_TEXT in await reporter.text_content("[data-slot=fields]")
    assert case_number in await reporter.text_content("[data-slot=case_number]")
    assert await reporter.text_content("[data-slot=status]") == "Sedang diverifikasi"
    async with reporter.expect_download() as download_info:
        await reporter.locator("[data-slot=messages] button[data-attachment]").click()
    download = await download_info.value
    assert download.suggested_filename == "daftar.txt"
    assert Path(await download.path()).read_text() == CANARY_REPLY_FILE
    await reporter.fill("#reply-text", f"Ini jawaban saya {CANARY_ANSWER}")
    await reporter.click("#mailbox-reply button[type=submit]")
    await wait_ok(reporter, "reply-status")
    assert CANARY_ANSWER in await reporter.text_content("[data-slot=messages]")
    assert CANARY_NOTE not in await reporter.content()  # internal notes stay internal
    await reporter.screenshot(path=str(shots_dir(tmp_path) / "mailbox.png"), full_page=True)

    # Nothing readable ever travelled: not the report, the file, the reply or the answer.
    assert watch.bodies, "no request bodies captured"
    canaries = (
        CANARY_TEXT,
        CANARY_WHO,
        CANARY_FILE,
        CANARY_REPLY,
        CANARY_ANSWER,
        CANARY_NOTE,
        CANARY_REPLY_FILE,
    )
    assert watch.leaked(*canaries) == []
    # Nor does any of it rest on the server: database, blobs, logs.
    assert any(p.name.endswith(".sqlite3") for p in await live.stored_files())
    assert await live.leaked(*canaries) == []
    assert await live.leaked(case_number), "the scan finds what is stored (control)"
    assert not [c for c in canaries if c in caplog.text]
    assert not any(
        receipt.replace("-", "") in b.decode("latin-1").replace("-", "") for b in watch.bodies
    ), "the receipt itself was sent"
    assert watch.csp_violations() == []
    assert [e for e in watch.errors if e.startswith("pageerror")] == []
    for page in (officer, other, upg, admin, reporter):
        await page.context.close()


async def test_no_javascript_path_end_to_end(browser: Any, live: Live, caplog: Any) -> None:
    await live.staff(UNIT, ADMIN, PASS_ADMIN, "admin")
    await live.staff(UNIT, OFFICER, PASS_OFFICER, "verifikator")
    watch = Watch()
    officer, _ = await enrolled(browser, live, watch, OFFICER, PASS_OFFICER)
    admin, _ = await enrolled(browser, live, watch, ADMIN, PASS_ADMIN)
    await sign_directory(admin, live)

    reporter = await new_page(browser, watch, javascript=False)
    await reporter.goto(f"{live.url}/lapor/{UNIT}/wbs")
    assert "JavaScript tidak aktif" in await reporter.content()
    await reporter.fill("#f-apa", f"Tanpa JS {CANARY_TEXT}")
    await reporter.fill("#f-siapa", "Kepala seksi")
    await reporter.fill("#f-di_mana", "Ruang rapat")
    await reporter.fill("#f-kapan", "April 2026")
    await reporter.fill("#f-bagaimana", "Mengatur pemenang lelang")
    await reporter.set_input_files("#lampiran", [text_file("catatan.txt", f"isi {CANARY_FILE}")])
    await reporter.click("#submit-button")
    await reporter.wait_for_selector("#receipt")
    case_number = (await reporter.text_content("[data-slot=case_number]")).strip()
    receipt = (await reporter.text_content("[data-slot=receipt]")).strip()
    assert case_number.startswith("WBS-") and receipt
    assert await reporter.is_visible("[data-slot=path-server]")
    # The server-rendered receipt shows the audit key fingerprint the signed proof names.
    proof = json.loads(str(await reporter.text_content("[data-slot=proof]")))
    assert proof["v"] == 2
    audit_fp = signing_fingerprint(bytes.fromhex(proof["audit_public_key"]))
    assert await reporter.text_content("[data-slot=audit_key]") == audit_fp
    assert await reporter.context.cookies() == []

    await officer.goto(f"{live.url}/staff/cases")
    await officer.click(f"text={case_number}")
    await open_case(officer, watch, PASS_OFFICER)
    assert CANARY_TEXT in await officer.text_content("[data-slot=fields]")
    assert "server" in str(await officer.text_content(".meta"))  # marked server-sealed
    async with officer.expect_download() as download_info:
        await officer.locator("[data-slot=attachments] button").click()
    download = await download_info.value
    assert Path(await download.path()).read_text() == f"isi {CANARY_FILE}"
    await officer.fill("#reply-text", f"Balasan {CANARY_REPLY}")
    await officer.click("#reply-form button[type=submit]")
    await wait_ok(officer, "reply-status")

    await reporter.goto(f"{live.url}/kotak-surat")
    await reporter.fill("#tanda_terima", receipt)
    await reporter.click("#mailbox-login button[type=submit]")
    await reporter.wait_for_selector("#mbs-title")
    text = await reporter.content()
    assert CANARY_REPLY in text and CANARY_TEXT in text and case_number in text
    await reporter.fill("#pesan", f"Jawaban tanpa JS {CANARY_ANSWER}")
    await reporter.click("form[action^='/kotak-surat/pesan'] button[type=submit]")
    await reporter.wait_for_selector("text=Pesan Anda terkirim.")
    assert CANARY_ANSWER in await reporter.content()
    assert await reporter.context.cookies() == []  # no mailbox session kept without JS
    # Sealed in memory: nothing readable rests in the database, blobs or logs.
    canaries = (CANARY_TEXT, CANARY_FILE, CANARY_REPLY, CANARY_ANSWER)
    assert await live.leaked(*canaries) == []
    assert await live.leaked(case_number)
    assert not [c for c in canaries if c in caplog.text]
    assert watch.csp_violations() == []
    for page in (officer, admin, reporter):
        await page.context.close()


async def test_admin_signs_again_with_the_wrapped_unit_key(browser: Any, live: Live) -> None:
    """The second signature opens the unit key wrapped to the admin's device key."""
    await live.staff(UNIT, ADMIN, PASS_ADMIN, "admin")
    await live.staff(UNIT, OFFICER, PASS_OFFICER, "verifikator")
    await live.staff(UNIT, UPG, PASS_UPG, "upg")
    watch = Watch()
    admin, _ = await enrolled(browser, live, watch, ADMIN, PASS_ADMIN)
    officer, _ = await enrolled(browser, live, watch, OFFICER, PASS_OFFICER)
    await sign_directory(admin, live)
    assert "versi 1" in str(await admin.text_content("#sign-status"))
    upg, upg_fp = await enrolled(browser, live, watch, UPG, PASS_UPG)
    table = await sign_directory(admin, live)
    assert upg_fp in table
    assert "versi 2" in str(await admin.text_content("#sign-status"))
    await upg.goto(f"{live.url}/staff/key")
    assert await upg.get_attribute("#key-state", "data-status") == "approved"
    # A wrong passphrase is refused on the device, before anything is sent.
    await admin.fill("#sign-passphrase", "salah sama sekali")
    await admin.click("#sign-form button[type=submit]")
    await admin.wait_for_function(
        "() => document.getElementById('sign-status').classList.contains('alert')"
    )
    assert "Kata sandi salah" in str(await admin.text_content("#sign-status"))
    assert watch.csp_violations() == []
    for page in (admin, officer, upg):
        await page.context.close()


CANARY_NAME = "KANARI-NAMA-PELAPOR-5e5e"


async def test_named_gratification_report_keeps_identity_apart(browser: Any, live: Live) -> None:
    """Gratification reports need identity fields; they travel in their own ciphertext and
    the handling officer sees only that an identity exists (custodian release later)."""
    await live.staff(UNIT, ADMIN, PASS_ADMIN, "admin")
    await live.staff(UNIT, UPG, PASS_UPG, "upg")
    watch = Watch()
    upg, _ = await enrolled(browser, live, watch, UPG, PASS_UPG)
    admin, _ = await enrolled(browser, live, watch, ADMIN, PASS_ADMIN)
    await sign_directory(admin, live)
    reporter = await new_page(browser, watch)
    await reporter.goto(f"{live.url}/lapor/{UNIT}/gratifikasi?lang=en")
    await reporter.wait_for_selector("#report-form[data-js=ready]", state="attached")
    values = gratification_values(f"Parsel {CANARY_TEXT}", CANARY_NAME)
    # The browser refuses to send while a required identity field is empty.
    await reporter.click("#submit-button")
    assert await reporter.eval_on_selector("#i-nama", "e => !e.validity.valid")
    for selector, value in values.items():
        await reporter.fill(selector, value)
    await reporter.select_option("#f-jenis", "barang")
    await reporter.select_option("#f-status", "dititipkan")
    await reporter.click("#submit-button")
    await reporter.wait_for_selector("#receipt[data-ready=yes]")
    case_number = str(await reporter.text_content("[data-slot=case_number]")).strip()
    assert case_number.startswith("GRT-")
    await upg.goto(f"{live.url}/staff/cases")
    await upg.click(f"text={case_number}")
    await open_case(upg, watch, PASS_UPG)
    assert CANARY_TEXT in str(await upg.text_content("[data-slot=fields]"))
    assert "identitas" in str(await upg.text_content("[data-slot=identity]"))
    assert CANARY_NAME not in await upg.content()
    assert watch.leaked(CANARY_TEXT, CANARY_NAME) == []
    assert await live.leaked(CANARY_TEXT, CANARY_NAME) == []
    assert watch.csp_violations() == []
    for page in (upg, admin, reporter):
        await page.context.close()
