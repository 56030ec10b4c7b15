"""The browser harness itself: static and ASGI servers, CSP, error capture, secure context."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse, PlainTextResponse

pytestmark = pytest.mark.browser


def _site(root: Path) -> Path:
    (root / "js").mkdir(parents=True)
    (root / "index.html").write_text(
        '<!doctype html><html><head><script type="module" src="/js/app.js"></script>'
        "<script>window.inlineRan = true;</script></head><body>hi</body></html>"
    )
    (root / "js" / "app.js").write_text(
        "window.moduleRan = window.isSecureContext && !!crypto.subtle;\n"
        "if (new URLSearchParams(location.search).has('boom')) throw new Error('boom');\n"
    )
    return root


async def test_static_directory_strict_csp_and_secure_context(
    page: Any, page_errors: list[str], serve: Any, tmp_path: Path
) -> None:
    base = serve(_site(tmp_path / "site"))
    assert base.startswith("http://127.0.0.1:")
    response = await page.goto(base + "/index.html")
    assert response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    await page.wait_for_function("() => window.moduleRan !== undefined")
    assert await page.evaluate("() => window.moduleRan") is True
    assert await page.evaluate("() => window.inlineRan === undefined")  # inline script blocked
    assert any("Content Security Policy" in e for e in page_errors)


async def test_page_errors_collects_uncaught_exceptions(
    page: Any, page_errors: list[str], serve: Any, tmp_path: Path
) -> None:
    base = serve({"/": _site(tmp_path / "site")})
    await page.goto(base + "/index.html?boom=1")
    await page.wait_for_function("() => window.moduleRan !== undefined")
    assert any(e.startswith("pageerror:") and "boom" in e for e in page_errors)


def test_static_server_serves_only_mounted_files(serve: Any, tmp_path: Path) -> None:
    site = _site(tmp_path / "site")
    (tmp_path / "secret.txt").write_text("rahasia")
    base = serve({"/assets/": site / "js"})
    with urllib.request.urlopen(base + "/assets/app.js") as resp:  # noqa: S310 - local test server
        assert resp.headers["content-type"].startswith("text/javascript")
    for path in (
        "/assets/../../secret.txt",
        "/assets/%2e%2e/%2e%2e/secret.txt",
        "/index.html",
        "/assets/",
    ):
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(base + path)  # noqa: S310
        assert err.value.code == 404


async def test_asgi_app_is_served(page: Any, serve: Any) -> None:
    app = FastAPI()

    @app.get("/", response_class=HTMLResponse)
    async def index() -> str:
        return "<!doctype html><title>wbs</title><p id='x'>Laporan diterima</p>"

    @app.get("/ping", response_class=PlainTextResponse)
    async def ping() -> str:
        return "pong"

    base = serve(app)
    await page.goto(base + "/")
    assert await page.text_content("#x") == "Laporan diterima"
    assert await page.evaluate("async () => (await fetch('/ping')).text()") == "pong"
    assert await page.evaluate("() => window.isSecureContext") is True


async def test_crypto_page_loads_module(crypto_page: Any, page_errors: list[str]) -> None:
    names = await crypto_page.evaluate("() => Object.keys(window.wbs)")
    assert {"sealReport", "openReport", "sealBase", "openBase"} <= set(names)
    assert page_errors == []
