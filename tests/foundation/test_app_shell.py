"""The web shell: security headers, errors as pages or JSON, languages, settings."""

from __future__ import annotations

import stat

import pytest
from fastapi import APIRouter

from tests.conftest import make_settings
from wbs.app import create_app
from wbs.core.settings import Settings, SettingsError


async def test_security_headers_on_pages_json_and_errors(client):
    for path in ("/staff/login", "/healthz", "/does-not-exist", "/api/v1/nothing"):
        response = await client.get(path)
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["cache-control"] == "no-store"
        assert "strict-transport-security" not in response.headers  # development
        assert "server" not in response.headers


async def test_hsts_outside_development(tmp_path, db_url, monkeypatch):
    import httpx

    monkeypatch.delenv("WBS_CRYPTO_ALLOW_WEAK_KDF")
    settings = make_settings(tmp_path, db_url, env="production")
    app = create_app(settings)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://testserver"
    ) as c:
        response = await c.get("/staff/login")
    await app.state.engine.dispose()
    assert "max-age=" in response.headers["strict-transport-security"]


async def test_not_found_is_a_page_for_browsers_and_json_for_the_api(client):
    page = await client.get("/nope", headers={"accept": "text/html"})
    assert page.status_code == 404 and "text/html" in page.headers["content-type"]
    assert "Tidak ditemukan." in page.text and '<html lang="id">' in page.text
    english = await client.get("/nope?lang=en", headers={"accept": "text/html"})
    assert "Not found." in english.text and '<html lang="en">' in english.text
    api = await client.get("/api/v1/nope")
    assert api.status_code == 404
    assert api.json()["error"] == "not_found"
    assert api.json()["message_id"] == "Tidak ditemukan."
    assert api.json()["message_en"] == "Not found."


async def test_no_stack_trace_reaches_the_client(app, client):
    router = APIRouter()

    @router.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internal detail /etc/passwd")

    app.include_router(router)
    import httpx

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        page = await c.get("/boom", headers={"accept": "text/html"})
        api = await c.get("/boom", headers={"accept": "application/json"})
    for response in (page, api):
        assert response.status_code == 500
        assert "secret internal detail" not in response.text
        assert "Traceback" not in response.text and "RuntimeError" not in response.text


async def test_language_switch_sets_a_staff_cookie(client):
    response = await client.get("/bahasa/en?next=/staff/login")
    assert response.status_code == 303 and response.headers["location"] == "/staff/login"
    assert "wbs_lang=en" in response.headers["set-cookie"]
    page = await client.get("/staff/login")
    assert "Staff sign-in" in page.text
    evil = await client.get("/bahasa/en?next=//evil.example/")
    assert evil.headers["location"] == "/staff"


async def test_openapi_is_served(client):
    response = await client.get("/openapi.json")
    assert response.status_code == 200 and response.json()["info"]["title"] == "wbs"


def test_production_refuses_placeholder_secrets(tmp_path, monkeypatch):
    monkeypatch.delenv("WBS_CRYPTO_ALLOW_WEAK_KDF")
    for bad in ("", "change-me", "secret", "short-key"):
        with pytest.raises(SettingsError):
            Settings(env="production", data_dir=tmp_path, secret_key=bad)
    ok = Settings(env="production", data_dir=tmp_path, secret_key="k" * 40)
    assert ok.is_production
    monkeypatch.setenv("WBS_CRYPTO_ALLOW_WEAK_KDF", "1")  # cheap staff KDF: tests only
    with pytest.raises(SettingsError, match="WBS_CRYPTO_ALLOW_WEAK_KDF"):
        Settings(env="production", data_dir=tmp_path, secret_key="k" * 40)


def test_development_secret_is_generated_privately(tmp_path):
    settings = Settings(env="development", data_dir=tmp_path / "var")
    first = settings.secret_bytes()
    assert len(first) >= 48 and settings.secret_bytes() == first
    mode = (tmp_path / "var" / "secret_key").stat().st_mode
    assert stat.S_IMODE(mode) == 0o600


def test_default_database_lives_in_the_data_dir(tmp_path):
    settings = Settings(data_dir=tmp_path / "var")
    assert settings.resolved_database_url.startswith("sqlite+aiosqlite:///")
    assert str((tmp_path / "var").resolve()) in settings.resolved_database_url


def test_serve_keeps_temporary_files_under_the_data_dir(tmp_path, monkeypatch):
    import os
    import stat
    import tempfile

    from wbs.core.tempdir import use_private_tempdir

    monkeypatch.setenv("TMPDIR", os.environ.get("TMPDIR", "/tmp"))
    monkeypatch.setattr(tempfile, "tempdir", None)
    private = use_private_tempdir(tmp_path / "var")
    try:
        assert tempfile.gettempdir() == str(private)
        assert private == (tmp_path / "var" / "tmp").resolve()
        assert stat.S_IMODE(private.stat().st_mode) == 0o700
        with tempfile.NamedTemporaryFile() as spooled:  # what libraries spool into
            assert os.path.dirname(spooled.name) == str(private)
    finally:
        tempfile.tempdir = None
