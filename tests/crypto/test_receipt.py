"""Receipts: entropy and alphabet, every single typo and adjacent swap caught, normalisation,
derivations checked against an independent HKDF."""

from __future__ import annotations

import hashlib
import hmac
from collections import Counter

import pytest
from cryptography.hazmat.primitives.asymmetric import x25519
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.errors import ReceiptError
from crypto.keys import PublicKey, Suite
from crypto.receipt import (
    ALPHABET,
    LENGTH,
    check_symbol,
    derive_from_receipt,
    format_receipt,
    is_valid_receipt,
    new_receipt,
    normalise_receipt,
    receipt_lookup,
)

RECEIPTS = [normalise_receipt(new_receipt()) for _ in range(5)]


def test_alphabet_and_entropy() -> None:
    assert len(ALPHABET) == 31 and len(set(ALPHABET)) == 31
    assert not set("01ILO") & set(ALPHABET)
    import math

    assert (LENGTH - 1) * math.log2(len(ALPHABET)) >= 80
    receipt = new_receipt()
    assert len(receipt) == 24 and receipt.count("-") == 4
    assert all(len(g) == 4 for g in receipt.split("-"))


def test_symbols_are_uniform_enough() -> None:
    counts = Counter("".join(normalise_receipt(new_receipt())[:-1] for _ in range(2000)))
    expected = 2000 * 19 / 31
    assert set(counts) == set(ALPHABET)
    assert all(0.75 * expected < c < 1.25 * expected for c in counts.values()), counts


@pytest.mark.parametrize("canonical", RECEIPTS)
def test_every_single_substitution_is_caught(canonical: str) -> None:
    for i in range(LENGTH):
        for c in ALPHABET:
            if c != canonical[i]:
                typo = canonical[:i] + c + canonical[i + 1 :]
                with pytest.raises(ReceiptError) as info:
                    normalise_receipt(typo)
                assert info.value.reason == "check"


@pytest.mark.parametrize("canonical", RECEIPTS)
def test_every_adjacent_transposition_is_caught(canonical: str) -> None:
    for i in range(LENGTH - 1):
        if canonical[i] != canonical[i + 1]:
            swapped = canonical[:i] + canonical[i + 1] + canonical[i] + canonical[i + 2 :]
            with pytest.raises(ReceiptError):
                normalise_receipt(swapped)


def test_exhaustive_pairs_for_the_check_function() -> None:
    """For the check alone: weights 1..20 mod 31 catch every substitution and adjacent swap of
    every value pair at every position (not only on sampled receipts)."""
    base = [0] * 19
    for i in range(20):
        for a in range(31):
            for b in range(31):
                if a != b:
                    assert (i + 1) * (a - b) % 31 != 0
        if i < 19:
            assert (i + 1) - (i + 2) != 0
    assert check_symbol(base) == 0


def test_normalisation() -> None:
    canonical = RECEIPTS[0]
    grouped = format_receipt(canonical)
    for typed in (
        grouped,
        grouped.lower(),
        " ".join(canonical),
        canonical.lower().replace("", "_")[1:-1],
        "\u3000" + grouped.replace("-", ".") + "\n",
        "".join(chr(0xFF10 + int(c)) if c.isdigit() else c for c in canonical),  # full-width
    ):
        assert normalise_receipt(typed) == canonical
        assert is_valid_receipt(typed)
    with pytest.raises(ReceiptError) as info:
        normalise_receipt(canonical[:-1])
    assert info.value.reason == "length"
    with pytest.raises(ReceiptError) as info:
        normalise_receipt("O" + canonical[1:])
    assert info.value.reason == "character"
    assert not is_valid_receipt(canonical.replace(canonical[3], "1"))
    assert canonical not in str(info.value)


def test_derivations_match_an_independent_hkdf() -> None:
    canonical = RECEIPTS[1]

    def hkdf(info: bytes) -> bytes:
        prk = hmac.new(b"wbs/v1/receipt", canonical.encode(), hashlib.sha256).digest()
        return hmac.new(prk, info + b"\x01", hashlib.sha256).digest()

    keys = derive_from_receipt(format_receipt(canonical).lower())
    assert keys.lookup == hkdf(b"lookup") == receipt_lookup(canonical)
    sk = x25519.X25519PrivateKey.from_private_bytes(hkdf(b"reporter-x25519"))
    assert keys.key_pair.public == PublicKey(
        Suite.X25519_AES256GCM, sk.public_key().public_bytes_raw()
    )
    assert keys.lookup != hkdf(b"reporter-x25519")
    assert PublicKey.from_text(keys.reporter_public_key) == keys.key_pair.public
    assert "lookup=***" in repr(keys) and canonical not in repr(keys)


@settings(max_examples=50, deadline=None)
@given(text=st.text(max_size=40))
def test_arbitrary_input_never_crashes(text: str) -> None:
    try:
        canonical = normalise_receipt(text)
    except ReceiptError as exc:
        assert exc.reason in ("length", "character", "check")
        assert str(exc) in ReceiptError.MESSAGES.values()  # fixed texts: never the input
    else:
        assert len(canonical) == LENGTH and set(canonical) <= set(ALPHABET)
