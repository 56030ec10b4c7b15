"""Turning a staff passphrase into the login secret the server stores a hash of.

A staff device derives the login secret from the passphrase with the account's stored
parameters (``crypto.staffkeys``) and sends only that; the wrap key for the officer's
private key comes from the same derivation under another label and never leaves the
device. The server needs the passphrase only when an admin creates an account at the
command line, where it computes the same login secret once and forgets the passphrase.
"""

from __future__ import annotations

import hmac
from typing import Any

from crypto import staffkeys
from crypto.errors import CryptoError, WeakParametersError
from crypto.keys import PublicKey
from crypto.staffkeys import weak_kdf_allowed
from wbs.core.errors import ValidationFailed
from wbs.core.text import Text
from wbs.staff.passwords import check_length

# Test suites create hundreds of accounts; they may ask for cheap parameters, which the
# crypto library accepts only while WBS_CRYPTO_ALLOW_WEAK_KDF=1 (refused in production).
TEST_ITERATIONS = 1_000


def new_credentials(passphrase: str, *, for_tests: bool = False) -> tuple[str, dict[str, Any]]:
    """(login secret, derivation parameters to store with the account).

    The passphrase policy (length limits) applies here, where the passphrase is typed.
    """
    check_length(passphrase)
    if for_tests:
        params = staffkeys.KdfParams.pbkdf2(TEST_ITERATIONS, weak_for_tests=True)
        return staffkeys.new_credentials(passphrase, params, weak_for_tests=True)
    return staffkeys.new_credentials(passphrase)


def login_secret_for(passphrase: str, kdf_params: dict[str, Any] | None) -> str:
    """The login secret a device derives from the passphrase with the stored parameters.

    Accounts without parameters (none are created any more) log in with the passphrase.
    """
    if kdf_params is None:
        return passphrase
    return staffkeys.login_secret(passphrase, kdf_params, weak_for_tests=weak_kdf_allowed())


# ---------------------------------------------------------------- checks on device output


def checked_kdf(data: object) -> dict[str, Any]:
    """Derivation parameters a device chose, normalised; refused below the library's floor.

    The floor is lifted only under WBS_CRYPTO_ALLOW_WEAK_KDF=1 (test suites).
    """
    if not isinstance(data, dict):
        raise _bad_kdf()
    try:
        params = staffkeys.KdfParams.from_json(data, weak_for_tests=weak_kdf_allowed())
    except WeakParametersError:
        raise ValidationFailed(
            "Parameter turunan kata sandi terlalu lemah.",
            "The passphrase derivation parameters are too weak.",
        ) from None
    except (CryptoError, ValueError, TypeError):
        raise _bad_kdf() from None
    return params.to_json()


def _bad_kdf() -> ValidationFailed:
    return ValidationFailed(
        "Parameter turunan kata sandi tidak valid.",
        "The passphrase derivation parameters are not valid.",
    )


def checked_wrap(text: str, public_key: str, *, recovery: bool) -> staffkeys.WrappedPrivateKey:
    """A wrapped private key (JSON text) for `public_key`: under a passphrase, or under the
    recovery key when `recovery`. Nothing here can open it; only its shape is checked."""
    what = Text("pemulihan", "recovery") if recovery else Text("kata sandi", "passphrase")
    try:
        wrapped = staffkeys.WrappedPrivateKey.from_json(text, weak_for_tests=weak_kdf_allowed())
        public = PublicKey.from_text(public_key)
    except WeakParametersError:
        raise ValidationFailed(
            "Parameter turunan kata sandi terlalu lemah.",
            "The passphrase derivation parameters are too weak.",
        ) from None
    except (CryptoError, ValueError, TypeError):
        raise ValidationFailed(
            f"Kunci privat terbungkus ({what.id}) tidak valid.",
            f"The wrapped private key ({what.en}) is not valid.",
        ) from None
    if (wrapped.kdf is None) is not recovery:
        raise ValidationFailed(
            f"Kunci privat terbungkus ({what.id}) memakai jenis pembungkus yang salah.",
            f"The wrapped private key ({what.en}) uses the wrong kind of wrap.",
        )
    if not hmac.compare_digest(wrapped.public.wire, public.wire):
        raise ValidationFailed(
            f"Kunci privat terbungkus ({what.id}) bukan untuk kunci publik akun ini.",
            f"The wrapped private key ({what.en}) is not for this account's public key.",
        )
    return wrapped
