"""Report envelopes, data-key wraps, messages and internal notes (envelopes v1 and v2).

A report has one fresh data key (DK). Its content is a box under DK; DK is wrapped with HPKE
to every chosen recipient and to the reporter's receipt-derived key. Whoever holds DK can
wrap it for a new recipient (escalation).

Envelope v1 (still read, and still made when there is no identity or no custodian keys are
given): the identity box is under the same DK, so identity separation rests on the server
withholding it. Envelope v2 (made when `identity_recipients` are given): the identity box is
under a separate identity key IK wrapped only to custodians (`crypto.identity`); DK holders
cannot read it. A custodian's device releases it to one requester (`release_identity`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from crypto.boxes import (
    VERSION,
    DataKey,
    IdentityKey,
    Kind,
    Label,
    ReportContext,
    as_data_key,
    open_box,
    seal_box,
)
from crypto.encoding import b64u_decode, b64u_encode, encode_context, u16
from crypto.errors import CryptoError, DecryptError, FormatError, UnsupportedError
from crypto.identity import (
    COMMITMENT_LEN,
    commitment_matches,
    fields_json,
    identity_commitment,
    identity_wrap_header,
    open_identity_v2,
    parse_fields,
    rewrap_identity_key,
    seal_identity_v2,
    unwrap_identity_key,
    wrap_identity_key,
)
from crypto.keys import KeyPair, PublicKey, Suite, as_public_key, hpke_seal, parse_suite

ENVELOPE_V1 = 1
ENVELOPE_V2 = 2
ENVELOPE_VERSIONS = (ENVELOPE_V1, ENVELOPE_V2)
SENDER_ROLES = ("reporter", "officer")
WRAP_HEADER_LEN = 20
_KEY_ID_HEX = re.compile(r"^[0-9a-f]{32}$")

__all__ = [
    "DataKey",
    "IdentityKey",
    "OpenedReport",
    "ReportContext",
    "ReportEnvelope",
    "SealedReport",
    "add_recipient",
    "envelope_data_key",
    "envelope_identity_key",
    "identity_commitment",
    "identity_wrap_header",
    "open_content",
    "open_identity",
    "open_message",
    "open_note",
    "open_released_identity",
    "open_report",
    "open_report_identity",
    "release_identity",
    "rewrap_identity_key",
    "seal_content",
    "seal_identity",
    "seal_message",
    "seal_note",
    "seal_report",
    "unwrap_data_key",
    "unwrap_identity_key",
    "wrap_data_key",
    "wrap_header",
    "wrap_identity_key",
]


# ---------------------------------------------------------------- content and identity


def _content_fields(ctx: ReportContext, commitment: bytes | None) -> tuple[str, ...]:
    # v2 with identity: the identity commitment (hex) is a fifth context field of the content
    return ctx.fields if commitment is None else (*ctx.fields, commitment.hex())


def seal_content(
    data_key: DataKey | bytes,
    ctx: ReportContext,
    fields: Mapping[str, str],
    *,
    identity_commitment: bytes | None = None,
) -> bytes:
    """The report content (the form's fields) as a box of kind 0x01.

    In a v2 envelope the identity commitment is bound in its context (pass it here)."""
    ctx_fields = _content_fields(ctx, identity_commitment)
    return seal_box(data_key, Kind.CONTENT, Label.CONTENT, ctx_fields, fields_json(fields))


def open_content(
    data_key: DataKey | bytes,
    ctx: ReportContext,
    box: bytes,
    *,
    identity_commitment: bytes | None = None,
) -> dict[str, str]:
    ctx_fields = _content_fields(ctx, identity_commitment)
    return parse_fields(open_box(data_key, Kind.CONTENT, Label.CONTENT, ctx_fields, box))


def seal_identity(
    key: IdentityKey | DataKey | bytes, ctx: ReportContext, fields: Mapping[str, str]
) -> bytes:
    """The reporter's identity fields, in their own box of kind 0x02.

    With an `IdentityKey`: the v2 box (under IK, label wbs/v2/identity). With a `DataKey` or
    raw bytes: the v1 box under DK (label wbs/v1/identity), as before."""
    if isinstance(key, IdentityKey):
        return seal_identity_v2(key, ctx, fields)
    return seal_box(
        as_data_key(key), Kind.IDENTITY, Label.IDENTITY, ctx.fields, fields_json(fields)
    )


def open_identity(
    key: IdentityKey | DataKey | bytes, ctx: ReportContext, box: bytes
) -> dict[str, str]:
    """Open an identity box: v2 with an `IdentityKey`, v1 with a `DataKey` or raw bytes."""
    if isinstance(key, IdentityKey):
        return open_identity_v2(key, ctx, box)
    return parse_fields(open_box(key, Kind.IDENTITY, Label.IDENTITY, ctx.fields, box))


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
    """The report envelope as sent and stored (JSON on the wire, docs/crypto-format.md).

    v1: `identity` (optional) is under DK. v2: `identity` is under IK, `identity_wraps` wrap
    IK to custodians and `identity_commitment` (bound in the content box) commits to IK. A v2
    envelope served without its identity has `identity` None and no identity wraps (content,
    messages and escalation still work; nothing about the identity does).
    """

    unit: str
    channel: str
    report_id: str
    content: bytes = field(repr=False)
    identity: bytes | None = field(repr=False)
    wraps: tuple[bytes, ...] = field(repr=False)
    reporter_key: PublicKey
    v: int = VERSION
    identity_wraps: tuple[bytes, ...] = field(default=(), repr=False)
    identity_commitment: bytes | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.v == ENVELOPE_V1:
            if self.identity_wraps or self.identity_commitment is not None:
                raise FormatError("identity wraps need envelope version 2")
        elif self.v == ENVELOPE_V2:
            # Served without identity (a service withholding it): identity null and no
            # identity wraps, together; as sealed: both present.
            if (self.identity is None) != (not self.identity_wraps):
                raise FormatError("a version 2 envelope carries an identity and identity wraps")
            if self.identity_commitment is None or len(self.identity_commitment) != COMMITMENT_LEN:
                raise FormatError("identity commitment must be 32 bytes")
        else:
            raise FormatError("unsupported envelope version")

    @property
    def context(self) -> ReportContext:
        return ReportContext(self.unit, self.channel, self.report_id)

    @property
    def wrap_key_ids(self) -> list[str]:
        """Hex key ids the data key is wrapped to (recipients and reporter), in order."""
        return [wrap_header(w)[1] for w in self.wraps]

    @property
    def identity_wrap_key_ids(self) -> list[str]:
        """Hex key ids the identity key is wrapped to (v2: custodians), in order."""
        return [identity_wrap_header(w)[1] for w in self.identity_wraps]

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "v": self.v,
            "unit": self.unit,
            "channel": self.channel,
            "report_id": self.report_id,
            "content": b64u_encode(self.content),
            "identity": None if self.identity is None else b64u_encode(self.identity),
        }
        if self.identity_commitment is not None:  # v2 (checked in __post_init__)
            data["identity_wraps"] = [b64u_encode(w) for w in self.identity_wraps]
            data["identity_commitment"] = b64u_encode(self.identity_commitment)
        data["wraps"] = [b64u_encode(w) for w in self.wraps]
        data["reporter_key"] = self.reporter_key.text
        return data

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
        version = data.get("v")
        if version not in ENVELOPE_VERSIONS or isinstance(version, bool):
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
        identity_wraps: tuple[bytes, ...] = ()
        commitment = None
        if version == ENVELOPE_V1:
            if "identity_wraps" in data or "identity_commitment" in data:
                raise FormatError("identity wraps need envelope version 2")
        else:
            iwraps = data.get("identity_wraps")
            if (
                not isinstance(iwraps, list)
                or (identity is None) != (not iwraps)  # withheld: null and [] together
                or not all(isinstance(w, str) for w in iwraps)
            ):
                raise FormatError("a version 2 envelope carries an identity and identity wraps")
            identity_wraps = tuple(b64u_decode(w) for w in iwraps)
            for w in identity_wraps:
                identity_wrap_header(w)
            text = data.get("identity_commitment")
            if not isinstance(text, str):
                raise FormatError("envelope field identity_commitment is required")
            commitment = b64u_decode(text)
            if len(commitment) != COMMITMENT_LEN:
                raise FormatError("identity commitment must be 32 bytes")
        return cls(
            unit=data["unit"],
            channel=data["channel"],
            report_id=data["report_id"],
            content=b64u_decode(data["content"]),
            identity=None if identity is None else b64u_decode(identity),
            wraps=decoded,
            reporter_key=PublicKey.from_text(data["reporter_key"]),
            v=version,
            identity_wraps=identity_wraps,
            identity_commitment=commitment,
        )

    def with_wrap(self, wrap: bytes) -> ReportEnvelope:
        """A copy with one more data-key wrap (escalation)."""
        wrap_header(wrap)
        return replace(self, wraps=(*self.wraps, wrap))

    def with_identity_wrap(self, wrap: bytes) -> ReportEnvelope:
        """A copy (v2) with one more identity wrap (a custodian added later)."""
        if self.v != ENVELOPE_V2:
            raise FormatError("identity wraps need envelope version 2")
        identity_wrap_header(wrap)
        return replace(self, identity_wraps=(*self.identity_wraps, wrap))


@dataclass(frozen=True)
class SealedReport:
    envelope: ReportEnvelope
    data_key: DataKey = field(repr=False)
    identity_key: IdentityKey | None = field(default=None, repr=False)


@dataclass(frozen=True)
class OpenedReport:
    """`identity` is None when there is none, when `identity=False` was asked, and in a v2
    envelope when the key pair has no identity wrap (officers, the reporter)."""

    data_key: DataKey = field(repr=False)
    content: dict[str, str] = field(repr=False)
    identity: dict[str, str] | None = field(repr=False)
    identity_key: IdentityKey | None = field(default=None, repr=False)


def _distinct(keys: Sequence[PublicKey], what: str) -> None:
    ids = [k.key_id for k in keys]
    if len(set(ids)) != len(ids):
        raise FormatError(f"{what} is listed twice")


def seal_report(
    *,
    unit: str,
    channel: str,
    report_id: str,
    content: Mapping[str, str],
    recipients: Sequence[PublicKey | str | bytes],
    reporter_key: PublicKey | str | bytes,
    identity: Mapping[str, str] | None = None,
    identity_recipients: Sequence[PublicKey | str | bytes] | None = None,
) -> SealedReport:
    """Seal a report to its recipients and the reporter's key; a fresh data key per report.

    With `identity` and `identity_recipients` (the custodians' public keys, at least one):
    envelope v2, the identity under a fresh identity key wrapped only to those keys. With
    `identity` alone: envelope v1 (identity under DK, as before). Without `identity`:
    envelope v1 whatever `identity_recipients` is.
    """
    ctx = ReportContext(unit, channel, report_id)
    if not recipients:
        raise FormatError("at least one recipient is required")
    reporter = as_public_key(reporter_key)
    keys = [as_public_key(r) for r in recipients]
    _distinct([*keys, reporter], "a recipient")
    dk = DataKey.generate()
    if identity is None or identity_recipients is None:
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
    if isinstance(identity_recipients, str | bytes) or not identity_recipients:
        raise FormatError("at least one identity recipient (custodian) is required")
    custodians = [as_public_key(r) for r in identity_recipients]
    _distinct(custodians, "an identity recipient")
    ik = IdentityKey.generate()
    commitment = identity_commitment(ik)
    envelope = ReportEnvelope(
        unit=unit,
        channel=channel,
        report_id=report_id,
        content=seal_content(dk, ctx, content, identity_commitment=commitment),
        identity=seal_identity_v2(ik, ctx, identity),
        wraps=tuple(wrap_data_key(dk, ctx, pk) for pk in [*keys, reporter]),
        reporter_key=reporter,
        v=ENVELOPE_V2,
        identity_wraps=tuple(wrap_identity_key(ik, ctx, pk) for pk in custodians),
        identity_commitment=commitment,
    )
    return SealedReport(envelope, dk, ik)


def _as_envelope(envelope: ReportEnvelope | Mapping[str, Any] | str) -> ReportEnvelope:
    if isinstance(envelope, ReportEnvelope):
        return envelope
    try:
        return ReportEnvelope.from_json(envelope)
    except (FormatError, UnsupportedError):  # e.g. a flipped suite byte in a wrap header
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


def _checked_identity_key(env: ReportEnvelope, ik: IdentityKey) -> IdentityKey:
    if env.v != ENVELOPE_V2 or env.identity_commitment is None:
        raise DecryptError()
    if not commitment_matches(ik, env.identity_commitment):
        raise DecryptError()
    return ik


def envelope_identity_key(
    envelope: ReportEnvelope | Mapping[str, Any] | str, key_pair: KeyPair
) -> IdentityKey:
    """v2: find the identity wrap addressed to `key_pair` (a custodian), recover IK and check
    it against the envelope's commitment; DecryptError if none (always for v1 envelopes)."""
    env = _as_envelope(envelope)
    ctx = env.context
    for wrap in env.identity_wraps:
        try:
            ik = unwrap_identity_key(wrap, ctx, key_pair)
        except DecryptError:
            continue
        return _checked_identity_key(env, ik)
    raise DecryptError()


def open_report(
    envelope: ReportEnvelope | Mapping[str, Any] | str,
    key_pair: KeyPair,
    *,
    identity: bool = True,
) -> OpenedReport:
    """Open an envelope with a recipient's (or the reporter's) key pair.

    Pass `identity=False` to leave the identity box closed. In a v2 envelope the identity is
    opened only when `key_pair` also holds an identity wrap (a custodian who is a recipient);
    otherwise it is None. DecryptError on any failure.
    """
    env = _as_envelope(envelope)
    dk = envelope_data_key(env, key_pair)
    commitment = env.identity_commitment
    content = open_content(dk, env.context, env.content, identity_commitment=commitment)
    ident = None
    ik = None
    if identity and env.identity is not None:
        if env.v == ENVELOPE_V1:
            ident = open_identity(dk, env.context, env.identity)
        elif any(k == key_pair.public.key_id_hex for k in env.identity_wrap_key_ids):
            ik = envelope_identity_key(env, key_pair)
            ident = open_identity_v2(ik, env.context, env.identity)
    return OpenedReport(dk, content, ident, ik)


def open_report_identity(
    envelope: ReportEnvelope | Mapping[str, Any] | str, key_pair: KeyPair
) -> dict[str, str]:
    """A custodian opens the identity of a v2 envelope (no data key needed or used)."""
    env = _as_envelope(envelope)
    if env.identity is None:
        raise DecryptError()
    return open_identity_v2(envelope_identity_key(env, key_pair), env.context, env.identity)


def release_identity(
    envelope: ReportEnvelope | Mapping[str, Any] | str,
    custodian: KeyPair,
    requester: PublicKey | str | bytes,
) -> bytes:
    """Identity release on the custodian's device, after approval: recover IK from the
    custodian's identity wrap, check that it opens this envelope's identity box, and return a
    new identity wrap (bytes) for the requester only. DecryptError if the custodian cannot."""
    env = _as_envelope(envelope)
    if env.identity is None:
        raise DecryptError()
    ik = envelope_identity_key(env, custodian)
    open_identity_v2(ik, env.context, env.identity)
    return rewrap_identity_key(ik, requester, env.context)


def open_released_identity(
    envelope: ReportEnvelope | Mapping[str, Any] | str,
    release_wrap: bytes,
    key_pair: KeyPair,
) -> dict[str, str]:
    """The requester opens a released identity: the release wrap must be addressed to
    `key_pair`, IK must match the envelope's commitment, and the requester's own data-key wrap
    must open the content box (which authenticates that commitment), so a server cannot swap
    in another identity. DecryptError on any failure."""
    env = _as_envelope(envelope)
    if env.identity is None or env.v != ENVELOPE_V2:
        raise DecryptError()
    dk = envelope_data_key(env, key_pair)
    open_content(dk, env.context, env.content, identity_commitment=env.identity_commitment)
    ik = _checked_identity_key(env, unwrap_identity_key(release_wrap, env.context, key_pair))
    return open_identity_v2(ik, env.context, env.identity)


def add_recipient(
    envelope: ReportEnvelope | Mapping[str, Any] | str,
    data_key: DataKey | bytes,
    recipients: Iterable[PublicKey | str | bytes],
) -> ReportEnvelope:
    """Escalation: the envelope with new wraps, made by a holder of the data key.

    Checks first that `data_key` really is this report's key (it must open the content).
    The identity key is not touched: escalation never gives access to a v2 identity.
    """
    env = _as_envelope(envelope)
    dk = as_data_key(data_key)
    open_content(dk, env.context, env.content, identity_commitment=env.identity_commitment)
    for recipient in recipients:
        env = env.with_wrap(wrap_data_key(dk, env.context, recipient))
    return env
