"""Officer HTML pages: the inbox and the case page.

The server renders metadata only; report content, messages and notes are fetched as
ciphertext from `/api/v1` and decrypted by the page scripts on the officer's device.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from wbs.cases import service
from wbs.core.db import DbSession
from wbs.core.i18n import request_language
from wbs.core.templating import render
from wbs.identity.models import REASONS
from wbs.reporting import fields as report_fields
from wbs.staff.deps import CurrentStaff
from wbs.staff.models import Role
from wbs.units.models import CHANNEL_NAMES
from wbs.workflow import handling
from wbs.workflow.present import panel
from wbs.workflow.routes import clock_of, workflows

router = APIRouter(tags=["officer pages"], include_in_schema=False)


@router.get("/staff/cases", response_class=HTMLResponse)
async def inbox_page(request: Request, db: DbSession, staff: CurrentStaff) -> Response:
    """The cases this officer's key can open: metadata only, nearest deadline first on ask."""
    lang = request_language(request)
    sort = request.query_params.get("sort", "activity")[:16]
    show = request.query_params.get("show", "all")[:16]
    sort = sort if sort in handling.SORTS else "activity"
    show = show if show in handling.FILTERS else "all"
    number = request.query_params.get("page", "1")[:6]
    page = min(int(number), service.MAX_PAGE) if number.isdigit() and int(number) >= 1 else 1
    flows = workflows(request)
    rows = []
    items = await handling.inbox(
        db, flows, staff, clock_of(request), sort=sort, show=show, page=page
    )
    for item in items:
        report = item.summary.report
        rows.append(
            {
                "report_id": report.public_id,
                "case_number": report.case_number,
                "unit": item.summary.unit_code,
                "channel": CHANNEL_NAMES[report.case_type].get(lang),
                "state": item.state_label.get(lang),
                "status": item.status_label.get(lang),
                "submitted_at": report.submitted_at,
                "last_activity_at": report.last_activity_at,
                "server_sealed": report.server_sealed,
                "messages": item.summary.messages,
                "attachments": item.summary.attachments,
                "next_due": item.next_due,
                "overdue": item.overdue,
                "due_soon": item.due_soon,
                "mine": item.assignee_id == staff.id,
            }
        )
    unit = await service.unit_of_staff(db, staff)
    return render(
        request,
        "cases/inbox.html",
        {
            "cases": rows,
            "sort": sort,
            "show": show,
            "page": page,
            "more": len(items) == service.PAGE_SIZE,
            "escalations": [
                {
                    "case_number": e.case_number,
                    "report_id": e.report_id,
                    "readable": e.readable,
                    "state": e.state_label.get(lang),
                    "deadline": e.timer_label.get(lang),
                    "due": e.due,
                }
                for e in await handling.escalations(db, flows, staff)
            ],
            "key_status": staff.key_status,
            "unit_code": unit.code if unit else "",
            "is_admin": Role.admin in staff.roles,
        },
    )


@router.get("/staff/cases/{report_id}", response_class=HTMLResponse)
async def case_page(
    request: Request, report_id: str, db: DbSession, staff: CurrentStaff
) -> Response:
    """One case; 404 unless this officer's key is a recipient. Decrypted in the browser."""
    view = await service.get_case(db, staff, report_id[:64], record=False)
    lang = request_language(request)
    seen = await handling.situation_of(
        db, workflows(request), staff, view.report, clock_of(request)
    )
    return render(
        request,
        "cases/case.html",
        {
            "report": view.report,
            "unit": view.unit,
            "channel": CHANNEL_NAMES[view.report.case_type].get(lang),
            "status": seen.flow.status_label.get(lang),
            "colleagues": await service.colleagues(db, view),
            "flow": panel(seen, lang),
            "forms": report_fields.FORMS,
            "identity_reasons": [(code.value, label.get(lang)) for code, label in REASONS.items()],
        },
    )
