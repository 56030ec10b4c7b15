"""Admin page: a unit's working-day calendar (holidays, cuti bersama switch, closures)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from wbs.calendar import repository, service
from wbs.calendar.workdays import LAST_YEAR, holiday_names
from wbs.core.db import DbSession
from wbs.core.errors import NotFound, ValidationFailed
from wbs.core.i18n import LANG_COOKIE
from wbs.core.templating import render
from wbs.staff.deps import CsrfChecked, CurrentAdmin
from wbs.units import repository as units
from wbs.units.models import Unit

router = APIRouter(prefix="/admin/units/{code}/calendar", tags=["admin"], include_in_schema=False)


async def _unit(db: DbSession, admin: CurrentAdmin, code: str) -> Unit:
    unit = await db.scalar(units.readable_units(admin.unit_id).where(Unit.code == code.upper()))
    if unit is None:
        raise NotFound()
    return unit


def _field(form: object, name: str, limit: int) -> str:
    value = form.get(name) if hasattr(form, "get") else None
    return value[:limit].strip() if isinstance(value, str) else ""


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise ValidationFailed(
            "Tanggal tidak valid (YYYY-MM-DD).", "Not a valid date (YYYY-MM-DD)."
        ) from None


@router.get("", response_class=HTMLResponse)
async def calendar_page(
    code: str, request: Request, db: DbSession, admin: CurrentAdmin
) -> Response:
    unit = await _unit(db, admin, code)
    raw_year = request.query_params.get("year", "")[:4]
    year = int(raw_year) if raw_year.isdigit() else date.today().year
    year = min(max(year, 2004), LAST_YEAR)
    policy = await repository.policy(db, unit.id)
    lang = "en" if request.cookies.get(LANG_COOKIE) == "en" else "id"
    return render(
        request,
        "admin/calendar.html",
        {
            "unit": unit,
            "year": year,
            "holidays": holiday_names(year, lang=lang),
            "cuti_bersama_libur": policy.cuti_bersama_libur if policy else True,
            "closures": await repository.closures(db, unit.id),
        },
    )


@router.post("/cuti-bersama", dependencies=[CsrfChecked])
async def set_cuti_bersama(
    code: str, request: Request, db: DbSession, admin: CurrentAdmin
) -> Response:
    unit = await _unit(db, admin, code)
    form = await request.form()
    await service.set_cuti_bersama(
        db, unit, libur=_field(form, "libur", 8) == "ya", actor_id=admin.id, actor=admin.email
    )
    return RedirectResponse(f"/admin/units/{unit.code}/calendar", status_code=303)


@router.post("/closures", dependencies=[CsrfChecked])
async def add_closure(code: str, request: Request, db: DbSession, admin: CurrentAdmin) -> Response:
    unit = await _unit(db, admin, code)
    form = await request.form()
    await service.add_closure(
        db,
        unit,
        _day(_field(form, "day", 10)),
        _field(form, "reason", 200),
        actor_id=admin.id,
        actor=admin.email,
    )
    return RedirectResponse(f"/admin/units/{unit.code}/calendar", status_code=303)


@router.post("/closures/{day}/delete", dependencies=[CsrfChecked])
async def remove_closure(code: str, day: str, db: DbSession, admin: CurrentAdmin) -> Response:
    unit = await _unit(db, admin, code)
    await service.remove_closure(db, unit, _day(day), actor_id=admin.id, actor=admin.email)
    return RedirectResponse(f"/admin/units/{unit.code}/calendar", status_code=303)
