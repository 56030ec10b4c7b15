"""Reporter API v1: units, signed directory, proof-of-work, submission, receipt mailbox.

No route here reads or logs the client's address, user agent or referrer, and none sets a
cookie except the mailbox cookie after a receipt login.
"""

from __future__ import annotations

from hashlib import sha256
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from crypto.encoding import b64u_decode
from crypto.keys import fingerprint_of
from crypto.pow import ALGORITHM
from wbs.core.blobs import blob_response
from wbs.core.bodylimit import body_limit
from wbs.core.db import DbSession
from wbs.core.errors import NotFound
from wbs.core.security import CSRF_HEADER, check_csrf_token, check_origin, csrf_token
from wbs.directory import service as directory
from wbs.directory.document import Recipient, directory_fingerprint
from wbs.reporting import proof, service
from wbs.reporting.context import Reporting, ReportingCtx, upload_body_limit
from wbs.reporting.models import Attachment, Report
from wbs.reporting.schemas import (
    AttachmentOut,
    AuditProofOut,
    ChannelOut,
    DirectoryOut,
    DirectoryRecipientOut,
    EnvelopeOut,
    MailboxLoginIn,
    MailboxLoginOut,
    MailboxOut,
    MessageCreatedOut,
    MessageIn,
    MessageOut,
    NoticeOut,
    PowOut,
    ProofKeyOut,
    ProofOut,
    StatusLabel,
    SubmissionIn,
    SubmittedOut,
    UnitOut,
)
from wbs.reporting.uploads import read_body
from wbs.units import repository as units
from wbs.units.models import CHANNEL_NAMES

router = APIRouter(prefix="/api/v1", tags=["reporting"])

MAILBOX_COOKIE = "wbs_mailbox"


def _body_schema(model: type[Any], part: str) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": schema},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            part: {"type": "string", "description": "the JSON body as text"},
                            "attachment": {
                                "type": "array",
                                "items": {"type": "string", "format": "binary"},
                                "description": "encrypted streams; file name = attachment id",
                            },
                        },
                        "required": [part],
                    }
                },
            },
        }
    }


@router.get("/units/{code}", response_model=UnitOut)
async def unit_info(code: str, db: DbSession) -> UnitOut:
    unit = await units.by_code(db, code.strip().upper())
    if unit is None:
        raise NotFound()
    signed = await directory.current(db, unit.id)
    doc = directory.parsed(signed) if signed else None
    return UnitOut(
        code=unit.code,
        name=unit.name,
        channels=[
            ChannelOut(
                case_type=c.case_type,
                name=CHANNEL_NAMES[c.case_type].id,
                enabled=c.enabled,
                ready=bool(c.enabled and doc and doc.channels.get(c.case_type.value)),
            )
            for c in await units.channels_of(db, unit.id)
        ],
    )


@router.get("/units/{code}/directory", response_model=DirectoryOut)
async def unit_directory(code: str, db: DbSession) -> DirectoryOut:
    unit = await units.by_code(db, code.strip().upper())
    signed = await directory.current(db, unit.id) if unit else None
    key = await directory.directory_key(db, unit.id) if unit else None
    if unit is None or signed is None or key is None:
        raise NotFound(
            "Direktori kunci unit ini belum ditandatangani.",
            "This unit's key directory has not been signed yet.",
        )
    doc = directory.parsed(signed)

    def entries_out(entries: list[Recipient]) -> list[DirectoryRecipientOut]:
        return [
            DirectoryRecipientOut(
                key_id=r.key_id,
                public_key=r.public_key,
                fingerprint=r.fingerprint or fingerprint_of(r.public_key),
                name=r.name,
            )
            for r in entries
        ]

    return DirectoryOut(
        unit=unit.code,
        version=signed.version,
        public_key=key.public_key,
        fingerprint=directory_fingerprint(key.public_key),
        document=signed.document,
        signature=signed.signature,
        signed_at=signed.signed_at,
        channels={name: entries_out(entries) for name, entries in doc.channels.items()},
        custodians=entries_out(doc.custodians),
    )


@router.get("/pow", response_model=PowOut)
async def pow_challenge(db: DbSession, ctx: ReportingCtx) -> PowOut:
    issued = await ctx.issue_pow(db)
    return PowOut(
        challenge=issued.challenge,
        difficulty=issued.difficulty,
        expires_at=issued.expires_at,
        algorithm=ALGORITHM,
    )


@router.get("/proof-key", response_model=ProofKeyOut)
async def proof_key(ctx: ReportingCtx) -> ProofKeyOut:
    public = proof.proof_public_key(ctx.master)
    return ProofKeyOut(public_key=public, fingerprint=proof.signing_key_fingerprint(public))


def proof_out(proof: service.Proof) -> ProofOut:
    return ProofOut(**proof.as_dict())


@router.post(
    "/reports",
    status_code=201,
    response_model=SubmittedOut,
    openapi_extra=_body_schema(SubmissionIn, "submission"),
)
@body_limit(upload_body_limit)
async def submit_report(request: Request, db: DbSession, ctx: ReportingCtx) -> SubmittedOut:
    check_origin(request)
    async with read_body(request, ctx, SubmissionIn, "submission") as (body, files):
        work = await service.redeem_pow(
            db, ctx, body.pow, subject=body.envelope.report_id, purpose="submit"
        )
        await db.commit()  # the spent proof must outlive a request that fails later
        done = await service.submit(
            db,
            ctx,
            envelope=body.envelope,
            lookup=b64u_decode(body.lookup),
            excluded=body.excluded,
            attachments=body.attachments,
            files=files,
            work=work,
            directory_version=body.directory_version,
        )
    report = done.report
    return SubmittedOut(
        case_number=report.case_number,
        report_id=report.public_id,
        unit=done.unit.code,
        channel=report.case_type,
        submitted_at=report.submitted_at,
        server_sealed=report.server_sealed,
        status=report.status.value,
        proof=proof_out(done.proof),
    )


# --------------------------------------------------------------------------- mailbox


def _token_binding(token: str) -> str:
    """What a mailbox CSRF token is bound to: the mailbox session (by its token's hash)."""
    return "mailbox:" + sha256(token.encode()).hexdigest()


def _mailbox_token(request: Request) -> str:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    token = request.cookies.get(MAILBOX_COOKIE, "")
    if token and request.method not in ("GET", "HEAD"):
        check_origin(request)  # a cookie rides along cross-site: require CSRF too
        check_csrf_token(request, request.headers.get(CSRF_HEADER), bind=_token_binding(token))
    return token


async def current_mailbox(request: Request, db: DbSession) -> Report:
    return await service.mailbox_session(db, _mailbox_token(request))


MailboxReport = Annotated[Report, Depends(current_mailbox)]


@router.post("/mailbox/login", response_model=MailboxLoginOut)
async def mailbox_login(
    body: MailboxLoginIn, request: Request, db: DbSession, ctx: ReportingCtx
) -> JSONResponse:
    check_origin(request)
    work = await service.redeem_pow(db, ctx, body.pow, subject=body.lookup, purpose="login")
    await db.commit()  # the spent proof must outlive a failed login
    try:
        token, expires = await service.mailbox_login(db, ctx, b64u_decode(body.lookup), work=work)
    except NotFound:
        await db.commit()  # an unknown receipt's charge of the shared bucket stays
        raise
    out = MailboxLoginOut(
        token=token, expires_at=expires, csrf_token=csrf_token(request, bind=_token_binding(token))
    )
    response = JSONResponse(out.model_dump(mode="json"))
    response.set_cookie(
        MAILBOX_COOKIE,
        token,
        max_age=ctx.limits.mailbox_session_seconds,
        httponly=True,
        samesite="strict",
        secure=ctx.settings.is_production,
        path="/",
    )
    return response


@router.get("/mailbox", response_model=MailboxOut)
async def mailbox(report: MailboxReport, db: DbSession, ctx: ReportingCtx) -> MailboxOut:
    view = await service.mailbox_view(db, ctx, report)
    return MailboxOut(
        case_number=report.case_number,
        report_id=report.public_id,
        unit=view.unit.code,
        channel=report.case_type.value,
        submitted_at=report.submitted_at,
        server_sealed=report.server_sealed,
        status=report.status.value,
        status_label=StatusLabel(id=view.status_label.id, en=view.status_label.en),
        envelope=EnvelopeOut.model_validate(view.envelope),
        messages=messages_out(view.messages),
        attachments=attachments_out(view.attachments),
        proof=proof_out(view.proof),
        notices=[
            NoticeOut(kind=n.kind, at=n.created_at, text=StatusLabel(id=t.id, en=t.en))
            for n in view.notices
            for t in [service.notice_text(n)]
        ],
    )


@router.get("/mailbox/audit-proof", response_model=AuditProofOut, response_model_exclude_none=True)
async def mailbox_audit_proof(report: MailboxReport, db: DbSession) -> AuditProofOut:
    """Inclusion proof of this report's submission entry in the unit's audit log."""
    return AuditProofOut.model_validate(await service.mailbox_audit_proof(db, report))


def messages_out(messages: list[tuple[Any, list[str]]]) -> list[MessageOut]:
    return [
        MessageOut(
            id=m.public_id,
            sender_role=m.sender_role.value,
            box=m.box,
            at=m.created_at,
            attachments=ids,
        )
        for m, ids in messages
    ]


def attachments_out(attachments: list[tuple[Any, str | None]]) -> list[AttachmentOut]:
    return [
        AttachmentOut(id=a.public_id, message_id=mid, metadata=a.metadata_box, size=a.size)
        for a, mid in attachments
    ]


async def attachment_response(ctx: Reporting, attachment: Attachment) -> Response:
    """An encrypted attachment, streamed from the blob store."""
    return await blob_response(
        ctx.blobs,
        attachment.blob,
        missing=NotFound(),
        media_type="application/octet-stream",
        headers={"Cache-Control": "no-store"},
    )


@router.get("/mailbox/attachments/{attachment_id}")
async def mailbox_attachment(
    attachment_id: str, report: MailboxReport, db: DbSession, ctx: ReportingCtx
) -> Response:
    found = await service.mailbox_attachment(db, report, attachment_id.lower())
    return await attachment_response(ctx, found)


@router.post(
    "/mailbox/messages",
    status_code=201,
    response_model=MessageCreatedOut,
    openapi_extra=_body_schema(MessageIn, "message"),
)
@body_limit(upload_body_limit)
async def mailbox_message(
    request: Request, report: MailboxReport, db: DbSession, ctx: ReportingCtx
) -> MessageCreatedOut:
    async with read_body(request, ctx, MessageIn, "message") as (body, files):
        message = await service.post_reporter_message(
            db,
            ctx,
            report,
            message_id=body.id,
            box=body.box,
            attachments=body.attachments,
            files=files,
        )
    return MessageCreatedOut(id=message.public_id, at=message.created_at)


@router.post("/mailbox/logout", status_code=204)
async def mailbox_logout(request: Request, db: DbSession) -> Response:
    token = _mailbox_token(request)
    if token:
        await service.mailbox_logout(db, token)
    response = Response(status_code=204)
    response.delete_cookie(MAILBOX_COOKIE, path="/")
    return response
