"""Exceptions of the crypto library. None of them ever carries secret material."""

from __future__ import annotations

from typing import ClassVar


class CryptoError(Exception):
    """Base class of every error raised by `crypto`."""


class DecryptError(CryptoError):
    """Something cannot be opened. Deliberately says nothing about which check failed."""

    def __init__(self) -> None:
        super().__init__("cannot decrypt")


class FormatError(CryptoError, ValueError):
    """Input that does not follow the format (bad field, bad encoding, bad parameters)."""


class UnsupportedError(CryptoError):
    """A suite, profile or version this library does not handle."""


class SignatureError(CryptoError):
    """A signature (directory or proof) does not verify, or the signed document lies."""

    def __init__(self, message: str = "signature not valid") -> None:
        super().__init__(message)


class WeakParametersError(FormatError):
    """Key derivation parameters below the library's floor."""


class ReceiptError(FormatError):
    """A typed receipt that cannot be right; `reason` is `length`, `character` or `check`."""

    MESSAGES: ClassVar[dict[str, str]] = {
        "length": "Nomor tanda terima harus 20 karakter / The receipt must be 20 characters",
        "character": (
            "Nomor tanda terima berisi karakter yang tidak dikenal / "
            "The receipt has an unknown character"
        ),
        "check": "Nomor tanda terima salah ketik / The receipt has a typing mistake",
    }

    def __init__(self, reason: str) -> None:
        self.reason = reason if reason in self.MESSAGES else "check"
        super().__init__(self.MESSAGES[self.reason])
