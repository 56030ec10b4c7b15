"""Admin pages: units, channels and staff within the admin's unit subtree."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from wbs.core.db import DbSession
from wbs.core.errors import NotFound
from wbs.core.templating import render
from wbs.staff import repository as staff_repo
from wbs.staff.deps import CurrentAdmin
from wbs.units import repository
from wbs.units.models import Unit

router = APIRouter(prefix="/admin", tags=["admin"])


@router.get("", response_class=HTMLResponse)
async def admin_home(request: Request, db: DbSession, admin: CurrentAdmin) -> Response:
    units = list(await db.scalars(repository.readable_units(admin.unit_id)))
    staff = list(await db.scalars(staff_repo.readable_statement(admin)))
    unit_codes = {u.id: u.code for u in units}
    return render(
        request, "admin/index.html", {"units": units, "staff_list": staff, "unit_codes": unit_codes}
    )


@router.get("/units/{code}", response_class=HTMLResponse)
async def unit_page(code: str, request: Request, db: DbSession, admin: CurrentAdmin) -> Response:
    unit = await db.scalar(
        repository.readable_units(admin.unit_id).where(Unit.code == code.upper())
    )
    if unit is None:
        raise NotFound()
    return render(request, "admin/unit.html", {"unit": unit})
