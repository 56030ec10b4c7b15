"""The one place where the service touches the formats of docs/crypto-format.md.

Thin adapters over the `crypto` library (key ids, fingerprints, wrap headers, directory
signatures, proofs of submission); nothing cryptographic is implemented here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from crypto import directory as lib_directory
from crypto import keys, proof
from crypto.atrest import derive_signing_key
from crypto.envelope import wrap_header
from crypto.errors import CryptoError
from crypto.signing import public_key_text, signing_fingerprint
from wbs.reporting.schemas import b64u_decode

PROOF_KEY_LABEL = "proof-of-submission"


@dataclass(frozen=True)
class Recipient:
    key_id: str
    public_key: str
    name: str
    fingerprint: str


@dataclass(frozen=True)
class DirectoryDocument:
    unit: str
    version: int
    channels: dict[str, list[Recipient]]


def key_id(public_key: str) -> str:
    """Hex key id of a wire public key; ValueError if malformed."""
    try:
        return keys.key_id_hex(public_key)
    except (CryptoError, ValueError, TypeError):
        raise ValueError("bad public key") from None


def fingerprint(public_key: str) -> str:
    try:
        return keys.fingerprint(public_key)
    except (CryptoError, ValueError, TypeError):
        raise ValueError("bad public key") from None


def wrap_key_id(wrap: bytes) -> str:
    """The recipient key id in a wrap's header; ValueError if it is not a wrap."""
    try:
        return wrap_header(wrap)[1]
    except (CryptoError, ValueError):
        raise ValueError("not a wrap") from None


def envelope_sha256(envelope: dict[str, Any]) -> str:
    return proof.envelope_sha256(envelope)


def proof_public_key(master: bytes) -> str:
    return public_key_text(derive_signing_key(master, PROOF_KEY_LABEL))


def signing_key_fingerprint(public_key: str) -> str:
    return signing_fingerprint(b64u_decode(public_key))


def sign_proof(
    master: bytes, *, case_number: str, unit: str, submitted_at: datetime, envelope_sha256: str
) -> dict[str, Any]:
    return proof.sign_proof(
        derive_signing_key(master, PROOF_KEY_LABEL),
        case_number=case_number,
        unit=unit,
        submitted_at=submitted_at,
        envelope_sha256=envelope_sha256,
    )


def proof_fields(
    master: bytes,
    *,
    case_number: str,
    unit: str,
    submitted_at: datetime,
    envelope_sha256: str,
    signature: str,
) -> dict[str, Any]:
    return {
        "v": 1,
        "case_number": case_number,
        "unit": unit,
        "submitted_at": proof.format_time(submitted_at),
        "envelope_sha256": envelope_sha256,
        "public_key": proof_public_key(master),
        "signature": signature,
    }


def _document(parsed: lib_directory.Directory) -> DirectoryDocument:
    return DirectoryDocument(
        unit=parsed.unit,
        version=parsed.version,
        channels={
            name: [
                Recipient(
                    key_id=e.key_id,
                    public_key=e.public_key.text,
                    name=e.name,
                    fingerprint=e.fingerprint,
                )
                for e in entries
            ]
            for name, entries in parsed.channels.items()
        },
    )


def verify_directory(public_key: str, document: str, signature: str) -> DirectoryDocument:
    """Check the unit key's signature over the document; ValueError if it does not hold."""
    try:
        return _document(
            lib_directory.verify_directory(public_key, document.encode("utf-8"), signature)
        )
    except (CryptoError, ValueError, TypeError):
        raise ValueError("directory signature not valid") from None


def parse_directory(document: str, public_key: str = "") -> DirectoryDocument:
    """The recipients of a stored (verified at upload) directory document."""
    return _document(lib_directory.parse_verified_directory(document.encode("utf-8"), public_key))


def directory_fingerprint(public_key: str) -> str:
    """The unit key fingerprint of the poster, the API and `wbs client` (one function)."""
    return lib_directory.fingerprint(public_key)
