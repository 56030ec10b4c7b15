"""Staff page: ask for a unit's indicator export, follow its progress, download it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from wbs.core.db import DbSession
from wbs.core.i18n import request_language
from wbs.core.templating import render
from wbs.exports import service
from wbs.exports.models import STATE_NAMES, ExportState
from wbs.exports.package import FORMATS, unit_key
from wbs.staff.deps import CsrfChecked, require_role
from wbs.staff.models import Staff

router = APIRouter(prefix="/admin/units/{code}/exports", tags=["exports"], include_in_schema=False)

CurrentExporter = Annotated[Staff, Depends(require_role(*service.EXPORTERS))]
REFRESH_SECONDS = 3


@router.get("", response_class=HTMLResponse)
async def exports_page(
    code: str, request: Request, db: DbSession, staff: CurrentExporter
) -> Response:
    unit = await service.readable_unit(db, staff, code)
    jobs = await service.list_jobs(db, staff, unit)
    lang = request_language(request)
    key = unit_key(request.app.state.security.master, unit.code)
    waiting = any(j.state in (ExportState.queued, ExportState.running) for j in jobs)
    return render(
        request,
        "exports/unit.html",
        {
            "unit": unit,
            "jobs": jobs,
            "formats": FORMATS,
            "state_name": lambda s: STATE_NAMES[s].get(lang),
            "refresh": REFRESH_SECONDS if waiting else None,
            "key": key,
        },
    )


@router.post("", dependencies=[CsrfChecked])
async def request_page(
    code: str, request: Request, db: DbSession, staff: CurrentExporter
) -> Response:
    unit = await service.readable_unit(db, staff, code)
    form = await request.form(max_fields=8, max_files=0)

    def field(name: str, limit: int) -> str:
        value = form.get(name)
        return value[:limit].strip() if isinstance(value, str) else ""

    await service.request_export(
        db,
        staff,
        unit,
        fmt=field("format", 8) or "xlsx",
        period=field("period", 16),
        public=field("public", 8) == "ya",
    )
    return RedirectResponse(f"/admin/units/{unit.code}/exports", status_code=303)
