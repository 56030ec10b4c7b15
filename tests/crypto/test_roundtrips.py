"""Hypothesis round trips for the formats not covered elsewhere: public keys, wrapped staff
keys, recovery keys, signed directories, proofs, receipts."""

from __future__ import annotations

import json
import os

from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.directory import new_signing_key, sign_directory, verify_signed_directory
from crypto.keys import KeyPair, PublicKey, Suite
from crypto.proof import sign_proof, verify_proof
from crypto.receipt import format_receipt, new_receipt, normalise_receipt
from crypto.staffkeys import (
    WEAK_ENV,
    KdfParams,
    WrappedPrivateKey,
    unwrap_private_key,
    unwrap_with_recovery_key,
    wrap_private_key,
    wrap_with_recovery_key,
)
from tests.crypto.helpers import names

SIGNER = new_signing_key()
PAIRS = [KeyPair.generate(), KeyPair.generate(Suite.MLKEM768X25519_AES256GCM)]
plain_text = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\n"),
    min_size=1,
    max_size=30,
)


@settings(max_examples=30, deadline=None)
@given(seed=st.binary(min_size=32, max_size=32), suite=st.sampled_from(list(Suite)))
def test_public_key_wire_round_trip(seed: bytes, suite: Suite) -> None:
    pair = KeyPair(suite, seed)
    assert PublicKey.from_text(pair.public.text) == pair.public
    assert PublicKey.from_wire(pair.public.wire) == pair.public
    assert KeyPair(suite, pair.private_bytes()).public == pair.public


@settings(max_examples=10, deadline=None)
@given(passphrase=names, suite=st.sampled_from(list(Suite)))
def test_wrapped_private_key_round_trip(passphrase: str, suite: Suite) -> None:
    previous = os.environ.get(WEAK_ENV)
    os.environ[WEAK_ENV] = "1"
    try:
        pair = KeyPair.generate(suite)
        params = KdfParams.pbkdf2(1000, weak_for_tests=True)
        wrapped = wrap_private_key(pair, passphrase, params, weak_for_tests=True)
        text = wrapped.dumps()
        assert WrappedPrivateKey.from_json(text, weak_for_tests=True) == wrapped
        opened = unwrap_private_key(text, passphrase, weak_for_tests=True)
        assert opened.private_bytes() == pair.private_bytes()
    finally:
        if previous is None:
            del os.environ[WEAK_ENV]
        else:
            os.environ[WEAK_ENV] = previous


@settings(max_examples=10, deadline=None)
@given(suite=st.sampled_from(list(Suite)))
def test_recovery_wrap_round_trip(suite: Suite) -> None:
    from crypto.staffkeys import new_recovery_key

    pair, key = KeyPair.generate(suite), new_recovery_key()
    wrapped = wrap_with_recovery_key(pair, key).dumps()
    assert unwrap_with_recovery_key(json.loads(wrapped), key.lower()).public == pair.public


@settings(max_examples=20, deadline=None)
@given(
    unit=plain_text,
    version=st.integers(1, 2**31),
    channels=st.dictionaries(plain_text, st.lists(st.sampled_from(PAIRS), max_size=3), max_size=3),
    person=plain_text,
)
def test_directory_round_trip(
    unit: str, version: int, channels: dict[str, list[KeyPair]], person: str
) -> None:
    doc = {
        "v": 1,
        "unit": unit,
        "version": version,
        "channels": {
            c: [
                {"key_id": k.public.key_id_hex, "public_key": k.public.text, "name": person}
                for k in keys
            ]
            for c, keys in channels.items()
        },
    }
    signed = sign_directory(SIGNER, doc)
    d = verify_signed_directory(json.loads(json.dumps(signed)), unit=unit, min_version=version)
    assert {c: d.recipients(c) for c in channels} == {
        c: [k.public for k in keys] for c, keys in channels.items()
    }


@settings(max_examples=20, deadline=None)
@given(case_number=plain_text, unit=plain_text, digest=st.binary(min_size=32, max_size=32))
def test_proof_round_trip(case_number: str, unit: str, digest: bytes) -> None:
    proof = sign_proof(
        SIGNER,
        case_number=case_number,
        unit=unit,
        submitted_at="2026-11-23T00:00:00Z",
        envelope_sha256=digest.hex(),
    )
    facts = verify_proof(json.loads(json.dumps(proof, ensure_ascii=False)))
    assert (facts.case_number, facts.unit, facts.envelope_sha256) == (
        case_number,
        unit,
        digest.hex(),
    )


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_receipt_display_round_trip(data: st.DataObject) -> None:
    receipt = new_receipt()
    sep = data.draw(st.sampled_from(["-", " ", "", ".", "_", "\t"]))
    typed = sep.join(normalise_receipt(receipt)[i : i + 4] for i in range(0, 20, 4))
    if data.draw(st.booleans()):
        typed = typed.lower()
    assert format_receipt(typed) == receipt
