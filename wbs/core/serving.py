"""uvicorn's HTTP/1.1 protocol with TCP_NODELAY set on every connection.

With `--workers` above 1 uvicorn binds the listening socket itself (`socket.socket(family)`,
protocol number 0), and asyncio sets TCP_NODELAY only on accepted sockets whose protocol is
IPPROTO_TCP: every response written in two parts (head, then body) then waits for the client's
delayed ACK (Nagle), about 40 ms per request on one connection. `wbs serve` uses this class.
"""

from __future__ import annotations

import asyncio
import socket

from uvicorn.protocols.http.h11_impl import H11Protocol


def no_delay(transport: asyncio.BaseTransport) -> None:
    """Send small writes at once on a TCP connection (no-op for other transports)."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class NoDelayH11Protocol(H11Protocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        no_delay(transport)
        super().connection_made(transport)
