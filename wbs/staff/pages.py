"""Staff pages: sign-in, sign-out, two-step enrolment and the staff home page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from wbs.core.db import DbSession
from wbs.core.errors import DomainError
from wbs.core.security import safe_next
from wbs.core.templating import render
from wbs.staff import service, totp
from wbs.staff.deps import (
    CsrfChecked,
    CurrentStaff,
    OptionalStaff,
    SecurityDep,
    session_cookie_name,
)
from wbs.staff.forms import parse_login

router = APIRouter(prefix="/staff", tags=["staff"], include_in_schema=False)


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, staff: OptionalStaff) -> Response:
    if staff is not None:
        return RedirectResponse("/staff", status_code=303)
    return render(
        request,
        "staff/login.html",
        {"next": safe_next(request.query_params.get("next")), "error": None, "email": ""},
    )


@router.post("/login", dependencies=[CsrfChecked], response_class=HTMLResponse)
async def login(request: Request, db: DbSession, sec: SecurityDep) -> Response:
    form = await parse_login(request)
    try:
        staff = await service.authenticate(
            db, sec, email=form.email, login_secret=form.password, code=form.code
        )
    except DomainError as exc:
        # Rendered here rather than raised so the failure count is committed.
        return render(
            request,
            "staff/login.html",
            {"next": form.next, "error": exc, "email": form.email[:254]},
            status_code=exc.status,
        )
    token, _session = await service.start_session(db, sec, staff)
    response = RedirectResponse(form.next, status_code=303)
    response.set_cookie(
        session_cookie_name(request),
        token,
        httponly=True,
        samesite="strict",
        secure=sec.settings.is_production,
        path="/",
    )
    return response


@router.post("/logout", dependencies=[CsrfChecked])
async def logout(request: Request, db: DbSession, staff: CurrentStaff) -> Response:
    await service.end_session(db, request.state.session_id, staff)
    response = RedirectResponse("/staff/login", status_code=303)
    response.delete_cookie(session_cookie_name(request), path="/")
    return response


@router.get("", response_class=HTMLResponse)
async def home(request: Request, staff: CurrentStaff) -> Response:
    return render(request, "staff/home.html", {"roles": sorted(r.value for r in staff.roles)})


@router.get("/2fa", response_class=HTMLResponse)
async def totp_page(request: Request, staff: CurrentStaff) -> Response:
    seed = totp.new_secret()
    return render(
        request,
        "staff/totp.html",
        {
            "seed": seed,
            "uri": totp.provisioning_uri(seed, staff.email),
            "enrolled": staff.totp_secret_enc is not None,
            "error": None,
        },
    )


@router.post("/2fa", dependencies=[CsrfChecked], response_class=HTMLResponse)
async def totp_enrol(
    request: Request, db: DbSession, sec: SecurityDep, staff: CurrentStaff
) -> Response:
    form = await request.form()
    seed = str(form.get("seed", ""))[:64]
    code = str(form.get("code", ""))[:16]
    # Re-authentication: the login secret the page's script derived from the passphrase,
    # and a code from the authenticator already enrolled (if any).
    login_secret = str(form.get("password", ""))[:1024]
    current_code = str(form.get("current_code", ""))[:16].strip() or None
    try:
        await service.enrol_totp(
            db, sec, staff, seed, code, login_secret=login_secret, current_code=current_code
        )
    except DomainError as exc:
        seed = seed if totp.valid_secret(seed) else totp.new_secret()
        return render(
            request,
            "staff/totp.html",
            {
                "seed": seed,
                "uri": totp.provisioning_uri(seed, staff.email),
                "enrolled": staff.totp_secret_enc is not None,
                "error": exc,
            },
            status_code=exc.status,
        )
    return RedirectResponse("/staff", status_code=303)


@router.get("/key", response_class=HTMLResponse)
async def key_page(request: Request, staff: CurrentStaff) -> Response:
    """Make this device's key pair (in the browser) and send the public key for approval."""
    return render(request, "cases/key.html", {"key_status": staff.key_status})
