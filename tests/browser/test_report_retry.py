"""The browser report form resends, after a lost answer, the submission it sealed (same
report id, envelope and receipt) with a fresh proof of work: one case, never two.

Playwright lets the first POST reach the live server and then answers the page with a 502
(an app server that died after storing the report); the second press gets 409
`report_already_sent` and the page shows the receipt, saying the first send was stored."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from crypto.keys import KeyPair
from tests.browser.live import Live, Watch, start_live
from tests.browser.test_reporting_pages import new_page
from tests.conftest import Account
from tests.reporting.helpers import enrol, publish_directory, sign_in
from wbs.core.db import make_sessionmaker
from wbs.reporting.models import Report

pytestmark = pytest.mark.browser

UNIT = "KPPULANG"
FIELDS = {
    "#f-apa": "Pungutan liar di loket",
    "#f-siapa": "Petugas loket",
    "#f-di_mana": "Loket 3",
    "#f-kapan": "Maret 2026",
    "#f-bagaimana": "Meminta uang tambahan",
}


async def _account(live: Live, role: str) -> Account:
    password = f"pw-{uuid.uuid4().hex}"
    staff = await live.staff(UNIT, f"{role}@uji.go.id", password, role, fast_kdf=True)
    return Account(staff, password)


@pytest.fixture
async def live(tmp_path: Path, databases: Any, serve: Any) -> Live:
    """A unit whose verifikator key is in a signed directory (through the JSON API)."""
    site = await start_live(tmp_path, databases, serve)
    await site.unit(UNIT, "KPP Pratama Ulang")
    officer = await _account(site, "verifikator")
    admin = await _account(site, "admin")
    async with httpx.AsyncClient(base_url=site.url, timeout=60) as client:
        await enrol(client, officer)
        client.cookies.clear()
        csrf = await sign_in(client, admin)
        unit = type("U", (), {"code": UNIT})()
        await publish_directory(client, unit, csrf, KeyPair.generate().public)
    return site


async def _cases(live: Live) -> list[str]:
    async with make_sessionmaker(live.engine)() as db:
        return list(await db.scalars(select(Report.public_id)))


async def _first_send_loses_its_answer(
    page: Any, live: Live, status: int
) -> tuple[list[dict[str, Any]], list[int]]:
    """Fill the form and press "Kirim": the POST reaches the server, the page gets `status`
    instead of its answer. Returns the request bodies (growing) and the server's statuses."""
    bodies: list[dict[str, Any]] = []
    stored: list[int] = []

    async def lose_the_first_answer(route: Any) -> None:
        bodies.append(json.loads(route.request.post_data))
        if len(bodies) == 1:
            reached = await route.fetch()  # the server stores the report...
            stored.append(reached.status)
            await route.fulfill(status=status, body="gateway")  # ...the answer is lost
        else:
            await route.continue_()

    await page.route("**/api/v1/reports", lose_the_first_answer)
    await page.goto(f"{live.url}/lapor/{UNIT}/wbs")
    await page.wait_for_selector("#report-form[data-js=ready]", state="attached")
    for selector, value in FIELDS.items():
        await page.fill(selector, value)
    await page.click("#submit-button")
    await page.wait_for_function(
        "() => document.getElementById('submit-status').classList.contains('alert')"
    )
    assert str(status) in str(await page.text_content("#submit-status"))
    assert stored == [201]
    assert await page.is_enabled("#submit-button")
    return bodies, stored


async def test_a_lost_answer_is_resent_as_the_same_report(browser: Any, live: Live) -> None:
    watch = Watch()
    page = await new_page(browser, watch)
    bodies, _stored = await _first_send_loses_its_answer(page, live, 502)
    assert len(await _cases(live)) == 1

    await page.click("#submit-button")  # the reporter tries again, the form unchanged
    await page.wait_for_function(
        "() => document.getElementById('receipt').dataset.ready"
        " || document.getElementById('submit-status').classList.contains('alert')"
    )
    assert await page.get_attribute("#receipt", "data-ready") == "yes", (
        await page.text_content("#submit-status"),
        watch.errors,
    )
    first, second = bodies
    report_id = first["envelope"]["report_id"]
    assert second["envelope"] == first["envelope"] and second["lookup"] == first["lookup"]
    assert second["pow"]["challenge"] != first["pow"]["challenge"]  # fresh work
    assert await _cases(live) == [report_id]  # one case
    note = str(await page.text_content("#stored-before"))
    assert "sudah tersimpan" in note and "kotak surat" in note
    receipt = str(await page.text_content("[data-slot=receipt]")).strip()
    assert len(receipt.replace("-", "")) == 20
    assert watch.csp_violations() == []
    assert [e for e in watch.errors if "pageerror" in e] == []
    await page.context.close()


async def test_a_changed_form_is_sealed_anew(browser: Any, live: Live) -> None:
    watch = Watch()
    page = await new_page(browser, watch)
    bodies, _stored = await _first_send_loses_its_answer(page, live, 504)
    await page.fill("#f-di_mana", "Loket 4")  # the reporter corrects the report
    await page.click("#submit-button")
    await page.wait_for_function("() => document.getElementById('receipt').dataset.ready")
    first, second = bodies
    assert second["envelope"]["report_id"] != first["envelope"]["report_id"]
    assert second["lookup"] != first["lookup"]  # a new receipt too
    assert sorted(await _cases(live)) == sorted(b["envelope"]["report_id"] for b in bodies)
    assert await page.query_selector("#stored-before") is None
    case_number = str(await page.text_content("[data-slot=case_number]")).strip()
    assert case_number.startswith("WBS-")
    assert watch.csp_violations() == []
    assert [e for e in watch.errors if "pageerror" in e] == []
    await page.context.close()
