"""Byte encodings shared by the formats: base64url, context fields, canonical JSON."""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from crypto.errors import FormatError

_B64U = re.compile(r"^[A-Za-z0-9_-]*$")


def b64u_encode(data: bytes) -> str:
    """Base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64u_decode(text: str) -> bytes:
    """Strict base64url without padding (no whitespace, canonical trailing bits)."""
    if not isinstance(text, str) or len(text) % 4 == 1 or not _B64U.match(text):
        raise FormatError("bad base64url")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise FormatError("bad base64url") from None
    if b64u_encode(data) != text:
        raise FormatError("bad base64url")
    return data


def u16(value: int) -> bytes:
    return value.to_bytes(2, "big")


def encode_context(*fields: str) -> bytes:
    """Context bytes: each field `len(2) || UTF-8`, in order."""
    out = bytearray()
    for field in fields:
        if not isinstance(field, str):
            raise FormatError("context fields are strings")
        data = field.encode("utf-8")
        if len(data) > 0xFFFF:
            raise FormatError("context field too long")
        out += u16(len(data)) + data
    return bytes(out)


def _check_canonical(value: Any) -> None:
    if value is None or isinstance(value, bool | str):
        return
    if isinstance(value, int):
        if abs(value) > 2**53 - 1:
            raise FormatError("canonical JSON integers must be safe integers")
        return
    if isinstance(value, list | tuple):
        for item in value:
            _check_canonical(item)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise FormatError("canonical JSON keys are strings")
            _check_canonical(item)
        return
    raise FormatError("value cannot be canonical JSON (floats are not allowed)")


def canonical_json(value: Any) -> bytes:
    """Canonical JSON bytes: keys sorted by code point, no spaces, UTF-8, no floats.

    Identical to `canonicalJson` in crypto/js/directory.js (JSON.stringify escaping).
    """
    _check_canonical(value)
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")
