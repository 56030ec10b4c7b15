"""Staff keys: derivations checked against an independent computation, floors and the
test-only escape, wrapping, passphrase change, recovery keys, tampering."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from argon2.low_level import Type, hash_secret_raw
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.encoding import b64u_decode, b64u_encode
from crypto.errors import (
    DecryptError,
    FormatError,
    ReceiptError,
    UnsupportedError,
    WeakParametersError,
)
from crypto.keys import KeyPair, Suite
from crypto.staffkeys import (
    WEAK_ENV,
    KdfParams,
    WrappedPrivateKey,
    create_staff_key,
    derive_staff_secrets,
    login_secret,
    new_recovery_key,
    normalise_recovery_key,
    rewrap_private_key,
    unwrap_private_key,
    unwrap_with_recovery_key,
    wrap_private_key,
    wrap_with_recovery_key,
)
from tests.crypto.helpers import every_byte_flipped

PASS = "kata sandi panjang Ünïcode ﬁ"


@pytest.fixture
def weak(monkeypatch: pytest.MonkeyPatch) -> KdfParams:
    monkeypatch.setenv(WEAK_ENV, "1")
    return KdfParams.pbkdf2(1000, weak_for_tests=True)


def hkdf_empty_salt(ikm: bytes, info: bytes) -> bytes:
    prk = hmac.new(bytes(32), ikm, hashlib.sha256).digest()
    return hmac.new(prk, info + b"\x01", hashlib.sha256).digest()


def test_pbkdf2_derivation_matches_an_independent_computation() -> None:
    params = KdfParams.from_json(
        {"name": "pbkdf2-sha256", "iterations": 600_000, "salt": b64u_encode(b"s" * 16)}
    )
    master = hashlib.pbkdf2_hmac(
        "sha256", "kata sandi panjang Ünïcode fi".encode(), b"s" * 16, 600_000
    )
    secrets_ = derive_staff_secrets(PASS, params)  # NFKC: "ﬁ" becomes "fi"
    assert secrets_.login_secret == hkdf_empty_salt(master, b"wbs/v1/login").hex()
    assert secrets_._wrap_key == hkdf_empty_salt(master, b"wbs/v1/private-key-wrap")
    assert secrets_.login_secret != secrets_._wrap_key.hex()
    assert repr(secrets_) == "StaffSecrets(login_secret=***, wrap_key=***)"


def test_argon2id_derivation_matches_an_independent_computation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(WEAK_ENV, "1")
    params = KdfParams.from_json(
        {
            "name": "argon2id",
            "memory_kib": 1024,
            "iterations": 1,
            "parallelism": 1,
            "salt": b64u_encode(b"t" * 16),
        },
        weak_for_tests=True,
    )
    master = hash_secret_raw(
        PASS.replace("ﬁ", "fi").encode(),
        b"t" * 16,
        time_cost=1,
        memory_cost=1024,
        parallelism=1,
        hash_len=32,
        type=Type.ID,
    )
    got = login_secret(PASS, params, weak_for_tests=True)
    assert got == hkdf_empty_salt(master, b"wbs/v1/login").hex()


def test_floors_are_enforced() -> None:
    with pytest.raises(WeakParametersError):
        KdfParams.pbkdf2(599_999)
    with pytest.raises(WeakParametersError):
        KdfParams.argon2id(65_535)
    with pytest.raises(WeakParametersError):
        KdfParams.argon2id(iterations=2)
    salt = b64u_encode(bytes(16))
    for data in (
        {"name": "pbkdf2-sha256", "iterations": 1000, "salt": salt},
        {"name": "argon2id", "memory_kib": 8192, "iterations": 3, "parallelism": 1, "salt": salt},
    ):
        with pytest.raises(WeakParametersError):
            KdfParams.from_json(data)
        with pytest.raises(WeakParametersError):  # a server cannot make the device derive cheaply
            login_secret("x", data)
    assert KdfParams.pbkdf2().iterations == 600_000
    default = KdfParams.argon2id()
    assert (default.memory_kib, default.iterations, default.parallelism) == (65_536, 3, 1)


def test_weak_escape_needs_the_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(WEAK_ENV, raising=False)
    with pytest.raises(WeakParametersError, match=WEAK_ENV):
        KdfParams.pbkdf2(1000, weak_for_tests=True)
    monkeypatch.setenv(WEAK_ENV, "yes")
    with pytest.raises(WeakParametersError):
        KdfParams.pbkdf2(1000, weak_for_tests=True)
    monkeypatch.setenv(WEAK_ENV, "1")
    params = KdfParams.pbkdf2(1000, weak_for_tests=True)
    with pytest.raises(WeakParametersError):  # the escape is per call, not sticky
        login_secret("x", params)


@pytest.mark.parametrize(
    "data",
    [
        {"name": "scrypt", "salt": "AAAAAAAAAAAAAAAAAAAAAA"},
        None,
    ],
)
def test_unknown_profiles(data: object) -> None:
    with pytest.raises((UnsupportedError, FormatError)):
        KdfParams.from_json(data)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "data",
    [
        {"name": "pbkdf2-sha256", "iterations": 600_000, "salt": b64u_encode(bytes(8))},
        {"name": "pbkdf2-sha256", "iterations": 10**9, "salt": b64u_encode(bytes(16))},
        {"name": "pbkdf2-sha256", "iterations": "600000", "salt": b64u_encode(bytes(16))},
        {"name": "pbkdf2-sha256", "iterations": True, "salt": b64u_encode(bytes(16))},
        {
            "name": "argon2id",
            "memory_kib": 2**40,
            "iterations": 3,
            "parallelism": 1,
            "salt": b64u_encode(bytes(16)),
        },
    ],
)
def test_nonsense_parameters_are_refused(data: dict[str, object]) -> None:
    with pytest.raises(FormatError):
        KdfParams.from_json(data)


def test_wrap_unwrap_rewrap_and_wrong_passphrase(weak: KdfParams) -> None:
    pair = KeyPair.generate()
    wrapped = wrap_private_key(pair, PASS, weak, weak_for_tests=True)
    text = wrapped.dumps()
    assert json.loads(text)["kdf"] == weak.to_json()
    assert WrappedPrivateKey.from_json(text, weak_for_tests=True) == wrapped
    opened = unwrap_private_key(text, PASS, weak_for_tests=True)
    assert opened.private_bytes() == pair.private_bytes()
    with pytest.raises(DecryptError, match=r"^cannot decrypt$"):
        unwrap_private_key(text, PASS + "!", weak_for_tests=True)
    with pytest.raises(WeakParametersError):
        unwrap_private_key(text, PASS)  # the floor holds when reading too
    new_params = KdfParams.pbkdf2(2000, weak_for_tests=True)
    changed = rewrap_private_key(text, PASS, "baru", new_params, weak_for_tests=True)
    assert changed.public == wrapped.public and changed.kdf != wrapped.kdf
    assert unwrap_private_key(changed, "baru", weak_for_tests=True).public == pair.public
    with pytest.raises(DecryptError):
        unwrap_private_key(changed, PASS, weak_for_tests=True)


def test_pq_staff_key_wraps_its_seed(weak: KdfParams) -> None:
    pair = KeyPair.generate(Suite.MLKEM768X25519_AES256GCM)
    wrapped = wrap_private_key(pair, PASS, weak, weak_for_tests=True)
    assert wrapped.to_json()["suite"] == 2
    assert unwrap_private_key(wrapped.dumps(), PASS, weak_for_tests=True).public == pair.public


def test_every_byte_of_wrapped_key_flipped_fails(weak: KdfParams) -> None:
    wrapped = wrap_private_key(KeyPair.generate(), PASS, weak, weak_for_tests=True)

    def attempt(bad: bytes) -> object:
        data = wrapped.to_json()
        data["wrapped"] = b64u_encode(bad)
        return unwrap_private_key(data, PASS, weak_for_tests=True)

    every_byte_flipped(wrapped.wrapped, attempt)


def test_swapped_public_key_fails(weak: KdfParams) -> None:
    wrapped = wrap_private_key(KeyPair.generate(), PASS, weak, weak_for_tests=True).to_json()
    wrapped["public"] = KeyPair.generate().public.text
    with pytest.raises(DecryptError):
        unwrap_private_key(wrapped, PASS, weak_for_tests=True)
    wrapped["public"] = KeyPair.generate(Suite.MLKEM768X25519_AES256GCM).public.text
    with pytest.raises(FormatError):
        unwrap_private_key(wrapped, PASS, weak_for_tests=True)


def test_enrolment_and_recovery(weak: KdfParams) -> None:
    enrol = create_staff_key(PASS, kdf=weak, weak_for_tests=True)
    assert enrol.login_secret == login_secret(PASS, weak, weak_for_tests=True)
    assert enrol.public == enrol.wrapped.public.text == enrol.recovery_wrapped.public.text
    for text in (enrol.recovery_key, enrol.recovery_key.lower().replace("-", " ")):
        pair = unwrap_with_recovery_key(enrol.recovery_wrapped.dumps(), text)
        assert pair.private_bytes() == enrol.key_pair.private_bytes()
    assert enrol.recovery_wrapped.to_json()["kdf"] == {"name": "recovery"}
    with pytest.raises(DecryptError):
        unwrap_with_recovery_key(enrol.recovery_wrapped, new_recovery_key())
    with pytest.raises(DecryptError):  # a passphrase wrap is not a recovery wrap
        unwrap_with_recovery_key(enrol.wrapped, enrol.recovery_key)
    with pytest.raises(DecryptError):
        unwrap_private_key(enrol.recovery_wrapped, PASS, weak_for_tests=True)
    # after recovery, a new passphrase: the same key pair, so reports stay readable
    recovered = unwrap_with_recovery_key(enrol.recovery_wrapped, enrol.recovery_key)
    rewrapped = wrap_private_key(recovered, "passphrase baru", weak, weak_for_tests=True)
    assert unwrap_private_key(rewrapped, "passphrase baru", weak_for_tests=True).public == (
        enrol.key_pair.public
    )
    assert enrol.recovery_key not in repr(enrol) and enrol.login_secret not in repr(enrol)


def test_recovery_key_format_and_check() -> None:
    key = new_recovery_key()
    canonical = normalise_recovery_key(key)
    assert len(canonical) == 28 and len(key.split("-")) == 7
    wrong = ("3" if canonical[5] != "3" else "4").join([canonical[:5], canonical[6:]])
    with pytest.raises(ReceiptError):
        normalise_recovery_key(wrong)
    pair = KeyPair.generate()
    with pytest.raises(ReceiptError):
        wrap_with_recovery_key(pair, "not a key")


@settings(max_examples=20, deadline=None)
@given(
    iterations=st.integers(600_000, 20_000_000),
    salt=st.binary(min_size=16, max_size=64),
    memory=st.integers(65_536, 4 * 1024 * 1024),
    time_cost=st.integers(3, 50),
    lanes=st.integers(1, 16),
)
def test_kdf_params_json_round_trip(
    iterations: int, salt: bytes, memory: int, time_cost: int, lanes: int
) -> None:
    for params in (
        KdfParams("pbkdf2-sha256", salt, iterations),
        KdfParams("argon2id", salt, time_cost, memory, lanes),
    ):
        assert KdfParams.from_json(json.loads(json.dumps(params.to_json()))) == params
        assert b64u_decode(params.to_json()["salt"]) == salt


def test_new_credentials_for_server_side_accounts(weak: KdfParams) -> None:
    from crypto.staffkeys import new_credentials

    secret, params = new_credentials(PASS, weak, weak_for_tests=True)
    assert params == weak.to_json()
    assert secret == login_secret(PASS, params, weak_for_tests=True)
    assert len(secret) == 64 and PASS not in secret
    with pytest.raises(FormatError):
        unwrap_with_recovery_key("{not json", new_recovery_key())
