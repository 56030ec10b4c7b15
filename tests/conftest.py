"""Shared fixtures: real databases (SQLite and PostgreSQL, schema built by Alembic), the app,
an HTTP client, and factories for units and staff.

Database tests take the `backend` parameter `sqlite` or `postgresql` through the `db_url`
fixture, so each runs on both. PostgreSQL is a throwaway cluster started once per run
(`tests/pg.py`); when it cannot start, PostgreSQL tests are skipped with a notice, except
under `CI=true`, where that is an error.

Per-test isolation: `db`, `app` and `client` share one connection whose outer transaction is
rolled back after the test; requests "commit" into savepoints. Tests that need committed
data seen by other processes or connections (a `wbs serve` subprocess, concurrency) use
`fresh_db_url`, a new migrated database of their own.
"""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from tests.pg import Cluster, PostgresUnavailable, start_cluster
from wbs.app import create_app
from wbs.core.db import make_engine
from wbs.core.settings import Settings
from wbs.migrate import upgrade
from wbs.staff import service as staff_service
from wbs.staff.credentials import login_secret_for, new_credentials
from wbs.staff.models import Role, Staff
from wbs.units.models import Unit
from wbs.units.service import create_unit

IN_CI = os.environ.get("CI", "").lower() == "true"
BACKENDS = ("sqlite", "postgresql")
TEST_SECRET = "test-secret-key-" + "x" * 40
_notices: list[str] = []
_pg_version = ""

# The crypto library's test-only escape for slow key derivations (see crypto.staffkeys).
os.environ.setdefault("WBS_CRYPTO_ALLOW_WEAK_KDF", "1")
# No-JavaScript forms wait this long after being served before they are accepted; tests
# that check the wait inject a clock (tests/reporting/test_floods.py).
os.environ.setdefault("WBS_REPORT_FORM_MIN_SECONDS", "0")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    passed = [r.nodeid for r in terminalreporter.stats.get("passed", []) if r.when == "call"]
    counts = {
        b: sum(1 for n in passed if re.search(rf"[\[-]{b}[\]-]", n))
        for b in ("postgresql", "sqlite")
    }
    terminalreporter.write_line(
        f"database tests passed: postgresql {counts['postgresql']}, sqlite {counts['sqlite']}"
        f"{' (' + _pg_version + ')' if _pg_version else ''}",
        bold=True,
    )
    for notice in _notices:
        terminalreporter.write_line(f"NOTICE: {notice}", yellow=True, bold=True)


# --------------------------------------------------------------------------- databases


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster | None]:
    if os.environ.get("WBS_TEST_POSTGRES") == "0" and not IN_CI:
        _notices.append("PostgreSQL disabled by WBS_TEST_POSTGRES=0: PostgreSQL tests skipped")
        yield None
        return
    try:
        cluster = start_cluster()
    except PostgresUnavailable as exc:
        if IN_CI:
            pytest.fail(f"CI=true but PostgreSQL is unavailable: {exc}", pytrace=False)
        _notices.append(f"PostgreSQL unavailable ({exc}): tests ran on SQLite only")
        yield None
        return
    global _pg_version
    _pg_version = f"PostgreSQL {cluster.bin_dir.parent.name} on port {cluster.port}"
    try:
        yield cluster
    finally:
        cluster.stop()


def _require_pg(cluster: Cluster | None) -> Cluster:
    if cluster is None:
        pytest.skip("PostgreSQL unavailable (see the NOTICE at the end of the run)")
    return cluster


@dataclass
class Databases:
    """Migrated template databases, one per backend, made once per run."""

    tmp: Path
    cluster: Cluster | None
    _sqlite_template: Path | None = None
    _pg_template: bool = False

    async def sqlite_template(self) -> Path:
        if self._sqlite_template is None:
            path = self.tmp / "template.sqlite3"
            await asyncio.to_thread(upgrade, f"sqlite+aiosqlite:///{path}")
            self._sqlite_template = path
        return self._sqlite_template

    async def pg_template(self) -> Cluster:
        cluster = _require_pg(self.cluster)
        if not self._pg_template:
            cluster.psql("CREATE DATABASE wbs_template")
            await asyncio.to_thread(upgrade, cluster.url("wbs_template"))
            self._pg_template = True
        return cluster

    async def new_database(self, backend: str) -> str:
        """A new, migrated, empty database; returns its async URL."""
        if backend == "sqlite":
            template = await self.sqlite_template()
            path = self.tmp / f"db-{uuid.uuid4().hex[:12]}.sqlite3"
            path.write_bytes(template.read_bytes())
            return f"sqlite+aiosqlite:///{path}"
        cluster = await self.pg_template()
        name = f"wbs_{uuid.uuid4().hex[:12]}"
        cluster.psql(f"CREATE DATABASE {name} TEMPLATE wbs_template")
        return cluster.url(name)


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory, pg_cluster: Cluster | None) -> Databases:
    return Databases(tmp_path_factory.mktemp("databases"), pg_cluster)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


_shared_urls: dict[str, str] = {}
_shared_engines: dict[str, AsyncEngine] = {}


@pytest_asyncio.fixture(loop_scope="session")
async def db_url(backend: str, databases: Databases) -> str:
    """The shared migrated database of this backend (tests roll back what they write)."""
    if backend not in _shared_urls:
        _shared_urls[backend] = await databases.new_database(backend)
    return _shared_urls[backend]


@pytest_asyncio.fixture(loop_scope="session")
async def fresh_db_url(backend: str, databases: Databases) -> str:
    """A new migrated database for this test alone; what it commits stays (in tmp)."""
    return await databases.new_database(backend)


@pytest_asyncio.fixture(loop_scope="session", scope="session", autouse=True)
async def _dispose_engines() -> AsyncIterator[None]:
    yield
    for engine in _shared_engines.values():
        await engine.dispose()


@pytest_asyncio.fixture(loop_scope="session")
async def connection(db_url: str) -> AsyncIterator[AsyncConnection]:
    if db_url not in _shared_engines:
        _shared_engines[db_url] = make_engine(db_url)
    async with _shared_engines[db_url].connect() as conn:
        outer = await conn.begin()
        try:
            yield conn
        finally:
            await outer.rollback()


@pytest_asyncio.fixture(loop_scope="session")
async def db(connection: AsyncConnection) -> AsyncIterator[AsyncSession]:
    session = AsyncSession(
        bind=connection,
        join_transaction_mode="create_savepoint",
        expire_on_commit=False,
        autoflush=False,
    )
    try:
        yield session
    finally:
        await session.close()


# --------------------------------------------------------------------------- app


def make_settings(data_dir: Path, database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "env": "development",
        "data_dir": data_dir,
        "database_url": database_url,
        "secret_key": TEST_SECRET,
        "argon2_time_cost": 1,
        "argon2_memory_kib": 8,
        "argon2_parallelism": 1,
        "worker_in_process": False,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return make_settings(tmp_path / "var", db_url)


@pytest.fixture
def security(settings: Settings) -> staff_service.Security:
    from wbs.staff.passwords import Hasher

    return staff_service.Security(
        settings=settings,
        hasher=Hasher(time_cost=1, memory_kib=8, parallelism=1),
        master=settings.secret_bytes(),
    )


@pytest_asyncio.fixture(loop_scope="session")
async def app(settings: Settings, connection: AsyncConnection) -> AsyncIterator[Any]:
    application = create_app(settings)
    application.state.sessionmaker = async_sessionmaker(
        bind=connection,
        join_transaction_mode="create_savepoint",
        expire_on_commit=False,
        autoflush=False,
    )
    yield application
    await application.state.engine.dispose()


@pytest_asyncio.fixture(loop_scope="session")
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


# --------------------------------------------------------------------------- factories


@dataclass
class Account:
    """A staff member made by `make_staff`, with the passphrase it signs in with."""

    staff: Staff
    password: str

    @property
    def email(self) -> str:
        return self.staff.email

    @property
    def login_secret(self) -> str:
        """What a device sends in place of the passphrase."""
        return login_secret_for(self.password, self.staff.kdf_params)


@pytest.fixture
def make_unit(db: AsyncSession) -> Callable[..., Awaitable[Unit]]:
    async def factory(
        code: str | None = None, name: str = "Unit Uji", parent: str | None = None
    ) -> Unit:
        unit = await create_unit(
            db,
            code=code or f"U{uuid.uuid4().hex[:8].upper()}",
            name=name,
            parent_code=parent,
            actor="test",
        )
        await db.commit()
        return unit

    return factory


@pytest.fixture
def make_staff(
    db: AsyncSession, security: staff_service.Security
) -> Callable[..., Awaitable[Account]]:
    async def factory(
        unit: Unit,
        *roles: Role | str,
        email: str | None = None,
        password: str | None = None,
        with_totp: bool = False,
    ) -> Account:
        password = password or f"pw-{uuid.uuid4().hex}"
        login_secret, kdf = new_credentials(password, for_tests=True)
        staff, _seed = await staff_service.create_staff(
            db,
            security,
            email=email or f"{uuid.uuid4().hex[:10]}@example.go.id",
            name="Uji",
            unit_code=unit.code,
            roles=[Role(r) for r in roles] or [Role.verifikator],
            login_secret=login_secret,
            kdf_params=kdf,
            with_totp=with_totp,
            actor="test",
        )
        await db.commit()
        return Account(staff, password)

    return factory


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


async def csrf_from(client: httpx.AsyncClient, path: str) -> str:
    page = await client.get(path)
    found = CSRF_RE.search(page.text)
    assert found, f"no CSRF token on {path}"
    return found.group(1)


async def login(
    client: httpx.AsyncClient, account: Account, code: str | None = None
) -> httpx.Response:
    """Sign in through the real login form; returns the POST response (303 on success)."""
    token = await csrf_from(client, "/staff/login")
    data = {
        "csrf_token": token,
        "email": account.email,
        "password": account.login_secret,
        "next": "/staff",
    }
    if code:
        data["code"] = code
    return await client.post("/staff/login", data=data)
