"""An outside witness of the audit log: `wbs client witness` (an auditor's account) records
the unit's newest signed tree head and, on every later run, accepts a new head only if it
extends the recorded one (same key, RFC 9162 consistency proof). The API it uses:
GET /api/v1/audit/{code}/head and /consistency (auditors of the unit only)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from crypto import merkle, treehead
from crypto.atrest import derive_signing_key
from tests.client.server import Served
from tests.client.test_unit_pinning import PASS, Site, _json
from tests.conftest import TEST_SECRET, login
from wbs.audit import service as audit
from wbs.client import e2e
from wbs.client.api import ClientError

MASTER = TEST_SECRET.encode()
KEY = audit.signing_key(MASTER)
KEY_HEX = audit.public_key_hex(MASTER)
AT = "2026-12-03T00:00:00Z"
LEAVES = [merkle.leaf_hash(f"entry {i}".encode()) for i in range(9)]


def _head(size: int, leaves: list[bytes] = LEAVES, key: Any = KEY, unit: str = "W") -> dict:
    root = merkle.root(leaves[:size]).hex()
    public = key.public_key().public_bytes_raw().hex()
    signature = treehead.sign_head(key, unit, size, root, AT)
    return {"unit": unit, "tree_size": size, "root_hash": root, "at": AT} | {
        "public_key": public,
        "signature": signature,
    }


def _proofs(leaves: list[bytes] = LEAVES) -> Any:
    def consistency(first: int, second: int) -> dict[str, Any]:
        proof = merkle.consistency_proof(first, leaves[:second])
        return {"first": _head(first, leaves), "second": _head(second, leaves)} | {
            "proof": [p.hex() for p in proof]
        }

    return consistency


def _before(size: int, leaves: list[bytes] = LEAVES) -> tuple[str, int, str]:
    return (KEY_HEX, size, merkle.root(leaves[:size]).hex())


def test_a_head_that_extends_the_witnessed_one_is_accepted():
    assert e2e.check_witnessed("W", _head(5), None, _proofs())["checked"] == "first-use"
    assert e2e.check_witnessed("W", _head(5), _before(5), _proofs())["checked"] == "unchanged"
    for old in (1, 2, 3, 4, 7):
        checked = e2e.check_witnessed("W", _head(8), _before(old), _proofs())
        assert checked["checked"] == "consistent" and checked["previous_size"] == old
        assert checked["tree_size"] == 8 and checked["public_key"] == KEY_HEX


def _refused(head: dict, before: Any, proofs: Any = None) -> ClientError:
    with pytest.raises(ClientError) as raised:
        e2e.check_witnessed("W", head, before, proofs or _proofs())
    return raised.value


def test_every_rewrite_is_refused():
    rewritten = [*LEAVES[:3], merkle.leaf_hash(b"edited"), *LEAVES[4:]]
    # Smaller than witnessed (entries removed), another root at the witnessed size.
    assert "size 5 is below 6" in str(_refused(_head(5), _before(6)))
    assert "another root at size 6" in str(_refused(_head(6, rewritten), _before(6)))
    # History rewritten below the witnessed size, re-signed with the real key: the server
    # must send its head of the old size (another root) or a proof that does not hold.
    assert _refused(_head(8, rewritten), _before(6), _proofs(rewritten)).code == (
        "audit_log_rewritten"
    )

    def lying(first: int, second: int) -> dict[str, Any]:
        honest = _proofs()(first, second)
        return honest | {"second": _head(second, rewritten)}

    assert _refused(_head(8, rewritten), _before(6), lying).code == "audit_log_rewritten"

    def bad_path(first: int, second: int) -> dict[str, Any]:
        doc = _proofs(rewritten)(first, second)
        return doc | {"first": _head(first)}  # the witnessed head, the rewritten path

    assert "consistency" in str(_refused(_head(8, rewritten), _before(6), bad_path))
    # Another key, a forged signature, another unit.
    other = derive_signing_key(b"operator" * 4, "audit-checkpoint")
    assert _refused(_head(8, key=other), _before(6)).code == "audit_key_changed"
    forged = _head(8) | {"root_hash": merkle.root(rewritten[:8]).hex()}
    assert "signature" in str(_refused(forged, _before(6)))
    assert "another unit" in str(_refused(_head(8, unit="X"), _before(6)))


async def test_head_and_consistency_for_the_units_auditors_only(client, make_unit, make_staff):
    unit = await make_unit("WIT")
    auditor = await make_staff(unit, "auditor")
    officer = await make_staff(unit, "verifikator")
    assert (await login(client, officer)).status_code == 303
    assert (await client.get("/api/v1/audit/WIT/head")).status_code in (403, 404)
    client.cookies.clear()
    assert (await login(client, auditor)).status_code == 303
    await client.get("/api/v1/audit/WIT/export")  # a sequencer round signs a head
    await make_staff(unit, "verifikator", email="second@wit.go.id")  # one more entry
    await client.get("/api/v1/audit/WIT/export")
    heads = (await client.get("/api/v1/audit/WIT/export")).json()["tree_heads"]
    assert len(heads) >= 2
    latest = (await client.get("/api/v1/audit/WIT/head")).json()["tree_head"]
    assert latest == {k: v for k, v in heads[-1].items() if k != "message"}
    assert treehead.verify_head(latest, KEY_HEX)[0] == latest["tree_size"]

    first, second = heads[0]["tree_size"], latest["tree_size"]
    params = {"first": first, "second": second}
    doc = (await client.get("/api/v1/audit/WIT/consistency", params=params)).json()
    assert doc["format"] == "wbs-audit-consistency/v1"
    assert treehead.check_consistency(doc, KEY_HEX) == (first, second)

    missing = await client.get("/api/v1/audit/WIT/consistency", params={"first": 0, "second": 999})
    assert missing.status_code == 404
    assert missing.json()["message_en"] == "No signed tree heads of those sizes (in that order)."
    for bad in ({"first": -1, "second": 2}, {"first": 1, "second": 2**31}, {"first": "x"}):
        assert (await client.get("/api/v1/audit/WIT/consistency", params=bad)).status_code == 422, (
            bad
        )
    other = await make_unit("LAIN")
    assert (await client.get(f"/api/v1/audit/{other.code}/head")).status_code == 404


@pytest.mark.slow
async def test_witness_runs_against_a_served_log(tmp_path, fresh_db_url, backend, pg_cluster):
    site = Site(tmp_path, fresh_db_url)
    served: Served = site.served
    try:
        site.setup()
        made = served.wbs(
            *("staff", "create", "apip@demo.go.id", "--unit", "DEMO", "--role", "auditor"),
            "--password-stdin",
            stdin=PASS + "\n",
        )
        assert made.returncode == 0, made.stderr
        state = tmp_path / "witness.json"
        run = (
            *("client", "witness", "--url", served.url, "--email", "apip@demo.go.id"),
            *("--unit", "demo", "--password-stdin", "--state", str(state)),
        )

        def witness() -> Any:
            return served.wbs(*run, stdin=PASS + "\n")

        assert served.wbs("audit", "sequence").returncode == 0
        first = _json(witness())
        assert first["checked"] == "first-use" and first["public_key"] == KEY_HEX
        # Each run's sign-in is an entry too, which the in-process sequencer may sign.
        again = _json(witness())
        assert again["checked"] in ("unchanged", "consistent")
        assert again["tree_size"] >= first["tree_size"]
        site.submit()  # more entries, then a new head
        assert served.wbs("audit", "sequence").returncode == 0
        later = _json(witness())
        assert later["checked"] == "consistent"
        assert later["previous_size"] == again["tree_size"] < later["tree_size"]
        stored = json.loads(state.read_text())["heads"]
        assert [h["tree_size"] for h in stored.values()] == [later["tree_size"]]

        # The operator rewrites the newest head's root and re-signs it with the real key.
        size, fake = later["tree_size"], "ab" * 32
        signature = treehead.sign_head(KEY, "DEMO", size, fake, later["signed_at"])
        resign = (
            "UPDATE audit_tree_heads SET root_hash = '%s', signature = '%s' WHERE tree_size = %d"
        )
        await site.sql(resign % (fake, signature, size))
        refused = witness()
        assert refused.returncode == 1
        # Same size: another root; a newer head: the server's head of the old size differs.
        assert "is NOT consistent with the tree head witnessed before" in refused.stderr
        assert f"another root at size {size}" in refused.stderr or (
            f"another head for size {size}" in refused.stderr
        )
        assert json.loads(state.read_text())["heads"] == stored  # the evidence stays
    finally:
        served.stop()
