"""Reporter receipts (format version 1, docs/crypto-format.md "Receipt").

- Alphabet (31 symbols, prime): ``23456789ABCDEFGHJKMNPQRSTUVWXYZ``; value = index.
- 20 symbols: 19 uniform random symbols (94.1 bits) and a check symbol ``c`` with
  ``sum(i * v_i for i in 1..19) + 20 * c == 0 (mod 31)``: any single substitution and any swap
  of two adjacent different symbols is caught before any derivation.
- Display: 5 groups of 4 joined by ``-``. Input is normalised with NFKC, upper-cased, and
  stripped of whitespace, ``-``, ``_`` and ``.``; no look-alike mapping (0, 1, I, L, O are
  simply not in the alphabet).
- Canonical bytes: the 20 symbols in ASCII without separators.
- Derivations: HKDF-SHA256(ikm=canonical, salt="wbs/v1/receipt", info, 32) with
  info "lookup" (lookup id) and "reporter-x25519" (reporter X25519 private key).
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass, field

from crypto.boxes import hkdf_sha256
from crypto.encoding import b64u_encode
from crypto.errors import ReceiptError
from crypto.keys import KeyPair, Suite

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
BASE = len(ALPHABET)
LENGTH = 20
GROUP = 4
SALT = b"wbs/v1/receipt"
_INDEX = {c: i for i, c in enumerate(ALPHABET)}
# Whitespace exactly as str.isspace() (written out so crypto/js/receipt.js can match it), then
# "-", "_" and ".".
_SEPARATORS = re.compile(
    "[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\\-_.]"
)


def check_symbol(values: list[int]) -> int:
    """The check value for data values v1..vn (weights 1..n, check weight n+1), mod 31."""
    total = sum((i + 1) * v for i, v in enumerate(values)) % BASE
    return (-total * pow(len(values) + 1, -1, BASE)) % BASE


def random_symbols(count: int) -> list[int]:
    """`count` uniform values in 0..30 from the OS CSPRNG (rejection sampling on bytes)."""
    limit = 256 - 256 % BASE
    out: list[int] = []
    while len(out) < count:
        for b in secrets.token_bytes(32):
            if b < limit and len(out) < count:
                out.append(b % BASE)
    return out


def normalise_symbols(text: str, length: int) -> str:
    """NFKC, upper-case, separators removed, alphabet and check verified; ReceiptError if not."""
    if not isinstance(text, str):
        raise ReceiptError("length")
    compact = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text).upper())
    if len(compact) != length:
        raise ReceiptError("length")
    values = []
    for c in compact:
        if c not in _INDEX:
            raise ReceiptError("character")
        values.append(_INDEX[c])
    if check_symbol(values[:-1]) != values[-1]:
        raise ReceiptError("check")
    return compact


def group_symbols(compact: str, group: int = GROUP) -> str:
    return "-".join(compact[i : i + group] for i in range(0, len(compact), group))


def new_symbols(length: int) -> str:
    values = random_symbols(length - 1)
    values.append(check_symbol(values))
    return "".join(ALPHABET[v] for v in values)


def normalise_receipt(text: str) -> str:
    """Canonical receipt (20 symbols, no separators); ReceiptError if it cannot be right."""
    return normalise_symbols(text, LENGTH)


def is_valid_receipt(text: str) -> bool:
    try:
        normalise_receipt(text)
    except ReceiptError:
        return False
    return True


def format_receipt(text: str) -> str:
    """Display form: ``XXXX-XXXX-XXXX-XXXX-XXXX``."""
    return group_symbols(normalise_receipt(text))


def new_receipt() -> str:
    """A fresh receipt in display form (94 bits of entropy)."""
    return group_symbols(new_symbols(LENGTH))


def _derive(canonical: str, info: bytes) -> bytes:
    return hkdf_sha256(canonical.encode("ascii"), info, salt=SALT)


def receipt_lookup(text: str) -> bytes:
    """The 32-byte lookup id (the server keeps only a keyed hash of it)."""
    return _derive(normalise_receipt(text), b"lookup")


@dataclass(frozen=True)
class ReceiptKeys:
    """What a device derives from a receipt: the lookup id and the reporter key pair."""

    lookup: bytes = field(repr=False)
    key_pair: KeyPair = field(repr=False)

    @property
    def lookup_b64u(self) -> str:
        return b64u_encode(self.lookup)

    @property
    def reporter_public_key(self) -> str:
        """Wire text of the reporter's public key (the envelope's `reporter_key`)."""
        return self.key_pair.public.text

    def __repr__(self) -> str:
        return f"ReceiptKeys(reporter_key_id={self.key_pair.public.key_id_hex}, lookup=***)"


def derive_from_receipt(text: str) -> ReceiptKeys:
    """Lookup id and reporter X25519 key pair, with distinct HKDF labels."""
    canonical = normalise_receipt(text)
    return ReceiptKeys(
        lookup=_derive(canonical, b"lookup"),
        key_pair=KeyPair(Suite.X25519_AES256GCM, _derive(canonical, b"reporter-x25519")),
    )
