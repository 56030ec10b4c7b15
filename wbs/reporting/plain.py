"""The no-JavaScript reporter service: sealing a posted form, reading and answering the mailbox.

The documented exception to "the server never sees plaintext": without JavaScript the
posted form is sealed here, in memory, with the `crypto` library, exactly as a browser
would seal it (to the channel's signed recipients minus those left out, plus the
receipt-derived reporter key), then stored through `service.submit(server_sealed=True)`.
The mailbox is decrypted here for one response. Nothing readable is written to disk,
logged, or kept after the response; the uploaded files never leave memory
(`wbs.core.files.parse_multipart` without a store).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData, UploadFile

from crypto import attachment
from crypto import envelope as envelopes
from crypto import receipt as receipts
from crypto.boxes import DataKey, ReportContext
from crypto.encoding import b64u_decode, b64u_encode
from crypto.errors import CryptoError
from wbs.core.errors import PayloadTooLarge, ValidationFailed
from wbs.core.text import Text
from wbs.reporting import service
from wbs.reporting.context import Reporting
from wbs.reporting.models import Message, Report
from wbs.reporting.schemas import AttachmentIn, Envelope
from wbs.units.models import CaseType


@dataclass
class PlainFile:
    """An uploaded file on the no-JavaScript path, held in memory only."""

    name: str
    content_type: str
    data: bytes = b""

    def __repr__(self) -> str:
        return f"PlainFile(size={len(self.data)})"


@dataclass
class PlainMessage:
    sender: str
    at: datetime
    text: str = field(repr=False)
    files: list[str] = field(default_factory=list, repr=False)


@dataclass
class PlainMailbox:
    case_number: str
    channel: str
    status_label: Text
    submitted_at: datetime
    server_sealed: bool
    fields: dict[str, str] = field(repr=False)
    messages: list[PlainMessage] = field(repr=False)
    notices: list[tuple[datetime, Text]] = field(default_factory=list)


class ReceiptMistyped(ValidationFailed):
    code = "receipt_invalid"
    message_id = "Tanda terima salah ketik atau tidak lengkap. Periksa setiap karakter."
    message_en = "The receipt has a typing mistake or is incomplete. Check every character."


async def plain_files(form: FormData, ctx: Reporting, name: str) -> list[PlainFile]:
    """Uploaded files (empty file inputs are skipped), checked against the limits."""
    limits = ctx.limits
    uploads = [u for u in form.getlist(name) if isinstance(u, UploadFile) and u.filename]
    if len(uploads) > limits.report_max_files:
        raise ValidationFailed(
            f"Paling banyak {limits.report_max_files} lampiran.",
            f"At most {limits.report_max_files} attachments.",
        )
    files = []
    total = 0
    for upload in uploads:
        data = await upload.read(limits.report_max_file_bytes + 1)
        if len(data) > limits.report_max_file_bytes:
            raise PayloadTooLarge(
                f"Lampiran terlalu besar (maks. {limits.report_max_file_bytes // 2**20} MiB).",
                f"An attachment is too large (at most {limits.report_max_file_bytes // 2**20} "
                "MiB).",
            )
        total += len(data)
        if not data:
            continue
        files.append(
            PlainFile(
                name=(upload.filename or "lampiran")[-200:],
                content_type=(upload.content_type or "application/octet-stream")[:100],
                data=data,
            )
        )
    if total > limits.report_max_total_bytes:
        raise PayloadTooLarge(
            f"Total lampiran maks. {limits.report_max_total_bytes // 2**20} MiB.",
            f"Attachments may total at most {limits.report_max_total_bytes // 2**20} MiB.",
        )
    return files


def _receipt_keys(receipt: str) -> receipts.ReceiptKeys:
    try:
        return receipts.derive_from_receipt(receipt)
    except (CryptoError, ValueError):
        raise ReceiptMistyped() from None


def _seal_files(
    data_key: DataKey, rctx: ReportContext, files: list[PlainFile]
) -> tuple[list[AttachmentIn], list[service.IncomingAttachment]]:
    declared, streams = [], []
    for f in files:
        aid = str(uuid.uuid4())
        stream = attachment.encrypt_attachment(data_key, rctx, aid, f.data)
        meta = attachment.seal_attachment_metadata(data_key, rctx, aid, f.name, f.content_type)
        declared.append(AttachmentIn(id=aid, metadata=b64u_encode(meta), size=len(stream)))
        streams.append(service.IncomingAttachment(id=aid, source=stream))
    return declared, streams


async def submit_plain(
    db: AsyncSession,
    ctx: Reporting,
    *,
    work: service.Redeemed,
    found: service.UnitChannels,
    channel: CaseType,
    fields: dict[str, str],
    identity: dict[str, str] | None,
    files: list[PlainFile],
    excluded: list[str],
) -> tuple[service.Submitted, str]:
    """Seal a posted form in memory and store it as a server-sealed case: (…, receipt).

    `found` is the unit and its directory as the route loaded them (once per request).
    """
    if found.signed is None:
        raise service.ChannelNotReady()
    recipients = [r.public_key for r in found.recipients(channel) if r.key_id not in set(excluded)]
    custodians = [c.public_key for c in found.custodians()]
    if not recipients:
        raise ValidationFailed(
            "Minimal satu petugas harus menerima laporan.",
            "At least one officer must receive the report.",
        )
    receipt = receipts.new_receipt()
    keys = _receipt_keys(receipt)
    report_id = str(uuid.uuid4())
    sealed = envelopes.seal_report(
        unit=found.unit.code,
        channel=channel.value,
        report_id=report_id,
        content=fields,
        identity=identity,
        recipients=recipients,
        reporter_key=keys.reporter_public_key,
        # with custodians signed: envelope v2, the identity only under their identity key
        identity_recipients=custodians or None,
    )
    declared, streams = _seal_files(
        sealed.data_key, ReportContext(found.unit.code, channel.value, report_id), files
    )
    submitted = await service.submit(
        db,
        ctx,
        envelope=Envelope.model_validate(sealed.envelope.to_json()),
        lookup=keys.lookup,
        excluded=excluded,
        attachments=declared,
        files=streams,
        work=work,
        server_sealed=True,
        directory_version=found.signed.version,
        found=found,
    )
    return submitted, receipt


async def report_for_receipt(
    db: AsyncSession, ctx: Reporting, receipt: str, work: service.Redeemed
) -> Report:
    """The report a typed receipt opens (no mailbox session is made for it)."""
    return await service.report_for_receipt(db, ctx, _receipt_keys(receipt).lookup, work=work)


def _open(view: service.MailboxView, receipt: str) -> tuple[DataKey, ReportContext]:
    env = view.envelope
    try:
        data_key = envelopes.envelope_data_key(env, _receipt_keys(receipt).key_pair)
    except CryptoError:
        raise ReceiptMistyped() from None
    return data_key, ReportContext(str(env["unit"]), str(env["channel"]), str(env["report_id"]))


async def open_mailbox_plain(
    db: AsyncSession, ctx: Reporting, report: Report, receipt: str
) -> PlainMailbox:
    """Decrypt the reporter's view in memory for this response only."""
    view = await service.mailbox_view(db, ctx, report)
    data_key, rctx = _open(view, receipt)
    commitment = view.envelope.get("identity_commitment")  # v2: bound in the content box
    content = envelopes.open_content(
        data_key,
        rctx,
        b64u_decode(str(view.envelope["content"])),
        identity_commitment=b64u_decode(commitment) if isinstance(commitment, str) else None,
    )
    names: dict[str, str] = {}
    for item, _message_id in view.attachments:
        try:
            meta = attachment.open_attachment_metadata(
                data_key, rctx, item.public_id, b64u_decode(item.metadata_box)
            )
            names[item.public_id] = meta.name
        except CryptoError:
            names[item.public_id] = item.public_id
    messages = []
    for message, attachment_ids in view.messages:
        role = message.sender_role.value
        try:
            text = envelopes.open_message(
                data_key, rctx, role, message.public_id, b64u_decode(message.box)
            )
        except CryptoError:
            text = "⚠"
        messages.append(
            PlainMessage(role, message.created_at, text, [names[a] for a in attachment_ids])
        )
    return PlainMailbox(
        case_number=report.case_number,
        channel=report.case_type.value,
        status_label=view.status_label,
        submitted_at=report.submitted_at,
        server_sealed=report.server_sealed,
        fields=content,
        messages=messages,
        notices=[(n.created_at, service.notice_text(n)) for n in view.notices],
    )


async def post_reporter_message_plain(
    db: AsyncSession,
    ctx: Reporting,
    report: Report,
    receipt: str,
    text: str,
    files: list[PlainFile],
) -> Message:
    """A reporter's answer without JavaScript, sealed in memory like the browser would."""
    view = await service.mailbox_view(db, ctx, report)
    data_key, rctx = _open(view, receipt)
    message_id = str(uuid.uuid4())
    box = envelopes.seal_message(data_key, rctx, "reporter", message_id, text)
    declared, streams = _seal_files(data_key, rctx, files)
    return await service.post_reporter_message(
        db,
        ctx,
        report,
        message_id=message_id,
        box=b64u_encode(box),
        attachments=declared,
        files=streams,
    )
