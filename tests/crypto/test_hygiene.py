"""A plaintext canary and the secrets never show up in any output: ciphertexts, JSON, reprs,
exception texts, logs."""

from __future__ import annotations

import json
import logging
import pickle
from typing import Any

import pytest

from crypto.attachment import (
    AttachmentEncryptor,
    decrypt_attachment,
    encrypt_attachment,
    open_attachment_metadata,
    seal_attachment_metadata,
)
from crypto.boxes import DataKey
from crypto.envelope import open_message, open_report, seal_message, seal_note, seal_report
from crypto.errors import CryptoError, DecryptError
from crypto.keys import KeyPair, Suite
from crypto.receipt import derive_from_receipt, new_receipt, normalise_receipt
from crypto.staffkeys import (
    WEAK_ENV,
    KdfParams,
    create_staff_key,
    normalise_recovery_key,
    unwrap_private_key,
)
from tests.crypto.helpers import CANARY


def forms(secret: bytes) -> list[bytes]:
    """The ways a secret could leak: raw, hex, base64url."""
    from crypto.encoding import b64u_encode

    return [secret, secret.hex().encode(), b64u_encode(secret).encode()]


def test_canary_and_secrets_never_leak(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv(WEAK_ENV, "1")
    outputs: list[bytes] = []
    texts: list[str] = []

    receipt = new_receipt()
    reporter = derive_from_receipt(receipt)
    officer = KeyPair.generate()
    pq_officer = KeyPair.generate(Suite.MLKEM768X25519_AES256GCM)
    outsider = KeyPair.generate()
    sealed = seal_report(
        unit="DEMO",
        channel="wbs",
        report_id="r-1",
        content={"uraian": CANARY},
        identity={"nama": CANARY},
        recipients=[officer.public, pq_officer.public],
        reporter_key=reporter.reporter_public_key,
    )
    ctx = sealed.envelope.context
    dk = sealed.data_key
    outputs += [sealed.envelope.content, *sealed.envelope.wraps, sealed.envelope.dumps().encode()]
    assert sealed.envelope.identity is not None
    outputs.append(sealed.envelope.identity)
    msg = seal_message(dk, ctx, "reporter", "m-1", CANARY)
    note = seal_note(dk, ctx, officer.public.key_id_hex, "n-1", CANARY)
    meta = seal_attachment_metadata(dk, ctx, "a-1", CANARY + ".pdf", "application/pdf")
    stream = encrypt_attachment(dk, ctx, "a-1", CANARY.encode() * 100, chunk_size=64)
    outputs += [msg, note, meta, stream]

    params = KdfParams.pbkdf2(1000, weak_for_tests=True)
    enrol = create_staff_key(CANARY, kdf=params, weak_for_tests=True)
    outputs += [enrol.wrapped.dumps().encode(), enrol.recovery_wrapped.dumps().encode()]
    opened = open_report(sealed.envelope, officer)
    assert CANARY in repr(opened.content)  # control: the search below would see it

    objects: list[Any] = [
        sealed,
        sealed.envelope,
        dk,
        opened,
        officer,
        pq_officer,
        reporter,
        enrol,
        enrol.wrapped,
        params,
        open_attachment_metadata(dk, ctx, "a-1", meta),
        AttachmentEncryptor(dk, ctx, "a-1"),
    ]
    texts += [repr(o) for o in objects] + [str(o) for o in objects]

    failures = [
        lambda: open_report(sealed.envelope, outsider),
        lambda: open_message(DataKey.generate(), ctx, "reporter", "m-1", msg),
        lambda: open_message(dk, ctx, "officer", "m-1", msg),
        lambda: decrypt_attachment(dk, ctx, "a-1", stream[:-1]),
        lambda: unwrap_private_key(enrol.wrapped, CANARY + "x", weak_for_tests=True),
        lambda: normalise_receipt(receipt[:-1] + ("2" if receipt[-1] != "2" else "3")),
        lambda: normalise_receipt(receipt + "Q"),
        lambda: unwrap_private_key(enrol.wrapped, CANARY),  # below the floor
        lambda: seal_report(
            unit="",
            channel="wbs",
            report_id="r",
            content={"x": CANARY},
            recipients=[officer.public],
            reporter_key=officer.public,
        ),
        lambda: seal_message(dk, ctx, "admin", "m", CANARY),
    ]
    for attempt in failures:
        with pytest.raises(CryptoError) as info:
            attempt()
        texts += [str(info.value), repr(info.value), str(info.value.args)]
        if isinstance(info.value, DecryptError):
            assert str(info.value) == "cannot decrypt"
        assert info.value.__context__ is None or info.value.__suppress_context__

    secrets_ = [
        CANARY.encode(),
        dk.secret,
        officer.private_bytes(),
        pq_officer.private_bytes(),
        reporter.key_pair.private_bytes(),
        reporter.lookup,
        enrol.key_pair.private_bytes(),
        enrol.login_secret.encode(),
        normalise_receipt(receipt).encode(),
        normalise_recovery_key(enrol.recovery_key).encode(),
    ]
    haystack = b"\n".join(outputs) + "\n".join(texts).encode() + caplog.text.encode()
    for secret in secrets_:
        for form in forms(secret):
            assert form not in haystack
    # the lookup id is meant to be sent, but only the lookup id: never the receipt
    assert receipt not in json.dumps(texts)


@pytest.mark.parametrize(
    "make",
    [
        lambda: DataKey.generate(),
        lambda: KeyPair.generate(),
    ],
)
def test_secret_objects_refuse_pickling(make: Any) -> None:
    with pytest.raises(TypeError):
        pickle.dumps(make())


def test_data_keys_compare_in_constant_time_and_are_not_hashable() -> None:
    key = DataKey.generate()
    assert key == DataKey(key.secret) and key != DataKey.generate()
    with pytest.raises(TypeError):
        hash(key)
