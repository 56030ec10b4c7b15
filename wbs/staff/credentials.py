"""Turning a staff passphrase into the login secret the server stores a hash of.

A staff device derives the login secret from the passphrase with the account's stored
parameters (``crypto.staffkeys``) and sends only that; the wrap key for the officer's
private key comes from the same derivation under another label and never leaves the
device. The server needs the passphrase only when an admin creates an account at the
command line, where it computes the same login secret once and forgets the passphrase.
"""

from __future__ import annotations

import os
from typing import Any

from crypto import staffkeys
from wbs.staff.passwords import check_length

# Test suites create hundreds of accounts; they may ask for cheap parameters, which the
# crypto library accepts only while WBS_CRYPTO_ALLOW_WEAK_KDF=1 (refused in production).
TEST_ITERATIONS = 1_000


def weak_kdf_allowed() -> bool:
    return os.environ.get(staffkeys.WEAK_ENV) == "1"


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
