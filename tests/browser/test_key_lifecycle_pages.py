"""The officer key life cycle on /staff/key in real headless Chromium against a live server:
enrolment shows the recovery key once, a passphrase change keeps the key (the case wrapped
before still opens), and after an admin's temporary passphrase the recovery key brings the
same key back under a passphrase only the officer knows."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.browser import test_reporting_pages as pages
from tests.browser.live import Live, Watch
from tests.browser.test_reporting_pages import (
    ADMIN,
    OFFICER,
    PASS_ADMIN,
    PASS_OFFICER,
    UNIT,
    enrol,
    login,
    new_page,
    open_case,
    sign_directory,
    wait_ok,
)
from wbs.client import flows
from wbs.client.known import KnownUnits
from wbs.core.db import make_sessionmaker
from wbs.staff import service as staff_service
from wbs.staff.credentials import new_credentials
from wbs.staff.passwords import Hasher

pytestmark = pytest.mark.browser

live = pages.live  # the same live-server fixture

OWN = "pilihan petugas sendiri 5"
TEMPORARY = "sementara dari admin 6"
AFTER = "setelah pemulihan kunci 7"


async def set_password(site: Live, email: str, passphrase: str) -> None:
    """What `wbs staff set-password` does, on the live server's database."""
    sec = staff_service.Security(
        settings=site.settings,
        hasher=Hasher(time_cost=1, memory_kib=8, parallelism=1),
        master=site.settings.secret_bytes(),
    )
    secret, kdf = new_credentials(passphrase)
    async with make_sessionmaker(site.engine)() as db:
        await staff_service.set_password(
            db, sec, email=email, login_secret=secret, kdf_params=kdf, actor="test"
        )
        await db.commit()


async def open_first_case(
    page: Any, site: Live, watch: Watch, case_number: str, passphrase: str
) -> None:
    await page.goto(f"{site.url}/staff/cases")
    await page.click(f"text={case_number}")
    await open_case(page, watch, passphrase)


async def test_recovery_key_passphrase_change_and_recovery(
    browser: Any, live: Live, tmp_path: Path
) -> None:
    await live.staff(UNIT, ADMIN, PASS_ADMIN, "admin")
    await live.staff(UNIT, OFFICER, PASS_OFFICER, "verifikator")
    watch = Watch()

    officer = await new_page(browser, watch)
    await login(officer, live, OFFICER, PASS_OFFICER)
    await officer.goto(f"{live.url}/staff/key")
    assert await officer.is_visible("#passphrase-notice")  # the admin typed this passphrase
    assert await officer.is_hidden("#recovery-box")
    fingerprint = await enrol(officer, live, PASS_OFFICER)
    await wait_ok(officer, "enrol-status")
    assert await officer.is_visible("#recovery-box")
    recovery_key = str(await officer.text_content("#recovery-key")).strip()
    assert len(recovery_key.replace("-", "").replace(" ", "")) == 28
    assert "tidak dapat ditampilkan lagi" in str(await officer.text_content("#recovery-box"))
    assert not any(recovery_key.encode() in b for b in watch.bodies), "recovery key was sent"

    admin = await new_page(browser, watch)
    await login(admin, live, ADMIN, PASS_ADMIN)
    await enrol(admin, live, PASS_ADMIN)
    assert fingerprint in await sign_directory(admin, live)
    await admin.context.close()
    sent = await asyncio.to_thread(
        flows.submit,
        live.url,
        UNIT,
        "wbs",
        "Laporan KANARI-KUNCI-5e1d sebelum ganti sandi",
        known=KnownUnits(tmp_path / "known_units.json"),
    )
    case_number = sent["case_number"]

    # Passphrase change in the browser: same key, the case still opens with the new one.
    await officer.goto(f"{live.url}/staff/key")
    await officer.fill("#pp-current", PASS_OFFICER)
    await officer.fill("#pp-new", OWN)
    await officer.fill("#pp-repeat", OWN + "x")
    await officer.click("#passphrase-form button[type=submit]")
    await officer.wait_for_function(
        "() => document.getElementById('passphrase-status').classList.contains('alert')"
    )
    await officer.fill("#pp-repeat", OWN)
    await officer.click("#passphrase-form button[type=submit]")
    await wait_ok(officer, "passphrase-status")
    assert await officer.query_selector("#passphrase-notice") is None
    await officer.reload()
    assert await officer.query_selector("#passphrase-notice") is None
    await officer.wait_for_function(
        "fp => document.getElementById('key-fingerprint').textContent === fp", arg=fingerprint
    )
    await open_first_case(officer, live, watch, case_number, OWN)
    assert "KANARI-KUNCI-5e1d" in await officer.text_content("[data-slot=fields]")
    for secret in (PASS_OFFICER, OWN):
        assert not any(secret.encode() in b for b in watch.bodies), "a passphrase was sent"
    await officer.context.close()

    # Forgotten: the admin sets a temporary passphrase; the recovery key brings the key back.
    await set_password(live, OFFICER, TEMPORARY)
    again = await new_page(browser, watch)
    await login(again, live, OFFICER, TEMPORARY)
    await again.goto(f"{live.url}/staff/key")
    assert await again.is_visible("#passphrase-notice")
    await again.wait_for_selector("#recover-hint", state="visible")
    await again.fill("#rc-current", TEMPORARY)
    await again.fill("#rc-key", recovery_key.lower())
    await again.fill("#rc-new", AFTER)
    await again.fill("#rc-repeat", AFTER)
    await again.click("#recover-form button[type=submit]")
    await wait_ok(again, "recover-status")
    assert await again.is_hidden("#recover-hint")
    await open_first_case(again, live, watch, case_number, AFTER)
    assert "KANARI-KUNCI-5e1d" in await again.text_content("[data-slot=fields]")
    assert not any(recovery_key.encode() in b for b in watch.bodies), "recovery key was sent"
    assert watch.csp_violations() == []
    assert [e for e in watch.errors if e.startswith("pageerror")] == []
    await again.context.close()
