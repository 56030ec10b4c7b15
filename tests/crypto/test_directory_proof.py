"""Signed key directories, the directory-key wrap, proofs of submission, canonical JSON."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.directory import (
    fingerprint,
    new_signing_key,
    sign_directory,
    unwrap_signing_key,
    verify_directory,
    verify_signed_directory,
    wrap_signing_key,
)
from crypto.encoding import b64u_decode, b64u_encode, canonical_json
from crypto.envelope import seal_report
from crypto.errors import DecryptError, FormatError, SignatureError
from crypto.keys import KeyPair, Suite
from crypto.proof import envelope_sha256, sign_proof, verify_proof

UNIT_KEY = new_signing_key()
OFFICERS = [KeyPair.generate(), KeyPair.generate(Suite.MLKEM768X25519_AES256GCM)]


def document(version: int = 3, **channels: list[KeyPair]) -> dict[str, Any]:
    return {
        "v": 1,
        "unit": "DEMO",
        "version": version,
        "issued_at": "2026-11-23T00:00:00Z",
        "channels": {
            name: [
                {
                    "key_id": k.public.key_id_hex,
                    "public_key": k.public.text,
                    "fingerprint": k.public.fingerprint,
                    "name": f"Petugas {i}",
                }
                for i, k in enumerate(keys)
            ]
            for name, keys in channels.items()
        },
    }


def signed(**kwargs: Any) -> dict[str, str]:
    return sign_directory(UNIT_KEY, document(**kwargs))


def test_sign_and_verify() -> None:
    s = sign_directory(UNIT_KEY, document(wbs=OFFICERS, pengaduan=[OFFICERS[0]]))
    d = verify_signed_directory(s, unit="DEMO", public_key=s["public_key"], min_version=3)
    assert d.recipients("wbs") == [k.public for k in OFFICERS]
    assert d.recipients("gratifikasi") == []
    assert d.version == 3 and d.issued_at == "2026-11-23T00:00:00Z"
    assert d.channels["wbs"][0].name == "Petugas 0"
    raw = UNIT_KEY.public_key().public_bytes_raw()
    assert verify_directory(raw, s["document"].encode(), b64u_decode(s["signature"])) == d
    assert s["document"].encode() == canonical_json(json.loads(s["document"]))


def test_swapped_key_or_edited_document_fails() -> None:
    s = signed(wbs=OFFICERS)
    doc = json.loads(s["document"])
    doc["channels"]["wbs"][0]["public_key"] = KeyPair.generate().public.text
    with pytest.raises(SignatureError):
        verify_signed_directory(dict(s, document=json.dumps(doc)))
    # a document re-signed by another key is refused when the unit key is pinned
    other = sign_directory(new_signing_key(), doc | {"channels": {}})
    with pytest.raises(SignatureError):
        verify_signed_directory(other, public_key=s["public_key"])
    for i in range(0, 64, 7):
        sig = bytearray(b64u_decode(s["signature"]))
        sig[i] ^= 1
        with pytest.raises(SignatureError):
            verify_signed_directory(dict(s, signature=b64u_encode(bytes(sig))))


def test_document_that_lies_about_key_ids_fails_even_if_signed() -> None:
    doc = document(wbs=OFFICERS)
    doc["channels"]["wbs"][0]["key_id"] = OFFICERS[1].public.key_id_hex
    with pytest.raises(SignatureError, match="key id"):
        verify_signed_directory(sign_directory(UNIT_KEY, doc))


def test_document_with_a_wrong_fingerprint_fails_even_if_signed() -> None:
    doc = document(wbs=OFFICERS)
    doc["channels"]["wbs"][1]["fingerprint"] = OFFICERS[0].public.fingerprint
    with pytest.raises(SignatureError, match="fingerprint"):
        verify_signed_directory(sign_directory(UNIT_KEY, doc))


def test_unit_and_rollback_checks() -> None:
    s = signed(version=2, wbs=OFFICERS)
    with pytest.raises(SignatureError):
        verify_signed_directory(s, unit="LAIN")
    with pytest.raises(SignatureError):
        verify_signed_directory(s, min_version=3)
    with pytest.raises(FormatError):
        sign_directory(UNIT_KEY, {"v": 2})
    with pytest.raises(SignatureError):
        verify_signed_directory({"document": 5})


def test_fingerprint_of_unit_key() -> None:
    raw = UNIT_KEY.public_key().public_bytes_raw()
    fp = fingerprint(raw)
    assert len(fp.split(" ")) == 8 and fp == fp.lower()
    assert fp != fingerprint(new_signing_key().public_key().public_bytes_raw())
    with pytest.raises(FormatError):
        fingerprint(raw[:31])


@pytest.mark.parametrize("suite", list(Suite))
def test_directory_key_wrap_round_trip(suite: Suite) -> None:
    admin, other = KeyPair.generate(suite), KeyPair.generate(suite)
    wrapped = wrap_signing_key(UNIT_KEY, admin.public)
    key = unwrap_signing_key(wrapped, admin)
    assert key.public_key().public_bytes_raw() == UNIT_KEY.public_key().public_bytes_raw()
    with pytest.raises(DecryptError):
        unwrap_signing_key(wrapped, other)
    data = json.loads(wrapped)
    data["to"] = other.public.key_id_hex
    with pytest.raises(DecryptError):
        unwrap_signing_key(data, other)
    with pytest.raises(DecryptError):
        unwrap_signing_key("not json", admin)
    sealed = b64u_decode(json.loads(wrapped)["sealed"])
    if suite is Suite.X25519_AES256GCM:  # every byte position of the small one
        for i in range(len(sealed)):
            bad = bytearray(sealed)
            bad[i] ^= 0x04
            data = json.loads(wrapped) | {"sealed": b64u_encode(bytes(bad))}
            with pytest.raises(DecryptError):
                unwrap_signing_key(data, admin)


def new_envelope() -> dict[str, Any]:
    return seal_report(
        unit="DEMO",
        channel="wbs",
        report_id=str(uuid.uuid4()),
        content={"uraian": "x"},
        recipients=[OFFICERS[0].public],
        reporter_key=KeyPair.generate().public,
    ).envelope.to_json()


def test_proof_sign_and_verify() -> None:
    server = new_signing_key()
    env = new_envelope()
    proof = sign_proof(
        server,
        case_number="WBS-2026-000123",
        unit="DEMO",
        submitted_at=datetime(2026, 11, 23, 1, 2, 3, tzinfo=UTC),
        envelope_sha256=envelope_sha256(env),
    )
    assert proof["submitted_at"] == "2026-11-23T01:02:03Z"
    facts = verify_proof(proof, envelope=env, public_key=proof["public_key"])
    assert facts.case_number == "WBS-2026-000123"
    for field, value in [
        ("case_number", "WBS-2026-000124"),
        ("unit", "LAIN"),
        ("submitted_at", "2026-11-24T01:02:03Z"),
        ("envelope_sha256", "0" * 64),
        ("public_key", b64u_encode(new_signing_key().public_key().public_bytes_raw())),
        ("signature", b64u_encode(bytes(64))),
        ("v", 2),
    ]:
        with pytest.raises(SignatureError):
            verify_proof(dict(proof, **{field: value}))
    with pytest.raises(SignatureError):
        verify_proof(proof, envelope=new_envelope())
    with pytest.raises(SignatureError):
        verify_proof(proof, public_key=b64u_encode(bytes(32)))
    with pytest.raises(SignatureError):
        sign_proof(server, case_number="a\nb", unit="D", submitted_at="t", envelope_sha256="h")


def test_proof_v2_signs_the_audit_leaf_and_key() -> None:
    server = new_signing_key()
    env = new_envelope()
    leaf, audit_key = "ab" * 32, "cd" * 32
    fields = {
        "case_number": "WBS-2026-000123",
        "unit": "DEMO",
        "submitted_at": "2026-11-23T01:02:03Z",
        "envelope_sha256": envelope_sha256(env),
    }
    proof = sign_proof(server, **fields, audit=(leaf, audit_key))
    assert proof["v"] == 2
    facts = verify_proof(proof, envelope=env, public_key=proof["public_key"])
    assert (facts.audit_leaf, facts.audit_public_key) == (leaf, audit_key)
    for field, value in [
        ("audit_leaf", "ac" + leaf[2:]),
        ("audit_leaf", leaf.upper()),
        ("audit_leaf", None),
        ("audit_public_key", "ce" + audit_key[2:]),
        ("audit_public_key", None),
        ("v", 1),  # a v2 signature is not a v1 one (the domain label differs)
        ("unit", "LAIN"),
    ]:
        with pytest.raises(SignatureError):
            verify_proof(dict(proof, **{field: value}))
            pytest.fail(f"{field}={value!r} was accepted")
    # A v1 proof still verifies; an unsigned audit_leaf beside it is not reported as signed.
    old = sign_proof(server, **fields)
    facts = verify_proof(dict(old, audit_leaf=leaf), envelope=env)
    assert old["v"] == 1 and facts.audit_leaf is None
    with pytest.raises(SignatureError):
        sign_proof(server, **fields, audit=("a\nb", audit_key))


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


@settings(max_examples=50, deadline=None)
@given(value=json_values)
def test_canonical_json_is_stable(value: Any) -> None:
    text = canonical_json(value)
    assert canonical_json(json.loads(text)) == text
    assert json.loads(text) == value


def test_canonical_json_refuses_floats_and_big_integers() -> None:
    for bad in (1.5, {"a": 2**60}, {1: "x"}, float("nan")):
        with pytest.raises(FormatError):
            canonical_json(bad)
    assert (
        canonical_json({"b": 1, "a": [True, None, "é\n"]})
        == '{"a":[true,null,"é\\n"],"b":1}'.encode()
    )
    # keys sort by code point (not UTF-16 units): U+FFFF before U+1F600
    assert canonical_json({"\U0001f600": 1, "\uffff": 2}) == '{"\uffff":2,"\U0001f600":1}'.encode()
