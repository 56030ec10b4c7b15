"""`/healthz` (the process answers), `/readyz` (database and file stores usable) and
`/metrics` (Prometheus text, for operators only: see `metrics_allowed`)."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from wbs.core.errors import NotFound
from wbs.core.settings import Settings
from wbs.ops import service
from wbs.ops.metrics import RequestStats, gauge_lines

router = APIRouter(tags=["ops"])

LOOPBACK = frozenset({"127.0.0.1", "::1"})
# Headers a reverse proxy adds (deploy/nginx/wbs-proxy.conf sets X-Forwarded-Proto): a
# request carrying one came through the proxy, whatever its peer address says.
PROXY_HEADERS = frozenset({"forwarded", "x-forwarded-for", "x-forwarded-proto", "x-real-ip"})
PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


@router.get("/healthz")
async def healthz() -> JSONResponse:
    """The process runs and answers; nothing else is checked (no database)."""
    return JSONResponse({"status": "ok"})


@router.get("/readyz", responses={503: {"description": "a part is not usable"}})
async def readyz(request: Request) -> JSONResponse:
    """The database answers within the timeout and every file store is writable and readable;
    503 naming the parts that are not (never a URL, path or error text)."""
    settings: Settings = request.app.state.settings
    found = await service.readiness(
        request.app.state.engine, request.app.state.file_stores, settings.ready_timeout_seconds
    )
    body = {"status": "ok" if found.ok else "fail", "checks": found.checks}
    return JSONResponse(body, status_code=200 if found.ok else 503)


def metrics_allowed(request: Request) -> bool:
    """With WBS_METRICS_TOKEN: `Authorization: Bearer <token>`. Without: a loopback peer
    and no proxy header (nginx on the same machine also connects from loopback)."""
    settings: Settings = request.app.state.settings
    if settings.metrics_token is not None and settings.metrics_token.get_secret_value():
        expected = f"Bearer {settings.metrics_token.get_secret_value()}".encode()
        given = request.headers.get("authorization", "").encode()
        return hmac.compare_digest(given, expected)
    peer = request.client.host if request.client else ""
    return peer in LOOPBACK and not PROXY_HEADERS & set(request.headers.keys())


@router.get(
    "/metrics", response_class=PlainTextResponse, responses={404: {"description": "not allowed"}}
)
async def metrics(request: Request) -> PlainTextResponse:
    if not metrics_allowed(request):
        raise NotFound()
    state = request.app.state
    stats: RequestStats = state.request_stats
    lines = stats.total().lines() + gauge_lines(
        await service.gauges(state.settings, state.engine, state.sessionmaker)
    )
    return PlainTextResponse("\n".join(lines) + "\n", media_type=PROMETHEUS_TEXT)
