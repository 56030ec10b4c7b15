"""Public reporter pages: a unit's landing page, report forms, receipts, the mailbox, posters.

Reporter pages set no cookie and log no client address (the access log has none). With
JavaScript the page scripts encrypt in the browser and talk to `/api/v1`; these routes only
serve the pages. Without JavaScript the form posts here, is parsed into memory, and
`wbs.reporting.plain` seals the report in memory, which the receipt page says.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from crypto.signing import signing_fingerprint
from wbs.core.bodylimit import body_limit
from wbs.core.db import DbSession
from wbs.core.errors import DomainError, NotFound, ValidationFailed
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
from wbs.core.text import Text
from wbs.directory import service as directory
from wbs.reporting import fields as report_fields
from wbs.reporting import plain, service
from wbs.reporting.context import Reporting, ReportingCtx, form_body_limit
from wbs.reporting.limits import FORM_FIELD_BYTES
from wbs.reporting.models import Report
from wbs.reporting.poster import make_poster_pdf
from wbs.staff.deps import OptionalStaff
from wbs.units.models import CHANNEL_NAMES, CaseType, Unit

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
class ChannelCard:
    case_type: CaseType
    name: str
    enabled: bool
    ready: bool


@dataclass
class UnitPage:
    found: service.UnitChannels
    channels: list[ChannelCard]

    @property
    def unit(self) -> Unit:
        return self.found.unit

    @property
    def directory_version(self) -> int | None:
        return self.found.signed.version if self.found.signed else None


def channel_name(case_type: CaseType, lang: str) -> str:
    return CHANNEL_NAMES[case_type].get(lang)


async def unit_page(db: DbSession, code: str, lang: str) -> UnitPage:
    """A unit's public data: its channels and whether each has signed recipients."""
    found = await service.unit_channels(db, code.strip()[:32])
    cards = [
        ChannelCard(
            case_type, channel_name(case_type, lang), channel.enabled, found.ready(case_type)
        )
        for case_type in CHANNEL_ORDER
        if (channel := found.channels.get(case_type)) is not None
    ]
    return UnitPage(found, cards)


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


def audit_key_fingerprint(proof: service.Proof) -> str:
    """The poster-style fingerprint of the audit tree-head key the proof signs (v2)."""
    key = proof.audit_public_key
    return signing_fingerprint(bytes.fromhex(key)) if key else ""


def proof_json(proof: service.Proof) -> str:
    return json.dumps(proof.as_dict(), indent=2, sort_keys=True, default=str)


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
    from wbs.directory.document import directory_fingerprint

    return directory_fingerprint(key.public_key)


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


# --------------------------------------------------------------------------- report form


async def form_context(
    request: Request, db: DbSession, ctx: Reporting, code: str, case_type: CaseType
) -> dict[str, Any]:
    lang = request_language(request)
    page = await unit_page(db, code, lang)
    card = next((c for c in page.channels if c.case_type == case_type), None)
    if card is None or not card.enabled:
        raise NotFound("Kanal tidak ditemukan.", "Channel not found.")
    return {
        "found": page.found,
        "unit": page.unit,
        "channel": card,
        "form": report_fields.form_for(case_type),
        "identity_fields": report_fields.IDENTITY,
        "identity_required": report_fields.identity_required,
        "officers": page.found.recipients(case_type),
        "directory_version": page.directory_version,
        "limits": ctx.limits,
        "errors": {},
        "error_list": [],
        "values": {},
        "excluded": [],
        **form_fields(request, ctx, "report"),
    }


def error_list(kind: CaseType, errors: dict[str, Text], lang: str) -> list[tuple[str, str, str]]:
    """(input id, field label, message) for the summary that links to each field."""
    labels = {f.input_id: f.label.get(lang) for f in report_fields.form_for(kind).fields}
    labels |= {f"i-{f.name}": f.label.get(lang) for f in report_fields.IDENTITY}
    return [(fid, labels.get(fid, fid), message.get(lang)) for fid, message in errors.items()]


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
        files = await plain.plain_files(form, ctx, "lampiran")
        submitted, receipt = await plain.submit_plain(
            db,
            ctx,
            work=work,
            found=data["found"],
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
            "audit_key_fingerprint": audit_key_fingerprint(submitted.proof),
            "server_sealed": True,
        },
        status_code=201,
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


def plain_view(view: plain.PlainMailbox, lang: str) -> dict[str, Any]:
    """The no-JavaScript mailbox as template data (already decrypted by the service)."""
    kind = CaseType(view.channel)
    return {
        "labels": {f.name: f.label.get(lang) for f in report_fields.form_for(kind).fields},
        "case_number": view.case_number,
        "channel": channel_name(kind, lang),
        "status": view.status_label.get(lang),
        "submitted_at": view.submitted_at.strftime("%Y-%m-%d %H:%M UTC"),
        "server_sealed": view.server_sealed,
        "fields": view.fields,
        "messages": view.messages,
        "attachments": getattr(view, "attachments", []),
        "notices": view.notices,  # (at, Text): shown in both languages
    }


def plain_audit(doc: dict[str, Any]) -> dict[str, Any]:
    """What a reporter without JavaScript can check elsewhere (`wbs client follow --verify`):
    the submission's leaf hash and index and the signed tree head. This page checks nothing."""
    head = doc.get("tree_head")
    if doc.get("pending") or not isinstance(head, dict):
        return {"pending": True, "leaf_hash": doc["leaf_hash"]}
    return {
        "pending": False,
        "leaf_hash": doc["leaf_hash"],
        "leaf_index": doc["leaf_index"],
        "tree_size": head["tree_size"],
        "root_hash": head["root_hash"],
        "key_fingerprint": signing_fingerprint(bytes.fromhex(head["public_key"])),
        "at": head["at"],
    }


async def plain_page(
    request: Request, db: DbSession, ctx: Reporting, report: Report, receipt: str
) -> dict[str, Any]:
    """The decrypted no-JavaScript view with the submission's place in the audit log."""
    view = await plain.open_mailbox_plain(db, ctx, report, receipt)
    try:
        audit_doc: dict[str, Any] | None = await service.mailbox_audit_proof(db, report)
    except NotFound:  # a report older than its audit entry
        audit_doc = None
    data = plain_view(view, request_language(request))
    return data | {"audit": plain_audit(audit_doc) if audit_doc else None}


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
    report = await plain.report_for_receipt(db, ctx, receipt, work)
    return await plain_page(request, db, ctx, report, receipt)


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
        report = await plain.report_for_receipt(db, ctx, receipt, work)
        files = await plain.plain_files(form, ctx, "lampiran")
        await plain.post_reporter_message_plain(db, ctx, report, receipt, text, files)
        view = await plain_page(request, db, ctx, report, receipt)
    except DomainError as exc:
        return render_mailbox(request, ctx, {"error": exc}, exc.status)
    return render_mailbox(request, ctx, {"view": view, "receipt": receipt, "sent": True})
