"""The custodian's page: open identity requests, decided on the custodian's device."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from wbs.core.errors import NotFound
from wbs.core.templating import render
from wbs.staff.deps import CurrentStaff
from wbs.staff.models import Role

router = APIRouter(tags=["custodian pages"], include_in_schema=False)


@router.get("/staff/identitas", response_class=HTMLResponse)
async def custodian_page(request: Request, staff: CurrentStaff) -> Response:
    """The shell; `custodian.js` lists the requests and re-wraps on approval (404 unless
    the staff member is a custodian)."""
    if Role.custodian not in staff.roles:
        raise NotFound()
    return render(request, "identity/custodian.html", {})
