"""Request body limits per route, enforced before the application reads a byte.

Every route has a limit: `DEFAULT_BODY_LIMIT` unless its endpoint declares another with
`@body_limit(...)` (an int, or a function of the app for limits that come from settings).
`BodyLimitMiddleware` finds the route the router will pick, then

- refuses at once with 413 when `Content-Length` says more than the limit (the app never
  runs, authentication included, and nothing of the body is read), and
- counts the bytes while they arrive otherwise (chunked bodies): at the limit it answers
  413 itself and the app's next read fails, so no more is read.

The 413 is the `PayloadTooLarge` domain error, rendered like any other (JSON or page).
nginx (`deploy/nginx/wbs.conf`) repeats the larger limits per location.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi.routing import iter_route_contexts
from starlette.requests import Request
from starlette.routing import Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wbs.core.errors import PayloadTooLarge

KIB = 1024
MIB = 1024 * KIB
# Sign-in, 2FA, status, mailbox login, most JSON: a few KiB. Larger bodies are declared.
DEFAULT_BODY_LIMIT = 8 * KIB
ATTRIBUTE = "__wbs_body_limit__"

Limit = int | Callable[[Any], int]
F = TypeVar("F", bound=Callable[..., Any])


def body_limit(limit: Limit) -> Callable[[F], F]:
    """Declare an endpoint's body limit in bytes (or a function of the app returning it).

    Put it under the route decorator: ``@router.post(...)`` then ``@body_limit(...)``.
    """

    def mark(endpoint: F) -> F:
        setattr(endpoint, ATTRIBUTE, limit)
        return endpoint

    return mark


def declared_limit(route: Any) -> Limit:
    """What the route's endpoint declares, or the default."""
    endpoint = getattr(route, "endpoint", None)
    limit: Limit = getattr(endpoint, ATTRIBUTE, DEFAULT_BODY_LIMIT)
    return limit


@dataclass(frozen=True)
class RouteLimit:
    """One route (as the router sees it, prefixes included) and its body limit."""

    route: Any  # a fastapi RouteContext: matches(scope), path, methods, endpoint
    limit: int

    @property
    def path(self) -> str:
        return str(getattr(self.route, "path", "") or "")

    @property
    def methods(self) -> frozenset[str]:
        return frozenset(getattr(self.route, "methods", None) or ())


class BodyLimits:
    """The limit of every route of an app, resolved once on first use."""

    def __init__(self, app: Any, default: int = DEFAULT_BODY_LIMIT) -> None:
        self.app = app
        self.default = default
        self._table: list[RouteLimit] | None = None

    def table(self) -> Sequence[RouteLimit]:
        """Every route in the router's order (included routers flattened), with its limit."""
        if self._table is None:
            table = []
            for context in iter_route_contexts(self.app.router.routes):
                if isinstance(context.original_route, Mount):
                    continue  # static files: GET only, the default applies
                limit = declared_limit(context)
                value = limit(self.app) if callable(limit) else limit
                if not isinstance(value, int) or value < 1:
                    raise ValueError(f"body limit of {context.path} is not a positive int")
                table.append(RouteLimit(context, value))
            self._table = table
        return self._table

    def for_scope(self, scope: Scope) -> int:
        """The limit of the route the router will choose (the first full match)."""
        for entry in self.table():
            match, _child = entry.route.matches(scope)
            if match == Match.FULL:
                return entry.limit
        return self.default  # 404, 405 and static files


class _BodyTooLarge(Exception):
    """Raised into the app when a streamed body passes its limit (already answered 413)."""


def too_large(limit: int) -> PayloadTooLarge:
    shown = f"{limit // MIB} MiB" if limit >= MIB else f"{max(1, limit // KIB)} KiB"
    return PayloadTooLarge(
        f"Data yang dikirim terlalu besar (paling besar {shown}).",
        f"The data sent is too large (at most {shown}).",
        details={"max_bytes": limit},
    )


class BodyLimitMiddleware:
    """Pure ASGI: refuse from Content-Length, count while streaming, answer 413."""

    def __init__(self, app: ASGIApp, *, limits: BodyLimits) -> None:
        self.app = app
        self.limits = limits

    async def _reject(self, scope: Scope, send: Send, limit: int) -> None:
        from wbs.core.handlers import render_error  # late: handlers imports templating

        async def no_body() -> Message:
            return {"type": "http.disconnect"}

        response = render_error(Request(scope, no_body), too_large(limit))
        response.headers["connection"] = "close"
        await response(scope, no_body, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.for_scope(scope)
        length = _content_length(scope)
        if length is not None and length > limit:
            await self._reject(scope, send, limit)  # the app never runs, nothing is read
            return

        received = 0
        rejected = False
        started = False

        async def limited_receive() -> Message:
            nonlocal received, rejected
            if rejected:
                raise _BodyTooLarge()
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    rejected = True
                    if not started:
                        await self._reject(scope, send, limit)
                    raise _BodyTooLarge()
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if rejected:
                return  # the 413 went out: whatever the app answers after it is dropped
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not rejected:
                raise
            # The app failed because its body was cut off at the limit: already answered.


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return None
