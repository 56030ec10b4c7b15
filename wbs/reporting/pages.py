"""Public reporter pages: a unit's landing page, report forms, receipts, the mailbox, posters.

Reporter pages set no cookie and log no client address (the access log has none). With
JavaScript the page scripts encrypt in the browser and talk to `/api/v1`; these routes only
serve the pages. Without JavaScript the form posts here and the reporting service seals
the report in memory (`submit_plain`), which the receipt page says.
"""

from __future__ import annotations

import io
import json
import uuid
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData, UploadFile

from wbs.core.bodylimit import body_limit
from wbs.core.db import DbSession
from wbs.core.errors import DomainError, NotFound, PayloadTooLarge, ValidationFailed
from wbs.core.files import check_length, parse_multipart
from wbs.core.i18n import request_language
from wbs.core.security import (
    CSRF_FIELD,
    CSRF_HEADER,
    check_csrf_token,
    check_origin,
    csrf_token,
)
from wbs.core.templating import render
from wbs.directory import service as directory
from wbs.reporting import fields as report_fields
from wbs.reporting import service
from wbs.reporting.context import Reporting, ReportingCtx, form_body_limit
from wbs.reporting.limits import FORM_FIELD_BYTES
from wbs.reporting.schemas import AttachmentIn, Envelope, b64u_decode, b64u_encode
from wbs.staff.deps import OptionalStaff
from wbs.units import repository as units
from wbs.units.models import CHANNEL_NAMES, CaseType, Channel, Unit

router = APIRouter(tags=["reporter pages"], include_in_schema=False)

CHANNEL_ORDER = (
    CaseType.pengaduan,
    CaseType.wbs,
    CaseType.gratifikasi,
    CaseType.benturan_kepentingan,
)
CHALLENGE_FIELD = "tantangan"


# --------------------------------------------------------------------------- helpers


@dataclass
class PlainFile:
    """An uploaded file on the no-JavaScript path, held in memory only."""

    name: str
    content_type: str
    data: bytes = b""

    def __repr__(self) -> str:
        return f"PlainFile(size={len(self.data)})"


@dataclass
class ChannelCard:
    case_type: CaseType
    name: str
    enabled: bool
    ready: bool


@dataclass
class UnitPage:
    unit: Unit
    channels: list[ChannelCard]
    directory_version: int | None


def channel_name(case_type: CaseType, lang: str) -> str:
    name_id, name_en = CHANNEL_NAMES[case_type]
    return name_en if lang == "en" else name_id


async def unit_page(db: DbSession, code: str, lang: str) -> UnitPage:
    """A unit's public data: its channels and whether each has signed recipients."""
    unit = await units.by_code(db, code.strip().upper()[:32])
    if unit is None:
        raise NotFound("Unit tidak ditemukan.", "Unit not found.")
    signed = await directory.current(db, unit.id)
    by_type: dict[CaseType, Channel] = {
        c.case_type: c for c in await units.channels_of(db, unit.id)
    }
    cards = []
    for case_type in CHANNEL_ORDER:
        channel = by_type.get(case_type)
        if channel is None:
            continue
        ready = bool(signed and directory.channel_recipients(signed, case_type))
        cards.append(ChannelCard(case_type, channel_name(case_type, lang), channel.enabled, ready))
    return UnitPage(unit, cards, signed.version if signed else None)


def parse_case_type(value: str) -> CaseType:
    try:
        return CaseType(value)
    except ValueError:
        raise NotFound() from None


def base_url(request: Request) -> str:
    configured = request.app.state.settings.base_url
    return str(configured or str(request.base_url)).rstrip("/")


async def plain_form(request: Request, ctx: ReportingCtx, _staff: OptionalStaff) -> FormData:
    """The no-JavaScript form, parsed in memory within the limits, CSRF and origin checked.

    The token is bound to the form's signed challenge (`form_fields`) and, when a staff
    member happens to be signed in, to the staff session (reporters have no cookie).
    """
    limits = ctx.limits
    check_length(request, limits.form_upload)
    check_origin(request)
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = (await parse_multipart(request, limits.form_upload)).form  # in memory only
    else:
        form = await request.form(max_files=0, max_fields=64, max_part_size=FORM_FIELD_BYTES)
    token = request.headers.get(CSRF_HEADER) or form.get(CSRF_FIELD)
    check_csrf_token(
        request,
        token if isinstance(token, str) else None,
        bind=form_challenge(form),
        max_age=limits.report_form_max_seconds,
    )
    return form


def form_challenge(form: FormData) -> str:
    value = form.get(CHALLENGE_FIELD)
    return value[:96] if isinstance(value, str) else ""


def form_fields(request: Request, ctx: Reporting, purpose: str) -> dict[str, str]:
    """A fresh signed challenge for a no-JavaScript form and the CSRF token bound to it."""
    challenge = ctx.forms.issue(purpose)
    return {"form_challenge": challenge, "form_csrf": csrf_token(request, bind=challenge)}


PlainForm = Annotated[FormData, Depends(plain_form)]


def text_fields(form: FormData) -> dict[str, str]:
    return {k: v for k, v in form.multi_items() if isinstance(v, str)}


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


def proof_json(proof: Any) -> str:
    data = proof.as_dict() if hasattr(proof, "as_dict") else dict(proof)
    return json.dumps(data, indent=2, sort_keys=True, default=str)


# --------------------------------------------------------------------------- landing


@router.get("/", response_class=HTMLResponse)
async def index(request: Request, db: DbSession) -> Response:
    """Every unit that runs channels, with a link to its landing page."""
    from sqlalchemy import select

    found = await db.scalars(select(Unit).order_by(Unit.code).limit(1000))
    return render(request, "public/index.html", {"units": list(found)})


@router.get("/lapor/{code}", response_class=HTMLResponse)
async def landing(request: Request, code: str, db: DbSession, ctx: ReportingCtx) -> Response:
    lang = request_language(request)
    page = await unit_page(db, code, lang)
    return render(
        request,
        "public/unit.html",
        {
            "unit": page.unit,
            "channels": page.channels,
            "forms": report_fields.FORMS,
            "limits": ctx.limits,
        },
    )


# --------------------------------------------------------------------------- poster


def poster_data(request: Request, page: UnitPage, fingerprint: str | None) -> dict[str, Any]:
    address = f"{base_url(request)}/lapor/{page.unit.code}"
    return {
        "unit": page.unit,
        "address": address,
        "fingerprint": fingerprint,
        "channels": page.channels,
    }


async def unit_fingerprint(db: DbSession, unit: Unit) -> str | None:
    key = await directory.directory_key(db, unit.id)
    if key is None:
        return None
    from wbs.reporting import formats

    return formats.directory_fingerprint(key.public_key)


@router.get("/lapor/{code}/poster", response_class=HTMLResponse)
async def poster(request: Request, code: str, db: DbSession) -> Response:
    import segno

    page = await unit_page(db, code, request_language(request))
    data = poster_data(request, page, await unit_fingerprint(db, page.unit))
    qr = segno.make(data["address"], error="m")
    data["qr"] = qr.svg_data_uri(scale=6, border=2)
    return render(request, "public/poster.html", data)


@router.get("/lapor/{code}/poster.pdf")
async def poster_pdf(request: Request, code: str, db: DbSession) -> Response:
    lang = request_language(request)
    page = await unit_page(db, code, lang)
    data = poster_data(request, page, await unit_fingerprint(db, page.unit))
    pdf = make_poster_pdf(
        unit_name=page.unit.name,
        unit_code=page.unit.code,
        address=data["address"],
        fingerprint=data["fingerprint"],
        channels=[c.name for c in page.channels if c.enabled],
        lang=lang,
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="poster-{page.unit.code}.pdf"'},
    )


POSTER_TEXT = {
    "id": (
        "Laporkan pelanggaran, keluhan, gratifikasi, dan benturan kepentingan",
        "Pindai kode QR atau buka alamat ini:",
        "Identitas Anda tidak diminta (kecuali laporan gratifikasi). Laporan dienkripsi di "
        "perangkat Anda; simpan tanda terima untuk melihat tanggapan.",
        "Sidik jari kunci unit (cocokkan dengan yang ditampilkan saat melapor):",
        "Kunci unit belum ditandatangani.",
    ),
    "en": (
        "Report wrongdoing, complaints, gratification and conflicts of interest",
        "Scan the QR code or open this address:",
        "Your identity is not asked for (except for gratification reports). Reports are "
        "encrypted on your device; keep the receipt to read the answers.",
        "Unit key fingerprint (compare with the one shown when you report):",
        "The unit key is not signed yet.",
    ),
}


def make_poster_pdf(
    *,
    unit_name: str,
    unit_code: str,
    address: str,
    fingerprint: str | None,
    channels: list[str],
    lang: str,
) -> bytes:
    """An A4 poster: the unit, its channels, the address as text and QR code, the key."""
    import segno
    from reportlab.graphics import renderPDF
    from reportlab.graphics.shapes import Drawing, Rect
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas

    title, scan, anonymity, key_label, no_key = POSTER_TEXT["en" if lang == "en" else "id"]
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4, invariant=True)
    pdf.setTitle(f"wbs {unit_code}")
    width, height = A4
    y = height - 30 * mm
    pdf.setFont("Helvetica-Bold", 22)
    pdf.drawCentredString(width / 2, y, unit_name[:60])
    y -= 12 * mm
    pdf.setFont("Helvetica", 14)
    pdf.drawCentredString(width / 2, y, title)
    y -= 10 * mm
    pdf.setFont("Helvetica", 12)
    for name in channels:
        pdf.drawCentredString(width / 2, y, "- " + name)
        y -= 7 * mm
    # QR code drawn as vector squares.
    matrix = list(segno.make(address, error="m").matrix_iter(border=2))
    size = 80 * mm
    cell = size / len(matrix)
    drawing = Drawing(size, size)
    for row, cells in enumerate(matrix):
        for col, dark in enumerate(cells):
            if dark:
                drawing.add(
                    Rect(
                        col * cell,
                        size - (row + 1) * cell,
                        cell,
                        cell,
                        fillColor="black",
                        strokeColor=None,
                    )
                )
    y -= size + 5 * mm
    renderPDF.draw(drawing, pdf, (width - size) / 2, y)
    y -= 10 * mm
    pdf.drawCentredString(width / 2, y, scan)
    y -= 8 * mm
    pdf.setFont("Helvetica-Bold", 14)
    pdf.drawCentredString(width / 2, y, address)
    y -= 12 * mm
    pdf.setFont("Helvetica", 10)
    text = pdf.beginText(25 * mm, y)
    for line in _wrap(anonymity, 95):
        text.textLine(line)
    pdf.drawText(text)
    y -= 18 * mm
    pdf.drawString(25 * mm, y, key_label if fingerprint else no_key)
    if fingerprint:
        y -= 7 * mm
        pdf.setFont("Courier-Bold", 13)
        pdf.drawString(25 * mm, y, fingerprint)
    pdf.showPage()
    pdf.save()
    return out.getvalue()


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    if current:
        lines.append(current)
    return lines


# --------------------------------------------------------------------------- report form


async def form_context(
    request: Request, db: DbSession, ctx: Reporting, code: str, case_type: CaseType
) -> dict[str, Any]:
    lang = request_language(request)
    page = await unit_page(db, code, lang)
    card = next((c for c in page.channels if c.case_type == case_type), None)
    if card is None or not card.enabled:
        raise NotFound("Kanal tidak ditemukan.", "Channel not found.")
    signed = await directory.current(db, page.unit.id)
    officers = directory.channel_recipients(signed, case_type) if signed else []
    return {
        "unit": page.unit,
        "channel": card,
        "form": report_fields.form_for(case_type),
        "identity_fields": report_fields.IDENTITY,
        "identity_required": report_fields.identity_required,
        "officers": officers,
        "directory_version": page.directory_version,
        "limits": ctx.limits,
        "errors": {},
        "error_list": [],
        "values": {},
        "excluded": [],
        **form_fields(request, ctx, "report"),
    }


def error_list(
    kind: CaseType, errors: dict[str, tuple[str, str]], lang: str
) -> list[tuple[str, str, str]]:
    """(input id, field label, message) for the summary that links to each field."""
    labels = {f.input_id: f.label(lang) for f in report_fields.form_for(kind).fields}
    labels |= {f"i-{f.name}": f.label(lang) for f in report_fields.IDENTITY}
    return [
        (fid, labels.get(fid, fid), message[1] if lang == "en" else message[0])
        for fid, message in errors.items()
    ]


@router.get("/lapor/{code}/{case_type}", response_class=HTMLResponse)
async def report_form(
    request: Request,
    code: str,
    case_type: str,
    db: DbSession,
    ctx: ReportingCtx,
    _staff: OptionalStaff,
) -> Response:
    data = await form_context(request, db, ctx, code, parse_case_type(case_type))
    return render(request, "reporting/form.html", data)


@router.post("/lapor/{code}/{case_type}", response_class=HTMLResponse)
@body_limit(form_body_limit)
async def report_submit_plain(
    request: Request,
    code: str,
    case_type: str,
    db: DbSession,
    ctx: ReportingCtx,
    form: PlainForm,
) -> Response:
    """The no-JavaScript path: the server seals the report in memory as it arrives."""
    kind = parse_case_type(case_type)
    data = await form_context(request, db, ctx, code, kind)
    posted = text_fields(form)
    cleaned = report_fields.clean(kind, posted)
    known = {o.key_id for o in data["officers"]}
    excluded = sorted({v for v in form.getlist("kecualikan") if isinstance(v, str)} & known)
    try:
        # The form's challenge first, spent and committed before any bucket or other work.
        work = await service.redeem_form(db, ctx, form_challenge(form), purpose="report")
        await db.commit()
        if not cleaned.ok:
            raise ValidationFailed(
                "Periksa kembali isian yang ditandai.", "Check the fields marked below."
            )
        files = await plain_files(form, ctx, "lampiran")
        submitted, receipt = await submit_plain(
            db,
            ctx,
            work=work,
            unit=data["unit"].code,
            channel=kind,
            fields=cleaned.fields,
            identity=cleaned.identity,
            files=files,
            excluded=excluded,
        )
    except DomainError as exc:
        data.update(
            {
                "error": exc,
                "errors": cleaned.errors,
                "error_list": error_list(kind, cleaned.errors, request_language(request)),
                "values": posted,
                "excluded": excluded,
            }
        )
        return render(
            request, "reporting/form.html", data, status_code=exc.status, headers=exc.headers
        )
    report = submitted.report
    return render(
        request,
        "reporting/receipt.html",
        {
            "unit": data["unit"],
            "channel": data["channel"],
            "case_number": report.case_number,
            "receipt": receipt,
            "proof": proof_json(submitted.proof),
            "server_sealed": True,
        },
        status_code=201,
    )


# --------------------------------------------------------------------------- no-JavaScript sealing
#
# The documented exception to "the server never sees plaintext": without JavaScript the
# posted form is sealed here, in memory, with the `crypto` library, exactly as a browser
# would seal it (to the channel's signed recipients minus those left out, plus the
# receipt-derived reporter key), then stored through `service.submit(server_sealed=True)`.
# Nothing readable is written to disk, logged, or kept after the response.


@dataclass
class PlainMessage:
    sender: str
    at: Any
    text: str = field(repr=False)
    files: list[str] = field(default_factory=list, repr=False)


@dataclass
class PlainMailbox:
    case_number: str
    channel: str
    status_label: tuple[str, str]
    submitted_at: Any
    server_sealed: bool
    fields: dict[str, str] = field(repr=False)
    messages: list[PlainMessage] = field(repr=False)


class ReceiptMistyped(ValidationFailed):
    code = "receipt_invalid"
    message_id = "Tanda terima salah ketik atau tidak lengkap. Periksa setiap karakter."
    message_en = "The receipt has a typing mistake or is incomplete. Check every character."


def _receipt_keys(receipt: str) -> Any:
    from crypto import receipt as receipts
    from crypto.errors import CryptoError

    try:
        return receipts.derive_from_receipt(receipt)
    except (CryptoError, ValueError):
        raise ReceiptMistyped() from None


def _seal_files(
    data_key: Any, ctx: Any, files: list[PlainFile]
) -> tuple[list[AttachmentIn], list[service.IncomingAttachment]]:
    from crypto import attachment

    declared, streams = [], []
    for f in files:
        aid = str(uuid.uuid4())
        stream = attachment.encrypt_attachment(data_key, ctx, aid, f.data)
        meta = attachment.seal_attachment_metadata(data_key, ctx, aid, f.name, f.content_type)
        declared.append(AttachmentIn(id=aid, metadata=b64u_encode(meta), size=len(stream)))
        streams.append(service.IncomingAttachment(id=aid, source=stream))
    return declared, streams


async def submit_plain(
    db: DbSession,
    ctx: Reporting,
    *,
    work: service.Redeemed,
    unit: str,
    channel: CaseType,
    fields: dict[str, str],
    identity: dict[str, str] | None,
    files: list[PlainFile],
    excluded: list[str],
) -> tuple[service.Submitted, str]:
    """Seal a posted form in memory and store it as a server-sealed case: (…, receipt)."""
    from crypto import envelope as envelopes
    from crypto import receipt as receipts
    from crypto.boxes import ReportContext

    found = await units.by_code(db, unit)
    if found is None:
        raise NotFound()
    signed = await directory.current(db, found.id)
    if signed is None:
        raise service.ChannelNotReady()
    recipients = [
        r.public_key
        for r in directory.channel_recipients(signed, channel)
        if r.key_id not in set(excluded)
    ]
    if not recipients:
        raise ValidationFailed(
            "Minimal satu petugas harus menerima laporan.",
            "At least one officer must receive the report.",
        )
    receipt = receipts.new_receipt()
    keys = _receipt_keys(receipt)
    report_id = str(uuid.uuid4())
    sealed = envelopes.seal_report(
        unit=found.code,
        channel=channel.value,
        report_id=report_id,
        content=fields,
        identity=identity,
        recipients=recipients,
        reporter_key=keys.reporter_public_key,
    )
    declared, streams = _seal_files(
        sealed.data_key, ReportContext(found.code, channel.value, report_id), files
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
        directory_version=signed.version,
    )
    return submitted, receipt


async def mailbox_login_receipt(
    db: DbSession, ctx: Reporting, receipt: str, work: service.Redeemed
) -> tuple[Any, str]:
    """The receipt login of the no-JavaScript mailbox (no session is kept afterwards)."""
    keys = _receipt_keys(receipt)
    report, token, _expires = await service.mailbox_login(db, ctx, keys.lookup, work=work)
    await service.mailbox_logout(db, token)
    return report, token


def _open(view: Any, receipt: str) -> tuple[Any, Any]:
    from crypto import envelope as envelopes
    from crypto.boxes import ReportContext
    from crypto.errors import CryptoError

    env = view.envelope
    try:
        data_key = envelopes.envelope_data_key(env, _receipt_keys(receipt).key_pair)
    except CryptoError:
        raise ReceiptMistyped() from None
    return data_key, ReportContext(str(env["unit"]), str(env["channel"]), str(env["report_id"]))


async def open_mailbox_plain(
    db: DbSession, ctx: Reporting, report: Any, receipt: str
) -> PlainMailbox:
    """Decrypt the reporter's view in memory for this response only."""
    from crypto import attachment
    from crypto import envelope as envelopes
    from crypto.errors import CryptoError

    view = await service.mailbox_view(db, ctx, report)
    data_key, rctx = _open(view, receipt)
    content = envelopes.open_content(data_key, rctx, b64u_decode(str(view.envelope["content"])))
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
    )


async def post_reporter_message_plain(
    db: DbSession, ctx: Reporting, report: Any, receipt: str, text: str, files: list[PlainFile]
) -> Any:
    """A reporter's answer without JavaScript, sealed in memory like the browser would."""
    from crypto import envelope as envelopes

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


# --------------------------------------------------------------------------- mailbox


def render_mailbox(
    request: Request, ctx: Reporting, data: dict[str, Any], status_code: int = 200
) -> Response:
    """The mailbox page; its no-JavaScript forms get a fresh signed challenge each time."""
    values = {"view": None, "error": None, "forms": report_fields.FORMS} | data
    values |= form_fields(request, ctx, "mailbox")
    error = values.get("error")
    headers = error.headers if isinstance(error, DomainError) else None
    return render(
        request, "reporting/mailbox.html", values, status_code=status_code, headers=headers
    )


@router.get("/kotak-surat", response_class=HTMLResponse)
async def mailbox_page(request: Request, ctx: ReportingCtx, _staff: OptionalStaff) -> Response:
    return render_mailbox(request, ctx, {})


def plain_view(view: Any, lang: str) -> dict[str, Any]:
    """The no-JavaScript mailbox as template data (already decrypted by the service)."""
    kind = CaseType(view.channel)
    return {
        "labels": {f.name: f.label(lang) for f in report_fields.form_for(kind).fields},
        "case_number": view.case_number,
        "channel": channel_name(kind, lang),
        "status": view.status_label[1] if lang == "en" else view.status_label[0],
        "submitted_at": view.submitted_at.strftime("%Y-%m-%d %H:%M UTC"),
        "server_sealed": view.server_sealed,
        "fields": view.fields,
        "messages": view.messages,
        "attachments": getattr(view, "attachments", []),
    }


def require_receipt(receipt: str) -> None:
    if not receipt.strip():
        raise ValidationFailed("Masukkan tanda terima Anda.", "Enter your receipt.")


async def redeem_mailbox_form(db: DbSession, ctx: Reporting, form: FormData) -> service.Redeemed:
    """The no-JavaScript mailbox's work: its form challenge, spent and committed first."""
    work = await service.redeem_form(db, ctx, form_challenge(form), purpose="mailbox")
    await db.commit()
    return work


async def _open_plain(
    request: Request, db: DbSession, ctx: Reporting, receipt: str, work: service.Redeemed
) -> dict[str, Any]:
    require_receipt(receipt)
    report, _token = await mailbox_login_receipt(db, ctx, receipt, work)
    view = await open_mailbox_plain(db, ctx, report, receipt)
    return plain_view(view, request_language(request))


@router.post("/kotak-surat", response_class=HTMLResponse)
async def mailbox_open_plain(
    request: Request, db: DbSession, ctx: ReportingCtx, form: PlainForm
) -> Response:
    """No-JavaScript mailbox: decrypted in memory for this response only."""
    receipt = str(form.get("tanda_terima") or "")[:64]
    try:
        work = await redeem_mailbox_form(db, ctx, form)
        view = await _open_plain(request, db, ctx, receipt, work)
    except DomainError as exc:
        return render_mailbox(request, ctx, {"error": exc}, exc.status)
    return render_mailbox(request, ctx, {"view": view, "receipt": receipt})


@router.post("/kotak-surat/pesan", response_class=HTMLResponse)
@body_limit(form_body_limit)
async def mailbox_reply_plain(
    request: Request, db: DbSession, ctx: ReportingCtx, form: PlainForm
) -> Response:
    """No-JavaScript answer from the reporter (sealed in memory by the service)."""
    receipt = str(form.get("tanda_terima") or "")[:64]
    text = str(form.get("pesan") or "").replace("\r\n", "\n").strip()
    try:
        work = await redeem_mailbox_form(db, ctx, form)
        require_receipt(receipt)
        if not text:
            raise ValidationFailed("Pesan tidak boleh kosong.", "The message cannot be empty.")
        if len(text) > 20_000:
            raise ValidationFailed(
                "Pesan terlalu panjang (maks. 20.000 karakter).",
                "The message is too long (at most 20,000 characters).",
            )
        report, _token = await mailbox_login_receipt(db, ctx, receipt, work)
        files = await plain_files(form, ctx, "lampiran")
        await post_reporter_message_plain(db, ctx, report, receipt, text, files)
        view = await open_mailbox_plain(db, ctx, report, receipt)
    except DomainError as exc:
        return render_mailbox(request, ctx, {"error": exc}, exc.status)
    return render_mailbox(
        request,
        ctx,
        {"view": plain_view(view, request_language(request)), "receipt": receipt, "sent": True},
    )
