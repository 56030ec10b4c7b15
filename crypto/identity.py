"""The identity key (envelope v2): identity separation by cryptography.

A v2 report has, besides its data key DK, a second fresh 32-byte key IK. Only the identity
box (kind 0x02) is sealed under IK, with the label `wbs/v2/identity`; IK is wrapped only to
the unit's custodian keys ("identity wraps", kind 0x08, label `wbs/v2/identity-wrap`), never
to officers or the reporter. An officer who holds DK and obtains the identity ciphertext
still cannot read it. To release an identity, a custodian's device unwraps IK and makes one
new identity wrap for the requester (`rewrap_identity_key`).

Bytes (docs/crypto-format.md, "Identity key (envelope v2)"):

- identity box: `0x01 || 0x02 || nonce(12) || AES-256-GCM(HKDF(IK, info="wbs/v2/identity"),
  nonce, pt, aad = 0x01 || 0x02 || context("wbs/v2/identity", unit, channel, report_id))`
- identity wrap: `0x01 || 0x08 || suite(2) || key_id(16) || HPKE.Seal(pkR, info, pt = IK)`
  with `info = 0x01 || 0x08 || suite(2) || key_id(16) ||
  context("wbs/v2/identity-wrap", unit, channel, report_id)`
- commitment: `SHA-256("wbs/v2/identity-commitment" || IK)`, carried in the envelope and
  bound into the content box's context, so that nobody without DK (the server) can swap in
  another identity under another IK without breaking the content box.

This module never imports `crypto.envelope`; the envelope-level functions (sealing a v2
report, releasing an identity from an envelope) are in `crypto.envelope`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping

from crypto.boxes import VERSION, IdentityKey, Kind, Label, ReportContext, open_box, seal_box
from crypto.encoding import encode_context, u16
from crypto.errors import DecryptError, FormatError
from crypto.keys import KeyPair, PublicKey, Suite, as_public_key, hpke_seal, parse_suite

IDENTITY_WRAP_HEADER_LEN = 20
COMMITMENT_LEN = 32

__all__ = [
    "IdentityKey",
    "as_identity_key",
    "identity_commitment",
    "identity_wrap_header",
    "open_identity_v2",
    "rewrap_identity_key",
    "seal_identity_v2",
    "unwrap_identity_key",
    "wrap_identity_key",
]


def as_identity_key(key: IdentityKey | bytes) -> IdentityKey:
    """An `IdentityKey` from itself or 32 raw bytes (a `DataKey` is refused: FormatError)."""
    return key if isinstance(key, IdentityKey) else IdentityKey(key)


def identity_commitment(identity_key: IdentityKey | bytes) -> bytes:
    """`SHA-256("wbs/v2/identity-commitment" || IK)` (32 bytes; reveals nothing about IK)."""
    ik = as_identity_key(identity_key)
    return hashlib.sha256(Label.IDENTITY_COMMITMENT.encode() + ik.secret).digest()


def commitment_matches(identity_key: IdentityKey, commitment: bytes) -> bool:
    return hmac.compare_digest(identity_commitment(identity_key), commitment)


# ---------------------------------------------------------------- the identity box


def fields_json(fields: Mapping[str, str]) -> bytes:
    """Form fields (an object of strings) as compact UTF-8 JSON (content and identity)."""
    if not isinstance(fields, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in fields.items()
    ):
        raise FormatError("expected an object of strings")
    return json.dumps(dict(fields), ensure_ascii=False, separators=(",", ":")).encode()


def parse_fields(data: bytes) -> dict[str, str]:
    """The inverse of `fields_json`; DecryptError for anything but an object of strings."""
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise DecryptError() from None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise DecryptError()
    return value


def seal_identity_v2(
    identity_key: IdentityKey | bytes, ctx: ReportContext, fields: Mapping[str, str]
) -> bytes:
    """The reporter's identity fields as a box of kind 0x02 under IK (label wbs/v2/identity)."""
    ik = as_identity_key(identity_key)
    return seal_box(ik, Kind.IDENTITY, Label.IDENTITY_V2, ctx.fields, fields_json(fields))


def open_identity_v2(
    identity_key: IdentityKey | bytes, ctx: ReportContext, box: bytes
) -> dict[str, str]:
    """Open a v2 identity box; DecryptError on any failure (a v1 box under DK never opens)."""
    try:
        ik = as_identity_key(identity_key)
    except FormatError:
        raise DecryptError() from None
    return parse_fields(open_box(ik, Kind.IDENTITY, Label.IDENTITY_V2, ctx.fields, box))


# ---------------------------------------------------------------- identity wraps


def _identity_wrap_info(suite: Suite, key_id: bytes, ctx: ReportContext) -> bytes:
    return (
        bytes([VERSION, Kind.IDENTITY_WRAP])
        + u16(suite)
        + key_id
        + encode_context(Label.IDENTITY_WRAP, *ctx.fields)
    )


def wrap_identity_key(
    identity_key: IdentityKey | bytes, ctx: ReportContext, recipient: PublicKey | str | bytes
) -> bytes:
    """`0x01 || 0x08 || suite(2) || key_id(16) || HPKE.Seal(pkR, info, IK)` for a custodian."""
    pk = as_public_key(recipient)
    ik = as_identity_key(identity_key)
    sealed = hpke_seal(pk, _identity_wrap_info(pk.suite, pk.key_id, ctx), ik.secret)
    return bytes([VERSION, Kind.IDENTITY_WRAP]) + u16(pk.suite) + pk.key_id + sealed


def rewrap_identity_key(
    identity_key: IdentityKey | bytes,
    requester_public_key: PublicKey | str | bytes,
    ctx: ReportContext,
) -> bytes:
    """Identity release, on the custodian's device after approval: a new identity wrap of IK
    for the requester only. Same bytes as a custodian's identity wrap; it is bound to the
    report's context and to the requester's suite and key id (header and HPKE info)."""
    return wrap_identity_key(identity_key, ctx, requester_public_key)


def identity_wrap_header(wrap: bytes) -> tuple[Suite, str]:
    """(suite, hex key id) of an identity wrap; FormatError if it is not one. No secret."""
    if (
        not isinstance(wrap, bytes | bytearray)
        or len(wrap) < IDENTITY_WRAP_HEADER_LEN + 32
        or wrap[0] != VERSION
        or wrap[1] != Kind.IDENTITY_WRAP
    ):
        raise FormatError("not an identity wrap")
    return parse_suite(int.from_bytes(wrap[2:4], "big")), bytes(wrap[4:20]).hex()


def unwrap_identity_key(wrap: bytes, ctx: ReportContext, key_pair: KeyPair) -> IdentityKey:
    """Recover IK from an identity wrap addressed to `key_pair`; DecryptError otherwise
    (in particular for a data-key wrap, whatever its header says)."""
    try:
        suite, kid = identity_wrap_header(wrap)
    except Exception:
        raise DecryptError() from None
    if suite is not key_pair.suite or kid != key_pair.public.key_id_hex:
        raise DecryptError()
    info = _identity_wrap_info(suite, key_pair.public.key_id, ctx)
    ik = key_pair.hpke_open(bytes(wrap[IDENTITY_WRAP_HEADER_LEN:]), info)
    if len(ik) != 32:
        raise DecryptError()
    return IdentityKey(ik)
