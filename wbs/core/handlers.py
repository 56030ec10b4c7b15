"""One place that turns errors into a page (HTML requests) or JSON (API requests)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from wbs.core.errors import Busy, DomainError, NotAuthenticated, NotFound, ValidationFailed
from wbs.core.i18n import request_language
from wbs.core.templating import render

log = logging.getLogger("wbs.errors")


class MethodNotAllowed(DomainError):
    status, code = 405, "method_not_allowed"
    message_id = "Metode tidak diizinkan."
    message_en = "Method not allowed."


class InternalError(DomainError):
    status, code = 500, "internal_error"
    message_id = "Terjadi kesalahan pada server. Tidak ada data Anda yang tersimpan sebagian."
    message_en = "Something went wrong on the server. Nothing you sent was partly saved."


def wants_json(request: Request) -> bool:
    if request.url.path.startswith("/api/"):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def render_error(request: Request, exc: DomainError) -> Response:
    lang = request_language(request)
    if wants_json(request):
        return JSONResponse(exc.as_json(lang), status_code=exc.status, headers=exc.headers)
    # The request's transaction was rolled back: its ORM objects must not be touched again.
    request.state.staff = None
    if isinstance(exc, NotAuthenticated) and request.method == "GET":
        return RedirectResponse(f"/staff/login?next={request.url.path}", status_code=303)
    try:
        return render(
            request,
            "errors/error.html",
            {"error": exc},
            status_code=exc.status,
            headers=exc.headers,
        )
    except Exception:  # a broken template must not hide the original error
        log.exception("error page failed to render")
        return JSONResponse(exc.as_json(lang), status_code=exc.status, headers=exc.headers)


def install_handlers(app: FastAPI) -> None:
    async def domain(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DomainError)  # noqa: S101 - registered for DomainError
        return render_error(request, exc)

    async def http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)  # noqa: S101
        err: DomainError
        if exc.status_code == 404:
            err = NotFound()
        elif exc.status_code == 405:
            err = MethodNotAllowed()
        else:
            err = DomainError()
            err.status = exc.status_code  # type: ignore[misc]
        return render_error(request, err)

    async def validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)  # noqa: S101
        fields: list[dict[str, Any]] = [
            {"field": ".".join(str(p) for p in e.get("loc", ())), "problem": e.get("type")}
            for e in exc.errors()
        ]
        return render_error(request, ValidationFailed(details={"fields": fields}))

    async def busy(request: Request, exc: Exception) -> Response:
        log.warning(
            "no database connection free on %s %s: answered 503",
            request.method,
            getattr(request.scope.get("route"), "path", "-"),
        )
        return render_error(request, Busy(headers={"Retry-After": "5"}))

    async def database(request: Request, exc: Exception) -> Response:
        # Connections are not pinged before use: one the server dropped fails here, once,
        # and SQLAlchemy refreshes the pool; the request is answered like a busy one.
        if isinstance(exc, DBAPIError) and exc.connection_invalidated:
            log.warning(
                "database connection lost on %s %s: answered 503",
                request.method,
                getattr(request.scope.get("route"), "path", "-"),
            )
            return render_error(request, Busy(headers={"Retry-After": "1"}))
        return await unexpected(request, exc)

    async def unexpected(request: Request, exc: Exception) -> Response:
        log.error(
            "unhandled %s on %s %s",
            type(exc).__name__,
            request.method,
            getattr(request.scope.get("route"), "path", "-"),
            exc_info=exc,
        )
        return render_error(request, InternalError())

    app.add_exception_handler(DomainError, domain)
    app.add_exception_handler(StarletteHTTPException, http)
    app.add_exception_handler(RequestValidationError, validation)
    app.add_exception_handler(PoolTimeout, busy)
    app.add_exception_handler(DBAPIError, database)
    app.add_exception_handler(Exception, unexpected)
