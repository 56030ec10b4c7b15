"""Dependency aliases that make a route's signature read as its access policy."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request

from wbs.core.db import DbSession
from wbs.core.errors import NotAuthenticated, NotFound
from wbs.core.security import CSRF_FIELD, CSRF_HEADER, check_csrf_token, check_origin
from wbs.staff import service
from wbs.staff.models import Role, Staff

SESSION_COOKIE = "wbs_staff"


def session_cookie_name(request: Request) -> str:
    return (
        "__Host-" + SESSION_COOKIE if request.app.state.settings.is_production else SESSION_COOKIE
    )


def security(request: Request) -> service.Security:
    sec: service.Security = request.app.state.security
    return sec


SecurityDep = Annotated[service.Security, Depends(security)]


async def optional_staff(request: Request, db: DbSession, sec: SecurityDep) -> Staff | None:
    """Loads the signed-in staff member (if any) and records the session on request.state."""
    token = request.cookies.get(session_cookie_name(request))
    request.state.staff = None
    request.state.session_id = None
    if not token or len(token) > 128:
        return None
    found = await service.resume_session(db, sec, token)
    if found is None:
        return None
    session, staff = found
    request.state.staff = staff
    request.state.session_id = session.id
    return staff


OptionalStaff = Annotated[Staff | None, Depends(optional_staff)]


async def require_staff(staff: OptionalStaff) -> Staff:
    if staff is None:
        raise NotAuthenticated()
    return staff


CurrentStaff = Annotated[Staff, Depends(require_staff)]


def require_role(*roles: Role) -> Callable[[Staff], Awaitable[Staff]]:
    """A staff member holding one of the roles; anyone else is told the page does not exist."""

    async def dependency(staff: CurrentStaff) -> Staff:
        if not service.has_role(staff, *roles):
            raise NotFound()
        return staff

    return dependency


CurrentAdmin = Annotated[Staff, Depends(require_role(Role.admin))]
CurrentAuditor = Annotated[Staff, Depends(require_role(Role.admin, Role.auditor))]


async def csrf_protect(request: Request, _staff: OptionalStaff) -> None:
    """Every unsafe form: same origin and a token bound to this session (or to 'anonymous')."""
    check_origin(request)
    token = request.headers.get(CSRF_HEADER)
    if token is None:
        # Bounded: at most one file (worksheet imports); a worksheet has a few hundred fields.
        form = await request.form(max_files=1, max_fields=1000, max_part_size=64 * 1024)
        value = form.get(CSRF_FIELD)
        token = value if isinstance(value, str) else None
    check_csrf_token(request, token)


CsrfChecked = Depends(csrf_protect)
