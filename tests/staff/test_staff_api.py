"""Staff JSON API: derivation parameters without an account oracle, sign-in, CSRF, throttle."""

from __future__ import annotations

from wbs.staff.credentials import login_secret_for


async def test_kdf_for_unknown_email_is_a_stable_decoy(client, make_unit, make_staff):
    unit = await make_unit()
    account = await make_staff(unit, "verifikator")
    one = (await client.get("/api/v1/staff/kdf", params={"email": "nobody@x.go.id"})).json()
    two = (await client.get("/api/v1/staff/kdf", params={"email": "NOBODY@x.go.id "})).json()
    other = (await client.get("/api/v1/staff/kdf", params={"email": "else@x.go.id"})).json()
    assert one == two and one != other
    assert one["kdf"]["name"] == "pbkdf2-sha256" and one["kdf"]["iterations"] >= 600_000
    known = (await client.get("/api/v1/staff/kdf", params={"email": account.email})).json()
    assert known["kdf"] == account.staff.kdf_params
    assert set(known["kdf"]) == set(one["kdf"])  # same shape: no account oracle


async def test_json_sign_in_me_and_sign_out(client, make_unit, make_staff):
    unit = await make_unit()
    account = await make_staff(unit, "verifikator", "upg")
    secret = login_secret_for(account.password, account.staff.kdf_params)
    response = await client.post(
        "/api/v1/staff/session", json={"email": account.email, "login_secret": secret}
    )
    assert response.status_code == 200
    assert "wbs_staff" in response.headers["set-cookie"]
    assert "httponly" in response.headers["set-cookie"].lower()
    body = response.json()
    assert body["staff"]["email"] == account.email
    assert body["staff"]["roles"] == ["upg", "verifikator"]
    assert body["staff"]["key_status"] == "none" and body["staff"]["unit"] == unit.code
    me = await client.get("/api/v1/staff/me")
    assert me.status_code == 200 and me.json()["id"] == account.staff.id
    assert me.headers["cache-control"] == "no-store"
    no_token = await client.delete("/api/v1/staff/session")
    assert no_token.status_code == 403 and no_token.json()["error"] == "csrf_failed"
    out = await client.delete("/api/v1/staff/session", headers={"x-csrf-token": body["csrf_token"]})
    assert out.status_code == 204
    assert (await client.get("/api/v1/staff/me")).status_code == 401


async def test_failed_json_sign_ins_are_counted_and_throttled(client, make_unit, make_staff):
    unit = await make_unit()
    account = await make_staff(unit, "verifikator")
    for _ in range(5):
        bad = await client.post(
            "/api/v1/staff/session", json={"email": account.email, "login_secret": "salah"}
        )
        assert bad.status_code == 401 and bad.json()["error"] == "login_failed"
        assert bad.json()["message_id"] and bad.json()["message_en"]
    good = login_secret_for(account.password, account.staff.kdf_params)
    locked = await client.post(
        "/api/v1/staff/session", json={"email": account.email, "login_secret": good}
    )
    assert locked.status_code == 429


async def test_cross_site_json_sign_in_is_refused(client, make_unit, make_staff):
    unit = await make_unit()
    account = await make_staff(unit, "verifikator")
    secret = login_secret_for(account.password, account.staff.kdf_params)
    response = await client.post(
        "/api/v1/staff/session",
        json={"email": account.email, "login_secret": secret},
        headers={"origin": "https://evil.example"},
    )
    assert response.status_code == 403
