"""Signed directories and proofs of submission checked in real Chromium (Ed25519 WebCrypto)."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from wbs.reporting.proof import envelope_sha256, sign_proof

pytest_plugins = ["tests.browser.fixtures"]
pytestmark = pytest.mark.browser


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def officer(name: str) -> dict[str, str]:
    wire = b"\x00\x01" + X25519PrivateKey.generate().public_key().public_bytes_raw()
    return {
        "key_id": hashlib.sha256(b"wbs/v1/key-id" + wire).digest()[:16].hex(),
        "public_key": b64u(wire),
        "name": name,
        "fingerprint": "",
        "email": f"{name.split()[0].lower()}@example.go.id",
    }


def signed_directory(key: Ed25519PrivateKey, document: dict[str, Any]) -> dict[str, Any]:
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return {
        "unit": document["unit"],
        "version": document["version"],
        "public_key": b64u(key.public_key().public_bytes_raw()),
        "document": text,
        "signature": b64u(key.sign(text.encode())),
    }


VERIFY = """async ([signed, options]) => {
  try {
    const d = await window.wbs.verifyDirectory(signed, options);
    return { ok: true, unit: d.unit, version: d.version, issuedAt: d.issuedAt,
             channels: d.channels };
  } catch (err) { return { ok: false, error: `${err.name}: ${err.message}` }; }
}"""


async def test_directory_verifies_and_tampering_is_refused(crypto_page: Any) -> None:
    key = Ed25519PrivateKey.generate()
    a, b = officer("Siti Verifikator"), officer("Budi Inspektorat")
    document = {
        "v": 1,
        "unit": "DEMO",
        "version": 3,
        "issued_at": "2026-11-22T23:50:00Z",
        "channels": {"wbs": [a, b], "gratifikasi": [b], "pengaduan": []},
    }
    signed = signed_directory(key, document)
    pinned = signed["public_key"]

    good = await crypto_page.evaluate(VERIFY, [signed, {"unit": "DEMO", "publicKey": pinned}])
    assert good["ok"] is True, good
    assert good["version"] == 3
    assert [r["keyId"] for r in good["channels"]["wbs"]] == [a["key_id"], b["key_id"]]
    assert good["channels"]["gratifikasi"][0]["publicKey"] == b["public_key"]
    # An older v1 document may still carry `email`; the verified result never exposes it.
    assert good["channels"]["wbs"][0]["name"] == "Siti Verifikator"
    assert "email" not in good["channels"]["wbs"][0]
    assert good["channels"]["pengaduan"] == []

    swapped = dict(document, channels={"wbs": [a, officer("Penyusup")]})
    forged = dict(signed, document=json.dumps(swapped))
    other_key = signed_directory(Ed25519PrivateKey.generate(), document)
    bad_sig = dict(signed, signature=b64u(bytes(64)))
    lying = dict(a, public_key=b["public_key"])
    wrong_fp = signed_directory(key, dict(document, channels={"wbs": [dict(a, fingerprint="x")]}))
    mismatch = signed_directory(key, dict(document, channels={"wbs": [lying]}))
    no_v = signed_directory(key, {k: v for k, v in document.items() if k != "v"})
    cases = {
        "no v": ([no_v, {}], "lacks v"),
        "forged document": ([forged, {}], "SignatureError: signature not valid"),
        "other key, pinned": ([other_key, {"publicKey": pinned}], "pinned key"),
        "zero signature": ([bad_sig, {}], "SignatureError: signature not valid"),
        "other unit": ([signed, {"unit": "LAIN"}], "another unit"),
        "rollback": ([signed, {"minVersion": 4}], "older"),
        "key id lies": ([mismatch, {}], "key id does not match"),
        "fingerprint lies": ([wrong_fp, {}], "fingerprint does not match"),
    }
    for name, (args, expected) in cases.items():
        result = await crypto_page.evaluate(VERIFY, args)
        assert result["ok"] is False, name
        assert expected in result["error"], (name, result)


async def test_python_proof_verifies_in_chromium(crypto_page: Any) -> None:
    result = await crypto_page.evaluate(
        """async () => {
          const W = window.wbs;
          const officer = await W.generateKeyPair(), reporter = await W.generateKeyPair();
          const { envelope } = await W.sealReport({ unit: "DEMO", channel: "wbs",
            reportId: crypto.randomUUID(), content: { uraian: "ü\\n\\u0001\\"x\\" \\u2028" },
            recipients: [W.encodePublicKey(officer.publicKey)],
            reporterKey: W.encodePublicKey(reporter.publicKey) });
          return { envelope, hash: await W.envelopeSha256(envelope) };
        }"""
    )
    envelope = result["envelope"]
    assert result["hash"] == envelope_sha256(envelope)
    proof = sign_proof(
        b"m" * 32,
        case_number="WBS-2026-000123",
        unit="DEMO",
        submitted_at=datetime(2026, 11, 22, 23, 50, tzinfo=UTC),
        envelope_sha256=envelope_sha256(envelope),
        audit=("ab" * 32, "cd" * 32),
    )
    assert proof["v"] == 2
    checked = await crypto_page.evaluate(
        """async ([proof, envelope]) => {
          const W = window.wbs;
          const outcome = async (p, o) => {
            try { return await W.verifyProof(p, o); }
            catch (err) { return `${err.name}: ${err.message}`; }
          };
          const other = { ...envelope, wraps: envelope.wraps.slice(0, 1) };
          return {
            good: await outcome(proof, { envelope, publicKey: proof.public_key }),
            noEnvelope: await outcome(proof, {}),
            otherEnvelope: await outcome(proof, { envelope: other }),
            caseChanged: await outcome({ ...proof, case_number: "WBS-2026-000124" }, {}),
            timeChanged: await outcome({ ...proof, submitted_at: "2026-11-22T23:51:00Z" }, {}),
            otherKey: await outcome(proof, { publicKey: "A".repeat(43) }),
            leafChanged: await outcome(
              { ...proof, audit_leaf: "ac" + proof.audit_leaf.slice(2) }, {}),
            auditKeyChanged: await outcome({ ...proof, audit_public_key: "ef".repeat(32) }, {}),
            asV1: await outcome({ ...proof, v: 1 }, {}),
          };
        }""",
        [proof, envelope],
    )
    expected_ok = {
        "caseNumber": "WBS-2026-000123",
        "unit": "DEMO",
        "submittedAt": "2026-11-22T23:50:00Z",
        "auditLeaf": "ab" * 32,
        "auditPublicKey": "cd" * 32,
    }
    assert checked["good"] == expected_ok
    assert checked["noEnvelope"] == expected_ok
    assert checked["otherEnvelope"] == "SignatureError: proof is for another envelope"
    assert checked["caseChanged"] == "SignatureError: signature not valid"
    assert checked["timeChanged"] == "SignatureError: signature not valid"
    assert checked["otherKey"] == "SignatureError: proof made with another key"
    for name in ("leafChanged", "auditKeyChanged", "asV1"):
        assert checked[name] == "SignatureError: signature not valid", name


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.text(st.characters(codec="utf-8", exclude_categories=("Cs",))),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.text(st.characters(codec="utf-8", exclude_categories=("Cs",))), inner, max_size=4
        )
    ),
    max_leaves=12,
)


@given(value=json_values)
@example(value={"__proto__": None, "b": [1, "\u2028\x7f\x1f"], "a": {"é": True, "z": -5}})
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
async def test_canonical_json_matches_python(crypto_page: Any, value: Any) -> None:
    # sent as JSON text: Playwright's own transfer would turn a "__proto__" key into a prototype
    text = await crypto_page.evaluate(
        "(t) => window.wbs.canonicalJson(JSON.parse(t))", json.dumps(value)
    )
    assert text == json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


async def test_directory_signed_in_chromium_verifies_with_cryptography(crypto_page: Any) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    a = officer("Siti Verifikator")
    document = {
        "v": 1,
        "unit": "DEMO",
        "version": 1,
        "issued_at": "2026-11-22T23:50:00Z",
        "channels": {"wbs": [a], "gratifikasi": [], "pengaduan": [a]},
    }
    signed = await crypto_page.evaluate(
        """async (doc) => {
          const W = window.wbs, { b64uEncode } = W.encoding;
          const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, false,
                                                       ["sign", "verify"]);
          const raw = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
          const out = await W.signDirectory(doc, pair.privateKey);
          return { ...out, public_key: b64uEncode(raw) };
        }""",
        document,
    )
    assert signed["document"] == json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(signed["public_key"] + "=")).verify(
        base64.urlsafe_b64decode(signed["signature"] + "=="), signed["document"].encode()
    )
