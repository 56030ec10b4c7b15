"""Signed key directory documents (docs/crypto-format.md) as the service reads them.

Thin adapters over `crypto.directory`; nothing cryptographic is implemented here.
"""

from __future__ import annotations

from dataclasses import dataclass

from crypto import directory as lib_directory
from crypto.errors import CryptoError


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
    custodians: list[Recipient]


def _recipients(entries: tuple[lib_directory.DirectoryEntry, ...]) -> list[Recipient]:
    return [
        Recipient(
            key_id=e.key_id, public_key=e.public_key.text, name=e.name, fingerprint=e.fingerprint
        )
        for e in entries
    ]


def _document(parsed: lib_directory.Directory) -> DirectoryDocument:
    return DirectoryDocument(
        unit=parsed.unit,
        version=parsed.version,
        channels={name: _recipients(entries) for name, entries in parsed.channels.items()},
        custodians=_recipients(parsed.custodians),
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
