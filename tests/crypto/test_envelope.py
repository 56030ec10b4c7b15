"""Report envelopes, wraps, messages and notes: round trips, tampering, exclusion."""

from __future__ import annotations

import json
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.boxes import DataKey, Kind, Label, ReportContext, open_box, seal_box
from crypto.encoding import b64u_decode, b64u_encode
from crypto.envelope import (
    ReportEnvelope,
    add_recipient,
    envelope_data_key,
    open_content,
    open_identity,
    open_message,
    open_note,
    open_report,
    seal_content,
    seal_message,
    seal_note,
    seal_report,
    unwrap_data_key,
    wrap_data_key,
    wrap_header,
)
from crypto.errors import DecryptError, FormatError, UnsupportedError
from crypto.keys import KeyPair, PublicKey, Suite
from tests.crypto.helpers import CANARY, every_byte_flipped, fields, new_context, texts

OFFICERS = [KeyPair.generate() for _ in range(3)]
PQ_OFFICER = KeyPair.generate(Suite.MLKEM768X25519_AES256GCM)
REPORTER = KeyPair.generate()
OUTSIDER = KeyPair.generate()
PQ_OUTSIDER = KeyPair.generate(Suite.MLKEM768X25519_AES256GCM)


def sealed_report(identity: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return seal_report(
        unit="DEMO",
        channel="wbs",
        report_id=str(uuid.uuid4()),
        content={"judul": "Pungutan liar", "uraian": CANARY},
        identity=identity,
        recipients=[*(o.public for o in OFFICERS[:2]), PQ_OFFICER.public.text],
        reporter_key=REPORTER.public,
    )


@settings(max_examples=25, deadline=None)
@given(content=fields, identity=st.none() | fields, unit=st.sampled_from(["DEMO", "KEMENKEU-01"]))
def test_envelope_round_trip_through_json(
    content: dict[str, str], identity: dict[str, str] | None, unit: str
) -> None:
    sealed = seal_report(
        unit=unit,
        channel="gratifikasi",
        report_id=str(uuid.uuid4()),
        content=content,
        identity=identity,
        recipients=[OFFICERS[0].public.text],
        reporter_key=REPORTER.public.text,
    )
    text = sealed.envelope.dumps()
    parsed = ReportEnvelope.from_json(text)
    assert parsed == sealed.envelope
    assert parsed.to_json() == json.loads(text)
    for holder in (OFFICERS[0], REPORTER):
        opened = open_report(text, holder)
        assert opened.content == content
        assert opened.identity == identity
        assert opened.data_key == sealed.data_key


def test_every_recipient_and_reporter_open_mixed_suites() -> None:
    sealed = sealed_report(identity={"nama": "Budi"})
    env = sealed.envelope
    assert env.wrap_key_ids == [
        *(o.public.key_id_hex for o in OFFICERS[:2]),
        PQ_OFFICER.public.key_id_hex,
        REPORTER.public.key_id_hex,
    ]
    assert wrap_header(env.wraps[2])[0] is Suite.MLKEM768X25519_AES256GCM
    for holder in (*OFFICERS[:2], PQ_OFFICER, REPORTER):
        opened = open_report(env, holder)
        assert opened.content["uraian"] == CANARY
        assert opened.identity == {"nama": "Budi"}
    assert open_report(env, OFFICERS[0], identity=False).identity is None


@pytest.mark.parametrize("outsider", [OFFICERS[2], OUTSIDER, PQ_OUTSIDER])
def test_excluded_recipient_cannot_open(outsider: KeyPair) -> None:
    env = sealed_report().envelope
    with pytest.raises(DecryptError, match=r"^cannot decrypt$"):
        open_report(env, outsider)
    with pytest.raises(DecryptError):
        envelope_data_key(env.to_json(), outsider)
    # a wrap copied under the outsider's key id still does not open
    forged = bytearray(env.wraps[0])
    forged[4:20] = outsider.public.key_id
    with pytest.raises(DecryptError):
        unwrap_data_key(bytes(forged), env.context, outsider)


def test_escalation_needs_the_data_key() -> None:
    sealed = sealed_report()
    late = KeyPair.generate()
    with pytest.raises(DecryptError):
        add_recipient(sealed.envelope, DataKey.generate(), [late.public])
    escalated = add_recipient(
        sealed.envelope, open_report(sealed.envelope, OFFICERS[0]).data_key, [late.public]
    )
    assert len(escalated.wraps) == len(sealed.envelope.wraps) + 1
    assert open_report(escalated.dumps(), late).content["uraian"] == CANARY
    with pytest.raises(DecryptError):
        open_report(sealed.envelope, late)


def test_every_byte_of_content_identity_and_wrap_flipped_fails() -> None:
    sealed = seal_report(
        unit="D",
        channel="c",
        report_id="r",
        content={"a": "b"},
        identity={"n": "x"},
        recipients=[OFFICERS[0].public],
        reporter_key=REPORTER.public,
    )
    env = sealed.envelope
    ctx = env.context

    def with_field(name: str):  # type: ignore[no-untyped-def]
        def attempt(bad: bytes) -> object:
            data = env.to_json()
            data[name] = b64u_encode(bad)
            return open_report(data, OFFICERS[0])

        return attempt

    n = every_byte_flipped(env.content, with_field("content"))
    assert env.identity is not None
    n += every_byte_flipped(env.identity, with_field("identity"))
    n += every_byte_flipped(env.wraps[0], lambda bad: unwrap_data_key(bad, ctx, OFFICERS[0]))
    assert n == len(env.content) + len(env.identity) + len(env.wraps[0])


def test_pq_wrap_every_byte_flipped_fails() -> None:
    dk, ctx = DataKey.generate(), new_context()
    wrap = wrap_data_key(dk, ctx, PQ_OFFICER.public)
    assert unwrap_data_key(wrap, ctx, PQ_OFFICER) == dk
    # 1,188 positions: every one of them
    every_byte_flipped(wrap, lambda bad: unwrap_data_key(bad, ctx, PQ_OFFICER))


@pytest.mark.parametrize(
    "change", [("unit", "LAIN"), ("channel", "pengaduan"), ("report_id", str(uuid.uuid4()))]
)
def test_context_is_bound(change: tuple[str, str]) -> None:
    env = sealed_report().envelope.to_json()
    env[change[0]] = change[1]
    with pytest.raises(DecryptError):
        open_report(env, OFFICERS[0])


def test_content_box_moved_between_reports_fails() -> None:
    a, b = sealed_report(), sealed_report()
    spliced = a.envelope.to_json()
    spliced["content"] = b.envelope.to_json()["content"]
    with pytest.raises(DecryptError):
        open_report(spliced, OFFICERS[0])
    # the identity box cannot stand in for content (kind and label differ)
    c = sealed_report(identity={"nama": "x"}).envelope.to_json()
    c["content"] = c["identity"]
    with pytest.raises(DecryptError):
        open_report(c, OFFICERS[0])


@settings(max_examples=25, deadline=None)
@given(text=texts, role=st.sampled_from(["reporter", "officer"]))
def test_messages_round_trip_and_bind_sender_role(text: str, role: str) -> None:
    dk, ctx, mid = DataKey.generate(), new_context(), str(uuid.uuid4())
    box = seal_message(dk, ctx, role, mid, text)
    assert open_message(dk, ctx, role, mid, box) == text
    other = "officer" if role == "reporter" else "reporter"
    with pytest.raises(DecryptError):
        open_message(dk, ctx, other, mid, box)
    with pytest.raises(DecryptError):
        open_message(dk, ctx, role, str(uuid.uuid4()), box)


@settings(max_examples=25, deadline=None)
@given(text=texts)
def test_notes_round_trip_and_bind_author(text: str) -> None:
    dk, ctx, nid = DataKey.generate(), new_context(), str(uuid.uuid4())
    author = OFFICERS[0].public.key_id_hex
    box = seal_note(dk, ctx, author, nid, text)
    assert open_note(dk, ctx, author, nid, box) == text
    with pytest.raises(DecryptError):
        open_note(dk, ctx, OFFICERS[1].public.key_id_hex, nid, box)
    with pytest.raises(DecryptError):  # a note is not a message
        open_message(dk, ctx, "officer", nid, box)


def test_message_and_note_every_byte_flipped_fails() -> None:
    dk, ctx = DataKey.generate(), new_context()
    msg = seal_message(dk, ctx, "reporter", "m1", "halo")
    every_byte_flipped(msg, lambda bad: open_message(dk, ctx, "reporter", "m1", bad))
    kid = OFFICERS[0].public.key_id_hex
    note = seal_note(dk, ctx, kid, "n1", "catatan")
    every_byte_flipped(note, lambda bad: open_note(dk, ctx, kid, "n1", bad))


def test_wrong_data_key_fails_everywhere() -> None:
    dk, other, ctx = DataKey.generate(), DataKey.generate(), new_context()
    with pytest.raises(DecryptError):
        open_content(other, ctx, seal_content(dk, ctx, {"a": "b"}))
    with pytest.raises(DecryptError):
        open_identity(dk, ctx, seal_content(dk, ctx, {"a": "b"}))


def test_truncated_and_short_inputs_fail_cleanly() -> None:
    dk, ctx = DataKey.generate(), new_context()
    box = seal_content(dk, ctx, {"a": "b"})
    for n in range(len(box)):
        with pytest.raises(DecryptError):
            open_content(dk, ctx, box[:n])
    with pytest.raises(DecryptError):
        unwrap_data_key(b"\x01\x05", ctx, OFFICERS[0])


def test_authenticated_non_object_content_is_refused() -> None:
    dk, ctx = DataKey.generate(), new_context()
    box = seal_box(dk, Kind.CONTENT, Label.CONTENT, ctx.fields, b"[1, 2]")
    with pytest.raises(DecryptError):
        open_content(dk, ctx, box)
    assert open_box(dk, Kind.CONTENT, Label.CONTENT, ctx.fields, box) == b"[1, 2]"


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.update(v=2),
        lambda d: d.update(v=True),
        lambda d: d.update(wraps=[]),
        lambda d: d.update(wraps="x"),
        lambda d: d.update(content="***"),
        lambda d: d.update(identity=5),
        lambda d: d.update(reporter_key="AAE"),
        lambda d: d.pop("unit"),
        lambda d: d.update(wraps=[b64u_encode(b"\x01\x01" + bytes(60))]),
    ],
)
def test_malformed_envelopes_are_format_errors(mutate) -> None:  # type: ignore[no-untyped-def]
    data = sealed_report().envelope.to_json()
    mutate(data)
    with pytest.raises(FormatError):
        ReportEnvelope.from_json(data)
    with pytest.raises(DecryptError):  # and opening says only "cannot decrypt"
        open_report(data, OFFICERS[0])


def test_input_validation() -> None:
    with pytest.raises(FormatError):
        ReportContext("", "wbs", "r")
    with pytest.raises(FormatError):
        seal_report(
            unit="D",
            channel="c",
            report_id="r",
            content={},
            recipients=[],
            reporter_key=REPORTER.public,
        )
    with pytest.raises(FormatError):
        seal_report(
            unit="D",
            channel="c",
            report_id="r",
            content={},
            recipients=[OFFICERS[0].public, OFFICERS[0].public.text],
            reporter_key=REPORTER.public,
        )
    with pytest.raises(FormatError):
        seal_content(DataKey.generate(), new_context(), {"a": 1})  # type: ignore[dict-item]
    with pytest.raises(FormatError):
        seal_message(DataKey.generate(), new_context(), "admin", "m", "x")
    with pytest.raises(FormatError):
        seal_note(DataKey.generate(), new_context(), "ABC", "n", "x")
    with pytest.raises(FormatError):
        DataKey(b"short")
    with pytest.raises(FormatError):  # a low-order point nobody holds the key of
        wrap_data_key(
            DataKey.generate(), new_context(), PublicKey(Suite.X25519_AES256GCM, bytes(32))
        )
    with pytest.raises(UnsupportedError):  # suite 0 does not exist
        wrap_data_key(DataKey.generate(), new_context(), bytes(2) + bytes(32))
    assert b64u_decode(b64u_encode(b"\x00\xff")) == b"\x00\xff"
    for bad in ("a", "ab=", "a b", "AB", "+/"):
        with pytest.raises(FormatError):
            b64u_decode(bad)
