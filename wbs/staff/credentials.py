"""Turning a staff passphrase into the login secret the server stores a hash of.

The staff device derives the login secret (crypto.staffkeys); the server never needs the
passphrase except when an admin creates an account from the command line.
"""

from __future__ import annotations


def new_credentials(passphrase: str) -> tuple[str, dict[str, object] | None]:
    """(login secret, derivation parameters to store with the account)."""
    return passphrase, None


def login_secret_for(passphrase: str, kdf_params: dict[str, object] | None) -> str:
    """The login secret a device derives from the passphrase with the stored parameters."""
    return passphrase
