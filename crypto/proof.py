"""Proofs of submission: the server's Ed25519 signature over the case number, unit, time
and SHA-256 of the canonical envelope JSON, which a reporter keeps and checks offline.

Signed bytes v1: ``"wbs/v1/proof\\n" + case_number + "\\n" + unit + "\\n" + submitted_at +
"\\n" + envelope_sha256``; v2 (``"wbs/v2/proof"``) appends ``"\\n" + audit_leaf + "\\n" +
audit_public_key`` (the audit log's leaf hash and tree-head key, hex). UTF-8; no field may
contain a newline. ``submitted_at`` is ``YYYY-MM-DDTHH:MM:SSZ`` (UTC).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from crypto.encoding import b64u_encode, canonical_json
from crypto.envelope import ReportEnvelope
from crypto.errors import SignatureError
from crypto.signing import public_key_text, verify_ed25519

__all__ = ["ProofFacts", "envelope_sha256", "proof_message", "sign_proof", "verify_proof"]


def envelope_sha256(envelope: ReportEnvelope | Mapping[str, Any]) -> str:
    """Hex SHA-256 of the canonical JSON of the envelope exactly as sent."""
    data = envelope.to_json() if isinstance(envelope, ReportEnvelope) else dict(envelope)
    return hashlib.sha256(canonical_json(data)).hexdigest()


def format_time(at: datetime | str) -> str:
    if isinstance(at, str):
        return at
    if at.tzinfo is None:
        raise ValueError("submitted_at must be timezone-aware")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def proof_message(
    case_number: str,
    unit: str,
    submitted_at: str,
    envelope_hash: str,
    audit: tuple[str, str] | None = None,
) -> bytes:
    """v1 bytes, or v2 when `audit` = (audit_leaf, audit_public_key) is given."""
    values = (case_number, unit, submitted_at, envelope_hash, *(audit or ()))
    for value in values:
        if not isinstance(value, str) or "\n" in value:
            raise SignatureError("bad proof field")
    return (f"wbs/v{1 if audit is None else 2}/proof\n" + "\n".join(values)).encode()


def sign_proof(
    signing_key: Ed25519PrivateKey,
    *,
    case_number: str,
    unit: str,
    submitted_at: datetime | str,
    envelope_sha256: str,
    audit: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """The proof object the server returns to the reporter (v2 when `audit` =
    (audit_leaf, audit_public_key) is given)."""
    at = format_time(submitted_at)
    signature = signing_key.sign(proof_message(case_number, unit, at, envelope_sha256, audit))
    extra = {} if audit is None else {"audit_leaf": audit[0], "audit_public_key": audit[1]}
    return {
        "v": 1 if audit is None else 2,
        "case_number": case_number,
        "unit": unit,
        "submitted_at": at,
        "envelope_sha256": envelope_sha256,
        **extra,
        "public_key": public_key_text(signing_key),
        "signature": b64u_encode(signature),
    }


@dataclass(frozen=True)
class ProofFacts:
    case_number: str
    unit: str
    submitted_at: str
    envelope_sha256: str
    audit_leaf: str | None = None
    audit_public_key: str | None = None


def _audit_fields(proof: Mapping[str, Any]) -> tuple[str, str] | None:
    if proof.get("v") == 1:
        return None
    leaf, key = proof.get("audit_leaf"), proof.get("audit_public_key")
    if not isinstance(leaf, str) or not isinstance(key, str):
        raise SignatureError("bad proof field")
    return leaf, key


def verify_proof(
    proof: Mapping[str, Any],
    *,
    envelope: ReportEnvelope | Mapping[str, Any] | None = None,
    public_key: str | None = None,
) -> ProofFacts:
    """Check a v1 or v2 proof (optionally against the envelope sent and a pinned server
    key). A v1 proof's `audit_leaf`, if any, is unsigned and not returned."""
    if not isinstance(proof, Mapping) or proof.get("v") not in (1, 2):
        raise SignatureError("not a v1 or v2 proof")
    audit = _audit_fields(proof)
    key = proof.get("public_key")
    if not isinstance(key, str):
        raise SignatureError("no proof key")
    if public_key is not None and key != public_key:
        raise SignatureError("proof made with another key")
    fields = [proof.get(k) for k in ("case_number", "unit", "submitted_at", "envelope_sha256")]
    if not all(isinstance(f, str) for f in fields):
        raise SignatureError("bad proof field")
    case_number, unit, at, digest = (str(f) for f in fields)
    if envelope is not None and envelope_sha256(envelope) != digest:
        raise SignatureError("proof is for another envelope")
    message = proof_message(case_number, unit, at, digest, audit)
    verify_ed25519(key, message, str(proof.get("signature")))
    return ProofFacts(case_number, unit, at, digest, *(audit or (None, None)))
