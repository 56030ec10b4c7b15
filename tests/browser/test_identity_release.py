"""Identity release in real headless Chromium against a live server: the reporter's browser
seals the identity to the unit's custodian (envelope v2), the officer asks on the case page,
the custodian approves on the custodian page (the identity key re-wrapped in that browser),
the officer's case page shows the decrypted identity and the reporter's mailbox page says,
in both languages, that the identity was opened. No request body ever carries the identity
readable, and no page breaks the CSP."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.browser.live import Live, Watch, start_live
from tests.browser.test_reporting_pages import (
    ADMIN,
    PASS_ADMIN,
    PASS_UPG,
    UNIT,
    UPG,
    enrolled,
    gratification_values,
    new_page,
    open_case,
    sign_directory,
)
from tests.browser.test_workflow_pages import clean, mailbox, submit
from wbs.core.db import make_sessionmaker
from wbs.reporting.models import IdentityWrap, Report

pytestmark = pytest.mark.browser

CUSTODIAN = "penjaga@kpp.go.id"
PASS_CUSTODIAN = "penjaga kata sandi panjang 5"
CANARY_NAME = "KANARI-NAMA-RILIS-7e2b"
CANARY_GIFT = "KANARI-PARSEL-RILIS-4a11"


@pytest.fixture
async def live(tmp_path: Path, databases: Any, serve: Any) -> Live:
    site = await start_live(tmp_path, databases, serve)
    await site.unit(UNIT, "KPP Pratama Uji")
    return site


async def test_custodian_releases_the_identity_to_the_requester(browser: Any, live: Live) -> None:
    for email, passphrase, role in (
        (ADMIN, PASS_ADMIN, "admin"),
        (UPG, PASS_UPG, "upg"),
        (CUSTODIAN, PASS_CUSTODIAN, "custodian"),
    ):
        await live.staff(UNIT, email, passphrase, role)
    watch = Watch()
    upg, _ = await enrolled(browser, live, watch, UPG, PASS_UPG)
    custodian, _ = await enrolled(browser, live, watch, CUSTODIAN, PASS_CUSTODIAN)
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
    async with make_sessionmaker(live.engine)() as db:
        report = await db.scalar(select(Report).where(Report.case_number == case_number))
        assert report is not None and report.envelope_version == 2
        wraps = list(await db.scalars(select(IdentityWrap)))
        assert [w.kind.value for w in wraps] == ["original"]

    # The officer sees that an identity exists, and asks for it with a reason.
    await upg.goto(f"{live.url}/staff/cases")
    await upg.click(f"text={case_number}")
    await open_case(upg, watch, PASS_UPG)
    assert await upg.is_visible("#identity-panel")
    assert CANARY_NAME not in await upg.content()
    await upg.select_option("#identity-reason", "klarifikasi")
    await upg.fill("#identity-note", "Perlu konfirmasi waktu penyerahan")
    await upg.click("#identity-form button[type=submit]")
    await upg.wait_for_function(
        "() => document.getElementById('identity-state').textContent.length > 0"
    )
    assert await upg.is_hidden("#identity-form")

    # The custodian approves on their own device.
    await custodian.goto(f"{live.url}/staff/identitas")
    await custodian.fill("#unlock-passphrase", PASS_CUSTODIAN)
    await custodian.click("#unlock-form button[type=submit]")
    await custodian.wait_for_selector("#requests-view[data-ready=yes]")
    item = custodian.locator("#requests li.request")
    assert await item.count() == 1
    assert case_number in str(await item.text_content())
    await item.locator("button.approve").click()
    await custodian.wait_for_function(
        "() => document.querySelector('#requests li.request .status')"
        "?.classList.contains('ok') || document.querySelector('#requests li.request .status')"
        "?.classList.contains('alert')"
    )
    assert "ok" in str(await item.locator(".status").get_attribute("class")), (
        await item.locator(".status").text_content(),
        watch.errors,
    )

    # The requester's case page opens the identity with the requester's key.
    await upg.reload()
    await open_case(upg, watch, PASS_UPG)
    await upg.wait_for_selector("#identity-fields:not([hidden])")
    assert CANARY_NAME in str(await upg.text_content("#identity-fields"))

    # The reporter's mailbox tells, in both languages.
    page = await mailbox(browser, live, watch, receipt)
    notices = str(await page.text_content("[data-slot=notices]"))
    assert "Identitas Anda telah dibuka untuk" in notices
    assert "Your identity was opened for" in notices

    assert watch.leaked(CANARY_NAME, CANARY_GIFT) == []
    assert await live.leaked(CANARY_NAME, CANARY_GIFT) == []
    clean(watch)
    for p in (upg, custodian, admin, reporter, page):
        await p.context.close()
