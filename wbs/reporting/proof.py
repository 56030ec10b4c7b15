"""Proofs of submission: the service's signing key and the signed fields (crypto/proof.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from crypto import proof
from crypto.atrest import derive_signing_key
from crypto.encoding import b64u_decode
from crypto.signing import public_key_text, signing_fingerprint

PROOF_KEY_LABEL = "proof-of-submission"


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
