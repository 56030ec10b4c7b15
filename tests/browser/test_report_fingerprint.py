"""The report form shows the unit key fingerprint it computes from the verified key.

A server that wants the reporter to see the poster's fingerprint while it signs with its own
key could put the poster's string in the `fingerprint` field of its directory answer. The
page must ignore that field: it shows the fingerprint of the key that actually verified the
directory, computed in the browser with the poster's algorithm.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from crypto.directory import fingerprint
from tests.browser.live import Live, Watch, start_live
from tests.browser.test_reporting_pages import new_page

pytestmark = pytest.mark.browser

UNIT = "KPPSIDIK"
POSTER_OF_ANOTHER_KEY = "abcd efgh ijkl mnop qrst uvwx yz23 4567"


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def signed_directory(key: Ed25519PrivateKey) -> dict[str, Any]:
    wire = b"\x00\x01" + X25519PrivateKey.generate().public_key().public_bytes_raw()
    officer = {
        "key_id": hashlib.sha256(b"wbs/v1/key-id" + wire).digest()[:16].hex(),
        "public_key": b64u(wire),
        "name": "Siti Verifikator",
        "email": "",
        "fingerprint": "",
    }
    document = {
        "v": 1,
        "unit": UNIT,
        "version": 1,
        "issued_at": "2026-01-05T00:00:00Z",
        "channels": {"wbs": [officer]},
    }
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    public = key.public_key().public_bytes_raw()
    return {
        "unit": UNIT,
        "version": 1,
        "public_key": b64u(public),
        # What a lying server would send: a fingerprint that is not the signing key's.
        "fingerprint": POSTER_OF_ANOTHER_KEY,
        "document": text,
        "signature": b64u(key.sign(text.encode())),
        "signed_at": datetime.now(UTC).isoformat(),
        "channels": {},
    }


@pytest.fixture
async def live(tmp_path: Path, databases: Any, serve: Any) -> Live:
    site = await start_live(tmp_path, databases, serve)
    await site.unit(UNIT, "KPP Pratama Sidik Jari")
    return site


async def test_form_shows_the_computed_fingerprint_not_the_servers(
    browser: Any, live: Live
) -> None:
    key = Ed25519PrivateKey.generate()
    served = signed_directory(key)
    expected = fingerprint(key.public_key().public_bytes_raw())
    assert expected != POSTER_OF_ANOTHER_KEY

    watch = Watch()
    page = await new_page(browser, watch)

    async def directory(route: Any) -> None:
        await route.fulfill(status=200, content_type="application/json", body=json.dumps(served))

    await page.route(f"**/api/v1/units/{UNIT}/directory", directory)
    await page.goto(f"{live.url}/lapor/{UNIT}/wbs")
    await page.wait_for_function("() => document.getElementById('report-form').dataset.js")
    assert await page.eval_on_selector("#report-form", "f => f.dataset.js") == "ready", (
        await page.text_content("#crypto-state"),
        watch.errors,
    )

    state = str(await page.text_content("#crypto-state"))
    assert "terverifikasi" in state
    assert POSTER_OF_ANOTHER_KEY not in state, "the page shows the server's fingerprint string"
    assert expected in state
    assert str(await page.text_content("#unit-fingerprint")) == expected
    assert [e for e in watch.errors if "pageerror" in e] == []
    assert watch.csp_violations() == []
    await page.context.close()
