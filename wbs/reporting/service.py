"""Submitting reports, case numbers, proofs, the receipt login and the reporter's mailbox.

The server checks shapes, sizes, recipients and the anti-spam work, then stores ciphertext.
It never decrypts, except on the documented no-JavaScript path (`wbs.reporting.plain`, which
seals in memory with the `crypto` library).
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from hashlib import sha256
from typing import Any, TypeVar

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from crypto.encoding import b64u_decode
from crypto.envelope import wrap_key_id
from crypto.errors import CryptoError
from crypto.identity import COMMITMENT_LEN, identity_wrap_header
from crypto.keys import key_id_of
from wbs.audit import service as audit
from wbs.audit.models import AuditEvent
from wbs.core.blobs import BlobWriter
from wbs.core.db import unique_violation, utcnow
from wbs.core.errors import (
    Conflict,
    DomainError,
    NotAuthenticated,
    NotFound,
    PayloadTooLarge,
    TooManyRequests,
    ValidationFailed,
)
from wbs.core.text import Text
from wbs.directory import service as directory
from wbs.directory.document import Recipient
from wbs.directory.models import SignedDirectory
from wbs.indicators import aggregates as indicator_aggregates
from wbs.reporting import proof as proofs
from wbs.reporting import repository
from wbs.reporting.context import DirectorySnapshot, Reporting
from wbs.reporting.models import (
    Attachment,
    CaseStatus,
    IdentityWrap,
    IdentityWrapKind,
    MailboxSession,
    Message,
    Report,
    ReportNotice,
    ReportWrap,
    SenderRole,
)
from wbs.reporting.pow import PowFailed, Spent
from wbs.reporting.schemas import AttachmentIn, Envelope, PowSolution
from wbs.staff.models import Staff
from wbs.units.models import CaseType, Channel, Unit

WIB = timezone(timedelta(hours=7))
CASE_PREFIX: dict[CaseType, str] = {
    CaseType.wbs: "WBS",
    CaseType.pengaduan: "PGD",
    CaseType.gratifikasi: "GRT",
    CaseType.benturan_kepentingan: "BKP",
}
REPORTER = "pelapor"  # the audit actor name for anonymous reporters
SUBMIT_ACTION = "report.submit"

T = TypeVar("T")


class RecipientsMismatch(ValidationFailed):
    code = "recipients_mismatch"
    message_id = (
        "Penerima laporan tidak sesuai dengan direktori kunci unit. Muat ulang halaman lalu "
        "kirim lagi; laporan Anda belum tersimpan."
    )
    message_en = (
        "The report's recipients do not match the unit's key directory. Reload the page and "
        "send again; your report has not been saved yet."
    )


class IdentityCustodiansMismatch(ValidationFailed):
    code = "identity_custodians_mismatch"
    message_id = (
        "Identitas pelapor harus dienkripsi tepat untuk penjaga identitas dalam direktori kunci "
        "unit (amplop versi 2). Muat ulang halaman lalu kirim lagi; laporan Anda belum tersimpan."
    )
    message_en = (
        "The reporter's identity must be encrypted for exactly the identity custodians of the "
        "unit's key directory (envelope version 2). Reload the page and send again; your "
        "report has not been saved yet."
    )


class EnvelopeMalformed(ValidationFailed):
    code = "envelope_malformed"
    message_id = (
        "Amplop laporan tidak sah: versi 2 memuat identitas, minimal satu bungkus kunci "
        "identitas dan komitmennya; versi 1 tidak memuat keduanya."
    )
    message_en = (
        "The report envelope is malformed: version 2 carries an identity, at least one "
        "identity-key wrap and its commitment; version 1 carries neither."
    )


class DirectoryChanged(Conflict):
    code = "directory_changed"
    message_id = "Direktori kunci unit baru saja diperbarui. Kirim ulang laporan Anda."
    message_en = "The unit's key directory was just updated. Send your report again."


class ChannelNotReady(DomainError):
    status, code = 503, "channel_not_ready"
    message_id = "Kanal ini belum siap menerima laporan (belum ada petugas yang disetujui)."
    message_en = "This channel cannot receive reports yet (no approved officer)."


class WorkReplayed(PowFailed):
    code = "pow_replayed"
    message_id = "Bukti anti-spam ini sudah dipakai. Muat ulang halaman lalu kirim lagi."
    message_en = "This anti-spam proof was already used. Reload the page and send again."


class MailboxFull(TooManyRequests):
    code = "mailbox_full"


class MailboxTooLarge(PayloadTooLarge):
    code = "mailbox_too_large"


class TooManyFiles(ValidationFailed):
    code = "too_many_files"


class FieldTooLarge(PayloadTooLarge):
    code = "field_too_large"


@dataclass
class IncomingAttachment:
    """An encrypted attachment as received: bytes, or a file part written into the store."""

    id: str
    source: bytes | BlobWriter


@dataclass
class StoredBlob:
    id: str
    metadata: str
    name: str
    size: int
    created: bool


@dataclass
class Proof:
    v: int
    case_number: str
    unit: str
    submitted_at: str
    envelope_sha256: str
    public_key: str
    signature: str
    # The leaf hash of the submission's audit entry and the audit tree-head key (hex), both
    # signed in v2; in a v1 proof (older reports) the leaf is unsigned and the key absent.
    audit_leaf: str | None = None
    audit_public_key: str | None = None

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


@dataclass
class Submitted:
    report: Report
    unit: Unit
    proof: Proof


@dataclass
class MailboxView:
    report: Report
    unit: Unit
    envelope: dict[str, object]
    messages: list[tuple[Message, list[str]]]
    attachments: list[tuple[Attachment, str | None]]
    proof: Proof
    status_label: Text = field(default=Text("", ""))
    notices: list[ReportNotice] = field(default_factory=list)


# --------------------------------------------------------------------------- limits


def _b64u_bytes(text_len: int) -> int:
    return text_len * 3 // 4


def check_box_size(box: str, limit: int, what: Text) -> None:
    if _b64u_bytes(len(box)) > limit + 64:
        raise FieldTooLarge(
            f"{what.id} terlalu panjang (maks. {limit // 1024} KiB).",
            f"{what.en} is too long (at most {limit // 1024} KiB).",
        )


def check_files(ctx: Reporting, declared: Sequence[AttachmentIn], received: Sequence[str]) -> None:
    limits = ctx.limits
    if len(declared) > limits.report_max_files:
        raise TooManyFiles(
            f"Paling banyak {limits.report_max_files} lampiran.",
            f"At most {limits.report_max_files} attachments.",
        )
    total = 0
    for item in declared:
        if item.size > limits.report_max_file_bytes:
            raise PayloadTooLarge(
                f"Lampiran terlalu besar (maks. {limits.report_max_file_bytes // 2**20} MiB).",
                f"An attachment is too large (at most {limits.report_max_file_bytes // 2**20} "
                "MiB).",
            )
        total += item.size
    if total > limits.report_max_total_bytes:
        raise PayloadTooLarge(
            f"Total lampiran maks. {limits.report_max_total_bytes // 2**20} MiB.",
            f"Attachments may total at most {limits.report_max_total_bytes // 2**20} MiB.",
        )
    ids = [a.id for a in declared]
    if len(set(ids)) != len(ids) or sorted(ids) != sorted(received):
        raise ValidationFailed(
            "Daftar lampiran tidak sesuai dengan berkas yang dikirim.",
            "The attachment list does not match the files sent.",
        )


def store_files(
    ctx: Reporting, declared: Sequence[AttachmentIn], files: Sequence[IncomingAttachment]
) -> list[StoredBlob]:
    """Write the ciphertext streams (before any database work, so no lock is held meanwhile)."""
    check_files(ctx, declared, [f.id for f in files])
    by_id = {f.id: f for f in files}
    stored: list[StoredBlob] = []
    with discard_on_error(ctx, stored):
        for item in declared:
            check_box_size(item.metadata, 4096, Text("Keterangan lampiran", "Attachment metadata"))
            put = ctx.blobs.put(by_id[item.id].source, ctx.limits.report_max_file_bytes)
            stored.append(StoredBlob(item.id, item.metadata, put.name, put.size, put.created))
            if put.size != item.size:
                raise ValidationFailed(
                    "Ukuran lampiran tidak sesuai.", "An attachment's size does not match."
                )
    return stored


def _attachment_row(
    report: Report, item: StoredBlob, now: datetime, message_id: int | None = None
) -> dict[str, object]:
    return {
        "report_id": report.id,
        "message_id": message_id,
        "public_id": item.id,
        "metadata_box": item.metadata,
        "size": item.size,
        "blob": item.name,
        "created_at": now,
    }


async def _insert_wraps(
    db: AsyncSession,
    envelope: Envelope,
    report: Report,
    wrap_ids: list[str],
    identity_kids: list[str],
    staff_by_key: dict[str, int | None],
    reporter: str,
) -> None:
    """The report's key wraps and identity wraps, one INSERT statement per table."""
    now = report.submitted_at
    await repository.add_rows(
        db,
        ReportWrap,
        [
            {
                "report_id": report.id,
                "key_id": kid,
                "recipient": SenderRole.reporter if kid == reporter else SenderRole.officer,
                "staff_id": None if kid == reporter else staff_by_key.get(kid),
                "wrap": text,
                "added_by_id": None,
                "created_at": now,
            }
            for text, kid in zip(envelope.wraps, wrap_ids, strict=True)
        ],
    )
    await repository.add_rows(
        db,
        IdentityWrap,
        [
            {
                "report_id": report.id,
                "key_id": kid,
                "staff_id": staff_by_key.get(kid),
                "kind": IdentityWrapKind.original,
                "wrap": text,
                "request_id": None,
                "created_at": now,
            }
            for text, kid in zip(envelope.identity_wraps or [], identity_kids, strict=True)
        ],
    )


class AlreadySent(Conflict):
    """A report with this report id is stored (the browser's retry of one it sent)."""

    code = "report_already_sent"
    message_id = "Laporan ini sudah terkirim."
    message_en = "This report was already sent."


class ReceiptInUse(Conflict):
    code = "receipt_in_use"
    message_id = "Tanda terima sudah dipakai."
    message_en = "This receipt is already in use."


def already_sent() -> Conflict:
    return AlreadySent()


def receipt_in_use() -> Conflict:
    return ReceiptInUse()


def attachment_exists() -> Conflict:
    return Conflict("Lampiran sudah ada.", "An attachment with that id exists.")


def message_sent() -> Conflict:
    return Conflict("Pesan ini sudah terkirim.", "This message was already sent.")


@contextmanager
def duplicates_as_conflicts(conflicts: dict[str, Conflict]) -> Iterator[None]:
    """A unique constraint hit at flush (a concurrent request with the same ids won the
    race past the checks above it) answers with the same Conflict as the sequential check.
    The request's transaction is rolled back by the caller, so nothing is half-written;
    any other integrity error stays an error."""
    try:
        yield
    except IntegrityError as exc:
        conflict = conflicts.get(unique_violation(exc) or "")
        if conflict is None:
            raise
        raise conflict from None


@contextmanager
def discard_on_error(ctx: Reporting, stored: list[StoredBlob]) -> Iterator[None]:
    """If the request fails, remove the blobs it created (nothing will reference them)."""
    try:
        yield
    except BaseException:
        for blob in stored:
            if blob.created:
                ctx.blobs.discard(blob.name)
        raise


# --------------------------------------------------------------------------- anti-spam work


@dataclass(frozen=True)
class Redeemed:
    """This request's anti-spam work was checked and recorded as spent (see `redeem_*`)."""

    purpose: str
    subject: str


async def _record(db: AsyncSession, spent: Spent) -> None:
    if not await repository.record_spent(db, spent.key, spent.expires_at):
        raise WorkReplayed()


async def redeem_pow(
    db: AsyncSession, ctx: Reporting, pow: PowSolution | None, *, subject: str, purpose: str
) -> Redeemed:
    """Check a hash proof for `subject` and record it as spent; only then charge the shared
    submission bucket (a submission's work).

    Only flushes: the route commits at once, so that the record and the charge survive a
    request that fails later (else one solved proof could be replayed to drain the buckets),
    and the bucket's row is locked only until that early commit.
    """
    if pow is None:
        raise ValidationFailed("Bukti kerja anti-spam wajib.", "The anti-spam proof is required.")
    try:
        spent = ctx.pow.check(pow.challenge, subject, pow.nonce, purpose=purpose)
        if purpose == "submit":  # recorded and charged in one round trip where it can be
            load = await ctx.submit_bucket.take_spending(db, spent.key, spent.expires_at)
            if load is None:
                raise WorkReplayed()
            ctx.check_current(spent, load)
        else:
            await _record(db, spent)
    except WorkReplayed:
        if purpose == "submit":
            # Work for a report is bound to its report id: a replay is the same report sent
            # again (a retry or a concurrent duplicate, or after an attempt that failed).
            raise Conflict(
                "Laporan ini sudah dikirim atau sedang diproses. Bila Anda belum menerima "
                "tanda terima, muat ulang halaman lalu kirim lagi.",
                "This report was already sent or is being processed. If you received no "
                "receipt, reload the page and send again.",
            ) from None
        raise
    return Redeemed(purpose, subject)


async def redeem_form(db: AsyncSession, ctx: Reporting, token: str, *, purpose: str) -> Redeemed:
    """The no-JavaScript counterpart of `redeem_pow`: a signed, timed, single-use challenge."""
    await _record(db, ctx.forms.check(token, purpose))
    if purpose == "report":
        await ctx.plain_bucket.take(db)
        await ctx.submit_bucket.take(db)
    return Redeemed(f"form-{purpose}", token)


# --------------------------------------------------------------------------- submission


def case_number(case_type: CaseType, year: int, seq: int) -> str:
    return f"{CASE_PREFIX[case_type]}-{year}-{seq:06d}"


def _wrap_key_ids(envelope: Envelope) -> list[str]:
    ids = []
    for text in envelope.wraps:
        try:
            ids.append(wrap_key_id(b64u_decode(text)))
        except ValueError:
            raise RecipientsMismatch() from None
    return ids


def _identity_wrap_key_ids(envelope: Envelope) -> list[str]:
    """Key ids of a v2 envelope's identity wraps ([] for v1); EnvelopeMalformed unless the
    version and the identity fields agree (docs/crypto-format.md, envelope v2)."""
    v2_fields = (envelope.identity_wraps, envelope.identity_commitment)
    if envelope.v == 1:
        if any(f is not None for f in v2_fields):
            raise EnvelopeMalformed()
        return []
    if envelope.identity is None or not envelope.identity_wraps or not envelope.identity_commitment:
        raise EnvelopeMalformed()
    try:
        if len(b64u_decode(envelope.identity_commitment)) != COMMITMENT_LEN:
            raise EnvelopeMalformed()
        return [identity_wrap_header(b64u_decode(w))[1] for w in envelope.identity_wraps]
    except (CryptoError, ValueError):
        raise EnvelopeMalformed() from None


def _check_custodians(envelope: Envelope, kids: list[str], custodians: set[str]) -> None:
    """A v2 identity is wrapped to exactly the signed custodians; with custodians signed, an
    identity is never sent as v1 (where every data-key holder could open it)."""
    if envelope.v == 2:
        if not custodians or len(kids) != len(set(kids)) or set(kids) != custodians:
            raise IdentityCustodiansMismatch()
    elif envelope.identity is not None and custodians:
        raise IdentityCustodiansMismatch()


def _reporter_key_id(envelope: Envelope) -> str:
    try:
        return key_id_of(envelope.reporter_key)
    except ValueError:
        raise ValidationFailed(
            "Kunci pelapor tidak valid.", "The reporter key is not valid."
        ) from None


@dataclass
class UnitChannels:
    """A unit found by its code, its channels and its signed directory, loaded once."""

    unit: Unit
    channels: dict[CaseType, Channel]
    directory: DirectorySnapshot | None
    indicators_tz: str | None = None  # read with the unit: a new report is counted in it

    @property
    def signed(self) -> SignedDirectory | None:
        return self.directory.signed if self.directory else None

    def channel(self, case_type: CaseType) -> Channel:
        """The unit's enabled channel of that type; NotFound otherwise."""
        channel = self.channels.get(case_type)
        if channel is None or not channel.enabled:
            raise NotFound("Kanal tidak ditemukan.", "Channel not found.")
        return channel

    def recipients(self, case_type: CaseType) -> list[Recipient]:
        """The channel's signed recipients (none while the directory is not signed)."""
        return list(self.directory.channels.get(case_type.value, [])) if self.directory else []

    def ready(self, case_type: CaseType) -> bool:
        return bool(self.recipients(case_type))

    def custodians(self) -> list[Recipient]:
        """The unit's signed identity custodians (envelope v2); none without a directory."""
        return list(self.directory.custodians) if self.directory else []


async def _directory_snapshot(db: AsyncSession, unit_id: int, version: int) -> DirectorySnapshot:
    signed = await repository.signed_directory(db, unit_id, version)
    doc = directory.parsed(signed)
    channels = {name: list(entries) for name, entries in doc.channels.items()}
    everyone = [r for entries in channels.values() for r in entries] + list(doc.custodians)
    return DirectorySnapshot(
        signed=signed,
        channels=channels,
        custodians=list(doc.custodians),
        staff_by_key=await directory.staff_for_keys(db, unit_id, everyone),
    )


async def unit_channels(db: AsyncSession, code: str, ctx: Reporting | None = None) -> UnitChannels:
    """A unit by its code with its channels and directory; NotFound when there is none.

    One query; the directory itself (document parsed, key owners) comes from `ctx`'s
    per-process cache when its newest version and signature are already known there."""
    found = await repository.unit_snapshot(db, code.strip().upper())
    if found is None:
        raise NotFound("Unit tidak ditemukan.", "Unit not found.")
    unit, newest = found.unit, found.newest
    snapshot = None
    if newest is not None:
        key = (unit.id, *newest)
        snapshot = ctx.cached_directory(key) if ctx else None
        if snapshot is None:
            snapshot = await _directory_snapshot(db, unit.id, newest[0])
            if ctx:
                ctx.cache_directory(key, snapshot)
    channels = {c.case_type: c for c in found.channels}
    return UnitChannels(unit, channels, snapshot, found.indicators_tz)


def sign_proof(ctx: Reporting, report: Report, unit: Unit, audit_leaf: str) -> Proof:
    return Proof(
        **proofs.sign_proof(
            ctx.master,
            case_number=report.case_number,
            unit=unit.code,
            submitted_at=report.submitted_at,
            envelope_sha256=report.envelope_sha256,
            audit=(audit_leaf, audit.public_key_hex(ctx.master)),
        )
    )


def proof_of(ctx: Reporting, report: Report, unit: Unit, audit_leaf: str | None) -> Proof:
    """The stored proof of a report (signature kept at submission time)."""
    fields = proofs.proof_fields(
        ctx.master,
        case_number=report.case_number,
        unit=unit.code,
        submitted_at=report.submitted_at,
        envelope_sha256=report.envelope_sha256,
        signature=report.proof_signature,
        audit=None if audit_leaf is None else (audit_leaf, audit.public_key_hex(ctx.master)),
    )
    return Proof(**({"audit_leaf": audit_leaf} | fields))


async def submit(
    db: AsyncSession,
    ctx: Reporting,
    *,
    envelope: Envelope,
    lookup: bytes,
    excluded: Sequence[str] = (),
    attachments: Sequence[AttachmentIn] = (),
    files: Sequence[IncomingAttachment] = (),
    work: Redeemed,
    server_sealed: bool = False,
    directory_version: int | None = None,
    found: UnitChannels | None = None,
) -> Submitted:
    """Store one report as a new case; returns it with the signed proof of submission.

    `work` is the redeemed anti-spam work (hash proof for this report id, or the form
    challenge of a server-sealed report), which also charged the shared buckets.
    `found` is the envelope's unit as the caller already loaded it in this transaction.
    """
    if server_sealed:
        if work.purpose != "form-report":
            raise PowFailed()
    elif work != Redeemed("submit", envelope.report_id):
        raise PowFailed()
    if len(lookup) != 32:
        raise ValidationFailed("Tanda terima tidak valid.", "The receipt is not valid.")
    limits = ctx.limits
    check_box_size(
        envelope.content, limits.report_max_content_bytes, Text("Isi laporan", "The report")
    )
    if envelope.identity is not None:
        check_box_size(
            envelope.identity, limits.report_max_identity_bytes, Text("Data identitas", "Identity")
        )
    wrap_ids = _wrap_key_ids(envelope)
    identity_kids = _identity_wrap_key_ids(envelope)
    reporter_kid = _reporter_key_id(envelope)
    stored = store_files(ctx, attachments, files)

    # Database work starts here (on SQLite this takes the write lock).
    with discard_on_error(ctx, stored):
        if found is None or found.unit.code != envelope.unit.strip().upper():
            found = await unit_channels(db, envelope.unit, ctx)
        unit, channel, signed = found.unit, found.channel(envelope.channel), found.signed
        if signed is None or found.directory is None:
            raise ChannelNotReady()
        if directory_version is not None and directory_version != signed.version:
            raise DirectoryChanged()
        recipients = {r.key_id: r for r in found.recipients(envelope.channel)}
        if not recipients:
            raise ChannelNotReady()
        excluded_set = set(excluded)
        if not excluded_set <= recipients.keys():
            raise RecipientsMismatch()
        expected = (recipients.keys() - excluded_set) | {reporter_kid}
        if len(expected) == 1:
            raise ValidationFailed(
                "Minimal satu petugas harus menerima laporan.",
                "At least one officer must receive the report.",
            )
        if len(wrap_ids) != len(set(wrap_ids)) or set(wrap_ids) != expected:
            raise RecipientsMismatch()
        custodians = found.custodians()
        _check_custodians(envelope, identity_kids, {c.key_id for c in custodians})
        staff_by_key = found.directory.staff_by_key
        now = utcnow()
        year = now.astimezone(WIB).year
        values: dict[str, Any] = {
            "public_id": envelope.report_id,
            "unit_id": unit.id,
            "channel_id": channel.id,
            "case_type": envelope.channel,
            "year": year,
            # a placeholder, unique per report, until the number is taken just before commit
            "seq": 0,
            "case_number": "~" + sha256(envelope.report_id.encode()).hexdigest()[:31],
            "submitted_at": now,
            "last_activity_at": now,
            "status_changed_at": now,
            "status": CaseStatus.diterima,
            "server_sealed": server_sealed,
            "lookup_hash": ctx.lookup_hash(lookup),
            "envelope_version": envelope.v,
            "content": envelope.content,
            "identity": envelope.identity,
            "identity_commitment": envelope.identity_commitment,
            "reporter_key": envelope.reporter_key,
            "envelope_sha256": proofs.envelope_sha256(
                envelope.model_dump(mode="json", exclude_unset=True)
            ),
            "proof_signature": "",
            "directory_version": signed.version,
            "excluded_key_ids": sorted(excluded_set),
            "excluded_staff_ids": sorted(
                staff_by_key[k] for k in excluded_set if staff_by_key.get(k) is not None
            ),
            "mailbox_messages": 0,
            "mailbox_bytes": 0,
        }
        # Core statements, no ORM unit of work: the report is never in the session, so the
        # indicators count it explicitly (`add_fresh`) instead of by the flush listener.
        # No duplicate pre-checks: the unique constraints decide, for sequential duplicates
        # and concurrent twins alike, and a violation is the same 409; the caller rolls the
        # transaction back, so nothing is half-written (and no case number was taken yet).
        with duplicates_as_conflicts(
            {
                "uq_reports_public_id": already_sent(),
                "uq_reports_lookup_hash": receipt_in_use(),
                "uq_report_attachments_public_id": attachment_exists(),
            }
        ):
            report_id = await repository.insert_report(db, values)
            report = Report(id=report_id, **values)  # transient: the answer's and proof's values
            await _insert_wraps(
                db, envelope, report, wrap_ids, identity_kids, staff_by_key, reporter_kid
            )
            await repository.add_rows(
                db, Attachment, [_attachment_row(report, item, now) for item in stored]
            )
        # The case number last: its counter row stays locked only from here to the commit.
        report.seq = await repository.next_case_seq(db, unit.id, envelope.channel, year)
        report.case_number = case_number(envelope.channel, year, report.seq)
        entry = audit.new_event(
            unit=unit,
            actor_id=None,
            actor=REPORTER,
            action=SUBMIT_ACTION,
            object_type="report",
            object_id=report.case_number,
            details={
                "channel": envelope.channel.value,
                "server_sealed": server_sealed,
                "attachments": len(stored),
                "recipients": len(expected) - 1,
                "excluded": len(excluded_set),
                "directory_version": signed.version,
                "envelope_version": envelope.v,
                "custodians": len(identity_kids),
            },
        )
        proof = sign_proof(ctx, report, unit, entry.leaf_hash)
        report.proof_signature = proof.signature
        await repository.number_report(
            db,
            report_id,
            seq=report.seq,
            case_number=report.case_number,
            proof_signature=proof.signature,
        )
        await audit.insert_event(db, entry)
        indicator_aggregates.add_fresh(
            db,
            report_id,
            indicator_aggregates.NewReport(unit.id, envelope.channel, now, server_sealed),
            found.indicators_tz,
        )
        return Submitted(report=report, unit=unit, proof=proof)


# --------------------------------------------------------------------------- mailbox


async def report_for_receipt(
    db: AsyncSession, ctx: Reporting, lookup: bytes, *, work: Redeemed
) -> Report:
    """The report a receipt's lookup id opens, after redeemed work.

    Every attempt has paid its work before it gets here. The global bucket counts only
    receipts that do not exist, so a flood of guesses slows guessers down but never locks
    out a reporter who has a real receipt.
    """
    return await _opened(db, ctx, lookup, work, repository.by_lookup_hash)


async def _opened(
    db: AsyncSession,
    ctx: Reporting,
    lookup: bytes,
    work: Redeemed,
    find: Callable[[AsyncSession, str], Awaitable[T | None]],
) -> T:
    """What `find` gives for a receipt's lookup id (see `report_for_receipt`)."""
    if work.purpose not in ("login", "form-mailbox"):
        raise PowFailed()
    found = await find(db, ctx.lookup_hash(lookup))
    if found is None or len(lookup) != 32:
        await ctx.login_bucket.take(db)
        raise NotFound(
            "Tanda terima tidak dikenal. Periksa kembali penulisannya.",
            "Unknown receipt. Check how it was typed.",
        )
    return found


async def mailbox_login(
    db: AsyncSession, ctx: Reporting, lookup: bytes, *, work: Redeemed
) -> tuple[str, datetime]:
    """Receipt login after redeemed work (see `report_for_receipt`): (token, expiry)."""
    report_id = await _opened(db, ctx, lookup, work, repository.id_by_lookup_hash)
    token = secrets.token_urlsafe(32)
    expires = utcnow() + timedelta(seconds=ctx.limits.mailbox_session_seconds)
    db.add(
        MailboxSession(
            id=sha256(token.encode()).hexdigest(), report_id=report_id, expires_at=expires
        )
    )
    await db.flush()
    return token, expires


async def mailbox_session(db: AsyncSession, token: str) -> Report:
    if not token or len(token) > 128:
        raise NotAuthenticated("Masuk dengan tanda terima Anda.", "Sign in with your receipt.")
    report = await repository.mailbox_report(db, sha256(token.encode()).hexdigest())
    if report is None:
        raise NotAuthenticated(
            "Sesi kotak surat berakhir. Masuk lagi dengan tanda terima Anda.",
            "The mailbox session ended. Sign in again with your receipt.",
        )
    return report


async def mailbox_logout(db: AsyncSession, token: str) -> None:
    await db.execute(
        delete(MailboxSession).where(MailboxSession.id == sha256(token.encode()).hexdigest())
    )


def envelope_for(
    report: Report,
    unit: Unit,
    wraps: Sequence[ReportWrap],
    *,
    identity: bool,
    identity_wraps: Sequence[IdentityWrap] = (),
) -> dict[str, object]:
    """The stored envelope with only the given wraps (each reader sees its own). Without
    `identity` the identity box is withheld (v2: `identity` null and no identity wraps, the
    commitment kept so that the content still opens); with it, v2 carries `identity_wraps`."""
    envelope: dict[str, object] = {
        "v": report.envelope_version,
        "unit": unit.code,
        "channel": report.case_type.value,
        "report_id": report.public_id,
        "content": report.content,
        "identity": report.identity if identity else None,
    }
    if report.identity_commitment is not None:
        envelope["identity_wraps"] = [w.wrap for w in identity_wraps] if identity else []
        envelope["identity_commitment"] = report.identity_commitment
    envelope["wraps"] = [w.wrap for w in wraps]
    envelope["reporter_key"] = report.reporter_key
    return envelope


def notice_text(notice: ReportNotice) -> Text:
    """A mailbox notice's text in both languages (written from fixed labels, never free
    text, by the domain that adds it: `add_notice`)."""
    return Text(str(notice.details.get("id", "")), str(notice.details.get("en", "")))


def add_notice(db: AsyncSession, report: Report, kind: str, text: Text) -> ReportNotice:
    """A notice to the reporter in the mailbox, in the caller's transaction."""
    notice = ReportNotice(
        report_id=report.id, kind=kind, details={"id": text.id, "en": text.en}, created_at=utcnow()
    )
    db.add(notice)
    return notice


async def thread(
    db: AsyncSession, report: Report
) -> tuple[list[tuple[Message, list[str]]], list[tuple[Attachment, str | None]]]:
    """Messages with their attachment ids, and attachments with their message id."""
    messages = await repository.messages_of(db, report.id)
    attachments = await repository.attachments_of(db, report.id)
    by_pk = {m.id: m.public_id for m in messages}
    per_message: dict[int, list[str]] = {m.id: [] for m in messages}
    for a in attachments:
        if a.message_id is not None:
            per_message[a.message_id].append(a.public_id)
    return (
        [(m, per_message[m.id]) for m in messages],
        [(a, by_pk.get(a.message_id) if a.message_id else None) for a in attachments],
    )


async def submission_entry(db: AsyncSession, report: Report) -> AuditEvent | None:
    return await audit.entry_of(db, report.unit_id, SUBMIT_ACTION, "report", report.case_number)


async def mailbox_audit_proof(db: AsyncSession, report: Report) -> dict[str, Any]:
    """The inclusion proof of the report's submission entry in its unit's audit log."""
    entry = await submission_entry(db, report)
    if entry is None:
        raise NotFound("Entri audit tidak ditemukan.", "Audit entry not found.")
    return await audit.inclusion(db, await repository.unit_of(db, report), entry)


async def mailbox_view(db: AsyncSession, ctx: Reporting, report: Report) -> MailboxView:
    unit = await repository.unit_of(db, report)
    entry = await submission_entry(db, report)
    wraps = await repository.wraps_of(db, report.id, SenderRole.reporter)
    messages, attachments = await thread(db, report)
    return MailboxView(
        report=report,
        unit=unit,
        # v1: the reporter's own identity box (under DK); v2: withheld (the reporter holds
        # no identity wrap)
        envelope=envelope_for(report, unit, wraps, identity=report.envelope_version == 1),
        messages=messages,
        attachments=attachments,
        proof=proof_of(ctx, report, unit, entry.leaf_hash if entry else None),
        status_label=ctx.status_label(report.case_type.value, report.status.value),
        notices=await repository.notices_of(db, report.id),
    )


async def add_message(
    db: AsyncSession,
    ctx: Reporting,
    report: Report,
    *,
    sender: SenderRole,
    staff: Staff | None,
    message_id: str,
    box: str,
    attachments: Sequence[AttachmentIn] = (),
    files: Sequence[IncomingAttachment] = (),
) -> Message:
    """A message in the mailbox thread (either direction), with its encrypted attachments."""
    check_box_size(box, ctx.limits.report_max_message_bytes, Text("Pesan", "The message"))
    check_files(ctx, attachments, [f.id for f in files])
    if sender == SenderRole.reporter:
        size = _b64u_bytes(len(box)) + sum(a.size for a in attachments)
        await charge_mailbox(db, ctx, report, size)
    stored = store_files(ctx, attachments, files)
    with discard_on_error(ctx, stored):
        if await repository.public_id_taken(db, Message, message_id):
            raise message_sent()
        for item in stored:
            if await repository.public_id_taken(db, Attachment, item.id):
                raise attachment_exists()
        now = utcnow()
        message = Message(
            report_id=report.id,
            public_id=message_id,
            sender_role=sender,
            staff_id=staff.id if staff else None,
            box=box,
            created_at=now,
        )
        with duplicates_as_conflicts(
            {
                "uq_report_messages_public_id": message_sent(),
                "uq_report_attachments_public_id": attachment_exists(),
            }
        ):
            db.add(message)
            await db.flush()
            await repository.add_rows(
                db,
                Attachment,
                [_attachment_row(report, item, now, message.id) for item in stored],
            )
        report.last_activity_at = now
        unit = await repository.unit_of(db, report)
        await audit.append(
            db,
            unit=unit,
            actor_id=staff.id if staff else None,
            actor=staff.email if staff else REPORTER,
            action=f"report.message.{sender.value}",
            object_type="report",
            object_id=report.case_number,
            details={"message_id": message_id, "attachments": len(stored)},
        )
        await db.flush()
        return message


async def charge_mailbox(db: AsyncSession, ctx: Reporting, report: Report, size: int) -> None:
    """Meter a reporter's message against the report's quota (before its files are written)."""
    limits = ctx.limits
    if await repository.charge_mailbox(
        db,
        report.id,
        size,
        max_messages=limits.mailbox_max_messages_per_report,
        max_bytes=limits.mailbox_max_bytes_per_report,
    ):
        return
    messages, _used = await repository.mailbox_usage(db, report.id)
    if messages + 1 > limits.mailbox_max_messages_per_report:
        raise MailboxFull(
            f"Batas pesan untuk laporan ini tercapai ({limits.mailbox_max_messages_per_report} "
            "pesan). Hubungi unit melalui jalur lain.",
            f"This report has reached its message limit "
            f"({limits.mailbox_max_messages_per_report} messages). Contact the unit another way.",
        )
    mib = limits.mailbox_max_bytes_per_report // 2**20
    raise MailboxTooLarge(
        f"Batas ukuran pesan dan lampiran untuk laporan ini tercapai (maks. {mib} MiB).",
        f"This report has reached its size limit for messages and attachments (at most {mib} MiB).",
    )


async def post_reporter_message(
    db: AsyncSession,
    ctx: Reporting,
    report: Report,
    *,
    message_id: str,
    box: str,
    attachments: Sequence[AttachmentIn] = (),
    files: Sequence[IncomingAttachment] = (),
) -> Message:
    return await add_message(
        db,
        ctx,
        report,
        sender=SenderRole.reporter,
        staff=None,
        message_id=message_id,
        box=box,
        attachments=attachments,
        files=files,
    )


async def mailbox_attachment(db: AsyncSession, report: Report, public_id: str) -> Attachment:
    found = await repository.attachment(db, report.id, public_id)
    if found is None:
        raise NotFound()
    return found


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
