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
from wbs.reporting import fields as report_fields
from wbs.reporting.models import STATUS_LABELS
from wbs.staff.deps import CurrentStaff
from wbs.staff.models import Role
from wbs.units.models import CHANNEL_NAMES, Unit

router = APIRouter(tags=["officer pages"], include_in_schema=False)


@router.get("/staff/cases", response_class=HTMLResponse)
async def inbox_page(request: Request, db: DbSession, staff: CurrentStaff) -> Response:
    """The cases this officer's key can open: metadata only."""
    lang = request_language(request)
    rows = []
    for summary in await service.inbox(db, staff):
        report = summary.report
        status_id, status_en = STATUS_LABELS[report.status]
        name_id, name_en = CHANNEL_NAMES[report.case_type]
        rows.append(
            {
                "report_id": report.public_id,
                "case_number": report.case_number,
                "unit": summary.unit_code,
                "channel": name_en if lang == "en" else name_id,
                "status": status_en if lang == "en" else status_id,
                "submitted_at": report.submitted_at,
                "last_activity_at": report.last_activity_at,
                "server_sealed": report.server_sealed,
                "messages": summary.messages,
                "attachments": summary.attachments,
            }
        )
    unit = await db.get(Unit, staff.unit_id)
    return render(
        request,
        "cases/inbox.html",
        {
            "cases": rows,
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
    name_id, name_en = CHANNEL_NAMES[view.report.case_type]
    return render(
        request,
        "cases/case.html",
        {
            "report": view.report,
            "unit": view.unit,
            "channel": name_en if lang == "en" else name_id,
            "status": view.status_label[1] if lang == "en" else view.status_label[0],
            "colleagues": await service.colleagues(db, view),
            "forms": report_fields.FORMS,
            "transitions": [
                (t.value, STATUS_LABELS[t][1] if lang == "en" else STATUS_LABELS[t][0])
                for t in view.transitions
            ],
        },
    )
