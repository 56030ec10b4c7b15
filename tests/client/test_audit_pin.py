"""`wbs client follow --verify` checks the audit tree head against the audit key pinned for
the unit (from the signed v2 proof of submission, stored at submit), against a real
`wbs serve` on both databases. The malicious operator re-signs the unit's tree heads with a
key of its own: every head still carries a valid signature, but not by the pinned key."""

from __future__ import annotations

import json

import pytest

from crypto import treehead
from crypto.atrest import derive_signing_key
from tests.client.test_unit_pinning import UNIT, Site, _json

pytestmark = [pytest.mark.slow]


async def test_follow_refuses_a_head_signed_by_another_key(
    tmp_path, fresh_db_url, backend, pg_cluster
):
    site = Site(tmp_path, fresh_db_url)
    served = site.served
    try:
        site.setup()
        submitted = _json(site.submit())
        proof = submitted["proof"]
        assert proof["v"] == 2
        stored = json.loads(site.state_file.read_text())["units"]
        assert [u["audit_public_key"] for u in stored.values()] == [proof["audit_public_key"]]
        assert served.wbs("audit", "sequence").returncode == 0
        follow = ("client", "follow", "--url", served.url, "--receipt", submitted["receipt"])
        # The receipt from standard input (kept out of the process list), not twice, not none.
        url_only = ("client", "follow", "--url", served.url, "--verify")
        stdin = submitted["receipt"] + "\n"
        checked = _json(served.wbs(*url_only, "--receipt-stdin", stdin=stdin))["audit"]
        both = served.wbs(*follow, "--receipt-stdin", stdin=stdin)
        assert both.returncode == 2 and "not both" in both.stderr
        neither = served.wbs(*url_only)
        assert neither.returncode == 2 and "--receipt-stdin" in neither.stderr
        assert checked["verified"] and checked["public_key"] == proof["audit_public_key"]

        other = derive_signing_key(b"operator" * 4, "audit-checkpoint")
        other_hex = other.public_key().public_bytes_raw().hex()
        signature = treehead.sign_head(
            other, UNIT, checked["tree_size"], checked["root_hash"], checked["signed_at"]
        )
        resign = (
            "UPDATE audit_tree_heads SET public_key = '%s', signature = '%s' WHERE tree_size = %d"
            " AND unit_id = (SELECT id FROM units WHERE code = 'DEMO')"
        )
        await site.sql(resign % (other_hex, signature, checked["tree_size"]))
        refused = served.wbs(*follow, "--verify")
        assert refused.returncode == 1
        assert "ditandatangani kunci lain" in refused.stderr
        assert "not the unit's pinned audit key" in refused.stderr
        assert other_hex in refused.stderr and proof["audit_public_key"] in refused.stderr
        # Without --verify the mailbox still opens; the pin is unchanged.
        assert _json(served.wbs(*follow))["case_number"] == submitted["case_number"]
        stored = json.loads(site.state_file.read_text())["units"]
        assert [u["audit_public_key"] for u in stored.values()] == [proof["audit_public_key"]]
    finally:
        served.stop()
