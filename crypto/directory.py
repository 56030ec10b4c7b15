"""Signed key directories (format version 1).

A directory document (docs/api.md section 6) lists, per channel, the recipients' public keys;
an admin's device signs its canonical JSON bytes (`crypto.encoding.canonical_json`) with the
unit's Ed25519 key. Clients use only recipients taken from a verified document.

The unit's Ed25519 private key is kept by the server only wrapped to admins' device keys:
``{"v":1,"kind":"directory-key","to":"hex key id","sealed":"b64u(HPKE.Seal(pkR,
info="wbs/v1/directory-key", seed32))"}``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from crypto.encoding import b64u_decode, b64u_encode, canonical_json
from crypto.errors import DecryptError, FormatError, SignatureError
from crypto.keys import KeyPair, PublicKey, as_public_key, hpke_seal
from crypto.signing import (
    decode_signing_key,
    public_key_text,
    signing_fingerprint,
    verify_ed25519,
)

DIRECTORY_KEY_INFO = b"wbs/v1/directory-key"
FINGERPRINT_CHARS = 32  # 20 bytes in base32
_BASE32 = frozenset("abcdefghijklmnopqrstuvwxyz234567")

__all__ = [
    "Directory",
    "DirectoryEntry",
    "fingerprint",
    "new_signing_key",
    "normalize_fingerprint",
    "public_key_text",
    "same_fingerprint",
    "sign_directory",
    "sign_document",
    "unwrap_signing_key",
    "verify_directory",
    "verify_signed_directory",
    "wrap_signing_key",
]


def fingerprint(public_key: bytes | str) -> str:
    """Fingerprint of the unit's Ed25519 directory key, exactly as the unit's poster prints
    it (and as the browser's `signingKeyFingerprint` computes it): ``"abcd efgh ..."``, 8
    groups of 4 lower-case base32 characters. `public_key` is the raw 32 bytes or its b64u
    text (as served in ``public_key``); FormatError otherwise."""
    raw = b64u_decode(public_key) if isinstance(public_key, str) else public_key
    return signing_fingerprint(raw)


def normalize_fingerprint(text: str) -> str:
    """A fingerprint as typed by a person, for comparison: spaces, hyphens and case ignored.
    FormatError unless it has the 32 base32 characters of a fingerprint."""
    squashed = "".join(ch for ch in text if not ch.isspace() and ch != "-").lower()
    if len(squashed) != FINGERPRINT_CHARS or any(ch not in _BASE32 for ch in squashed):
        raise FormatError("a fingerprint has 32 base32 characters (8 groups of 4)")
    return squashed


def same_fingerprint(typed: str, public_key: bytes | str) -> bool:
    """Whether `typed` (e.g. copied from the poster) is the fingerprint of `public_key`."""
    return normalize_fingerprint(typed) == normalize_fingerprint(fingerprint(public_key))


def new_signing_key() -> Ed25519PrivateKey:
    """A fresh unit directory key (made on an admin's device)."""
    return Ed25519PrivateKey.generate()


def sign_document(signing_key: Ed25519PrivateKey, document: bytes) -> bytes:
    """Raw Ed25519 signature over the exact document bytes."""
    return signing_key.sign(document)


def sign_directory(signing_key: Ed25519PrivateKey, document: Mapping[str, Any]) -> dict[str, str]:
    """Sign a directory document: ``{"document": canonical text, "signature": b64u,
    "public_key": b64u}``. The document must have ``"v": 1``."""
    if document.get("v") != 1:
        raise FormatError("directory document must have v: 1")
    text = canonical_json(dict(document))
    return {
        "document": text.decode("utf-8"),
        "signature": b64u_encode(signing_key.sign(text)),
        "public_key": public_key_text(signing_key),
    }


@dataclass(frozen=True)
class DirectoryEntry:
    key_id: str
    public_key: PublicKey
    name: str = ""
    fingerprint: str = ""


@dataclass(frozen=True)
class Directory:
    """A verified directory: only what the signed document says."""

    unit: str
    version: int
    issued_at: str | None
    public_key: str
    channels: dict[str, tuple[DirectoryEntry, ...]] = field(default_factory=dict)
    # The unit's identity custodians (envelope v2 `identity_recipients`); never channel
    # recipients by that role. Documents without a `custodians` list have none.
    custodians: tuple[DirectoryEntry, ...] = ()

    def recipients(self, channel: str) -> list[PublicKey]:
        return [e.public_key for e in self.channels.get(channel, ())]

    def custodian_keys(self) -> list[PublicKey]:
        return [e.public_key for e in self.custodians]


def _parse(document: bytes, public_key: str) -> Directory:
    try:
        doc = json.loads(document.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise SignatureError("document is not JSON") from None
    version = doc.get("version") if isinstance(doc, dict) else None
    if (
        not isinstance(doc, dict)
        or doc.get("v") != 1
        or not isinstance(doc.get("unit"), str)
        or not isinstance(version, int)
        or isinstance(version, bool)
    ):
        raise SignatureError("document lacks v, unit or version")
    channels: dict[str, tuple[DirectoryEntry, ...]] = {}
    raw_channels = doc.get("channels", {})
    if not isinstance(raw_channels, dict):
        raise SignatureError("bad channel list")
    for name, entries in raw_channels.items():
        channels[str(name)] = _entries(entries)
    custodians = _entries(doc.get("custodians", []))
    issued = doc.get("issued_at")
    return Directory(
        unit=doc["unit"],
        version=version,
        issued_at=issued if isinstance(issued, str) else None,
        public_key=public_key,
        channels=channels,
        custodians=custodians,
    )


def _entries(entries: Any) -> tuple[DirectoryEntry, ...]:
    """A list of directory entries (a channel's recipients or the custodians), checked."""
    if not isinstance(entries, list):
        raise SignatureError("bad channel list")
    out = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise SignatureError("bad recipient")
        try:
            pk = PublicKey.from_text(str(entry.get("public_key", "")))
        except Exception:
            raise SignatureError("bad recipient key") from None
        if entry.get("key_id") != pk.key_id_hex:
            raise SignatureError("key id does not match its key")
        if entry.get("fingerprint") not in (None, "", pk.fingerprint):
            raise SignatureError("fingerprint does not match its key")
        out.append(
            DirectoryEntry(
                key_id=pk.key_id_hex,
                public_key=pk,
                name=str(entry.get("name", "")),
                fingerprint=pk.fingerprint,
            )
        )
    return tuple(out)


def parse_verified_directory(document: bytes, public_key: str = "") -> Directory:
    """Parse a document whose signature was already checked (for example when the server
    accepted it); it checks the document's own consistency, not the signature."""
    return _parse(document, public_key)


def verify_directory(public_key: bytes | str, document: bytes, signature: bytes | str) -> Directory:
    """Check the unit key's signature over the exact document bytes and parse it.

    SignatureError when the signature does not hold or the document lies (a key id that
    does not match its key, a missing version).
    """
    verify_ed25519(public_key, document, signature)
    text = b64u_encode(decode_signing_key(public_key).public_bytes_raw())
    return _parse(document, text)


def verify_signed_directory(
    signed: Mapping[str, Any],
    *,
    unit: str | None = None,
    public_key: str | None = None,
    min_version: int | None = None,
) -> Directory:
    """Verify a directory as served (``document``, ``signature``, ``public_key``), with an
    optional expected unit, pinned unit key and rollback floor; SignatureError otherwise."""
    document = signed.get("document")
    key = signed.get("public_key")
    if not isinstance(document, str) or not isinstance(key, str):
        raise SignatureError("no document")
    if public_key is not None and key != public_key:
        raise SignatureError("unit key differs from the pinned key")
    directory = verify_directory(key, document.encode("utf-8"), str(signed.get("signature", "")))
    if unit is not None and directory.unit != unit:
        raise SignatureError("directory of another unit")
    if min_version is not None and directory.version < min_version:
        raise SignatureError("directory older than one already seen")
    return directory


def wrap_signing_key(signing_key: Ed25519PrivateKey, recipient: PublicKey | str | bytes) -> str:
    """The unit key wrapped (HPKE) to an admin's device key, as JSON text."""
    pk = as_public_key(recipient)
    seed = signing_key.private_bytes_raw()
    sealed = hpke_seal(pk, DIRECTORY_KEY_INFO, seed)
    return json.dumps(
        {"v": 1, "kind": "directory-key", "to": pk.key_id_hex, "sealed": b64u_encode(sealed)},
        separators=(",", ":"),
    )


def unwrap_signing_key(wrapped: str | Mapping[str, Any], key_pair: KeyPair) -> Ed25519PrivateKey:
    """The unit key from its wrap for this admin; DecryptError otherwise."""
    try:
        data = json.loads(wrapped) if isinstance(wrapped, str) else dict(wrapped)
        if data.get("v") != 1 or data.get("kind") != "directory-key":
            raise DecryptError()
        to = data.get("to")
        if to is not None and to != key_pair.public.key_id_hex:
            raise DecryptError()
        seed = key_pair.hpke_open(b64u_decode(str(data.get("sealed", ""))), DIRECTORY_KEY_INFO)
        if len(seed) != 32:
            raise DecryptError()
        return Ed25519PrivateKey.from_private_bytes(seed)
    except (ValueError, TypeError, AttributeError, FormatError):
        raise DecryptError() from None
