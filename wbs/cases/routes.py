"""Officer case API v1: inbox, case, attachments, replies, notes, colleagues (workflow
actions are in `wbs.workflow.routes`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from wbs.cases import service
from wbs.cases.schemas import (
    CaseOut,
    CaseSummaryOut,
    NoteIn,
    NoteOut,
    RecipientAddedOut,
    RecipientIn,
    RecipientOut,
)
from wbs.core.bodylimit import KIB, body_limit
from wbs.core.db import DbSession
from wbs.core.errors import ValidationFailed
from wbs.reporting.context import ReportingCtx, note_body_limit, upload_body_limit
from wbs.reporting.routes import _body_schema, attachment_response, attachments_out, messages_out
from wbs.reporting.schemas import (
    EnvelopeOut,
    MessageCreatedOut,
    MessageIn,
    StatusLabel,
)
from wbs.reporting.uploads import read_body
from wbs.staff.deps import CsrfChecked, CurrentStaff
from wbs.workflow import handling
from wbs.workflow.routes import WorkflowsDep, clock_of, workflow_out

router = APIRouter(prefix="/api/v1/cases", tags=["cases"])


@router.get("", response_model=list[CaseSummaryOut])
async def inbox(
    request: Request,
    db: DbSession,
    staff: CurrentStaff,
    flows: WorkflowsDep,
    sort: str = "activity",
    show: str = "all",
    page: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = 1,
) -> list[CaseSummaryOut]:
    """A page (`page` from 1, `service.PAGE_SIZE` cases; a shorter one is the last) of the
    cases this officer can open, latest activity first; `sort=due` puts the nearest deadline
    first; `show=overdue|due_soon|mine` filters."""
    if sort not in handling.SORTS or show not in handling.FILTERS:
        raise ValidationFailed(
            "Urutan atau saringan tidak dikenal.", "Unknown sort order or filter."
        )
    items = await handling.inbox(
        db, flows, staff, clock_of(request), sort=sort, show=show, page=page
    )
    return [
        CaseSummaryOut(
            report_id=i.summary.report.public_id,
            case_number=i.summary.report.case_number,
            unit=i.summary.unit_code,
            channel=i.summary.report.case_type.value,
            status=i.summary.report.status.value,
            submitted_at=i.summary.report.submitted_at,
            last_activity_at=i.summary.report.last_activity_at,
            server_sealed=i.summary.report.server_sealed,
            messages=i.summary.messages,
            attachments=i.summary.attachments,
            state=i.state,
            state_label=StatusLabel(id=i.state_label.id, en=i.state_label.en),
            next_due=i.next_due,
            overdue=i.overdue,
            due_soon=i.due_soon,
            assignee_id=i.assignee_id,
        )
        for i in items
    ]


@router.get("/{report_id}", response_model=CaseOut)
async def case(
    report_id: str, request: Request, db: DbSession, staff: CurrentStaff, flows: WorkflowsDep
) -> CaseOut:
    view = await service.get_case(db, staff, report_id)
    r = view.report
    seen = await handling.situation_of(db, flows, staff, r, clock_of(request))
    return CaseOut(
        report_id=r.public_id,
        case_number=r.case_number,
        unit=view.unit.code,
        channel=r.case_type.value,
        status=r.status.value,
        status_label=StatusLabel(id=seen.flow.status_label.id, en=seen.flow.status_label.en),
        submitted_at=r.submitted_at,
        server_sealed=r.server_sealed,
        has_identity=r.identity is not None,
        envelope=EnvelopeOut.model_validate(view.envelope),
        messages=messages_out(view.messages),
        notes=[
            NoteOut(
                id=n.public_id,
                author_key_id=n.author_key_id,
                author=email,
                box=n.box,
                at=n.created_at,
            )
            for n, email in view.notes
        ],
        attachments=attachments_out(view.attachments),
        recipients=[
            RecipientOut(
                key_id=w.key_id,
                staff_id=s.id if s else None,
                name=s.name if s else "",
                email=s.email if s else "",
            )
            for w, s in view.recipients
        ],
        workflow=workflow_out(seen),
    )


@router.get("/{report_id}/attachments/{attachment_id}")
async def case_attachment(
    report_id: str, attachment_id: str, db: DbSession, staff: CurrentStaff, ctx: ReportingCtx
) -> Response:
    found = await service.case_attachment(db, staff, report_id, attachment_id)
    return await attachment_response(ctx, found)


@router.post(
    "/{report_id}/messages",
    status_code=201,
    response_model=MessageCreatedOut,
    dependencies=[CsrfChecked],
    openapi_extra=_body_schema(MessageIn, "message"),
)
@body_limit(upload_body_limit)
async def reply(
    report_id: str, request: Request, db: DbSession, staff: CurrentStaff, ctx: ReportingCtx
) -> MessageCreatedOut:
    async with read_body(request, ctx, MessageIn, "message") as (body, files):
        message = await service.reply(
            db,
            ctx,
            staff,
            report_id,
            message_id=body.id,
            box=body.box,
            attachments=body.attachments,
            files=files,
        )
    return MessageCreatedOut(id=message.public_id, at=message.created_at)


@router.post(
    "/{report_id}/notes", status_code=201, response_model=NoteOut, dependencies=[CsrfChecked]
)
@body_limit(note_body_limit)
async def note(
    report_id: str, body: NoteIn, db: DbSession, staff: CurrentStaff, ctx: ReportingCtx
) -> NoteOut:
    created = await service.add_note(db, ctx, staff, report_id, note_id=body.id, box=body.box)
    return NoteOut(
        id=created.public_id,
        author_key_id=created.author_key_id,
        author=staff.email,
        box=created.box,
        at=created.created_at,
    )


@router.post(
    "/{report_id}/recipients",
    status_code=201,
    response_model=RecipientAddedOut,
    dependencies=[CsrfChecked],
)
@body_limit(16 * KIB)
async def add_recipient(
    report_id: str, body: RecipientIn, db: DbSession, staff: CurrentStaff
) -> RecipientAddedOut:
    row = await service.add_recipient(db, staff, report_id, staff_id=body.staff_id, wrap=body.wrap)
    return RecipientAddedOut(key_id=row.key_id)
