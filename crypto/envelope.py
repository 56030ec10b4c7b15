"""Report envelopes, data-key wraps, messages and internal notes (format version 1).

A report has one fresh data key (DK). Its content and, separately, the reporter's identity
are boxes under DK; DK is wrapped with HPKE to every chosen recipient and to the reporter's
receipt-derived key. Whoever holds DK can wrap it for a new recipient (escalation).

The identity box is a separate ciphertext so that the server can withhold it from officers
until a custodian releases it; it is under the same DK (see SECURITY.md, "What is not
protected").
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from crypto.boxes import (
    VERSION,
    DataKey,
    Kind,
    Label,
    ReportContext,
    as_data_key,
    open_box,
    seal_box,
)
from crypto.encoding import b64u_decode, b64u_encode, encode_context, u16
from crypto.errors import CryptoError, DecryptError, FormatError
from crypto.keys import KeyPair, PublicKey, Suite, as_public_key, hpke_seal, parse_suite

SENDER_ROLES = ("reporter", "officer")
WRAP_HEADER_LEN = 20
_KEY_ID_HEX = re.compile(r"^[0-9a-f]{32}$")

__all__ = [
    "DataKey",
    "OpenedReport",
    "ReportContext",
    "ReportEnvelope",
    "SealedReport",
    "add_recipient",
    "envelope_data_key",
    "open_content",
    "open_identity",
    "open_message",
    "open_note",
    "open_report",
    "seal_content",
    "seal_identity",
    "seal_message",
    "seal_note",
    "seal_report",
    "unwrap_data_key",
    "wrap_data_key",
    "wrap_header",
]


# ---------------------------------------------------------------- content and identity


def _fields_json(fields: Mapping[str, str]) -> bytes:
    if not isinstance(fields, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in fields.items()
    ):
        raise FormatError("expected an object of strings")
    return json.dumps(dict(fields), ensure_ascii=False, separators=(",", ":")).encode()


def _parse_fields(data: bytes) -> dict[str, str]:
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise DecryptError() from None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise DecryptError()
    return value


def seal_content(data_key: DataKey | bytes, ctx: ReportContext, fields: Mapping[str, str]) -> bytes:
    """The report content (the form's fields) as a box of kind 0x01."""
    return seal_box(data_key, Kind.CONTENT, Label.CONTENT, ctx.fields, _fields_json(fields))


def open_content(data_key: DataKey | bytes, ctx: ReportContext, box: bytes) -> dict[str, str]:
    return _parse_fields(open_box(data_key, Kind.CONTENT, Label.CONTENT, ctx.fields, box))


def seal_identity(
    data_key: DataKey | bytes, ctx: ReportContext, fields: Mapping[str, str]
) -> bytes:
    """The reporter's identity fields, in their own box of kind 0x02."""
    return seal_box(data_key, Kind.IDENTITY, Label.IDENTITY, ctx.fields, _fields_json(fields))


def open_identity(data_key: DataKey | bytes, ctx: ReportContext, box: bytes) -> dict[str, str]:
    return _parse_fields(open_box(data_key, Kind.IDENTITY, Label.IDENTITY, ctx.fields, box))


# ---------------------------------------------------------------- messages and notes


def _message_fields(ctx: ReportContext, sender_role: str, message_id: str) -> tuple[str, ...]:
    if sender_role not in SENDER_ROLES:
        raise FormatError("sender_role must be 'reporter' or 'officer'")
    if not isinstance(message_id, str) or not message_id:
        raise FormatError("message_id is required")
    return (*ctx.fields, sender_role, message_id)


def seal_message(
    data_key: DataKey | bytes, ctx: ReportContext, sender_role: str, message_id: str, text: str
) -> bytes:
    """A message between reporter and officers; the sender role is bound in the aad."""
    fields = _message_fields(ctx, sender_role, message_id)
    return seal_box(data_key, Kind.MESSAGE, Label.MESSAGE, fields, text.encode("utf-8"))


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise DecryptError() from None


def open_message(
    data_key: DataKey | bytes, ctx: ReportContext, sender_role: str, message_id: str, box: bytes
) -> str:
    fields = _message_fields(ctx, sender_role, message_id)
    return _text(open_box(data_key, Kind.MESSAGE, Label.MESSAGE, fields, box))


def _note_fields(ctx: ReportContext, author_key_id: str, note_id: str) -> tuple[str, ...]:
    if not isinstance(author_key_id, str) or not _KEY_ID_HEX.match(author_key_id):
        raise FormatError("author_key_id must be 32 lower-case hex characters")
    if not isinstance(note_id, str) or not note_id:
        raise FormatError("note_id is required")
    return (*ctx.fields, author_key_id, note_id)


def seal_note(
    data_key: DataKey | bytes, ctx: ReportContext, author_key_id: str, note_id: str, text: str
) -> bytes:
    """A staff-internal note; the author's key id (hex) is bound in the aad."""
    fields = _note_fields(ctx, author_key_id, note_id)
    return seal_box(data_key, Kind.NOTE, Label.NOTE, fields, text.encode("utf-8"))


def open_note(
    data_key: DataKey | bytes, ctx: ReportContext, author_key_id: str, note_id: str, box: bytes
) -> str:
    fields = _note_fields(ctx, author_key_id, note_id)
    return _text(open_box(data_key, Kind.NOTE, Label.NOTE, fields, box))


# ---------------------------------------------------------------- wraps


def _wrap_info(suite: Suite, key_id: bytes, ctx: ReportContext) -> bytes:
    return (
        bytes([VERSION, Kind.WRAP]) + u16(suite) + key_id + encode_context(Label.WRAP, *ctx.fields)
    )


def wrap_data_key(
    data_key: DataKey | bytes, ctx: ReportContext, recipient: PublicKey | str | bytes
) -> bytes:
    """`0x01 || 0x05 || suite(2) || key_id(16) || HPKE.Seal(pkR, info, DK)`."""
    pk = as_public_key(recipient)
    dk = as_data_key(data_key)
    sealed = hpke_seal(pk, _wrap_info(pk.suite, pk.key_id, ctx), dk.secret)
    return bytes([VERSION, Kind.WRAP]) + u16(pk.suite) + pk.key_id + sealed


def wrap_header(wrap: bytes) -> tuple[Suite, str]:
    """(suite, hex key id) of a wrap; FormatError if it is not a v1 wrap. No secret involved."""
    if len(wrap) < WRAP_HEADER_LEN + 32 or wrap[0] != VERSION or wrap[1] != Kind.WRAP:
        raise FormatError("not a wrap")
    return parse_suite(int.from_bytes(wrap[2:4], "big")), wrap[4:20].hex()


def wrap_key_id(wrap: bytes) -> str:
    """The hex recipient key id in a wrap's header; FormatError for anything else."""
    try:
        return wrap_header(wrap)[1]
    except (CryptoError, ValueError, TypeError):
        raise FormatError("not a wrap") from None


def unwrap_data_key(wrap: bytes, ctx: ReportContext, key_pair: KeyPair) -> DataKey:
    """Recover the data key from a wrap addressed to `key_pair`; DecryptError otherwise."""
    try:
        suite, kid = wrap_header(wrap)
    except Exception:
        raise DecryptError() from None
    if suite is not key_pair.suite or kid != key_pair.public.key_id_hex:
        raise DecryptError()
    info = _wrap_info(suite, key_pair.public.key_id, ctx)
    dk = key_pair.hpke_open(wrap[WRAP_HEADER_LEN:], info)
    if len(dk) != 32:
        raise DecryptError()
    return DataKey(dk)


# ---------------------------------------------------------------- envelope


@dataclass(frozen=True)
class ReportEnvelope:
    """The report envelope as sent and stored (JSON on the wire, docs/crypto-format.md)."""

    unit: str
    channel: str
    report_id: str
    content: bytes = field(repr=False)
    identity: bytes | None = field(repr=False)
    wraps: tuple[bytes, ...] = field(repr=False)
    reporter_key: PublicKey
    v: int = VERSION

    @property
    def context(self) -> ReportContext:
        return ReportContext(self.unit, self.channel, self.report_id)

    @property
    def wrap_key_ids(self) -> list[str]:
        """Hex key ids the data key is wrapped to (recipients and reporter), in order."""
        return [wrap_header(w)[1] for w in self.wraps]

    def to_json(self) -> dict[str, Any]:
        return {
            "v": self.v,
            "unit": self.unit,
            "channel": self.channel,
            "report_id": self.report_id,
            "content": b64u_encode(self.content),
            "identity": None if self.identity is None else b64u_encode(self.identity),
            "wraps": [b64u_encode(w) for w in self.wraps],
            "reporter_key": self.reporter_key.text,
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | str | bytes) -> ReportEnvelope:
        """Parse and check the shape (not the cryptography); FormatError when malformed."""
        if isinstance(data, str | bytes):
            try:
                data = json.loads(data)
            except ValueError:
                raise FormatError("envelope is not JSON") from None
        if not isinstance(data, Mapping):
            raise FormatError("envelope must be an object")
        if data.get("v") != VERSION or isinstance(data.get("v"), bool):
            raise FormatError("unsupported envelope version")
        for name in ("unit", "channel", "report_id", "content", "reporter_key"):
            if not isinstance(data.get(name), str) or not data[name]:
                raise FormatError(f"envelope field {name} is required")
        identity = data.get("identity")
        if identity is not None and not isinstance(identity, str):
            raise FormatError("envelope field identity must be a string or null")
        wraps = data.get("wraps")
        if not isinstance(wraps, list) or not wraps or not all(isinstance(w, str) for w in wraps):
            raise FormatError("envelope field wraps must be a non-empty list")
        decoded = tuple(b64u_decode(w) for w in wraps)
        for w in decoded:
            wrap_header(w)
        return cls(
            unit=data["unit"],
            channel=data["channel"],
            report_id=data["report_id"],
            content=b64u_decode(data["content"]),
            identity=None if identity is None else b64u_decode(identity),
            wraps=decoded,
            reporter_key=PublicKey.from_text(data["reporter_key"]),
        )

    def with_wrap(self, wrap: bytes) -> ReportEnvelope:
        """A copy with one more wrap (escalation)."""
        wrap_header(wrap)
        return ReportEnvelope(
            unit=self.unit,
            channel=self.channel,
            report_id=self.report_id,
            content=self.content,
            identity=self.identity,
            wraps=(*self.wraps, wrap),
            reporter_key=self.reporter_key,
            v=self.v,
        )


@dataclass(frozen=True)
class SealedReport:
    envelope: ReportEnvelope
    data_key: DataKey = field(repr=False)


@dataclass(frozen=True)
class OpenedReport:
    data_key: DataKey = field(repr=False)
    content: dict[str, str] = field(repr=False)
    identity: dict[str, str] | None = field(repr=False)


def seal_report(
    *,
    unit: str,
    channel: str,
    report_id: str,
    content: Mapping[str, str],
    recipients: Sequence[PublicKey | str | bytes],
    reporter_key: PublicKey | str | bytes,
    identity: Mapping[str, str] | None = None,
) -> SealedReport:
    """Seal a report to its recipients and the reporter's key; a fresh data key per report."""
    ctx = ReportContext(unit, channel, report_id)
    if not recipients:
        raise FormatError("at least one recipient is required")
    reporter = as_public_key(reporter_key)
    keys = [as_public_key(r) for r in recipients]
    ids = [k.key_id for k in [*keys, reporter]]
    if len(set(ids)) != len(ids):
        raise FormatError("a recipient is listed twice")
    dk = DataKey.generate()
    envelope = ReportEnvelope(
        unit=unit,
        channel=channel,
        report_id=report_id,
        content=seal_content(dk, ctx, content),
        identity=None if identity is None else seal_identity(dk, ctx, identity),
        wraps=tuple(wrap_data_key(dk, ctx, pk) for pk in [*keys, reporter]),
        reporter_key=reporter,
    )
    return SealedReport(envelope, dk)


def _as_envelope(envelope: ReportEnvelope | Mapping[str, Any] | str) -> ReportEnvelope:
    if isinstance(envelope, ReportEnvelope):
        return envelope
    try:
        return ReportEnvelope.from_json(envelope)
    except FormatError:
        raise DecryptError() from None


def envelope_data_key(
    envelope: ReportEnvelope | Mapping[str, Any] | str, key_pair: KeyPair
) -> DataKey:
    """Find the wrap addressed to `key_pair` and recover the data key; DecryptError if none."""
    env = _as_envelope(envelope)
    ctx = env.context
    for wrap in env.wraps:
        try:
            return unwrap_data_key(wrap, ctx, key_pair)
        except DecryptError:
            continue
    raise DecryptError()


def open_report(
    envelope: ReportEnvelope | Mapping[str, Any] | str,
    key_pair: KeyPair,
    *,
    identity: bool = True,
) -> OpenedReport:
    """Open an envelope with a recipient's (or the reporter's) key pair.

    Pass `identity=False` to leave the identity box closed. DecryptError on any failure.
    """
    env = _as_envelope(envelope)
    dk = envelope_data_key(env, key_pair)
    content = open_content(dk, env.context, env.content)
    ident = None
    if identity and env.identity is not None:
        ident = open_identity(dk, env.context, env.identity)
    return OpenedReport(dk, content, ident)


def add_recipient(
    envelope: ReportEnvelope | Mapping[str, Any] | str,
    data_key: DataKey | bytes,
    recipients: Iterable[PublicKey | str | bytes],
) -> ReportEnvelope:
    """Escalation: the envelope with new wraps, made by a holder of the data key.

    Checks first that `data_key` really is this report's key (it must open the content).
    """
    env = _as_envelope(envelope)
    dk = as_data_key(data_key)
    open_content(dk, env.context, env.content)
    for recipient in recipients:
        env = env.with_wrap(wrap_data_key(dk, env.context, recipient))
    return env
