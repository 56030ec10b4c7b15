"""The proof of submission carries the audit leaf; the mailbox proves its inclusion in the
unit's Merkle log under a signed tree head, the client checks it and any change fails."""

from __future__ import annotations

import copy
import json

import pytest
from sqlalchemy import text

from crypto import merkle, treehead
from crypto import receipt as lib_receipt
from crypto.atrest import derive_signing_key
from crypto.errors import SignatureError
from crypto.proof import sign_proof, verify_proof
from crypto.signing import signing_fingerprint
from tests.reporting.helpers import form_tokens, mailbox_login, submission
from tests.reporting.test_submission_api import world  # noqa: F401 - the fixture
from wbs.audit import service as audit
from wbs.client.api import ClientError
from wbs.client.e2e import check_audit_inclusion


def _flip(text: str, at: int = -1) -> str:
    chars = list(text)
    chars[at] = "0" if chars[at] != "0" else "1"
    return "".join(chars)


def mutations(doc: dict) -> list[tuple[str, dict]]:
    """Every field of an inclusion proof changed in one place."""
    out = []

    def changed(name, edit):
        d = copy.deepcopy(doc)
        edit(d)
        out.append((name, d))

    changed("entry", lambda d: d.update(entry=d["entry"].replace('"pelapor"', '"pelapoR"')))
    changed("leaf_hash", lambda d: d.update(leaf_hash=_flip(d["leaf_hash"])))
    changed("leaf_index", lambda d: d.update(leaf_index=d["leaf_index"] + 1))
    for field in ("root_hash", "signature", "public_key", "at"):
        changed(field, lambda d, f=field: d["tree_head"].update({f: _flip(d["tree_head"][f])}))
    changed("tree_size", lambda d: d["tree_head"].update(tree_size=d["tree_head"]["tree_size"] + 1))
    changed("unit", lambda d: d["tree_head"].update(unit="LAIN"))
    for i in range(len(doc["proof"])):
        changed(f"proof[{i}]", lambda d, i=i: d["proof"].__setitem__(i, _flip(d["proof"][i], 0)))
    changed(
        "proof-dropped", lambda d: d["proof"].pop() if d["proof"] else d["proof"].append("00" * 32)
    )
    changed("proof-extended", lambda d: d["proof"].append("00" * 32))
    return out


def check_proof_cli(path, *args: str):
    from typer.testing import CliRunner

    from wbs.cli import app

    return CliRunner().invoke(app, ["audit", "check-proof", str(path), *args])


async def test_mailbox_inclusion_proof_verifies_and_fails_after_any_change(
    client,
    db,
    settings,
    tmp_path,
    world,  # noqa: F811 - the fixture imported above
):
    office = world
    k = office["keys"]
    body, receipt, _sealed = await submission(client, office["unit"], [k["v1"], k["v2"]])
    out = await client.post("/api/v1/reports", json=body)
    assert out.status_code == 201, out.text
    submitted = out.json()
    leaf = submitted["proof"]["audit_leaf"]
    assert len(bytes.fromhex(leaf)) == 32

    keys = lib_receipt.derive_from_receipt(receipt)
    assert (await mailbox_login(client, keys.lookup_b64u)).status_code == 200
    pending = (await client.get("/api/v1/mailbox/audit-proof")).json()
    assert pending["pending"] is True and pending["leaf_hash"] == leaf
    assert merkle.leaf_hash(pending["entry"].encode()).hex() == leaf
    with pytest.raises(ClientError, match="not under a signed tree head"):
        check_audit_inclusion(
            pending, case_number=submitted["case_number"], unit=office["unit"].code, audit_leaf=leaf
        )

    master = settings.secret_bytes()
    await audit.sequence(db, master)
    view = (await client.get("/api/v1/mailbox")).json()
    assert view["proof"]["audit_leaf"] == leaf
    doc = (await client.get("/api/v1/mailbox/audit-proof")).json()
    assert doc["pending"] is False
    assert doc["tree_head"]["public_key"] == audit.public_key_hex(master)
    facts = dict(case_number=submitted["case_number"], unit=office["unit"].code, audit_leaf=leaf)
    checked = check_audit_inclusion(doc, **facts)
    assert checked["verified"] and checked["leaf_hash"] == leaf
    for name, bad in mutations(doc):
        with pytest.raises(ClientError):
            check_audit_inclusion(bad, **facts)
            pytest.fail(f"{name} was accepted")
    # `wbs audit check-proof` checks the same document offline.
    saved = tmp_path / "inclusion.json"
    saved.write_text(json.dumps(doc))
    ok = check_proof_cli(saved, "--public-key", audit.public_key_hex(master))
    assert ok.exit_code == 0 and f"is leaf {doc['leaf_index']} of tree size" in ok.output
    for name, bad in mutations(doc):
        saved.write_text(json.dumps(bad))
        assert check_proof_cli(saved).exit_code == 1, name
    with pytest.raises(ClientError, match="not this report"):
        check_audit_inclusion(doc, **(facts | {"case_number": "WBS-2099-000001"}))
    with pytest.raises(ClientError, match="not this report"):
        check_audit_inclusion(doc, **(facts | {"audit_leaf": "00" * 32}))

    # The log grows: the same leaf is proved against the newer, larger signed tree head.
    unit = office["unit"]
    for i in range(5):
        await audit.append(
            db, unit=unit, actor_id=None, actor="t", action="t.x", object_type="t", object_id=i
        )
    await audit.sequence(db, master)
    later = (await client.get("/api/v1/mailbox/audit-proof")).json()
    assert later["tree_head"]["tree_size"] == doc["tree_head"]["tree_size"] + 5
    assert check_audit_inclusion(later, **facts)["leaf_index"] == doc["leaf_index"]
    assert json.loads(later["entry"])["object_id"] == submitted["case_number"]

    # Proof v2 signs the leaf and the audit key; the client pins that key for the heads.
    signed = verify_proof(submitted["proof"])
    assert submitted["proof"]["v"] == 2 and signed.audit_leaf == leaf
    assert signed.audit_public_key == audit.public_key_hex(master)
    assert view["proof"] == submitted["proof"]  # the mailbox returns the same signed proof
    with pytest.raises(SignatureError):
        verify_proof(submitted["proof"] | {"audit_leaf": _flip(leaf)})
    pinned = facts | {"audit_key": signed.audit_public_key}
    assert check_audit_inclusion(later, **pinned)["verified"]
    # A head validly signed, but by a key other than the pinned one, is refused.
    other = derive_signing_key(b"o" * 32, "audit-checkpoint")
    forged = copy.deepcopy(later)
    head = forged["tree_head"]
    head["public_key"] = other.public_key().public_bytes_raw().hex()
    head["signature"] = treehead.sign_head(
        other, head["unit"], head["tree_size"], head["root_hash"], head["at"]
    )
    assert check_audit_inclusion(forged, **facts)["verified"]  # unpinned: any key passes
    with pytest.raises(ClientError, match="pinned audit key") as refused:
        check_audit_inclusion(forged, **pinned)
    assert refused.value.code == "audit_key_changed"


async def test_v1_proof_of_an_older_report_still_served(
    client,
    db,
    settings,
    world,  # noqa: F811 - the fixture imported above
):
    """A report signed before v2 keeps its v1 proof; the leaf stays beside it, unsigned."""
    office = world
    k = office["keys"]
    body, receipt, _sealed = await submission(client, office["unit"], [k["v1"], k["v2"]])
    submitted = (await client.post("/api/v1/reports", json=body)).json()
    old = sign_proof(
        derive_signing_key(settings.secret_bytes(), "proof-of-submission"),
        **{f: submitted["proof"][f] for f in ("case_number", "unit", "submitted_at")},
        envelope_sha256=submitted["proof"]["envelope_sha256"],
    )
    await db.execute(
        text("UPDATE reports SET proof_signature = :s WHERE case_number = :n"),
        {"s": old["signature"], "n": submitted["case_number"]},
    )
    await db.commit()
    keys = lib_receipt.derive_from_receipt(receipt)
    assert (await mailbox_login(client, keys.lookup_b64u)).status_code == 200
    proof = (await client.get("/api/v1/mailbox")).json()["proof"]
    assert proof["v"] == 1 and proof["signature"] == old["signature"]
    assert proof["audit_leaf"] == submitted["proof"]["audit_leaf"]
    assert verify_proof(proof).audit_leaf is None


async def _plain_mailbox(client, receipt: str, lang: str = "") -> str:
    tokens = await form_tokens(client, f"/kotak-surat{lang}")
    page = await client.post(f"/kotak-surat{lang}", data={**tokens, "tanda_terima": receipt})
    assert page.status_code == 200, page.text
    return page.text


def _audit_block(html: str) -> str:
    start = html.index('id="audit-plain-title"')
    return html[start : html.index("</p>", html.index('id="audit-plain-note"'))]


async def test_no_js_mailbox_shows_what_to_check_and_claims_nothing(
    client,
    db,
    settings,
    world,  # noqa: F811 - the fixture imported above
):
    """Without JavaScript the page shows the leaf, its index and the signed tree head for
    `wbs client follow --verify`, and never says the proof verified."""
    office = world
    k = office["keys"]
    body, receipt, _sealed = await submission(client, office["unit"], [k["v1"], k["v2"]])
    submitted = (await client.post("/api/v1/reports", json=body)).json()
    leaf = submitted["proof"]["audit_leaf"]

    pending = _audit_block(await _plain_mailbox(client, receipt))
    assert 'data-audit="pending"' in pending and leaf in pending
    assert "Menunggu dicatat dalam tree head bertanda tangan." in pending

    master = settings.secret_bytes()
    unit = office["unit"]
    await audit.sequence(db, master)
    for i in range(3):  # the entry is not the last leaf of the tree
        await audit.append(
            db, unit=unit, actor_id=None, actor="t", action="t.x", object_type="t", object_id=i
        )
    await audit.sequence(db, master)
    keys = lib_receipt.derive_from_receipt(receipt)
    assert (await mailbox_login(client, keys.lookup_b64u)).status_code == 200
    doc = (await client.get("/api/v1/mailbox/audit-proof")).json()
    client.cookies.clear()
    head = doc["tree_head"]
    check_audit_inclusion(
        doc, case_number=submitted["case_number"], unit=unit.code, audit_leaf=leaf
    )  # what the page shows is what the client checks

    html = await _plain_mailbox(client, receipt)
    block = _audit_block(html)
    n, size = doc["leaf_index"], head["tree_size"]
    assert 'data-audit="unchecked"' in block
    assert f'<code class="hash" data-plain="audit_leaf">{leaf}</code>' in block
    assert f"entri ke-{n + 1} dari {size} (indeks daun {n})" in block
    assert f"ukuran {size}, ditandatangani {head['at']}" in block
    assert f'data-plain="audit_root">{head["root_hash"]}</code>' in block
    fingerprint = signing_fingerprint(bytes.fromhex(audit.public_key_hex(master)))
    assert f'data-plain="audit_key">{fingerprint}</code>' in block
    assert "<code>wbs client follow --verify</code>" in block
    assert "tidak memeriksa bukti log audit" in block
    for claim in ("erverifikasi", "erified", 'data-audit="ok"'):
        assert claim not in html, claim
    assert "<script>" not in html and "style=" not in html  # strict CSP: nothing inline

    english = _audit_block(await _plain_mailbox(client, receipt, "?lang=en"))
    assert f"entry {n + 1} of {size} (leaf index {n})" in english
    assert "Signed tree head" in english and "does not check the audit log proof" in english
