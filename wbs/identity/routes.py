"""Identity release API: officers ask, custodians decide, the approved requester opens."""

from __future__ import annotations

from fastapi import APIRouter

from wbs.core.db import DbSession
from wbs.identity import service
from wbs.identity.models import IdentityRequest
from wbs.identity.schemas import (
    ApproveIn,
    DenyIn,
    PendingOut,
    ReleasedOut,
    RequestIn,
    RequestOut,
)
from wbs.reporting.models import Report
from wbs.reporting.schemas import EnvelopeOut, StatusLabel
from wbs.staff.deps import CsrfChecked, CurrentStaff

router = APIRouter(prefix="/api/v1", tags=["identity"])


def request_out(request: IdentityRequest, report: Report) -> RequestOut:
    label = service.reason_label(request.reason)
    return RequestOut(
        id=request.public_id,
        report_id=report.public_id,
        case_number=report.case_number,
        reason=request.reason,
        reason_label=StatusLabel(id=label.id, en=label.en),
        note=request.note,
        state=request.state.value,
        created_at=request.created_at,
        decided_at=request.decided_at,
        decision_note=request.decision_note,
    )


@router.post(
    "/cases/{report_id}/identity-requests",
    status_code=201,
    response_model=RequestOut,
    dependencies=[CsrfChecked],
)
async def request_identity(
    report_id: str, body: RequestIn, db: DbSession, staff: CurrentStaff
) -> RequestOut:
    """Ask the unit's custodian for the reporter's identity (a reason code, an optional note)."""
    made, report = await service.request_identity(
        db, staff, report_id, reason=body.reason, note=body.note
    )
    return request_out(made, report)


@router.get("/cases/{report_id}/identity-requests", response_model=list[RequestOut])
async def my_requests(report_id: str, db: DbSession, staff: CurrentStaff) -> list[RequestOut]:
    """This officer's own identity requests for the case, newest first."""
    report, found = await service.requests_for_case(db, staff, report_id)
    return [request_out(r, report) for r in found]


@router.get("/cases/{report_id}/identity", response_model=ReleasedOut)
async def released_identity(report_id: str, db: DbSession, staff: CurrentStaff) -> ReleasedOut:
    """The identity released to this officer (404 unless a custodian approved their request)."""
    found = await service.released(db, staff, report_id)
    return ReleasedOut(
        request_id=found.request.public_id,
        report_id=found.report.public_id,
        case_number=found.report.case_number,
        envelope=EnvelopeOut.model_validate(found.envelope),
        wrap=found.wrap,
    )


@router.get("/identity/requests", response_model=list[PendingOut])
async def pending(db: DbSession, staff: CurrentStaff) -> list[PendingOut]:
    """Custodians: the open requests of their unit (404 for any other role)."""
    return [
        PendingOut(
            **request_out(p.request, p.report).model_dump(),
            unit=p.unit.code,
            channel=p.report.case_type.value,
            envelope_version=p.report.envelope_version,
            requester=p.requester.name or p.requester.email,
            requester_key_id=p.request.requester_key_id,
            requester_public_key=p.requester_public_key,
            identity=p.report.identity if p.custodian_wrap else None,
            identity_wrap=p.custodian_wrap.wrap if p.custodian_wrap else None,
            identity_commitment=p.report.identity_commitment if p.custodian_wrap else None,
        )
        for p in await service.pending(db, staff)
    ]


@router.post(
    "/identity/requests/{request_id}/approve",
    response_model=RequestOut,
    dependencies=[CsrfChecked],
)
async def approve(
    request_id: str, body: ApproveIn, db: DbSession, staff: CurrentStaff
) -> RequestOut:
    """Approve on the custodian's device: v2 sends the identity wrap made for the requester."""
    return request_out(*await service.approve(db, staff, request_id, wrap=body.wrap))


@router.post(
    "/identity/requests/{request_id}/deny", response_model=RequestOut, dependencies=[CsrfChecked]
)
async def deny(request_id: str, body: DenyIn, db: DbSession, staff: CurrentStaff) -> RequestOut:
    return request_out(*await service.deny(db, staff, request_id, note=body.note))
