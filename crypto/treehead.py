"""Signed tree heads of the audit log and offline checks of its proofs (RFC 9162 shape).

A tree head is ``{"unit", "tree_size", "root_hash", "at", "public_key", "signature"}`` (hex
hashes and keys); the server's Ed25519 signature covers ``"wbs/audit/tree-head/v2\\n" + unit
+ "\\n" + tree_size + "\\n" + root_hash + "\\n" + at`` (UTF-8). An inclusion document adds the
entry's canonical JSON, its leaf hash, index and audit path; a consistency document two heads
and the proof between them. Used by `wbs audit check-proof`, the client and the tests.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from crypto import merkle

__all__ = [
    "HEAD_PREFIX",
    "check_consistency",
    "check_inclusion",
    "head_message",
    "sign_head",
    "verify_head",
]

HEAD_PREFIX = "wbs/audit/tree-head/v2"


def head_message(unit: str, tree_size: int, root_hash: str, at: str) -> bytes:
    for value in (unit, root_hash, at):
        if not isinstance(value, str) or "\n" in value:
            raise merkle.ProofError("bad tree head field")
    return f"{HEAD_PREFIX}\n{unit}\n{int(tree_size)}\n{root_hash}\n{at}".encode()


def sign_head(key: Ed25519PrivateKey, unit: str, tree_size: int, root_hash: str, at: str) -> str:
    return key.sign(head_message(unit, tree_size, root_hash, at)).hex()


def _hex(value: object, size: int = 32) -> bytes:
    if not isinstance(value, str):
        raise merkle.ProofError("expected a hex string")
    try:
        raw = bytes.fromhex(value)
    except ValueError as exc:
        raise merkle.ProofError("bad hex") from exc
    if len(raw) != size:
        raise merkle.ProofError("wrong length")
    return raw


def verify_head(head: Mapping[str, Any], public_key: str | None = None) -> tuple[int, bytes]:
    """Check a head's signature (against a pinned hex key if given); its (size, root)."""
    key = head.get("public_key")
    if public_key is not None and key != public_key:
        raise merkle.ProofError("tree head signed by another key")
    size = head.get("tree_size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise merkle.ProofError("bad tree size")
    root = _hex(head.get("root_hash"))
    message = head_message(
        str(head.get("unit")), size, str(head.get("root_hash")), str(head.get("at"))
    )
    try:
        Ed25519PublicKey.from_public_bytes(_hex(key)).verify(
            _hex(head.get("signature"), 64), message
        )
    except InvalidSignature as exc:
        raise merkle.ProofError("tree head signature invalid") from exc
    return size, root


def _path(doc: Mapping[str, Any]) -> list[bytes]:
    proof = doc.get("proof")
    if not isinstance(proof, list):
        raise merkle.ProofError("no proof")
    return [_hex(p) for p in proof]


def check_inclusion(doc: Mapping[str, Any], public_key: str | None = None) -> dict[str, Any]:
    """An entry is leaf `leaf_index` of the signed tree head; returns the entry's fields."""
    head = doc.get("tree_head")
    if not isinstance(head, Mapping):
        raise merkle.ProofError("no tree head")
    size, root = verify_head(head, public_key)
    entry = doc.get("entry")
    if not isinstance(entry, str):
        raise merkle.ProofError("no entry")
    leaf = merkle.leaf_hash(entry.encode())
    if leaf != _hex(doc.get("leaf_hash")):
        raise merkle.ProofError("entry does not hash to the leaf")
    index = doc.get("leaf_index")
    if not isinstance(index, int) or isinstance(index, bool):
        raise merkle.ProofError("bad leaf index")
    merkle.verify_inclusion(index, size, leaf, _path(doc), root)
    fields = json.loads(entry)
    if not isinstance(fields, dict) or fields.get("unit") != head.get("unit"):
        raise merkle.ProofError("entry of another unit")
    return fields


def check_consistency(doc: Mapping[str, Any], public_key: str | None = None) -> tuple[int, int]:
    """Both heads are validly signed and the second extends the first; their sizes."""
    first, second = doc.get("first"), doc.get("second")
    if not isinstance(first, Mapping) or not isinstance(second, Mapping):
        raise merkle.ProofError("two tree heads are needed")
    if first.get("unit") != second.get("unit"):
        raise merkle.ProofError("tree heads of different units")
    m, first_root = verify_head(first, public_key)
    n, second_root = verify_head(second, public_key)
    merkle.verify_consistency(m, n, first_root, second_root, _path(doc))
    return m, n
