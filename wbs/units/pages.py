"""Admin pages: units, channels and staff within the admin's unit subtree."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from wbs.core.db import DbSession, PathId
from wbs.core.errors import NotFound, ValidationFailed
from wbs.core.templating import render
from wbs.staff import repository as staff_repo
from wbs.staff import service as staff_service
from wbs.staff.deps import CsrfChecked, CurrentAdmin
from wbs.staff.models import Staff
from wbs.units import repository
from wbs.units.models import Unit

router = APIRouter(prefix="/admin", tags=["admin"], include_in_schema=False)


@router.get("", response_class=HTMLResponse)
async def admin_home(request: Request, db: DbSession, admin: CurrentAdmin) -> Response:
    units = list(await db.scalars(repository.readable_units(admin.unit_id)))
    staff = list(await db.scalars(staff_repo.readable_statement(admin)))
    unit_codes = {u.id: u.code for u in units}
    return render(
        request,
        "admin/index.html",
        {
            "units": units,
            "staff_list": staff,
            "unit_codes": unit_codes,
            "current_staff_id": admin.id,
        },
    )


@router.get("/units/{code}", response_class=HTMLResponse)
async def unit_page(code: str, request: Request, db: DbSession, admin: CurrentAdmin) -> Response:
    unit = await db.scalar(
        repository.readable_units(admin.unit_id).where(Unit.code == code.upper())
    )
    if unit is None:
        raise NotFound()
    return render(request, "admin/unit.html", {"unit": unit})


@router.post("/staff/{staff_id}/deactivate", dependencies=[CsrfChecked])
async def deactivate_staff(staff_id: PathId, db: DbSession, admin: CurrentAdmin) -> Response:
    """A departed officer of the admin's subtree: sign-in refused, sessions ended, key
    approval cleared (audited). The admin then signs the unit's directory again."""
    staff = await db.scalar(staff_repo.readable_statement(admin).where(Staff.id == staff_id))
    if staff is None:
        raise NotFound()
    if staff.id == admin.id:
        raise ValidationFailed(
            "Admin tidak dapat menonaktifkan akunnya sendiri.",
            "An admin cannot deactivate their own account.",
        )
    await staff_service.deactivate(db, staff, actor_id=admin.id, actor=admin.email)
    return RedirectResponse("/admin", status_code=303)
