"""uvicorn's HTTP/1.1 protocols with TCP_NODELAY set on every connection.

With `--workers` above 1 uvicorn binds the listening socket itself (`socket.socket(family)`,
protocol number 0), and asyncio sets TCP_NODELAY only on accepted sockets whose protocol is
IPPROTO_TCP: every response written in two parts (head, then body) then waits for the client's
delayed ACK (Nagle), about 40 ms per request on one connection. `wbs serve` uses this class.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import socket
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


def no_delay(transport: asyncio.BaseTransport) -> None:
    """Send small writes at once on a TCP connection (no-op for other transports)."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class NoDelayH11Protocol(H11Protocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        no_delay(transport)
        super().connection_made(transport)


class NoDelayHttpToolsProtocol(HttpToolsProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        no_delay(transport)
        super().connection_made(transport)


def cores() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def default_workers(database_url: str) -> int:
    """`wbs serve`'s default: one process per core on PostgreSQL; one on SQLite, whose
    single writer gains nothing from more processes (`make run`)."""
    return cores() if database_url.startswith("postgresql") else 1


def port_in_use(host: str, port: int) -> bool:
    """Whether another process listens on (host, port): checked before `wbs serve` touches the
    instance's files, so a second start on a busy port leaves the running one alone."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        return False  # uvicorn reports the bad address itself
    for family, kind, proto, _name, address in infos:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError:
                return True
    return False


def server_options(*, stock: bool = False) -> dict[str, Any]:
    """uvicorn's loop and HTTP protocol: uvloop and httptools when installed (they are in
    the lockfile; measured in docs/benchmarks.md), with TCP_NODELAY either way."""
    if stock:
        return {"loop": "asyncio", "http": NoDelayH11Protocol}
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    fast = importlib.util.find_spec("httptools") is not None
    return {"loop": loop, "http": NoDelayHttpToolsProtocol if fast else NoDelayH11Protocol}
