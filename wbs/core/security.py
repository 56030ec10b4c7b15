"""Security headers, CSRF tokens and a privacy-preserving access log."""

from __future__ import annotations

import hmac
import logging
import time
from hashlib import sha256

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wbs.core.errors import CsrfFailed

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
CSRF_MAX_AGE = 4 * 3600  # bound to a staff session
ANON_CSRF_MAX_AGE = 3600  # anonymous: reporter pages, the sign-in form

access_log = logging.getLogger("wbs.access")


class SecurityHeadersMiddleware:
    """Adds the security headers to every response; no-store unless static."""

    def __init__(self, app: ASGIApp, *, production: bool) -> None:
        self.app = app
        self.production = production

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        started = time.monotonic()
        status_holder: dict[str, int] = {}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() not in (b"server",)
                ]
                present = {k.lower() for k, _ in headers}
                extra: list[tuple[bytes, bytes]] = [
                    (b"content-security-policy", CSP.encode()),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"cross-origin-opener-policy", b"same-origin"),
                    (b"cross-origin-resource-policy", b"same-origin"),
                    (
                        b"permissions-policy",
                        b"camera=(), microphone=(), geolocation=(), interest-cohort=()",
                    ),
                ]
                if b"cache-control" not in present:
                    cache = b"public, max-age=3600" if path.startswith("/static/") else b"no-store"
                    extra.append((b"cache-control", cache))
                if self.production:
                    extra.append(
                        (b"strict-transport-security", b"max-age=63072000; includeSubDomains")
                    )
                message["headers"] = headers + [h for h in extra if h[0] not in present]
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            # Method, route path and status only: never address, agent, referrer or query.
            route = scope.get("route")
            route_path = getattr(route, "path", None) or "-"
            method = scope.get("method", "-")
            status = status_holder.get("status", 0)
            ms = round((time.monotonic() - started) * 1000, 1)
            access_log.info(
                "%s %s %s %.1fms",
                method,
                route_path,
                status,
                ms,
                extra={"method": method, "route": route_path, "status": status, "duration_ms": ms},
            )


def _csrf_binding(request: Request, bind: str | None) -> str:
    session_id = getattr(request.state, "session_id", None)
    base = f"s:{session_id}" if session_id else "anon"
    return f"{base}/{bind}" if bind else base


def _csrf_mac(secret: bytes, issued: int, binding: str) -> str:
    return hmac.new(secret, f"wbs/csrf/{issued}/{binding}".encode(), sha256).hexdigest()


def csrf_token(request: Request, *, bind: str | None = None) -> str:
    """A token bound to the staff session (or to 'anonymous'), to `bind` and its issue time.

    Anonymous pages bind their tokens to something of the request (a reporter form's signed
    challenge, a mailbox session) and such tokens live only `ANON_CSRF_MAX_AGE`.
    """
    issued = int(time.time())
    secret: bytes = request.app.state.csrf_secret
    return f"{issued}.{_csrf_mac(secret, issued, _csrf_binding(request, bind))}"


def check_csrf_token(
    request: Request, token: str | None, *, bind: str | None = None, max_age: int | None = None
) -> None:
    if not token or "." not in token or len(token) > 128:
        raise CsrfFailed()
    issued_text, mac = token.split(".", 1)
    if not issued_text.isdigit():
        raise CsrfFailed()
    issued = int(issued_text)
    if max_age is None:
        signed_in = getattr(request.state, "session_id", None) is not None
        max_age = CSRF_MAX_AGE if signed_in else ANON_CSRF_MAX_AGE
    if not 0 <= time.time() - issued <= max_age:
        raise CsrfFailed()
    expected = _csrf_mac(request.app.state.csrf_secret, issued, _csrf_binding(request, bind))
    if not hmac.compare_digest(mac, expected):
        raise CsrfFailed()


def check_origin(request: Request) -> None:
    """Refuse cross-site unsafe requests when the browser tells us where they come from.

    ``Sec-Fetch-Site`` is set by the browser, never by a page. Under our
    ``Referrer-Policy: no-referrer`` Chromium posts forms with ``Origin: null``, so a null
    origin passes only when the browser itself vouches that the request is same-origin.
    Clients that send neither header (API clients, curl) still need a CSRF token or a
    bearer credential, checked elsewhere.
    """
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        raise CsrfFailed()
    origin = request.headers.get("origin")
    if origin is None:
        return
    if origin == "null":
        if site != "same-origin":
            raise CsrfFailed()
        return
    own = f"{request.url.scheme}://{request.url.netloc}"
    # Behind a TLS proxy the app sees http://; the browser sends WBS_BASE_URL's origin.
    if origin.rstrip("/") not in (own, request.app.state.settings.public_origin):
        raise CsrfFailed()


def safe_next(value: str | None) -> str:
    """Only local absolute paths: no open redirect."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value[:500]
    return "/staff"
