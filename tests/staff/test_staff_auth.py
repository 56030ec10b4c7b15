"""Staff sign-in: passwords, throttle, TOTP, CSRF, sessions."""

from __future__ import annotations

import time

import pyotp
import pytest
from sqlalchemy import select

from tests.conftest import csrf_from, login
from wbs.staff import totp
from wbs.staff.models import StaffSession
from wbs.staff.passwords import Hasher


async def test_right_password_signs_in_and_sets_strict_cookie(client, make_unit, make_staff):
    account = await make_staff(await make_unit(), "admin")
    response = await login(client, account)
    assert response.status_code == 303
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "secure" not in cookie
    home = await client.get("/staff")
    assert home.status_code == 200 and account.email in home.text


async def test_wrong_password_is_refused(client, make_unit, make_staff):
    account = await make_staff(await make_unit(), "admin")
    account.password = "definitely-not-the-password"
    response = await login(client, account)
    assert response.status_code == 401
    assert "set-cookie" not in response.headers
    assert (await client.get("/staff")).status_code == 303  # still anonymous


async def test_unknown_account_gets_same_answer(client):
    token = await csrf_from(client, "/staff/login")
    response = await client.post(
        "/staff/login",
        data={"csrf_token": token, "email": "nobody@example.go.id", "password": "x" * 20},
    )
    assert response.status_code == 401
    assert "E-mail, kata sandi, atau kode verifikasi salah" in response.text


def test_unknown_account_does_the_same_hashing_work(monkeypatch: pytest.MonkeyPatch):
    hasher = Hasher(time_cost=1, memory_kib=8, parallelism=1)
    calls: list[str] = []
    real = hasher._ph

    class Counting:
        def verify(self, stored: str, secret: str) -> bool:
            calls.append(stored)
            return real.verify(stored, secret)

        def hash(self, secret: str) -> str:
            return real.hash(secret)

    monkeypatch.setattr(hasher, "_ph", Counting())
    stored = hasher.hash("the-right-secret-123")
    assert hasher.verify(stored, "wrong-secret-1234") is False
    assert hasher.verify(None, "wrong-secret-1234") is False
    assert len(calls) == 2 and calls[1] != stored  # a dummy hash was verified for "nobody"


async def test_throttle_kicks_in_even_for_the_right_password(client, make_unit, make_staff):
    account = await make_staff(await make_unit(), "verifikator")
    right = account.password
    account.password = "wrong-password-000"
    for _ in range(5):
        assert (await login(client, account)).status_code == 401
    account.password = right
    throttled = await login(client, account)
    assert throttled.status_code == 429
    assert "Terlalu banyak percobaan" in throttled.text


async def test_form_post_without_csrf_is_refused(client, make_unit, make_staff):
    account = await make_staff(await make_unit(), "admin")
    response = await client.post(
        "/staff/login", data={"email": account.email, "password": account.login_secret}
    )
    assert response.status_code == 403
    assert "Formulir kedaluwarsa" in response.text


async def test_csrf_token_from_another_session_is_refused(client, make_unit, make_staff):
    account = await make_staff(await make_unit(), "admin")
    anonymous_token = await csrf_from(client, "/staff/login")
    assert (await login(client, account)).status_code == 303
    # Signed in now: a token bound to "anonymous" must not work for the session's forms.
    response = await client.post("/staff/logout", data={"csrf_token": anonymous_token})
    assert response.status_code == 403
    forged = anonymous_token.split(".")[0] + "." + "0" * 64
    assert (await client.post("/staff/logout", data={"csrf_token": forged})).status_code == 403


async def test_cross_origin_post_is_refused(client, make_unit, make_staff):
    account = await make_staff(await make_unit(), "admin")
    token = await csrf_from(client, "/staff/login")
    response = await client.post(
        "/staff/login",
        headers={"origin": "https://evil.example"},
        data={"csrf_token": token, "email": account.email, "password": account.login_secret},
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"origin": "null", "sec-fetch-site": "same-origin"}, 303),  # Chromium, no-referrer
        ({"origin": "null"}, 403),
        ({"origin": "null", "sec-fetch-site": "cross-site"}, 403),
        ({"origin": "http://testserver", "sec-fetch-site": "same-origin"}, 303),
        ({"origin": "http://testserver", "sec-fetch-site": "same-site"}, 403),
        ({"sec-fetch-site": "cross-site"}, 403),
        ({}, 303),  # scripts and API clients: the CSRF token still applies
    ],
)
async def test_origin_and_fetch_metadata(client, make_unit, make_staff, headers, expected):
    account = await make_staff(await make_unit(), "admin")
    token = await csrf_from(client, "/staff/login")
    response = await client.post(
        "/staff/login",
        headers=headers,
        data={"csrf_token": token, "email": account.email, "password": account.login_secret},
    )
    assert response.status_code == expected


async def test_origin_of_the_public_base_url_is_accepted(app, client, make_unit, make_staff):
    """Behind a TLS proxy the app sees http://; the browser's origin is WBS_BASE_URL's."""
    account = await make_staff(await make_unit(), "admin")
    app.state.settings = app.state.settings.model_copy(
        update={"base_url": "https://wbs.example.go.id/"}
    )
    token = await csrf_from(client, "/staff/login")
    data = {"csrf_token": token, "email": account.email, "password": account.login_secret}
    other = await client.post(
        "/staff/login", data=data, headers={"origin": "https://evil.example.go.id"}
    )
    assert other.status_code == 403
    response = await client.post(
        "/staff/login", data=data, headers={"origin": "https://wbs.example.go.id"}
    )
    assert response.status_code == 303


async def test_logout_ends_the_session_server_side(client, db, make_unit, make_staff):
    account = await make_staff(await make_unit(), "admin")
    assert (await login(client, account)).status_code == 303
    cookie = dict(client.cookies)
    token = await csrf_from(client, "/staff")
    assert (await client.post("/staff/logout", data={"csrf_token": token})).status_code == 303
    assert (
        await db.scalars(select(StaffSession).where(StaffSession.staff_id == account.staff.id))
    ).all() == []
    client.cookies.clear()
    client.cookies.update(cookie)  # replaying the old cookie does not sign in
    assert (await client.get("/staff")).status_code == 303


async def test_totp_required_and_reused_code_refused(client, db, make_unit, make_staff, security):
    account = await make_staff(await make_unit(), "admin", with_totp=True)
    seed = totp.open_secret(security.totp_box, account.email, account.staff.totp_secret_enc)
    no_code = await login(client, account)
    assert no_code.status_code == 401 and "kode verifikasi" in no_code.text
    code = pyotp.TOTP(seed).now()
    assert (await login(client, account, code)).status_code == 303
    client.cookies.clear()
    reused = await login(client, account, code)
    assert reused.status_code == 401  # the same code twice is a replay
    wrong = await login(client, account, "000000" if code != "000000" else "111111")
    assert wrong.status_code == 401


def test_totp_step_matching_window():
    seed = totp.new_secret()
    now = time.time()
    code = pyotp.TOTP(seed).at(now)
    assert totp.matching_step(seed, code, now=now) == int(now // 30)
    assert totp.matching_step(seed, code, now=now + 300) is None
    assert totp.matching_step(seed, "12345", now=now) is None
    assert totp.matching_step(seed, "abcdef", now=now) is None


async def test_production_refuses_sign_in_without_totp(db, make_unit, make_staff, security):
    from wbs.staff import service

    account = await make_staff(await make_unit(), "admin")
    security.settings = security.settings.model_copy(update={"env": "production"})
    with pytest.raises(service.TotpNotEnrolled):
        await service.authenticate(
            db, security, email=account.email, login_secret=account.login_secret, code=None
        )


async def test_hash_is_upgraded_when_parameters_change(db, make_unit, make_staff, security):
    from wbs.staff import service

    account = await make_staff(await make_unit(), "admin")
    old_hash = account.staff.password_hash
    security.hasher = Hasher(time_cost=2, memory_kib=16, parallelism=1)
    staff = await service.authenticate(
        db, security, email=account.email, login_secret=account.login_secret, code=None
    )
    assert staff.password_hash != old_hash and "m=16,t=2,p=1" in staff.password_hash


async def test_password_length_limits(db, make_unit, make_staff):
    from wbs.staff.passwords import PasswordPolicyError

    unit = await make_unit()
    with pytest.raises(PasswordPolicyError):
        await make_staff(unit, "admin", password="short")
    with pytest.raises(PasswordPolicyError):
        await make_staff(unit, "admin", password="x" * 257)
