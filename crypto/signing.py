"""Ed25519 helpers shared by key directories, proofs of submission and signed exports."""

from __future__ import annotations

import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from crypto.atrest import derive_signing_key
from crypto.encoding import b64u_decode, b64u_encode
from crypto.errors import FormatError, SignatureError
from crypto.keys import group_base32

ED25519_LEN = 32
SIGNATURE_LEN = 64


def public_key_text(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """b64u of the raw 32-byte Ed25519 public key."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return b64u_encode(public.public_bytes_raw())


def signing_fingerprint(public_key_raw: bytes) -> str:
    """Fingerprint of an Ed25519 key (unit directory key, server proof key) for posters:
    the first 20 bytes of ``SHA-256("wbs/v1/signing-key" || raw)``, base32, 8 groups of 4."""
    if len(public_key_raw) != ED25519_LEN:
        raise FormatError("Ed25519 public key must be 32 bytes")
    return group_base32(hashlib.sha256(b"wbs/v1/signing-key" + public_key_raw).digest()[:20])


def decode_signing_key(text_or_raw: str | bytes) -> Ed25519PublicKey:
    raw = b64u_decode(text_or_raw) if isinstance(text_or_raw, str) else text_or_raw
    if len(raw) != ED25519_LEN:
        raise SignatureError("bad Ed25519 public key")
    try:
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        raise SignatureError("bad Ed25519 public key") from None


def verify_ed25519(public_key: str | bytes, message: bytes, signature: str | bytes) -> None:
    """SignatureError unless `signature` is a valid Ed25519 signature of `message`."""
    key = decode_signing_key(public_key)
    try:
        sig = b64u_decode(signature) if isinstance(signature, str) else signature
    except FormatError:
        raise SignatureError() from None
    if len(sig) != SIGNATURE_LEN:
        raise SignatureError()
    try:
        key.verify(sig, message)
    except InvalidSignature:
        raise SignatureError() from None


class SigningKey:
    """An Ed25519 private key that signs and shows only its public half (masked repr,
    not picklable), so it cannot end up in a log line or an exception."""

    __slots__ = ("_private",)

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private

    @classmethod
    def derive(cls, master: bytes, label: str) -> SigningKey:
        """The key derived from the service master secret and a label (stateless servers agree)."""
        return cls(derive_signing_key(master, label))

    @property
    def public_raw(self) -> bytes:
        return self._private.public_key().public_bytes_raw()

    @property
    def public_text(self) -> str:
        return public_key_text(self._private)

    @property
    def fingerprint(self) -> str:
        return signing_fingerprint(self.public_raw)

    @property
    def public_pem(self) -> str:
        """The public key as PEM (SubjectPublicKeyInfo), for OpenSSL."""
        public = self._private.public_key()
        return public.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()

    def sign(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature of `message`."""
        return self._private.sign(message)

    def __repr__(self) -> str:
        return f"SigningKey(public={self.public_text}, private=***)"

    __str__ = __repr__

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a signing key is not picklable")
