"""Server-side secrets at rest: a labelled AEAD box and derived signing keys.

Used by the service for its own secrets (TOTP seeds, audit checkpoints). Report content
never passes through here: it is end-to-end encrypted by the envelope formats.
"""

from __future__ import annotations

import hmac
import os
from functools import lru_cache
from hashlib import sha256

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_VERSION = b"\x01"


class AtRestError(Exception):
    """A stored secret cannot be opened (wrong key, wrong context or altered)."""

    def __init__(self) -> None:
        super().__init__("cannot decrypt")


# Derived keys are kept per process (a few labels, one master): a request that signs or
# hashes with one no longer pays an HKDF (and an Ed25519 key load) for it.
@lru_cache(maxsize=64)
def _derive(master: bytes, label: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label.encode()).derive(master)


class SecretBox:
    """AES-256-GCM under a key derived from the service master secret and a label."""

    __slots__ = ("_aead", "_label")

    def __init__(self, master: bytes, label: str) -> None:
        self._label = label
        self._aead = AESGCM(_derive(master, "wbs/v1/at-rest/" + label))

    def __repr__(self) -> str:
        return f"SecretBox(label={self._label!r}, key=***)"

    def seal(self, plaintext: bytes, context: str) -> bytes:
        nonce = os.urandom(12)
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext, _VERSION + context.encode())

    def open(self, blob: bytes, context: str) -> bytes:
        if len(blob) < 1 + 12 + 16 or blob[:1] != _VERSION:
            raise AtRestError()
        try:
            return self._aead.decrypt(blob[1:13], blob[13:], _VERSION + context.encode())
        except InvalidTag:
            raise AtRestError() from None


@lru_cache(maxsize=64)
def derive_signing_key(master: bytes, label: str) -> Ed25519PrivateKey:
    """A deterministic Ed25519 key from the master secret, so stateless servers agree."""
    return Ed25519PrivateKey.from_private_bytes(_derive(master, "wbs/v1/signing/" + label))


def keyed_digest(master: bytes, label: str, value: bytes) -> str:
    """HMAC-SHA256 of a value under a derived key, hex; for lookups that must not reveal input."""
    return hmac.new(_derive(master, "wbs/v1/mac/" + label), value, sha256).hexdigest()
