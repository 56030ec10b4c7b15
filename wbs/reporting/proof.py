"""Proofs of submission: the service's signing key and the signed fields (crypto/proof.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from crypto import proof
from crypto.atrest import derive_signing_key
from crypto.encoding import b64u_decode
from crypto.errors import SignatureError
from crypto.signing import public_key_text, signing_fingerprint, verify_ed25519

PROOF_KEY_LABEL = "proof-of-submission"


def envelope_sha256(envelope: dict[str, Any]) -> str:
    return proof.envelope_sha256(envelope)


def proof_public_key(master: bytes) -> str:
    return public_key_text(derive_signing_key(master, PROOF_KEY_LABEL))


def signing_key_fingerprint(public_key: str) -> str:
    return signing_fingerprint(b64u_decode(public_key))


def sign_proof(
    master: bytes,
    *,
    case_number: str,
    unit: str,
    submitted_at: datetime,
    envelope_sha256: str,
    audit: tuple[str, str],
) -> dict[str, Any]:
    """A v2 proof: `audit` = (audit_leaf, audit tree-head public key hex) signed too."""
    return proof.sign_proof(
        derive_signing_key(master, PROOF_KEY_LABEL),
        case_number=case_number,
        unit=unit,
        submitted_at=submitted_at,
        envelope_sha256=envelope_sha256,
        audit=audit,
    )


def proof_fields(
    master: bytes,
    *,
    case_number: str,
    unit: str,
    submitted_at: datetime,
    envelope_sha256: str,
    signature: str,
    audit: tuple[str, str] | None,
) -> dict[str, Any]:
    """The stored proof again: v2 when the stored signature covers `audit` (reports sent
    since v2), else v1 (older reports; `audit_leaf` is then added unsigned by the caller)."""
    at = proof.format_time(submitted_at)
    public_key = proof_public_key(master)
    fields: dict[str, Any] = {"v": 1}
    if audit is not None:
        try:
            message = proof.proof_message(case_number, unit, at, envelope_sha256, audit)
            verify_ed25519(public_key, message, signature)
            fields = {"v": 2, "audit_leaf": audit[0], "audit_public_key": audit[1]}
        except SignatureError:
            pass
    return fields | {
        "case_number": case_number,
        "unit": unit,
        "submitted_at": at,
        "envelope_sha256": envelope_sha256,
        "public_key": public_key,
        "signature": signature,
    }
