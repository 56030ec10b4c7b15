"""Request metrics in the Prometheus text format, kept in fixed memory.

`RequestMetrics` (pure ASGI, around the router) counts requests and their duration by
method, route *template* (`/api/v1/cases/{report_id}`, never the concrete path) and status
class. A request no route matched is `unmatched`; an unknown method is `OTHER`. The label
sets are therefore bounded by the app's routes; `MAX_SERIES` is a second fence. Nothing of
the client (address, agent), the query string or the path's values is ever a label.

Counters are per process: with `wbs serve --workers N` a scrape reads one worker's.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"
MAX_SERIES = 2000  # (method, route, status class) triples; beyond it all go to "other"


def route_template(scope: Scope) -> str:
    """The template of the route the router chose, or `unmatched`."""
    route = scope.get("route")
    if route is None:
        return UNMATCHED
    path = getattr(route, "path", None)
    if not isinstance(path, str) or not path:
        return UNMATCHED
    if isinstance(route, Mount):
        return path.rstrip("/") + "/{path}"
    return path


def status_class(status: int) -> str:
    return f"{status // 100}xx" if 100 <= status <= 599 else "other"


@dataclass
class _Series:
    count: int = 0
    total: float = 0.0
    buckets: list[int] = field(default_factory=lambda: [0] * len(BUCKETS))

    def observe(self, seconds: float) -> None:
        self.count += 1
        self.total += seconds
        for i, bound in enumerate(BUCKETS):
            if seconds <= bound:
                self.buckets[i] += 1


class RequestStats:
    """Counts and latency histograms by (method, route template, status class)."""

    def __init__(self, max_series: int = MAX_SERIES) -> None:
        self.max_series = max_series
        self.series: dict[tuple[str, str, str], _Series] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method if method in METHODS else "OTHER", route, status_class(status))
        found = self.series.get(key)
        if found is None:
            if len(self.series) >= self.max_series:
                key = ("OTHER", "other", "other")
                found = self.series.get(key)
            if found is None:
                found = self.series[key] = _Series()
        found.observe(seconds)

    def lines(self) -> list[str]:
        out = [
            "# HELP wbs_http_requests_total Requests by method, route template, status class.",
            "# TYPE wbs_http_requests_total counter",
        ]
        ordered = sorted(self.series.items())
        for (method, route, status), s in ordered:
            labels = _labels(method=method, route=route, status=status)
            out.append(f"wbs_http_requests_total{labels} {s.count}")
        out += [
            "# HELP wbs_http_request_duration_seconds Time to answer by method, route template.",
            "# TYPE wbs_http_request_duration_seconds histogram",
        ]
        merged: dict[tuple[str, str], _Series] = {}
        for (method, route, _status), s in ordered:
            into = merged.setdefault((method, route), _Series())
            into.count += s.count
            into.total += s.total
            into.buckets = [a + b for a, b in zip(into.buckets, s.buckets, strict=True)]
        for (method, route), s in sorted(merged.items()):
            for bound, n in zip(BUCKETS, s.buckets, strict=True):
                labels = _labels(method=method, route=route, le=_number(bound))
                out.append(f"wbs_http_request_duration_seconds_bucket{labels} {n}")
            labels = _labels(method=method, route=route, le="+Inf")
            out.append(f"wbs_http_request_duration_seconds_bucket{labels} {s.count}")
            base = _labels(method=method, route=route)
            out.append(f"wbs_http_request_duration_seconds_sum{base} {_number(s.total)}")
            out.append(f"wbs_http_request_duration_seconds_count{base} {s.count}")
        return out


class RequestMetrics:
    """Pure ASGI: time each HTTP request and count it under its route template."""

    def __init__(self, app: ASGIApp, *, stats: RequestStats) -> None:
        self.app = app
        self.stats = stats

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        status = 500  # an exception before the response started becomes a 500 outside

        async def timed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, timed_send)
        finally:
            # The router put the chosen route into this same scope dict.
            self.stats.observe(
                str(scope.get("method", "")),
                route_template(scope),
                status,
                time.monotonic() - started,
            )


@dataclass(frozen=True)
class Gauge:
    """One gauge sample (a name, help text, labels and value) computed at scrape time."""

    name: str
    help: str
    value: float
    labels: Sequence[tuple[str, str]] = ()


def gauge_lines(gauges: Iterable[Gauge]) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for g in gauges:
        if g.name not in seen:
            seen.add(g.name)
            out += [f"# HELP {g.name} {g.help}", f"# TYPE {g.name} gauge"]
        out.append(f"{g.name}{_labels(**dict(g.labels))} {_number(g.value)}")
    return out


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(**labels: str) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items()) + "}"


def _number(value: float) -> str:
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))
