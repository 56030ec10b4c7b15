"""The data key, the identity key and the symmetric box every report part uses.

`box = 0x01 || kind(1) || nonce(12) || AES-256-GCM(subkey, nonce, pt, 0x01 || kind || context)`
with `subkey = HKDF-SHA256(key, salt="", info=label, L=32)`, where `key` is the report's data
key DK, or (envelope v2, identity box only) the report's identity key IK.
"""

from __future__ import annotations

import hmac
import os
from dataclasses import dataclass
from enum import IntEnum

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from crypto.encoding import encode_context
from crypto.errors import DecryptError, FormatError

VERSION = 0x01
NONCE_LEN = 12
TAG_LEN = 16
KEY_LEN = 32


class Kind(IntEnum):
    CONTENT = 0x01
    IDENTITY = 0x02
    MESSAGE = 0x03
    NOTE = 0x04
    WRAP = 0x05
    ATTACHMENT_METADATA = 0x06
    ATTACHMENT_STREAM = 0x07
    IDENTITY_WRAP = 0x08  # envelope v2: the identity key wrapped to a custodian or requester


class Label:
    CONTENT = "wbs/v1/content"
    IDENTITY = "wbs/v1/identity"
    WRAP = "wbs/v1/wrap"
    MESSAGE = "wbs/v1/message"
    NOTE = "wbs/v1/note"
    ATTACHMENT = "wbs/v1/attachment"
    # envelope v2 (crypto.identity)
    IDENTITY_V2 = "wbs/v2/identity"
    IDENTITY_WRAP = "wbs/v2/identity-wrap"
    IDENTITY_COMMITMENT = "wbs/v2/identity-commitment"


def hkdf_sha256(ikm: bytes, info: bytes, *, salt: bytes = b"", length: int = KEY_LEN) -> bytes:
    """HKDF-SHA256 (RFC 5869); an empty salt means HashLen zero bytes, as in the RFC."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt or None, info=info).derive(ikm)


class _ReportKey:
    """A 256-bit symmetric report key. Its repr never shows the key; it cannot be pickled.

    `DataKey` and `IdentityKey` are distinct types (neither is a subclass of the other), so
    an identity key is never accepted where a data key is expected, and vice versa.
    """

    __slots__ = ("_key",)
    _NAME = "report key"

    def __init__(self, key: bytes) -> None:
        if not isinstance(key, bytes | bytearray) or len(key) != KEY_LEN:
            raise FormatError(f"{self._NAME} must be 32 bytes")
        self._key = bytes(key)

    @property
    def secret(self) -> bytes:
        """The raw key. Secret: only for wrapping or for the browser bridge in tests."""
        return self._key

    def subkey(self, info: bytes) -> bytes:
        return hkdf_sha256(self._key, info)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, _ReportKey)
            and type(other) is type(self)
            and (hmac.compare_digest(self._key, other._key))
        )

    __hash__ = None  # type: ignore[assignment]  # equal keys compare equal; not hashable

    def __repr__(self) -> str:
        return f"{type(self).__name__}(***)"

    __str__ = __repr__

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError(f"{type(self).__name__} cannot be pickled")


class DataKey(_ReportKey):
    """A report's 256-bit data key. Its repr never shows the key."""

    __slots__ = ()
    _NAME = "data key"

    @classmethod
    def generate(cls) -> DataKey:
        return cls(os.urandom(KEY_LEN))


class IdentityKey(_ReportKey):
    """A report's 256-bit identity key (envelope v2): seals only the identity box and is
    wrapped only to custodians (and, on release, to one requester). Its repr never shows it."""

    __slots__ = ()
    _NAME = "identity key"

    @classmethod
    def generate(cls) -> IdentityKey:
        return cls(os.urandom(KEY_LEN))


def as_data_key(key: DataKey | bytes) -> DataKey:
    return key if isinstance(key, DataKey) else DataKey(key)


@dataclass(frozen=True)
class ReportContext:
    """What every ciphertext of a report is bound to: unit code, channel, report id."""

    unit: str
    channel: str
    report_id: str

    def __post_init__(self) -> None:
        for name in ("unit", "channel", "report_id"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise FormatError(f"{name} is required")

    @property
    def fields(self) -> tuple[str, str, str]:
        return (self.unit, self.channel, self.report_id)


def _box_key(key: DataKey | IdentityKey | bytes) -> _ReportKey:
    return key if isinstance(key, DataKey | IdentityKey) else DataKey(key)


def seal_box(
    data_key: DataKey | IdentityKey | bytes,
    kind: Kind,
    label: str,
    fields: tuple[str, ...],
    plaintext: bytes,
) -> bytes:
    """Low-level box sealing (see the module docstring). Raw bytes are taken as a data key."""
    header = bytes([VERSION, kind])
    aad = header + encode_context(label, *fields)
    nonce = os.urandom(NONCE_LEN)
    key = AESGCM(_box_key(data_key).subkey(label.encode()))
    return header + nonce + key.encrypt(nonce, plaintext, aad)


def open_box(
    data_key: DataKey | IdentityKey | bytes,
    kind: Kind,
    label: str,
    fields: tuple[str, ...],
    box: bytes,
) -> bytes:
    """Open a box made by `seal_box`; DecryptError on any mismatch."""
    if len(box) < 2 + NONCE_LEN + TAG_LEN or box[0] != VERSION or box[1] != kind:
        raise DecryptError()
    aad = box[:2] + encode_context(label, *fields)
    key = AESGCM(_box_key(data_key).subkey(label.encode()))
    try:
        return key.decrypt(box[2 : 2 + NONCE_LEN], box[2 + NONCE_LEN :], aad)
    except InvalidTag:
        raise DecryptError() from None
