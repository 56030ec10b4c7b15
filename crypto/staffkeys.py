"""Staff keys: passphrase derivations, wrapped private keys, recovery keys (format v1).

On the staff member's device: ``master = KDF(passphrase)`` (profile ``pbkdf2-sha256``,
which browsers can compute, or ``argon2id``, Python only), then with distinct HKDF labels
``login_secret`` (sent instead of the passphrase; the server hashes it again) and
``wrap_key`` (wraps the private key; never leaves the device). The library refuses
parameters below its floor; ``weak_for_tests=True`` lifts the floor only when the environment
variable ``WBS_CRYPTO_ALLOW_WEAK_KDF=1`` is set (test suites, never production).
"""

from __future__ import annotations

import hmac
import json
import os
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from crypto.boxes import NONCE_LEN, TAG_LEN, VERSION, hkdf_sha256
from crypto.encoding import b64u_decode, b64u_encode
from crypto.errors import DecryptError, FormatError, UnsupportedError, WeakParametersError
from crypto.keys import DEFAULT_SUITE, KeyPair, PublicKey, Suite, parse_suite
from crypto.receipt import group_symbols, new_symbols, normalise_symbols

PBKDF2 = "pbkdf2-sha256"
ARGON2ID = "argon2id"
RECOVERY = "recovery"
PBKDF2_MIN_ITERATIONS = 600_000
PBKDF2_MAX_ITERATIONS = 20_000_000
ARGON2_MIN_MEMORY_KIB = 65_536
ARGON2_MIN_TIME = 3
ARGON2_MIN_PARALLELISM = 1
ARGON2_MAX_MEMORY_KIB = 4 * 1024 * 1024
ARGON2_MAX_TIME = 50
ARGON2_MAX_PARALLELISM = 16
SALT_LEN = 16
LOGIN_LABEL = b"wbs/v1/login"
WRAP_LABEL = b"wbs/v1/private-key-wrap"
PRIVATE_KEY_AAD_LABEL = b"wbs/v1/private-key"
RECOVERY_SALT = b"wbs/v1/recovery"
RECOVERY_LENGTH = 28  # 27 random symbols (133.8 bits) and a check symbol
WEAK_ENV = "WBS_CRYPTO_ALLOW_WEAK_KDF"
MIN_PASSPHRASE_CHARS = 12
MAX_PASSPHRASE_CHARS = 256  # limit before hashing: no multi-megabyte "passwords"


def weak_kdf_allowed() -> bool:
    """Whether this process is a test suite that may use cheap parameters (WEAK_ENV=1)."""
    return os.environ.get(WEAK_ENV) == "1"


def _allow_weak(weak_for_tests: bool) -> bool:
    if not weak_for_tests:
        return False
    if not weak_kdf_allowed():
        raise WeakParametersError(
            f"weak_for_tests needs {WEAK_ENV}=1 (test suites only, never in production)"
        )
    return True


@dataclass(frozen=True)
class KdfParams:
    """Passphrase derivation parameters, stored next to the wrapped key (not secret)."""

    name: str
    salt: bytes = field(repr=False)
    iterations: int = 0  # PBKDF2 iterations, or Argon2id time cost
    memory_kib: int = 0  # Argon2id only
    parallelism: int = 0  # Argon2id only

    @classmethod
    def pbkdf2(
        cls, iterations: int = PBKDF2_MIN_ITERATIONS, *, weak_for_tests: bool = False
    ) -> KdfParams:
        params = cls(PBKDF2, os.urandom(SALT_LEN), iterations)
        params.check(weak_for_tests=weak_for_tests)
        return params

    @classmethod
    def argon2id(
        cls,
        memory_kib: int = ARGON2_MIN_MEMORY_KIB,
        iterations: int = ARGON2_MIN_TIME,
        parallelism: int = ARGON2_MIN_PARALLELISM,
        *,
        weak_for_tests: bool = False,
    ) -> KdfParams:
        params = cls(ARGON2ID, os.urandom(SALT_LEN), iterations, memory_kib, parallelism)
        params.check(weak_for_tests=weak_for_tests)
        return params

    def check(self, *, weak_for_tests: bool = False) -> None:
        """WeakParametersError below the floor (unless the test escape is on), FormatError
        for nonsense, UnsupportedError for an unknown profile."""
        weak = _allow_weak(weak_for_tests)
        if not isinstance(self.salt, bytes) or not 16 <= len(self.salt) <= 64:
            raise FormatError("salt must be 16 to 64 bytes")
        if self.name == PBKDF2:
            if not isinstance(self.iterations, int) or not self.iterations >= 1:
                raise FormatError("bad PBKDF2 iterations")
            if self.iterations > PBKDF2_MAX_ITERATIONS:
                raise FormatError("PBKDF2 iterations above the ceiling")
            if self.iterations < PBKDF2_MIN_ITERATIONS and not weak:
                raise WeakParametersError(
                    f"PBKDF2 iterations below the floor of {PBKDF2_MIN_ITERATIONS}"
                )
        elif self.name == ARGON2ID:
            values = (self.memory_kib, self.iterations, self.parallelism)
            if not all(isinstance(v, int) and v >= 1 for v in values):
                raise FormatError("bad Argon2id parameters")
            if (
                self.memory_kib > ARGON2_MAX_MEMORY_KIB
                or self.iterations > ARGON2_MAX_TIME
                or self.parallelism > ARGON2_MAX_PARALLELISM
                or self.memory_kib < 8 * self.parallelism
            ):
                raise FormatError("Argon2id parameters out of range")
            below = (
                self.memory_kib < ARGON2_MIN_MEMORY_KIB
                or self.iterations < ARGON2_MIN_TIME
                or self.parallelism < ARGON2_MIN_PARALLELISM
            )
            if below and not weak:
                raise WeakParametersError(
                    f"Argon2id parameters below the floor of m={ARGON2_MIN_MEMORY_KIB} KiB, "
                    f"t={ARGON2_MIN_TIME}, p={ARGON2_MIN_PARALLELISM}"
                )
        else:
            raise UnsupportedError("unknown key derivation profile")

    def to_json(self) -> dict[str, Any]:
        if self.name == PBKDF2:
            return {"name": PBKDF2, "iterations": self.iterations, "salt": b64u_encode(self.salt)}
        return {
            "name": ARGON2ID,
            "memory_kib": self.memory_kib,
            "iterations": self.iterations,
            "parallelism": self.parallelism,
            "salt": b64u_encode(self.salt),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, weak_for_tests: bool = False) -> KdfParams:
        if not isinstance(data, Mapping):
            raise FormatError("missing key derivation parameters")
        name = data.get("name")
        salt = data.get("salt")
        if not isinstance(salt, str):
            raise FormatError("bad salt")

        def integer(key: str) -> int:
            value = data.get(key)
            if not isinstance(value, int) or isinstance(value, bool):
                raise FormatError(f"bad {key}")
            return value

        if name == PBKDF2:
            params = cls(PBKDF2, b64u_decode(salt), integer("iterations"))
        elif name == ARGON2ID:
            params = cls(
                ARGON2ID,
                b64u_decode(salt),
                integer("iterations"),
                integer("memory_kib"),
                integer("parallelism"),
            )
        else:
            raise UnsupportedError("unknown key derivation profile")
        params.check(weak_for_tests=weak_for_tests)
        return params


def passphrase_bytes(passphrase: str) -> bytes:
    """NFKC-normalised UTF-8 bytes of a passphrase."""
    if not isinstance(passphrase, str) or not passphrase:
        raise FormatError("passphrase required")
    return unicodedata.normalize("NFKC", passphrase).encode("utf-8")


class StaffSecrets:
    """The login secret (hex, sent) and the wrap key (kept). Masked repr."""

    __slots__ = ("_wrap_key", "login_secret")

    def __init__(self, login_secret: str, wrap_key: bytes) -> None:
        self.login_secret = login_secret
        self._wrap_key = wrap_key

    def __repr__(self) -> str:
        return "StaffSecrets(login_secret=***, wrap_key=***)"

    __str__ = __repr__


def _as_params(kdf: KdfParams | Mapping[str, Any], weak_for_tests: bool) -> KdfParams:
    if isinstance(kdf, KdfParams):
        kdf.check(weak_for_tests=weak_for_tests)
        return kdf
    return KdfParams.from_json(kdf, weak_for_tests=weak_for_tests)


def _master(passphrase: str, params: KdfParams) -> bytes:
    secret = passphrase_bytes(passphrase)
    if params.name == PBKDF2:
        kdf = PBKDF2HMAC(
            algorithm=hashes.SHA256(), length=32, salt=params.salt, iterations=params.iterations
        )
        return kdf.derive(secret)
    return hash_secret_raw(
        secret,
        params.salt,
        time_cost=params.iterations,
        memory_cost=params.memory_kib,
        parallelism=params.parallelism,
        hash_len=32,
        type=Type.ID,
    )


def derive_staff_secrets(
    passphrase: str, kdf: KdfParams | Mapping[str, Any], *, weak_for_tests: bool = False
) -> StaffSecrets:
    """Login secret and wrap key from a passphrase (parameters checked against the floor)."""
    master = _master(passphrase, _as_params(kdf, weak_for_tests))
    return StaffSecrets(hkdf_sha256(master, LOGIN_LABEL).hex(), hkdf_sha256(master, WRAP_LABEL))


def login_secret(
    passphrase: str, kdf: KdfParams | Mapping[str, Any], *, weak_for_tests: bool = False
) -> str:
    """What the device sends in place of the passphrase (64 hex characters)."""
    return derive_staff_secrets(passphrase, kdf, weak_for_tests=weak_for_tests).login_secret


# ---------------------------------------------------------------- wrapped private keys


def _aad(public: PublicKey) -> bytes:
    return PRIVATE_KEY_AAD_LABEL + public.wire


def _seal_private(wrap_key: bytes, key_pair: KeyPair) -> bytes:
    nonce = os.urandom(NONCE_LEN)
    return nonce + AESGCM(wrap_key).encrypt(nonce, key_pair.private_bytes(), _aad(key_pair.public))


def _open_private(wrap_key: bytes, public: PublicKey, box: bytes) -> KeyPair:
    if len(box) < NONCE_LEN + TAG_LEN:
        raise DecryptError()
    try:
        seed = AESGCM(wrap_key).decrypt(box[:NONCE_LEN], box[NONCE_LEN:], _aad(public))
    except InvalidTag:
        raise DecryptError() from None
    if len(seed) != 32:
        raise DecryptError()
    pair = KeyPair(public.suite, seed)
    if not hmac.compare_digest(pair.public.wire, public.wire):
        raise DecryptError()
    return pair


@dataclass(frozen=True)
class WrappedPrivateKey:
    """``{"v":1,"suite":1,"kdf":{...},"public":"b64u","wrapped":"b64u(nonce||ct)"}``.

    ``kdf`` is None for a recovery wrap (``{"name": "recovery"}`` on the wire).
    """

    suite: Suite
    kdf: KdfParams | None
    public: PublicKey
    wrapped: bytes = field(repr=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "v": VERSION,
            "suite": int(self.suite),
            "kdf": {"name": RECOVERY} if self.kdf is None else self.kdf.to_json(),
            "public": self.public.text,
            "wrapped": b64u_encode(self.wrapped),
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), separators=(",", ":"))

    @classmethod
    def from_json(
        cls, data: Mapping[str, Any] | str | bytes, *, weak_for_tests: bool = False
    ) -> WrappedPrivateKey:
        if isinstance(data, str | bytes):
            try:
                data = json.loads(data)
            except ValueError:
                raise FormatError("wrapped key is not JSON") from None
        if not isinstance(data, Mapping) or data.get("v") != VERSION:
            raise FormatError("not a v1 wrapped private key")
        suite_id = data.get("suite")
        if not isinstance(suite_id, int) or isinstance(suite_id, bool):
            raise FormatError("bad suite")
        suite = parse_suite(suite_id)
        public = PublicKey.from_text(str(data.get("public", "")))
        if public.suite is not suite:
            raise FormatError("suite mismatch")
        kdf_data = data.get("kdf")
        if isinstance(kdf_data, Mapping) and kdf_data.get("name") == RECOVERY:
            kdf = None
        else:
            kdf = KdfParams.from_json(kdf_data or {}, weak_for_tests=weak_for_tests)
        wrapped = data.get("wrapped")
        if not isinstance(wrapped, str):
            raise FormatError("bad wrapped key")
        return cls(suite, kdf, public, b64u_decode(wrapped))


def _as_wrapped(
    wrapped: WrappedPrivateKey | Mapping[str, Any] | str, weak_for_tests: bool
) -> WrappedPrivateKey:
    if isinstance(wrapped, WrappedPrivateKey):
        if wrapped.kdf is not None:
            wrapped.kdf.check(weak_for_tests=weak_for_tests)
        return wrapped
    return WrappedPrivateKey.from_json(wrapped, weak_for_tests=weak_for_tests)


def wrap_private_key(
    key_pair: KeyPair,
    passphrase: str,
    kdf: KdfParams | Mapping[str, Any] | None = None,
    *,
    weak_for_tests: bool = False,
) -> WrappedPrivateKey:
    """Wrap a private key under a passphrase (fresh PBKDF2 parameters unless given)."""
    params = KdfParams.pbkdf2() if kdf is None else _as_params(kdf, weak_for_tests)
    secrets_ = derive_staff_secrets(passphrase, params, weak_for_tests=weak_for_tests)
    box = _seal_private(secrets_._wrap_key, key_pair)
    return WrappedPrivateKey(key_pair.suite, params, key_pair.public, box)


def unwrap_private_key(
    wrapped: WrappedPrivateKey | Mapping[str, Any] | str,
    passphrase: str,
    *,
    weak_for_tests: bool = False,
) -> KeyPair:
    """The key pair, or DecryptError (wrong passphrase or altered JSON)."""
    w = _as_wrapped(wrapped, weak_for_tests)
    if w.kdf is None:
        raise DecryptError()
    secrets_ = derive_staff_secrets(passphrase, w.kdf, weak_for_tests=weak_for_tests)
    return _open_private(secrets_._wrap_key, w.public, w.wrapped)


def rewrap_private_key(
    wrapped: WrappedPrivateKey | Mapping[str, Any] | str,
    old_passphrase: str,
    new_passphrase: str,
    kdf: KdfParams | Mapping[str, Any] | None = None,
    *,
    weak_for_tests: bool = False,
) -> WrappedPrivateKey:
    """Passphrase change: same key pair, new wrap with fresh salt; reports are untouched."""
    pair = unwrap_private_key(wrapped, old_passphrase, weak_for_tests=weak_for_tests)
    return wrap_private_key(pair, new_passphrase, kdf, weak_for_tests=weak_for_tests)


# ---------------------------------------------------------------- recovery keys


def new_recovery_key() -> str:
    """A printable one-time recovery key: 28 symbols of the receipt alphabet (133 bits)."""
    return group_symbols(new_symbols(RECOVERY_LENGTH))


def normalise_recovery_key(text: str) -> str:
    """Canonical recovery key; ReceiptError (length, character, check) if mistyped."""
    return normalise_symbols(text, RECOVERY_LENGTH)


def _recovery_wrap_key(recovery_key: str) -> bytes:
    canonical = normalise_recovery_key(recovery_key).encode("ascii")
    return hkdf_sha256(canonical, WRAP_LABEL, salt=RECOVERY_SALT)


def wrap_with_recovery_key(key_pair: KeyPair, recovery_key: str) -> WrappedPrivateKey:
    """Wrap the private key under a recovery key (no slow KDF: the key has 133 bits)."""
    box = _seal_private(_recovery_wrap_key(recovery_key), key_pair)
    return WrappedPrivateKey(key_pair.suite, None, key_pair.public, box)


def unwrap_with_recovery_key(
    wrapped: WrappedPrivateKey | Mapping[str, Any] | str, recovery_key: str
) -> KeyPair:
    if isinstance(wrapped, WrappedPrivateKey):
        is_recovery = wrapped.kdf is None
    else:
        try:
            data = json.loads(wrapped) if isinstance(wrapped, str) else wrapped
        except ValueError:
            raise FormatError("wrapped key is not JSON") from None
        kdf = data.get("kdf") if isinstance(data, Mapping) else None
        is_recovery = isinstance(kdf, Mapping) and kdf.get("name") == RECOVERY
        wrapped = data
    if not is_recovery:
        raise DecryptError()
    w = _as_wrapped(wrapped, False)
    return _open_private(_recovery_wrap_key(recovery_key), w.public, w.wrapped)


@dataclass(frozen=True)
class StaffKeyEnrolment:
    """What the device makes at enrolment. Send `public`, `wrapped`, `login_secret`;
    show `recovery_key` once for printing and keep `recovery_wrapped` with the account."""

    key_pair: KeyPair = field(repr=False)
    wrapped: WrappedPrivateKey
    recovery_wrapped: WrappedPrivateKey
    login_secret: str = field(repr=False)
    recovery_key: str = field(repr=False)

    @property
    def public(self) -> str:
        return self.key_pair.public.text


def create_staff_key(
    passphrase: str,
    *,
    suite: Suite = DEFAULT_SUITE,
    kdf: KdfParams | Mapping[str, Any] | None = None,
    weak_for_tests: bool = False,
) -> StaffKeyEnrolment:
    """A new key pair wrapped under the passphrase and under a fresh recovery key."""
    params = KdfParams.pbkdf2() if kdf is None else _as_params(kdf, weak_for_tests)
    pair = KeyPair.generate(suite)
    secrets_ = derive_staff_secrets(passphrase, params, weak_for_tests=weak_for_tests)
    wrapped = WrappedPrivateKey(
        pair.suite, params, pair.public, _seal_private(secrets_._wrap_key, pair)
    )
    recovery = new_recovery_key()
    return StaffKeyEnrolment(
        key_pair=pair,
        wrapped=wrapped,
        recovery_wrapped=wrap_with_recovery_key(pair, recovery),
        login_secret=secrets_.login_secret,
        recovery_key=recovery,
    )


def new_credentials(
    passphrase: str,
    kdf: KdfParams | Mapping[str, Any] | None = None,
    *,
    weak_for_tests: bool = False,
) -> tuple[str, dict[str, Any]]:
    """(login secret, parameters JSON) for an account created where the passphrase is typed
    (e.g. an admin at the server's command line); fresh PBKDF2 parameters unless given."""
    params = KdfParams.pbkdf2() if kdf is None else _as_params(kdf, weak_for_tests)
    return login_secret(passphrase, params, weak_for_tests=weak_for_tests), params.to_json()
