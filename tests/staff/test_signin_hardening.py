"""Sign-in under pressure and sensitive changes (security review, findings 3, 7, 8 and 10).

- Concurrent wrong guesses on PostgreSQL: every attempt is charged atomically before the
  slow check, so no more than `login_max_failures` reach it, none fails with a 500 and
  the count is exact; one TOTP code used concurrently signs in exactly once.
- Argon2 runs in a worker thread with no transaction open (on SQLite: the write lock is
  free while it runs), and a global sign-in limit answers 429 beyond N per minute.
- Replacing the device key or the authenticator, and changing the passphrase, need the
  current login secret and (with TOTP enrolled) a current, unused code.
- Failed sign-ins are in the audit log, without the attempted secret.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
from sqlalchemy import select

from crypto import staffkeys
from tests.conftest import csrf_from, login, make_settings
from tests.reporting.helpers import enrol, sign_in
from wbs.app import create_app
from wbs.audit.models import AuditEvent
from wbs.staff import service as staff_service
from wbs.staff import totp
from wbs.staff.credentials import login_secret_for, new_credentials
from wbs.staff.models import LoginThrottle, Role, Staff
from wbs.staff.passwords import Hasher
from wbs.units.service import create_unit

PASS = "kata-sandi-panjang-untuk-uji"


async def _fresh_app(tmp_path: Path, url: str, **overrides: Any) -> Any:
    """An app over its own database and engine: every request gets its own connection."""
    app = create_app(make_settings(tmp_path / "var", url, **overrides))
    app.state.security.hasher = Hasher(time_cost=1, memory_kib=8, parallelism=1)
    return app


async def _make_account(app: Any, email: str, *, with_totp: bool = False) -> str | None:
    """A committed staff account signing in with PASS; returns its TOTP seed (if any)."""
    secret, kdf = new_credentials(PASS, for_tests=True)
    async with app.state.sessionmaker() as db:
        unit = await create_unit(db, code="UJI", name="Unit", parent_code=None, actor="test")
        _staff, seed = await staff_service.create_staff(
            db,
            app.state.security,
            email=email,
            name="Uji",
            unit_code=unit.code,
            roles=[Role.verifikator],
            login_secret=secret,
            kdf_params=kdf,
            with_totp=with_totp,
            actor="test",
        )
        await db.commit()
    return seed


def _client(app: Any) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def _attempt(app: Any, email: str, secret: str, code: str | None = None) -> int:
    async with _client(app) as client:  # a client (and a database session) of its own
        out = await client.post(
            "/api/v1/staff/session",
            json={"email": email, "login_secret": secret, "code": code},
        )
        return out.status_code


class CountingHasher(Hasher):
    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_kib=8, parallelism=1)
        self.checks = 0

    def verify(self, stored: str | None, secret: str) -> bool:
        self.checks += 1
        return super().verify(stored, secret)


# --------------------------------------------------------------------------- finding 3


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_concurrent_wrong_guesses_are_charged_before_the_check(tmp_path, fresh_db_url):
    app = await _fresh_app(tmp_path, fresh_db_url, login_global_per_minute=10_000)
    try:
        await _make_account(app, "target@uji.go.id")
        hasher = CountingHasher()
        app.state.security.hasher = hasher
        wrong = login_secret_for("bukan-kata-sandinya", None)
        for email in ("target@uji.go.id", "nobody@uji.go.id"):  # a row exists / does not
            before = hasher.checks
            codes = await asyncio.gather(*(_attempt(app, email, wrong) for _ in range(40)))
            assert 500 not in codes
            assert codes.count(401) == 5 and codes.count(429) == 35, codes
            assert hasher.checks - before == 5  # guesses beyond the limit never reached it
        async with app.state.sessionmaker() as db:
            counts = list(
                await db.scalars(
                    select(LoginThrottle.failures).where(LoginThrottle.account_key != "*all*")
                )
            )
        assert counts == [40, 40]  # every attempt counted, none lost to a race
    finally:
        await app.state.engine.dispose()


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_one_totp_code_used_concurrently_signs_in_once(tmp_path, fresh_db_url):
    app = await _fresh_app(
        tmp_path, fresh_db_url, login_global_per_minute=10_000, login_max_failures=50
    )
    try:
        seed = await _make_account(app, "totp@uji.go.id", with_totp=True)
        assert seed is not None
        secret = login_secret_for(PASS, await _kdf(app, "totp@uji.go.id"))
        # One failed attempt first, so the throttle row exists and only TOTP is contended.
        assert await _attempt(app, "totp@uji.go.id", "salah-salah-salah") == 401
        code = pyotp.TOTP(seed).now()
        codes = await asyncio.gather(
            *(_attempt(app, "totp@uji.go.id", secret, code) for _ in range(10))
        )
        assert sorted(codes) == [200] + [401] * 9, codes
    finally:
        await app.state.engine.dispose()


async def _kdf(app: Any, email: str) -> dict[str, Any] | None:
    async with app.state.sessionmaker() as db:
        staff = await db.scalar(select(Staff).where(Staff.email == email))
        assert staff is not None
        return staff.kdf_params


# --------------------------------------------------------------------------- finding 7


class ProbingHasher(Hasher):
    """Looks, while verifying, whether the event loop is free and no transaction is open."""

    def __init__(self, url: str) -> None:
        super().__init__(time_cost=1, memory_kib=8, parallelism=1)
        self.url = url
        self.seen: list[tuple[bool, bool]] = []

    def verify(self, stored: str | None, secret: str) -> bool:
        try:
            asyncio.get_running_loop()
            off_loop = False
        except RuntimeError:
            off_loop = True
        self.seen.append((off_loop, self._database_free()))
        return super().verify(stored, secret)

    def _database_free(self) -> bool:
        if self.url.startswith("sqlite"):
            probe = sqlite3.connect(self.url.split("///", 1)[1], timeout=0)
            try:
                probe.isolation_level = None
                probe.execute("BEGIN IMMEDIATE")  # fails at once while a writer holds it
                probe.execute("ROLLBACK")
                return True
            except sqlite3.OperationalError:
                return False
            finally:
                probe.close()
        import psycopg

        with psycopg.connect(self.url.replace("postgresql+psycopg", "postgresql")) as probe:
            row = probe.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'"
            ).fetchone()
            return row is not None and row[0] == 0


async def test_argon2_runs_off_the_loop_with_no_transaction_open(tmp_path, fresh_db_url):
    app = await _fresh_app(tmp_path, fresh_db_url)
    try:
        await _make_account(app, "lock@uji.go.id")
        hasher = ProbingHasher(fresh_db_url)
        app.state.security.hasher = hasher
        secret = login_secret_for(PASS, await _kdf(app, "lock@uji.go.id"))
        assert await _attempt(app, "lock@uji.go.id", "salah-salah-salah") == 401
        assert await _attempt(app, "nobody@uji.go.id", secret) == 401
        assert await _attempt(app, "lock@uji.go.id", secret) == 200
        assert hasher.seen == [(True, True)] * 3
    finally:
        await app.state.engine.dispose()


async def test_global_sign_in_limit_answers_429(app, client, make_unit, make_staff):
    app.state.security.settings = app.state.security.settings.model_copy(
        update={"login_global_per_minute": 3}
    )
    account = await make_staff(await make_unit(), "verifikator")
    for i in range(3):  # three different e-mails: the per-e-mail limit is far away
        out = await client.post(
            "/api/v1/staff/session",
            json={"email": f"orang{i}@uji.go.id", "login_secret": "salah-salah-salah"},
        )
        assert out.status_code == 401
    refused = await client.post(
        "/api/v1/staff/session",
        json={"email": account.email, "login_secret": account.login_secret},
    )
    assert refused.status_code == 429 and refused.json()["error"] == "sign_ins_busy"
    assert refused.json()["message_id"].startswith("Terlalu banyak percobaan masuk")
    assert refused.json()["message_en"].startswith("Too many sign-in attempts")


# --------------------------------------------------------------------------- finding 8


def _next_code(seed: str) -> str:
    """A code of the next time step: the current one was used to sign in."""
    return pyotp.TOTP(seed).at(time.time() + totp.STEP_SECONDS)


async def _totp_account(make_unit, make_staff, security):
    account = await make_staff(await make_unit(), "verifikator", with_totp=True)
    seed = totp.open_secret(security.totp_box, account.email, account.staff.totp_secret_enc)
    return account, seed


async def _json_sign_in(client, account, seed: str | None = None) -> str:
    out = await client.post(
        "/api/v1/staff/session",
        json={
            "email": account.email,
            "login_secret": account.login_secret,
            "code": pyotp.TOTP(seed).now() if seed else None,
        },
    )
    assert out.status_code == 200, out.text
    return str(out.json()["csrf_token"])


async def test_replacing_the_key_needs_the_current_secret(client, make_unit, make_staff):
    account = await make_staff(await make_unit(), "verifikator")
    made, _me = await enrol(client, account)
    other = staffkeys.create_staff_key(
        account.password, kdf=account.staff.kdf_params, weak_for_tests=True
    )
    body = {
        "public_key": other.public,
        "wrapped_private_key": other.wrapped.dumps(),
        "recovery_wrapped_private_key": other.recovery_wrapped.dumps(),
    }
    csrf = (await client.get("/api/v1/staff/me")).json()["csrf_token"]
    headers = {"x-csrf-token": csrf}
    missing = await client.put("/api/v1/staff/me/key", json=body, headers=headers)
    assert missing.status_code == 422
    wrong = await client.put(
        "/api/v1/staff/me/key",
        json={**body, "login_secret": login_secret_for("salah", None)},
        headers=headers,
    )
    assert wrong.status_code == 401 and wrong.json()["error"] == "current_passphrase_wrong"
    assert (await client.get("/api/v1/staff/me")).json()["public_key"] == made.public
    right = await client.put(
        "/api/v1/staff/me/key",
        json={**body, "login_secret": account.login_secret},
        headers=headers,
    )
    assert right.status_code == 200 and right.json()["public_key"] == other.public


async def test_replacing_the_key_needs_a_current_totp_code(client, make_unit, make_staff, security):
    account, seed = await _totp_account(make_unit, make_staff, security)
    csrf = await _json_sign_in(client, account, seed)
    made = staffkeys.create_staff_key(
        account.password, kdf=account.staff.kdf_params, weak_for_tests=True
    )
    body = {
        "login_secret": account.login_secret,
        "public_key": made.public,
        "wrapped_private_key": made.wrapped.dumps(),
        "recovery_wrapped_private_key": made.recovery_wrapped.dumps(),
    }
    headers = {"x-csrf-token": csrf}
    no_code = await client.put("/api/v1/staff/me/key", json=body, headers=headers)
    assert no_code.status_code == 401 and no_code.json()["error"] == "totp_required"
    used = await client.put(  # the code of the sign-in cannot be used again
        "/api/v1/staff/me/key",
        json={**body, "code": pyotp.TOTP(seed).now()},
        headers=headers,
    )
    assert used.status_code == 401 and used.json()["error"] == "current_code_wrong"
    assert (await client.get("/api/v1/staff/me")).json()["public_key"] is None
    ok = await client.put(
        "/api/v1/staff/me/key", json={**body, "code": _next_code(seed)}, headers=headers
    )
    assert ok.status_code == 200 and ok.json()["public_key"] == made.public


async def test_replacing_the_authenticator_needs_secret_and_current_code(
    client, db, make_unit, make_staff, security
):
    account, seed = await _totp_account(make_unit, make_staff, security)
    assert (await login(client, account, pyotp.TOTP(seed).now())).status_code == 303
    new_seed = totp.new_secret()
    new_code = pyotp.TOTP(new_seed).now()

    async def post(**fields: str) -> httpx.Response:
        token = await csrf_from(client, "/staff/2fa")
        data = {"csrf_token": token, "seed": new_seed, "code": new_code, **fields}
        return await client.post("/staff/2fa", data=data)

    assert (await post()).status_code == 401  # no passphrase: refused
    assert (await post(password=login_secret_for("salah", None))).status_code == 401
    assert (await post(password=account.login_secret)).status_code == 401  # no current code
    stored = await db.scalar(select(Staff.totp_secret_enc).where(Staff.id == account.staff.id))
    assert totp.open_secret(security.totp_box, account.email, stored) == seed  # unchanged
    done = await post(password=account.login_secret, current_code=_next_code(seed))
    assert done.status_code == 303
    stored = await db.scalar(
        select(Staff.totp_secret_enc)
        .where(Staff.id == account.staff.id)
        .execution_options(populate_existing=True)
    )
    assert totp.open_secret(security.totp_box, account.email, stored) == new_seed


async def test_passphrase_change_needs_a_current_totp_code(client, make_unit, make_staff, security):
    account, seed = await _totp_account(make_unit, make_staff, security)
    csrf = await _json_sign_in(client, account, seed)
    secret, kdf = staffkeys.new_credentials(
        "kata sandi baru yang panjang",
        staffkeys.KdfParams.pbkdf2(1_000, weak_for_tests=True),
        weak_for_tests=True,
    )
    body = {
        "current_login_secret": account.login_secret,
        "new_login_secret": secret,
        "new_kdf": kdf,
        "wrapped_private_key": None,
    }
    headers = {"x-csrf-token": csrf}
    refused = await client.put("/api/v1/staff/me/passphrase", json=body, headers=headers)
    assert refused.status_code == 401 and refused.json()["error"] == "totp_required"
    ok = await client.put(
        "/api/v1/staff/me/passphrase",
        json={**body, "code": _next_code(seed)},
        headers=headers,
    )
    assert ok.status_code == 200, ok.text


# --------------------------------------------------------------------------- finding 10


async def test_failed_sign_ins_are_audited_without_the_secret(client, db, make_unit, make_staff):
    account = await make_staff(await make_unit(), "verifikator")
    attempted = login_secret_for("tebakan-yang-salah", None)
    for email in (account.email, "tidak-ada@uji.go.id"):
        out = await client.post(
            "/api/v1/staff/session", json={"email": email, "login_secret": attempted}
        )
        assert out.status_code == 401
    events = list(
        await db.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "staff.login_failed")
            .order_by(AuditEvent.id)
        )
    )
    known, unknown = events[-2:]
    assert (known.object_type, known.object_id) == ("staff", str(account.staff.id))
    assert unknown.object_type == "login" and len(unknown.object_id) == 64
    assert known.details == unknown.details == {"reason": "secret"}
    text = json.dumps([[e.actor, e.object_id, e.details] for e in (known, unknown)])
    assert attempted not in text and "tidak-ada" not in text and account.email not in text
    csrf = await sign_in(client, account)  # a success is not a failure
    assert csrf
    after = await db.scalar(
        select(AuditEvent)
        .where(AuditEvent.action == "staff.login_failed")
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    assert after is not None and after.id == unknown.id


def test_client_asks_for_a_second_code_when_totp_is_enrolled():
    from wbs.client.api import ClientError
    from wbs.client.flows import _reauth_code

    assert _reauth_code({"totp_enrolled": False}, None, None) is None
    assert _reauth_code({"totp_enrolled": True}, "123456", "654321") == "654321"
    for reauth in (None, "123456"):  # missing, or the sign-in's code again
        with pytest.raises(ClientError, match="--reauth-code"):
            _reauth_code({"totp_enrolled": True}, "123456", reauth)
