"""Envelope v2: the identity key (IK), identity wraps to custodians, identity release."""

from __future__ import annotations

import json
import pickle
import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.boxes import DataKey, IdentityKey, Kind, Label, ReportContext, as_data_key, open_box
from crypto.encoding import b64u_decode, b64u_encode
from crypto.envelope import (
    ReportEnvelope,
    add_recipient,
    envelope_data_key,
    envelope_identity_key,
    open_content,
    open_identity,
    open_released_identity,
    open_report,
    open_report_identity,
    release_identity,
    seal_identity,
    seal_report,
    unwrap_data_key,
    wrap_data_key,
)
from crypto.errors import DecryptError, FormatError
from crypto.identity import (
    identity_commitment,
    identity_wrap_header,
    open_identity_v2,
    rewrap_identity_key,
    seal_identity_v2,
    unwrap_identity_key,
    wrap_identity_key,
)
from crypto.keys import KeyPair, Suite
from tests.crypto.helpers import CANARY, every_byte_flipped, fields, new_context

OFFICERS = [KeyPair.generate() for _ in range(3)]
PQ_OFFICER = KeyPair.generate(Suite.MLKEM768X25519_AES256GCM)
REPORTER = KeyPair.generate()
CUSTODIAN = KeyPair.generate()
PQ_CUSTODIAN = KeyPair.generate(Suite.MLKEM768X25519_AES256GCM)
OUTSIDER = KeyPair.generate()
IDENTITY = {"nama": "Budi " + CANARY, "telepon": "0812"}


def sealed_v2(identity: dict[str, str] | None = None, **extra: Any):  # type: ignore[no-untyped-def]
    return seal_report(
        unit="DEMO",
        channel="wbs",
        report_id=str(uuid.uuid4()),
        content={"judul": "Pungutan liar", "uraian": CANARY},
        identity=IDENTITY if identity is None else identity,
        recipients=[OFFICERS[0].public, OFFICERS[1].public, PQ_OFFICER.public.text],
        reporter_key=REPORTER.public,
        identity_recipients=[CUSTODIAN.public, PQ_CUSTODIAN.public.text],
        **extra,
    )


@settings(max_examples=20, deadline=None)
@given(content=fields, identity=fields, unit=st.sampled_from(["DEMO", "KEMENKEU-01"]))
def test_v2_round_trip_through_json(
    content: dict[str, str], identity: dict[str, str], unit: str
) -> None:
    sealed = seal_report(
        unit=unit,
        channel="gratifikasi",
        report_id=str(uuid.uuid4()),
        content=content,
        identity=identity,
        recipients=[OFFICERS[0].public.text],
        reporter_key=REPORTER.public.text,
        identity_recipients=[CUSTODIAN.public.text],
    )
    assert sealed.identity_key is not None
    text = sealed.envelope.dumps()
    data = json.loads(text)
    assert data["v"] == 2 and len(data["identity_wraps"]) == 1
    assert b64u_decode(data["identity_commitment"]) == identity_commitment(sealed.identity_key)
    parsed = ReportEnvelope.from_json(text)
    assert parsed == sealed.envelope
    assert parsed.to_json() == data
    for holder in (OFFICERS[0], REPORTER):
        opened = open_report(text, holder)
        assert opened.content == content
        assert opened.identity is None and opened.identity_key is None
        assert opened.data_key == sealed.data_key
    assert open_report_identity(text, CUSTODIAN) == identity
    assert envelope_identity_key(text, CUSTODIAN) == sealed.identity_key
    wrap = release_identity(text, CUSTODIAN, OFFICERS[0].public)
    assert open_released_identity(text, wrap, OFFICERS[0]) == identity


def test_custodians_of_both_suites_release_to_requester() -> None:
    sealed = sealed_v2()
    env = sealed.envelope
    assert env.identity_wrap_key_ids == [
        CUSTODIAN.public.key_id_hex,
        PQ_CUSTODIAN.public.key_id_hex,
    ]
    assert identity_wrap_header(env.identity_wraps[1])[0] is Suite.MLKEM768X25519_AES256GCM
    for custodian in (CUSTODIAN, PQ_CUSTODIAN):
        assert open_report_identity(env, custodian) == IDENTITY
        for requester in (OFFICERS[1], PQ_OFFICER):
            wrap = release_identity(env, custodian, requester.public)
            assert identity_wrap_header(wrap)[1] == requester.public.key_id_hex
            assert open_released_identity(env.dumps(), wrap, requester) == IDENTITY
            # the release is for the requester only: other officers, the reporter, outsiders
            for other in (OFFICERS[0], OFFICERS[2], REPORTER, OUTSIDER):
                with pytest.raises(DecryptError):
                    open_released_identity(env, wrap, other)
    # a custodian holds no data key: the content stays closed to them
    with pytest.raises(DecryptError):
        open_report(env, CUSTODIAN)


def test_data_key_holders_cannot_open_the_identity() -> None:
    sealed = sealed_v2()
    env, dk = sealed.envelope, sealed.data_key
    assert env.identity is not None
    for holder in (*OFFICERS[:2], PQ_OFFICER, REPORTER):
        opened = open_report(env, holder)
        assert opened.identity is None and opened.content["uraian"] == CANARY
        with pytest.raises(DecryptError):
            envelope_identity_key(env, holder)
        with pytest.raises(DecryptError):
            open_report_identity(env, holder)
        with pytest.raises(DecryptError):
            release_identity(env, holder, OUTSIDER.public)
    # DK in every role: as a v1 identity key, as raw bytes, as an IdentityKey
    ctx = env.context
    with pytest.raises(DecryptError):
        open_identity(dk, ctx, env.identity)
    with pytest.raises(DecryptError):
        open_identity(dk.secret, ctx, env.identity)
    with pytest.raises(DecryptError):
        open_identity(IdentityKey(dk.secret), ctx, env.identity)
    with pytest.raises(DecryptError):
        open_box(dk, Kind.IDENTITY, Label.IDENTITY_V2, ctx.fields, env.identity)
    # escalation by a DK holder gives the new officer no identity either
    late = KeyPair.generate()
    escalated = add_recipient(env, dk, [late.public])
    assert escalated.identity_wraps == env.identity_wraps
    assert open_report(escalated, late).identity is None


def test_custodian_who_is_also_a_recipient_sees_everything() -> None:
    sealed = seal_report(
        unit="DEMO",
        channel="wbs",
        report_id=str(uuid.uuid4()),
        content={"a": "b"},
        identity=IDENTITY,
        recipients=[OFFICERS[0].public, CUSTODIAN.public],
        reporter_key=REPORTER.public,
        identity_recipients=[CUSTODIAN.public],
    )
    opened = open_report(sealed.envelope, CUSTODIAN)
    assert opened.identity == IDENTITY and opened.identity_key == sealed.identity_key
    assert open_report(sealed.envelope, CUSTODIAN, identity=False).identity is None


def test_every_byte_of_an_identity_wrap_flipped_fails() -> None:
    env = sealed_v2().envelope
    ctx = env.context
    x_wrap, pq_wrap = env.identity_wraps
    n = every_byte_flipped(x_wrap, lambda bad: unwrap_identity_key(bad, ctx, CUSTODIAN))
    n += every_byte_flipped(pq_wrap, lambda bad: unwrap_identity_key(bad, ctx, PQ_CUSTODIAN))
    assert n == len(x_wrap) + len(pq_wrap)

    def in_envelope(bad: bytes) -> object:
        data = env.to_json()
        data["identity_wraps"] = [b64u_encode(bad), data["identity_wraps"][1]]
        return open_report_identity(data, CUSTODIAN)

    every_byte_flipped(x_wrap, in_envelope)
    release = release_identity(env, CUSTODIAN, OFFICERS[0].public)
    every_byte_flipped(release, lambda bad: open_released_identity(env, bad, OFFICERS[0]))


def test_every_byte_of_v2_content_and_identity_flipped_fails() -> None:
    env = sealed_v2().envelope
    assert env.identity is not None and env.identity_commitment is not None

    def with_field(name: str, attempt_with: Any):  # type: ignore[no-untyped-def]
        def attempt(bad: bytes) -> object:
            data = env.to_json()
            data[name] = b64u_encode(bad)
            return attempt_with(data)

        return attempt

    every_byte_flipped(env.content, with_field("content", lambda d: open_report(d, OFFICERS[0])))
    every_byte_flipped(
        env.identity, with_field("identity", lambda d: open_report_identity(d, CUSTODIAN))
    )
    commitment = env.identity_commitment
    every_byte_flipped(
        commitment, with_field("identity_commitment", lambda d: open_report(d, OFFICERS[0]))
    )
    every_byte_flipped(
        commitment,
        with_field("identity_commitment", lambda d: open_report_identity(d, CUSTODIAN)),
    )


def test_identity_wrap_is_never_a_data_key_wrap_and_vice_versa() -> None:
    # the same keys on both sides: the custodians are also data-key recipients
    sealed = seal_report(
        unit="DEMO",
        channel="wbs",
        report_id=str(uuid.uuid4()),
        content={"a": "b"},
        identity=IDENTITY,
        recipients=[CUSTODIAN.public, PQ_CUSTODIAN.public],
        reporter_key=REPORTER.public,
        identity_recipients=[CUSTODIAN.public, PQ_CUSTODIAN.public],
    )
    env, ctx = sealed.envelope, sealed.envelope.context
    for holder, dk_wrap, id_wrap in zip(
        (CUSTODIAN, PQ_CUSTODIAN), env.wraps[:2], env.identity_wraps, strict=True
    ):
        assert unwrap_data_key(dk_wrap, ctx, holder) == sealed.data_key
        assert unwrap_identity_key(id_wrap, ctx, holder) == sealed.identity_key
        # as they are
        with pytest.raises(DecryptError):
            unwrap_data_key(id_wrap, ctx, holder)
        with pytest.raises(DecryptError):
            unwrap_identity_key(dk_wrap, ctx, holder)
        # with the kind byte rewritten to the other kind: HPKE info differs (kind and label)
        as_dk = bytes([id_wrap[0], Kind.WRAP]) + id_wrap[2:]
        as_ik = bytes([dk_wrap[0], Kind.IDENTITY_WRAP]) + dk_wrap[2:]
        with pytest.raises(DecryptError):
            unwrap_data_key(as_dk, ctx, holder)
        with pytest.raises(DecryptError):
            unwrap_identity_key(as_ik, ctx, holder)
    # in the envelope: a wrap in the other list is malformed
    for name, other in (("wraps", "identity_wraps"), ("identity_wraps", "wraps")):
        data = env.to_json()
        data[name] = [*data[name], data[other][0]]
        with pytest.raises(FormatError):
            ReportEnvelope.from_json(data)
        with pytest.raises(DecryptError):
            open_report(data, CUSTODIAN)
    # an identity wrap patched to look like a data-key wrap parses but never opens
    data = env.to_json()
    forged = bytes([1, Kind.WRAP]) + env.identity_wraps[0][2:]
    data["wraps"] = [b64u_encode(forged)]
    with pytest.raises(DecryptError):
        envelope_data_key(data, CUSTODIAN)
    # the two keys are different types; a data key is not accepted as an identity key
    assert sealed.identity_key is not None
    assert sealed.identity_key != IdentityKey(sealed.data_key.secret)
    assert sealed.data_key != DataKey(sealed.identity_key.secret)  # type: ignore[comparison-overlap]
    with pytest.raises(FormatError):
        as_data_key(sealed.identity_key)  # type: ignore[arg-type]
    with pytest.raises(FormatError):
        wrap_identity_key(sealed.data_key, ctx, OUTSIDER.public)  # type: ignore[arg-type]


def test_identity_wraps_and_box_are_bound_to_the_report() -> None:
    a, b = sealed_v2(), sealed_v2()
    ctx_a, ctx_b = a.envelope.context, b.envelope.context
    with pytest.raises(DecryptError):
        unwrap_identity_key(a.envelope.identity_wraps[0], ctx_b, CUSTODIAN)
    assert a.identity_key is not None and a.envelope.identity is not None
    with pytest.raises(DecryptError):
        open_identity_v2(a.identity_key, ctx_b, a.envelope.identity)
    for change in ("unit", "channel", "report_id"):
        data = a.envelope.to_json()
        data[change] = "LAIN"
        with pytest.raises(DecryptError):
            open_report_identity(data, CUSTODIAN)
    # a release for report A does not open report B's identity
    release = rewrap_identity_key(a.identity_key, OFFICERS[0].public, ctx_a)
    with pytest.raises(DecryptError):
        open_released_identity(b.envelope, release, OFFICERS[0])
    # a wrap copied under another key id does not open for that key
    forged = bytearray(release)
    forged[4:20] = OFFICERS[1].public.key_id
    with pytest.raises(DecryptError):
        unwrap_identity_key(bytes(forged), ctx_a, OFFICERS[1])


def test_server_cannot_swap_in_another_identity() -> None:
    """Without DK the server can make a new IK, identity box and custodian wraps, but the
    commitment is bound in the content box: officers and requesters notice."""
    sealed = sealed_v2()
    env = sealed.envelope
    ctx = env.context
    fake_ik = IdentityKey.generate()
    fake = env.to_json()
    fake["identity"] = b64u_encode(seal_identity(fake_ik, ctx, {"nama": "Orang lain"}))
    fake["identity_wraps"] = [b64u_encode(wrap_identity_key(fake_ik, ctx, CUSTODIAN.public))]
    # keeping the real commitment: custodians and requesters refuse the fake key
    with pytest.raises(DecryptError):
        open_report_identity(fake, CUSTODIAN)
    with pytest.raises(DecryptError):
        release_identity(fake, CUSTODIAN, OFFICERS[0].public)
    release = rewrap_identity_key(fake_ik, OFFICERS[0].public, ctx)
    with pytest.raises(DecryptError):
        open_released_identity(fake, release, OFFICERS[0])
    # with a matching fake commitment: the content box no longer opens for anyone with DK
    fake["identity_commitment"] = b64u_encode(identity_commitment(fake_ik))
    with pytest.raises(DecryptError):
        open_report(fake, OFFICERS[0])
    with pytest.raises(DecryptError):
        open_released_identity(fake, release, OFFICERS[0])
    with pytest.raises(DecryptError):
        add_recipient(fake, sealed.data_key, [OUTSIDER.public])


def test_v1_is_unchanged() -> None:
    """Identity without custodians, or no identity at all: exactly the v1 envelope."""
    for identity, custodians in (({"nama": "x"}, None), (None, None), (None, [CUSTODIAN.public])):
        sealed = seal_report(
            unit="DEMO",
            channel="wbs",
            report_id=str(uuid.uuid4()),
            content={"a": "b"},
            identity=identity,
            recipients=[OFFICERS[0].public],
            reporter_key=REPORTER.public,
            identity_recipients=custodians,
        )
        data = sealed.envelope.to_json()
        assert data["v"] == 1 and sealed.identity_key is None
        assert list(data) == [
            "v",
            "unit",
            "channel",
            "report_id",
            "content",
            "identity",
            "wraps",
            "reporter_key",
        ]
        opened = open_report(data, OFFICERS[0])
        assert opened.identity == identity and opened.identity_key is None
        assert open_content(opened.data_key, sealed.envelope.context, sealed.envelope.content)
        with pytest.raises(DecryptError):
            envelope_identity_key(data, OFFICERS[0])
        with pytest.raises(DecryptError):
            open_report_identity(data, CUSTODIAN)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.update(v=3),
        lambda d: d.update(identity=None),
        lambda d: d.pop("identity_wraps"),
        lambda d: d.update(identity_wraps=[]),
        lambda d: d.update(identity_wraps="x"),
        lambda d: d.update(identity_wraps=[5]),
        lambda d: d.update(identity_wraps=[b64u_encode(b"\x01\x08" + bytes(30))]),
        lambda d: d.pop("identity_commitment"),
        lambda d: d.update(identity_commitment=b64u_encode(bytes(31))),
        lambda d: d.update(identity_commitment=None),
        lambda d: d.update(v=1),  # v1 with identity wraps
    ],
)
def test_malformed_v2_envelopes_are_format_errors(mutate) -> None:  # type: ignore[no-untyped-def]
    data = sealed_v2().envelope.to_json()
    mutate(data)
    with pytest.raises(FormatError):
        ReportEnvelope.from_json(data)
    for attempt in (
        lambda: open_report(data, OFFICERS[0]),
        lambda: open_report_identity(data, CUSTODIAN),
    ):
        with pytest.raises(DecryptError):
            attempt()


def test_input_validation_and_masking() -> None:
    base: dict[str, Any] = {
        "unit": "D",
        "channel": "c",
        "report_id": "r",
        "content": {},
        "identity": {"n": "x"},
        "recipients": [OFFICERS[0].public],
        "reporter_key": REPORTER.public,
    }
    for bad in ([], [CUSTODIAN.public, CUSTODIAN.public.text], CUSTODIAN.public.text):
        with pytest.raises(FormatError):
            seal_report(**base, identity_recipients=bad)
    with pytest.raises(FormatError):
        IdentityKey(b"short")
    with pytest.raises(FormatError):
        seal_identity_v2(IdentityKey.generate(), new_context(), {"a": 1})  # type: ignore[dict-item]
    sealed = sealed_v2()
    ik = sealed.identity_key
    assert ik is not None
    assert repr(ik) == str(ik) == "IdentityKey(***)"
    assert ik.secret.hex() not in repr(sealed) + repr(sealed.envelope)
    with pytest.raises(TypeError):
        pickle.dumps(ik)
    with pytest.raises(TypeError):
        hash(ik)
    with pytest.raises(DecryptError) as info:
        open_identity_v2(b"short", sealed.envelope.context, b"")
    assert str(info.value) == "cannot decrypt"
    assert open_identity_v2(ik.secret, sealed.envelope.context, sealed.envelope.identity or b"")


def test_release_checks_the_identity_box() -> None:
    """A custodian's device refuses to release a key that does not open the identity box."""
    sealed = sealed_v2()
    data = sealed.envelope.to_json()
    other = sealed_v2().envelope.to_json()
    data["identity"] = other["identity"]
    with pytest.raises(DecryptError):
        release_identity(data, CUSTODIAN, OFFICERS[0].public)
    # and wrap_data_key / wrap_identity_key never produce the same header
    ctx = ReportContext("D", "c", "r")
    ik = IdentityKey.generate()
    assert wrap_identity_key(ik, ctx, OUTSIDER.public)[:2] == b"\x01\x08"
    assert wrap_data_key(DataKey.generate(), ctx, OUTSIDER.public)[:2] == b"\x01\x05"


def test_identity_key_and_canary_never_leak() -> None:
    sealed = sealed_v2()
    ik = sealed.identity_key
    assert ik is not None
    secrets = [ik.secret, ik.secret.hex().encode(), b64u_encode(ik.secret).encode()]
    release = release_identity(sealed.envelope, CUSTODIAN, OFFICERS[0].public)
    outputs = [sealed.envelope.dumps().encode(), release, *sealed.envelope.identity_wraps]
    texts = [repr(sealed), repr(sealed.envelope), repr(open_report(sealed.envelope, OFFICERS[0]))]
    for attempt in (
        lambda: open_report_identity(sealed.envelope, OUTSIDER),
        lambda: open_released_identity(sealed.envelope, release, OFFICERS[1]),
        lambda: unwrap_identity_key(release, sealed.envelope.context, OFFICERS[1]),
        lambda: open_identity_v2(ik, new_context(), sealed.envelope.identity or b""),
    ):
        with pytest.raises(DecryptError) as info:
            attempt()
        texts += [str(info.value), repr(info.value)]
    for out in outputs:
        assert CANARY.encode() not in out
        assert not any(s in out for s in secrets)
    for text in texts:
        assert CANARY not in text
        assert not any(s.decode("latin-1") in text for s in secrets)
