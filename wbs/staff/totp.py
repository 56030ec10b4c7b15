"""TOTP (RFC 6238) with the seed encrypted at rest and replayed codes refused."""

from __future__ import annotations

import time

import pyotp

from crypto.atrest import SecretBox

TOTP_LABEL = "totp"
STEP_SECONDS = 30


def new_secret() -> str:
    return pyotp.random_base32()


def valid_secret(secret: str) -> bool:
    """A base32 seed of at least 160 bits, as `new_secret` makes."""
    alphabet = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    return 32 <= len(secret) <= 64 and set(secret) <= alphabet


def seal_secret(box: SecretBox, staff_email: str, secret: str) -> bytes:
    return box.seal(secret.encode(), f"staff:{staff_email.lower()}")


def open_secret(box: SecretBox, staff_email: str, blob: bytes) -> str:
    return box.open(blob, f"staff:{staff_email.lower()}").decode()


def provisioning_uri(secret: str, email: str, issuer: str = "wbs") -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer)


def matching_step(secret: str, code: str, *, now: float | None = None) -> int | None:
    """The time step a code belongs to (current +-1), or None when it matches none."""
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6) or not valid_secret(secret):
        return None
    totp = pyotp.TOTP(secret)
    moment = time.time() if now is None else now
    current = int(moment // STEP_SECONDS)
    for step in (current, current - 1, current + 1):
        if pyotp.utils.strings_equal(totp.at(step * STEP_SECONDS), code):
            return step
    return None
