"""Every database connection taken for the pool's whole waiting time: a 503 with Retry-After
(server busy, nothing saved), never a 500 (found by 500 simultaneous submissions)."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from tests.conftest import make_settings
from wbs.app import create_app

UNKNOWN_UNIT = "/api/v1/units/NOPE/directory"


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_no_free_connection_is_a_503_not_a_500(tmp_path, fresh_db_url):
    settings = make_settings(
        tmp_path / "var", fresh_db_url, db_pool_size=1, db_max_overflow=0, db_pool_timeout=0.2
    )
    assert settings.pool_options == {
        "pool_size": 1,
        "max_overflow": 0,
        "pool_timeout": 0.2,
        "pool_pre_ping": False,
        "pool_recycle": 1800,
    }
    app = create_app(settings)
    engine = app.state.engine
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            # A route that reads the database (/healthz does not): 404 for an unknown unit.
            assert (await c.get(UNKNOWN_UNIT)).status_code == 404
            async with engine.connect():  # the only connection, held
                api = await c.get(UNKNOWN_UNIT)
            again = await c.get(UNKNOWN_UNIT)
    finally:
        await engine.dispose()
    assert api.status_code == 503 and api.headers["retry-after"] == "5"
    assert api.json()["error"] == "busy"
    assert api.json()["message_id"].startswith("Server sedang sibuk")
    assert again.status_code == 404


def test_sqlite_takes_no_pool_options(tmp_path):
    settings = make_settings(tmp_path / "var", f"sqlite+aiosqlite:///{tmp_path}/x.db")
    assert settings.pool_options == {}


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_a_dropped_connection_fails_one_request_with_503_then_the_pool_recovers(
    tmp_path, fresh_db_url
):
    """No ping before each use: a connection the server ended is found by the request that
    uses it (503, Retry-After), and the pool is refreshed for the next one."""
    from sqlalchemy import text

    app = create_app(make_settings(tmp_path / "var", fresh_db_url, db_pool_size=1))
    engine = app.state.engine
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            assert (await c.get(UNKNOWN_UNIT)).status_code == 404  # the pooled connection
            admin = create_async_engine(fresh_db_url, poolclass=NullPool)
            async with admin.begin() as conn:
                ended = await conn.scalar(
                    text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                )
            await admin.dispose()
            assert ended >= 1
            lost = await c.get(UNKNOWN_UNIT)
            after = await c.get(UNKNOWN_UNIT)
    finally:
        await engine.dispose()
    assert lost.status_code == 503 and lost.headers["retry-after"] == "1"
    assert lost.json()["error"] == "busy"
    assert after.status_code == 404
