"""Shared real-Chromium fixtures (Playwright async API, Debian ``chromium``).

Registered as a global pytest plugin by ``tests/browser/conftest.py``; a test module in
another folder adds ``pytest_plugins = ["tests.browser.fixtures"]`` (one registration,
so one browser per run whichever folders are collected).

- ``chromium_executable`` (session): path of ``chromium``; tests are skipped when it is
  missing, and fail instead when ``CI=true``.
- ``browser`` (session): one headless Chromium for the whole run.
- ``context`` / ``page`` (function): a fresh context (locale id-ID, Asia/Jakarta) and a
  page in it, closed after the test. ``page_errors`` lists uncaught page exceptions and
  console errors seen by ``page`` (assert it is empty when a page must run cleanly).
- ``serve`` (session): ``serve(target) -> base URL`` starts a server on 127.0.0.1 (random
  port, stopped at the end of the run) for a directory, a ``{url prefix: directory}``
  mapping, or an ASGI app (uvicorn in a thread). Static responses carry a strict CSP
  (no inline script, no eval), as the app's pages do.
- ``static_url`` (session): base URL serving ``/crypto/js/`` (the browser crypto module)
  and ``/pages/`` (``tests/browser/pages``).
- ``crypto_page`` (function): ``page`` opened on ``/pages/crypto.html`` with the module
  loaded as ``window.wbs`` (``pages/crypto-page.js``).

Pages must come from http://127.0.0.1:PORT, not about:blank: WebCrypto needs a secure
context. Mark browser tests ``@pytest.mark.browser``. Async fixtures and tests run on
pytest-asyncio's session loop (see pyproject).
"""

from __future__ import annotations

import contextlib
import http.server
import os
import shutil
import socket
import threading
import time
import urllib.parse
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

REPO_ROOT = Path(__file__).resolve().parents[2]
PAGES_DIR = Path(__file__).resolve().parent / "pages"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STATIC_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; object-src 'none'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
}


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: browser tests must run)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    """Path of the system Chromium; skip (or fail under CI=true) when absent."""
    path = shutil.which("chromium")
    if path is None:
        _unavailable("chromium is not installed (Debian package `chromium`)")
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        _unavailable("playwright (Python) is not installed")
    assert path is not None
    return path


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser(chromium_executable: str) -> AsyncIterator[Any]:
    """One headless Chromium shared by the session."""
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        instance = await pw.chromium.launch(
            executable_path=chromium_executable, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield instance
        finally:
            await instance.close()


@pytest_asyncio.fixture(loop_scope="session")
async def context(browser: Any) -> AsyncIterator[Any]:
    """A fresh browser context (own cookies and storage) per test."""
    ctx = await browser.new_context(locale="id-ID", timezone_id="Asia/Jakarta")
    try:
        yield ctx
    finally:
        await ctx.close()


@pytest.fixture
def page_errors() -> list[str]:
    """Uncaught exceptions and console errors reported by ``page``."""
    return []


@pytest_asyncio.fixture(loop_scope="session")
async def page(context: Any, page_errors: list[str]) -> AsyncIterator[Any]:
    """A page in ``context`` that records its errors in ``page_errors``."""
    pg = await context.new_page()
    pg.set_default_timeout(30_000)
    pg.on("pageerror", lambda exc: page_errors.append(f"pageerror: {exc}"))

    def on_console(msg: Any) -> None:
        # The browser's own favicon probe is not the page's error.
        if msg.type == "error" and not msg.location.get("url", "").endswith("/favicon.ico"):
            page_errors.append(f"console: {msg.text} ({msg.location.get('url', '')})")

    pg.on("console", on_console)
    try:
        yield pg
    finally:
        await pg.close()


class _StaticHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files from a prefix -> directory table, with strict security headers."""

    mounts: Mapping[str, Path] = {}
    extensions_map = {  # noqa: RUF012 - class attribute of the stdlib handler
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".mjs": "text/javascript",
        ".json": "application/json",
        ".html": "text/html; charset=utf-8",
        ".css": "text/css",
        ".wasm": "application/wasm",
    }

    def translate_path(self, path: str) -> str:
        """Map a URL path to a file inside a mount, or "" (404) for anything else."""
        url_path = urllib.parse.unquote(path.split("?", 1)[0].split("#", 1)[0])
        for prefix, directory in sorted(self.mounts.items(), key=lambda kv: -len(kv[0])):
            if url_path.startswith(prefix):
                target = (directory / url_path[len(prefix) :]).resolve()
                if directory in target.parents and target.is_file():
                    return str(target)
        return ""

    def send_head(self) -> Any:
        if not self.translate_path(self.path):
            self.send_error(404)
            return None
        return super().send_head()

    def end_headers(self) -> None:
        for name, value in STATIC_HEADERS.items():
            self.send_header(name, value)
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


def _start_static(mounts: Mapping[str, Path]) -> tuple[str, Callable[[], None]]:
    table = {
        ("/" + prefix.strip("/") + "/").replace("//", "/"): Path(d).resolve()
        for prefix, d in mounts.items()
    }
    handler = type("MountedHandler", (_StaticHandler,), {"mounts": table})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="static-server", daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)

    return f"http://127.0.0.1:{server.server_address[1]}", stop


def _start_asgi(app: Any) -> tuple[str, Callable[[], None]]:
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="auto", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="asgi-server", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError("the ASGI test server did not start")
        time.sleep(0.02)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()

    return f"http://127.0.0.1:{port}", stop


@pytest.fixture(scope="session")
def serve() -> Iterator[Callable[[Any], str]]:
    """Factory: ``serve(directory | {prefix: directory} | asgi_app) -> base URL``."""
    stops: list[Callable[[], None]] = []

    def start(target: Any) -> str:
        if isinstance(target, str | os.PathLike):
            url, stop = _start_static({"/": Path(target)})
        elif isinstance(target, Mapping):
            url, stop = _start_static(target)
        elif callable(target):
            url, stop = _start_asgi(target)
        else:
            raise TypeError("serve() takes a directory, a {prefix: directory} map or an ASGI app")
        stops.append(stop)
        return url

    yield start
    for stop in reversed(stops):
        with contextlib.suppress(Exception):
            stop()


@pytest.fixture(scope="session")
def static_url(serve: Callable[[Any], str]) -> str:
    """Base URL serving ``/crypto/js/`` and ``/pages/`` (tests/browser/pages)."""
    return serve({"/crypto/js/": REPO_ROOT / "crypto" / "js", "/pages/": PAGES_DIR})


@pytest_asyncio.fixture(loop_scope="session")
async def crypto_page(page: Any, static_url: str, page_errors: list[str]) -> Any:
    """``page`` on the crypto test page, with the module available as ``window.wbs``."""
    await page.goto(f"{static_url}/pages/crypto.html")
    await page.wait_for_function("() => document.documentElement.dataset.ready !== undefined")
    state = await page.evaluate("() => document.documentElement.dataset.ready")
    if state != "ok":
        raise AssertionError(f"crypto module failed to load: {state} {page_errors}")
    return page
