"""Shared steps of the reporting API tests: sign in, enrol a device key, publish a signed
directory, build a browser-path submission."""

from __future__ import annotations

import re
import uuid
from typing import Any

from crypto import directory as lib_directory
from crypto import envelope as lib_envelope
from crypto import receipt as lib_receipt
from crypto import staffkeys
from crypto.keys import PublicKey
from wbs.client.flows import solve_pow
from wbs.staff.credentials import login_secret_for


async def sign_in(client, account) -> str:
    """JSON sign-in; returns the session's CSRF token."""
    secret = login_secret_for(account.password, account.staff.kdf_params)
    out = await client.post(
        "/api/v1/staff/session", json={"email": account.email, "login_secret": secret}
    )
    assert out.status_code == 200, out.text
    return out.json()["csrf_token"]


async def enrol(client, account) -> tuple[staffkeys.StaffKeyEnrolment, dict[str, Any]]:
    """Sign in and enrol a new device key with its recovery wrap; (key, the /me answer)."""
    csrf = await sign_in(client, account)
    made = staffkeys.create_staff_key(
        account.password, kdf=account.staff.kdf_params, weak_for_tests=True
    )
    out = await client.put(
        "/api/v1/staff/me/key",
        json={
            "login_secret": login_secret_for(account.password, account.staff.kdf_params),
            "public_key": made.public,
            "wrapped_private_key": made.wrapped.dumps(),
            "recovery_wrapped_private_key": made.recovery_wrapped.dumps(),
        },
        headers={"x-csrf-token": csrf},
    )
    assert out.status_code == 200, out.text
    return made, out.json()


async def publish_directory(client, unit, csrf: str, admin_public: PublicKey) -> dict[str, Any]:
    """Sign the unit's proposed directory with a new unit key (wrapped to `admin_public`)
    as the signed-in admin and upload it; returns the server's answer."""
    plan = (await client.get(f"/api/v1/admin/units/{unit.code}/directory")).json()
    by_id = {s["key_id"]: s for s in plan["staff"]}

    def entries(kids):
        return [
            {"key_id": k, "public_key": by_id[k]["public_key"], "name": by_id[k]["display_name"]}
            for k in kids
        ]

    document = {
        "v": 1,
        "unit": unit.code,
        "version": plan["next_version"],
        "channels": {c: entries(kids) for c, kids in plan["recipients"].items()},
    }
    if plan["custodians"]:
        document["custodians"] = entries(plan["custodians"])
    unit_key = lib_directory.new_signing_key()
    signed = lib_directory.sign_directory(unit_key, document)
    wrapped = lib_directory.wrap_signing_key(unit_key, admin_public)
    out = await client.put(
        f"/api/v1/admin/units/{unit.code}/directory",
        json={**signed, "wrapped_private_key": wrapped},
        headers={"x-csrf-token": csrf},
    )
    assert out.status_code == 200, out.text
    return out.json()


async def submission(
    client,
    unit,
    recipients,
    *,
    excluded=(),
    version=1,
    report_id=None,
    content=None,
    channel="wbs",
):
    """A browser-path report body for `recipients` (key pairs); (body, receipt, sealed)."""
    text = lib_receipt.new_receipt()
    rk = lib_receipt.derive_from_receipt(text)
    report_id = report_id or str(uuid.uuid4())
    sealed = lib_envelope.seal_report(
        unit=unit.code,
        channel=channel,
        report_id=report_id,
        content=content or {"apa": "rahasia"},
        recipients=[k.public for k in recipients],
        reporter_key=rk.reporter_public_key,
    )
    challenge = (await client.get("/api/v1/pow")).json()
    env = sealed.envelope.to_json()
    body = {
        "envelope": env,
        "lookup": rk.lookup_b64u,
        "excluded": list(excluded),
        "pow": solve_pow(challenge, report_id),
        "directory_version": version,
    }
    return body, text, sealed


FORM_TOKEN_RE = re.compile(
    r'name="csrf_token" value="([^"]+)">\s*<input type="hidden" name="tantangan" value="([^"]+)"'
)


def form_tokens_in(html: str) -> dict[str, str]:
    """The hidden CSRF token and signed challenge of the first no-JavaScript form in a page."""
    found = FORM_TOKEN_RE.search(html)
    assert found, "no reporter form with a challenge"
    return {"csrf_token": found.group(1), "tantangan": found.group(2)}


async def form_tokens(client, path: str) -> dict[str, str]:
    return form_tokens_in((await client.get(path)).text)


async def mailbox_login(client, lookup_b64u: str, **kwargs: Any):
    """A receipt login through the API with its proof of work solved for the lookup id."""
    challenge = (await client.get("/api/v1/pow")).json()
    body = {"lookup": lookup_b64u, "pow": solve_pow(challenge, lookup_b64u)}
    return await client.post("/api/v1/mailbox/login", json=body, **kwargs)
