"""Request metrics in the Prometheus text format, kept in fixed memory.

`RequestMetrics` (pure ASGI, around the router) counts requests and their duration by
method, route *template* (`/api/v1/cases/{report_id}`, never the concrete path) and status
class. A request no route matched is `unmatched`; an unknown method is `OTHER`. The label
sets are therefore bounded by the app's routes; `MAX_SERIES` is a second fence. Nothing of
the client (address, agent), the query string or the path's values is ever a label.

Under `wbs serve` every worker process writes its counts, at most about once a second, to
`WBS_DATA_DIR/run/metrics/<port>/<pid>.json` (0600, atomically) and a scrape sums the files
of that directory: one scrape reports the whole instance. Files of workers that died stay in
the sum until `wbs serve` starts again and clears the directory.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import os
import re
import shutil
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"
MAX_SERIES = 2000  # (method, route, status class) triples; beyond it all go to "other"
OVERFLOW = ("OTHER", "other", "other")
# Set by `wbs serve` for its workers: the instance's snapshot directory.
DIRECTORY_ENV = "WBS_METRICS_INSTANCE_DIR"
FLUSH_SECONDS = 1.0
MAX_SNAPSHOT_BYTES = 4 * 1024 * 1024  # far above MAX_SERIES series of the app's routes
SNAPSHOT_NAME = re.compile(r"[0-9]{1,10}\.json")
SNAPSHOT_VERSION = 1

log = logging.getLogger("wbs.metrics")


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


Key = tuple[str, str, str]


class RequestStats:
    """Counts and latency histograms by (method, route template, status class).

    With a `directory` (one per `wbs serve` instance) the process's counts are also written
    there as `<pid>.json`, and `total()` is the sum of every file in it."""

    def __init__(
        self,
        max_series: int = MAX_SERIES,
        *,
        directory: Path | None = None,
        flush_seconds: float = FLUSH_SECONDS,
    ) -> None:
        self.max_series = max_series
        self.series: dict[Key, _Series] = {}
        self.directory = directory
        self.flush_seconds = flush_seconds
        self._flushed_at = -math.inf
        self._dirty = False

    def _slot(self, key: Key) -> _Series:
        found = self.series.get(key)
        if found is None:
            if len(self.series) >= self.max_series:
                key = OVERFLOW
                found = self.series.get(key)
            if found is None:
                found = self.series[key] = _Series()
        return found

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method if method in METHODS else "OTHER", route, status_class(status))
        self._slot(key).observe(seconds)
        self._dirty = True

    def add(self, key: Key, other: _Series) -> None:
        into = self._slot(key)
        into.count += other.count
        into.total += other.total
        into.buckets = [a + b for a, b in zip(into.buckets, other.buckets, strict=True)]

    def snapshot(self) -> dict[str, Any]:
        return {
            "version": SNAPSHOT_VERSION,
            "buckets": list(BUCKETS),
            "series": [[*k, s.count, s.total, s.buckets] for k, s in self.series.items()],
        }

    def flush(self) -> None:
        """Write this process's snapshot now (nothing without a directory)."""
        if self.directory is None:
            return
        self._flushed_at = time.monotonic()
        self._dirty = False
        try:
            write_snapshot(self.directory, os.getpid(), self.snapshot())
        except OSError as exc:
            self._dirty = True
            log.warning("metrics snapshot not written: %s", exc.strerror)

    def maybe_flush(self) -> None:
        """Cheap after each request: flush when counts changed and the last flush is old."""
        if self._dirty and time.monotonic() - self._flushed_at >= self.flush_seconds:
            self.flush()

    async def keep_flushed(self, stop: asyncio.Event) -> None:
        """Background job: flush idle workers' last counts too, and once more at shutdown."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.flush_seconds)
            self.maybe_flush()
        self.flush()

    def total(self) -> RequestStats:
        """What a scrape reports: this process, or the sum over the instance's snapshots."""
        if self.directory is None:
            return self
        self.flush()
        return read_instance(self.directory, self.max_series)

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
        merged = RequestStats(max_series=len(ordered) + 1)
        for (method, route, _status), s in ordered:
            merged.add((method, route, ""), s)
        for (method, route, _), s in sorted(merged.series.items()):
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
            self.stats.maybe_flush()


def instance_directory(data_dir: Path, port: int) -> Path:
    """`data_dir/run/metrics/<port>`: one `wbs serve` instance (its port) per directory."""
    return data_dir.resolve() / "run" / "metrics" / str(port)


def reset_instance(directory: Path) -> Path:
    """At `wbs serve` start: an empty directory (0700) for the instance's snapshots."""
    shutil.rmtree(directory, ignore_errors=True)
    for path in (directory.parent.parent, directory.parent, directory):
        path.mkdir(mode=0o700, exist_ok=True)
        path.chmod(0o700)
    return directory


def from_environment() -> Path | None:
    """The snapshot directory `wbs serve` handed its workers, or None (in-memory only)."""
    value = os.environ.get(DIRECTORY_ENV)
    return Path(value) if value else None


def write_snapshot(directory: Path, pid: int, snapshot: dict[str, Any]) -> None:
    """`<pid>.json` replaced atomically by a fully written temporary file (both 0600)."""
    data = json.dumps(snapshot, separators=(",", ":")).encode()
    temporary = directory / f".{pid}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
    fd = os.open(temporary, flags, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.replace(temporary, directory / f"{pid}.json")


def read_instance(directory: Path, max_series: int = MAX_SERIES) -> RequestStats:
    """The sum of every snapshot in `directory`. A file that is too large, unreadable or not
    a snapshot is left out (with a warning naming only the file), never fatal."""
    total = RequestStats(max_series=max_series)
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError as exc:
        log.warning("metrics snapshots not readable: %s", exc.strerror)
        return total
    for entry in entries:
        if not SNAPSHOT_NAME.fullmatch(entry.name):
            continue
        series = _read_snapshot(Path(entry.path))
        if series is None:
            log.warning("metrics snapshot %s left out (too large or malformed)", entry.name)
            continue
        for key, s in series:
            total.add(key, s)
    return total


def _read_snapshot(path: Path) -> list[tuple[Key, _Series]] | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as source:
            data = source.read(MAX_SNAPSHOT_BYTES + 1)
        if len(data) > MAX_SNAPSHOT_BYTES:
            return None
        return _parse_snapshot(json.loads(data))
    except (OSError, ValueError):
        return None


def _parse_snapshot(doc: object) -> list[tuple[Key, _Series]] | None:
    """Every series of a snapshot, or None when any part of it is not as written."""
    if not isinstance(doc, dict) or doc.get("version") != SNAPSHOT_VERSION:
        return None
    if doc.get("buckets") != list(BUCKETS) or not isinstance(doc.get("series"), list):
        return None
    out: list[tuple[Key, _Series]] = []
    for row in doc["series"]:
        if not (isinstance(row, list) and len(row) == 6):
            return None
        method, route, status, count, total, buckets = row
        if not all(isinstance(v, str) for v in (method, route, status)):
            return None
        if not _is_count(count) or not isinstance(total, int | float) or not 0 <= total < math.inf:
            return None
        if not (isinstance(buckets, list) and len(buckets) == len(BUCKETS)):
            return None
        if not all(_is_count(b) for b in buckets):
            return None
        out.append(((method, route, status), _Series(count, float(total), buckets)))
    return out


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


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
