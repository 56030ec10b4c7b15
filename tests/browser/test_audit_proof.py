"""The mailbox page checks the submission's inclusion in the unit's audit log in Chromium
(WebCrypto SHA-256 and Ed25519, no inline script under the strict CSP): pending before the
sequencer runs, verified after, and failed for any changed byte of the proof."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from crypto import treehead
from crypto.atrest import derive_signing_key
from crypto.signing import signing_fingerprint
from tests.browser.live import Live, Watch, start_live
from tests.browser.test_reporting_pages import (
    ADMIN,
    OFFICER,
    PASS_ADMIN,
    PASS_OFFICER,
    UNIT,
    enrolled,
    new_page,
    sign_directory,
)
from tests.browser.test_workflow_pages import clean, complaint_values, mailbox, submit
from tests.reporting.test_audit_proof import mutations
from wbs.audit import service as audit
from wbs.core.db import make_sessionmaker

pytestmark = pytest.mark.browser

CHECK_ALL = """async ([docs, facts]) => {
  const wbs = await import("/static/crypto/wbs-crypto.js");
  const out = [];
  for (const [name, doc] of docs) {
    try {
      await wbs.checkAuditInclusion(doc, facts);
      out.push([name, "accepted"]);
    } catch (err) {
      out.push([name, err.name]);
    }
  }
  return out;
}"""


@pytest.fixture
async def live(tmp_path: Path, databases: Any, serve: Any) -> Live:
    site = await start_live(tmp_path, databases, serve)
    await site.unit(UNIT, "KPP Pratama Uji")
    return site


async def audit_state(page: Any) -> str:
    await page.wait_for_function(
        "() => document.querySelector('[data-slot=audit]').dataset.audit !== 'checking'"
    )
    return str(await page.get_attribute("[data-slot=audit]", "data-audit"))


async def test_mailbox_checks_the_audit_inclusion_proof(browser: Any, live: Live) -> None:
    await live.staff(UNIT, ADMIN, PASS_ADMIN, "admin")
    await live.staff(UNIT, OFFICER, PASS_OFFICER, "verifikator")
    watch = Watch()
    await enrolled(browser, live, watch, OFFICER, PASS_OFFICER)
    admin, _ = await enrolled(browser, live, watch, ADMIN, PASS_ADMIN)
    await sign_directory(admin, live)
    reporter = await new_page(browser, watch)
    case_number, receipt = await submit(
        reporter,
        live,
        "pengaduan",
        complaint_values("Berkas ditolak tanpa alasan"),
    )
    master = live.settings.secret_bytes()
    # The receipt page shows the fingerprint of the audit key the signed proof (v2) names.
    audit_fp = signing_fingerprint(bytes.fromhex(audit.public_key_hex(master)))
    assert await reporter.text_content("#receipt [data-slot=audit_key]") == audit_fp
    sessions = make_sessionmaker(live.engine)
    await audit.sequence_all(sessions, master)
    first = await mailbox(browser, live, watch, receipt)
    assert await audit_state(first) == "verified", await first.text_content("[data-slot=audit]")
    assert await first.text_content("[data-slot=audit_key]") == audit_fp
    assert "Terverifikasi" in str(await first.text_content("[data-slot=audit]"))
    doc = await first.evaluate("() => fetch('/api/v1/mailbox/audit-proof').then(r => r.json())")
    view = await first.evaluate("() => fetch('/api/v1/mailbox').then(r => r.json())")
    facts = {"caseNumber": case_number, "unit": UNIT, "auditLeaf": view["proof"]["audit_leaf"]}
    results = await first.evaluate(CHECK_ALL, [[["intact", doc], *mutations(doc)], facts])
    assert results[0] == ["intact", "accepted"]
    assert all(r == "ProofError" for _name, r in results[1:]), results
    others = [
        ("other-case", facts | {"caseNumber": "PGD-2099-000001"}),
        ("other-leaf", facts | {"auditLeaf": "00" * 32}),
    ]
    for name, wrong in others:
        assert await first.evaluate(CHECK_ALL, [[[name, doc]], wrong]) == [[name, "ProofError"]]
    await first.context.close()

    # A server that changes one byte of the proof is caught by the page itself.
    async def forge(route: Any) -> None:
        response = await route.fetch()
        body = await response.json()
        body["tree_head"]["root_hash"] = (
            "0" if body["tree_head"]["root_hash"][0] != "0" else "1"
        ) + body["tree_head"]["root_hash"][1:]
        await route.fulfill(response=response, body=json.dumps(body))

    page = await mailbox_with_route(browser, live, watch, receipt, forge)
    assert await audit_state(page) == "failed"
    assert "TIDAK sah" in str(await page.text_content("[data-slot=audit]"))
    await page.context.close()

    # A head validly signed, but by a key other than the one in the signed proof: mismatch.
    other = derive_signing_key(b"o" * 32, "audit-checkpoint")
    other_hex = other.public_key().public_bytes_raw().hex()

    async def resign(route: Any) -> None:
        response = await route.fetch()
        body = await response.json()
        head = body["tree_head"]
        head["public_key"] = other_hex
        head["signature"] = treehead.sign_head(
            other, head["unit"], head["tree_size"], head["root_hash"], head["at"]
        )
        await route.fulfill(response=response, body=json.dumps(body))

    page = await mailbox_with_route(browser, live, watch, receipt, resign)
    assert await audit_state(page) == "mismatch"
    shown = str(await page.text_content("[data-slot=audit]"))
    assert "kunci LAIN" in shown and audit_fp in shown
    other_fp = signing_fingerprint(bytes.fromhex(other_hex))
    assert await page.text_content("[data-slot=audit_key]") == other_fp
    await page.context.close()

    # A report not yet sequenced shows as pending.
    second = await new_page(browser, watch)
    _case, receipt2 = await submit(
        second,
        live,
        "pengaduan",
        complaint_values("Antrian panjang", "Pembuatan KTP"),
    )
    waiting = await mailbox(browser, live, watch, receipt2)
    assert await audit_state(waiting) == "pending"
    for p in (admin, reporter, second, waiting):
        await p.context.close()
    clean(watch)


async def mailbox_with_route(
    browser: Any, live: Live, watch: Watch, receipt: str, handler: Any
) -> Any:
    page = await new_page(browser, watch)
    await page.route("**/api/v1/mailbox/audit-proof", handler)
    await page.goto(f"{live.url}/kotak-surat")
    await page.fill("#tanda_terima", receipt)
    await page.click("#mailbox-login button[type=submit]")
    await page.wait_for_function("() => document.getElementById('mailbox-view')?.dataset.ready")
    return page


async def test_no_javascript_mailbox_shows_the_leaf_and_tree_head_unverified(
    browser: Any, live: Live
) -> None:
    """Without JavaScript nothing is checked in the browser: the page shows the leaf, its
    place and the signed tree head for `wbs client follow --verify`, and claims no check."""
    watch = Watch()
    admin = await unit_with_directory(browser, live, watch)
    reporter = await new_page(browser, watch)
    _case, receipt = await submit(
        reporter, live, "pengaduan", complaint_values("Loket tutup lebih awal")
    )
    proof = json.loads(str(await reporter.text_content("[data-slot=proof]")))
    master = live.settings.secret_bytes()
    await audit.sequence_all(make_sessionmaker(live.engine), master)

    plain = await new_page(browser, watch, javascript=False)
    await plain.goto(f"{live.url}/kotak-surat")
    await plain.fill("#tanda_terima", receipt)
    await plain.click("#mailbox-login button[type=submit]")
    await plain.wait_for_selector("#audit-plain")
    assert await plain.get_attribute("#audit-plain", "data-audit") == "unchecked"
    assert await plain.text_content("[data-plain=audit_leaf]") == proof["audit_leaf"]
    index = str(await plain.text_content("[data-plain=audit_index]"))
    assert index.startswith("entri ke-") and "indeks daun" in index
    root = str(await plain.text_content("[data-plain=audit_root]"))
    assert len(bytes.fromhex(root)) == 32
    audit_fp = signing_fingerprint(bytes.fromhex(audit.public_key_hex(master)))
    assert await plain.text_content("[data-plain=audit_key]") == audit_fp
    assert "wbs client follow --verify" in str(await plain.text_content("#audit-plain-note"))
    body = str(await plain.text_content("main"))
    assert "Terverifikasi" not in body and "Verified" not in body
    assert await plain.is_hidden("#mailbox-view")  # the JavaScript view stays out of it
    for p in (admin, reporter, plain):
        await p.context.close()
    clean(watch)


async def unit_with_directory(browser: Any, live: Live, watch: Watch) -> Any:
    """An officer and an admin enrolled and the unit directory signed; the admin's page."""
    await live.staff(UNIT, ADMIN, PASS_ADMIN, "admin")
    await live.staff(UNIT, OFFICER, PASS_OFFICER, "verifikator")
    await enrolled(browser, live, watch, OFFICER, PASS_OFFICER)
    admin, _ = await enrolled(browser, live, watch, ADMIN, PASS_ADMIN)
    await sign_directory(admin, live)
    return admin
