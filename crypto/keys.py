"""Suites, key pairs, public keys on the wire, key ids, fingerprints and HPKE (RFC 9180).

A public key on the wire is `suite(2) || raw`, as b64u. Suite 0x0001 is DHKEM(X25519,
HKDF-SHA256) / HKDF-SHA256 / AES-256-GCM; suite 0x0002 is X-Wing (ML-KEM-768 + X25519,
`hpke.KEM.MLKEM768_X25519`) / HKDF-SHA256 / AES-256-GCM. A private key is stored as a 32-byte
seed: the X25519 scalar for suite 1, the X-Wing seed (expanded with SHAKE256 to the ML-KEM-768
seed and the X25519 scalar) for suite 2.
"""

from __future__ import annotations

import hashlib
import os
from base64 import b32encode
from dataclasses import dataclass, field
from enum import IntEnum

from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric import mlkem, x25519

from crypto.encoding import b64u_decode, b64u_encode, u16
from crypto.errors import CryptoError, DecryptError, FormatError, UnsupportedError

X25519_LEN = 32
MLKEM768_PUBLIC_LEN = 1184
XWING_PUBLIC_LEN = MLKEM768_PUBLIC_LEN + X25519_LEN
SEED_LEN = 32


class Suite(IntEnum):
    """Cipher suites of format version 1."""

    X25519_AES256GCM = 0x0001
    MLKEM768X25519_AES256GCM = 0x0002

    @property
    def hpke(self) -> hpke.Suite:
        kem = hpke.KEM.X25519 if self is Suite.X25519_AES256GCM else hpke.KEM.MLKEM768_X25519
        return hpke.Suite(kem, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)

    @property
    def public_length(self) -> int:
        return X25519_LEN if self is Suite.X25519_AES256GCM else XWING_PUBLIC_LEN

    @property
    def enc_length(self) -> int:
        return 32 if self is Suite.X25519_AES256GCM else 1088 + 32


DEFAULT_SUITE = Suite.X25519_AES256GCM
PQ_SUITE = Suite.MLKEM768X25519_AES256GCM


def parse_suite(value: int) -> Suite:
    try:
        return Suite(value)
    except ValueError:
        raise UnsupportedError(f"unknown suite 0x{value:04x}") from None


@dataclass(frozen=True)
class PublicKey:
    """A recipient public key: its suite and raw bytes."""

    suite: Suite
    raw: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.raw) != self.suite.public_length:
            raise FormatError("public key has the wrong length for its suite")

    @classmethod
    def from_wire(cls, data: bytes) -> PublicKey:
        """From `suite(2) || raw`."""
        if len(data) < 3:
            raise FormatError("public key too short")
        return cls(parse_suite(int.from_bytes(data[:2], "big")), bytes(data[2:]))

    @classmethod
    def from_text(cls, text: str) -> PublicKey:
        """From the wire text (b64u of `suite(2) || raw`)."""
        return cls.from_wire(b64u_decode(text))

    @property
    def wire(self) -> bytes:
        return u16(self.suite) + self.raw

    @property
    def text(self) -> str:
        return b64u_encode(self.wire)

    @property
    def key_id(self) -> bytes:
        """`SHA-256("wbs/v1/key-id" || suite(2) || raw)[:16]`."""
        return hashlib.sha256(b"wbs/v1/key-id" + self.wire).digest()[:16]

    @property
    def key_id_hex(self) -> str:
        return self.key_id.hex()

    @property
    def fingerprint(self) -> str:
        """First 20 bytes of `SHA-256("wbs/v1/fingerprint" || wire)`, base32, 8 groups of 4."""
        digest = hashlib.sha256(b"wbs/v1/fingerprint" + self.wire).digest()[:20]
        return group_base32(digest)

    def __repr__(self) -> str:
        return f"PublicKey(suite={self.suite.name}, key_id={self.key_id_hex})"

    def _hpke_public(self) -> x25519.X25519PublicKey | hpke.MLKEM768X25519PublicKey:
        try:
            if self.suite is Suite.X25519_AES256GCM:
                return x25519.X25519PublicKey.from_public_bytes(self.raw)
            return hpke.MLKEM768X25519PublicKey(
                mlkem.MLKEM768PublicKey.from_public_bytes(self.raw[:MLKEM768_PUBLIC_LEN]),
                x25519.X25519PublicKey.from_public_bytes(self.raw[MLKEM768_PUBLIC_LEN:]),
            )
        except ValueError:
            raise FormatError("public key is not valid for its suite") from None


def group_base32(data: bytes) -> str:
    text = b32encode(data).decode("ascii").rstrip("=").lower()
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def as_public_key(key: PublicKey | str | bytes) -> PublicKey:
    """A public key from a `PublicKey`, its wire text, or its wire bytes."""
    if isinstance(key, PublicKey):
        return key
    if isinstance(key, str):
        return PublicKey.from_text(key)
    return PublicKey.from_wire(key)


def key_id_hex(public_key: PublicKey | str | bytes) -> str:
    """Hex key id of a public key (object, wire text or wire bytes)."""
    return as_public_key(public_key).key_id_hex


def fingerprint(public_key: PublicKey | str | bytes) -> str:
    """Human fingerprint of a public key (object, wire text or wire bytes)."""
    return as_public_key(public_key).fingerprint


def key_id_of(public_key: str) -> str:
    """Hex key id of a wire public key text; FormatError (a ValueError) for anything else,
    an unknown suite included."""
    return _checked(public_key).key_id_hex


def fingerprint_of(public_key: str) -> str:
    """Fingerprint of a wire public key text; FormatError (a ValueError) for anything else."""
    return _checked(public_key).fingerprint


def _checked(public_key: str) -> PublicKey:
    try:
        return PublicKey.from_text(public_key)
    except (CryptoError, ValueError, TypeError):
        raise FormatError("bad public key") from None


def _xwing_parts(seed: bytes) -> tuple[mlkem.MLKEM768PrivateKey, x25519.X25519PrivateKey]:
    expanded = hashlib.shake_256(seed).digest(96)
    return (
        mlkem.MLKEM768PrivateKey.from_seed_bytes(expanded[:64]),
        x25519.X25519PrivateKey.from_private_bytes(expanded[64:]),
    )


class KeyPair:
    """A private key (32-byte seed) with its public key. The repr never shows the seed."""

    __slots__ = ("_hpke_private", "_seed", "public")

    def __init__(self, suite: Suite, seed: bytes) -> None:
        if len(seed) != SEED_LEN:
            raise FormatError("private key seed must be 32 bytes")
        self._seed = bytes(seed)
        self._hpke_private: x25519.X25519PrivateKey | hpke.MLKEM768X25519PrivateKey
        if suite is Suite.X25519_AES256GCM:
            sk = x25519.X25519PrivateKey.from_private_bytes(self._seed)
            self._hpke_private = sk
            raw = sk.public_key().public_bytes_raw()
        else:
            m, x = _xwing_parts(self._seed)
            self._hpke_private = hpke.MLKEM768X25519PrivateKey(m, x)
            raw = m.public_key().public_bytes_raw() + x.public_key().public_bytes_raw()
        self.public = PublicKey(suite, raw)

    @classmethod
    def generate(cls, suite: Suite = DEFAULT_SUITE) -> KeyPair:
        return cls(suite, os.urandom(SEED_LEN))

    @property
    def suite(self) -> Suite:
        return self.public.suite

    def private_bytes(self) -> bytes:
        """The 32-byte seed. Secret: only for wrapping under a staff passphrase."""
        return self._seed

    def hpke_open(self, sealed: bytes, info: bytes) -> bytes:
        """RFC 9180 base-mode single-shot open of `enc || ct`; DecryptError on any failure."""
        try:
            return self.suite.hpke.decrypt(sealed, self._hpke_private, info)
        except Exception:
            raise DecryptError() from None

    def __repr__(self) -> str:
        return f"KeyPair(suite={self.suite.name}, key_id={self.public.key_id_hex}, private=***)"

    __str__ = __repr__

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("KeyPair cannot be pickled")


def hpke_seal(public_key: PublicKey, info: bytes, plaintext: bytes) -> bytes:
    """RFC 9180 base-mode single-shot seal: `enc || ct` with a fresh ephemeral key.

    FormatError for a public key no one can hold (e.g. a low-order X25519 point)."""
    try:
        return public_key.suite.hpke.encrypt(plaintext, public_key._hpke_public(), info)
    except ValueError:
        raise FormatError("public key is not valid for its suite") from None
