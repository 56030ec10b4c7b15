"""Admin HTML page of a unit's key directory: approve officers' keys by signing it."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from wbs.core.db import DbSession
from wbs.core.templating import render
from wbs.directory import service
from wbs.staff.deps import CurrentAdmin

router = APIRouter(tags=["officer pages"], include_in_schema=False)


@router.get("/admin/units/{code}/keys", response_class=HTMLResponse)
async def directory_page(
    request: Request, code: str, db: DbSession, admin: CurrentAdmin
) -> Response:
    """Approve officers' keys by signing the unit's key directory on the admin's device."""
    unit = await service.admin_unit(db, admin, code[:32])
    return render(request, "cases/directory.html", {"unit": unit})
