"""`wbs serve` sets TCP_NODELAY on every connection, also on a socket bound as uvicorn binds
it for several workers (protocol number 0), where asyncio leaves Nagle on."""

from __future__ import annotations

import asyncio
import os
import socket
import tempfile

from wbs.core.serving import (
    NoDelayH11Protocol,
    NoDelayHttpToolsProtocol,
    cores,
    default_workers,
    no_delay,
)
from wbs.ops.metrics import DIRECTORY_ENV


async def _accepted_nodelay(fix: bool) -> int:
    listener = socket.socket(family=socket.AF_INET)  # as uvicorn's Config.bind_socket does
    listener.bind(("127.0.0.1", 0))
    accepted: asyncio.Future[asyncio.BaseTransport] = asyncio.get_running_loop().create_future()

    class Probe(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            if fix:
                no_delay(transport)
            accepted.set_result(transport)

    server = await asyncio.get_running_loop().create_server(Probe, sock=listener)
    try:
        _reader, writer = await asyncio.open_connection(*listener.getsockname())
        transport = await accepted
        flag = transport.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        writer.close()
        transport.close()
        return int(flag)
    finally:
        server.close()
        await server.wait_closed()


async def test_a_uvicorn_style_socket_gets_no_delay_only_with_the_fix():
    assert await _accepted_nodelay(fix=False) == 0  # the ~40 ms per request stall
    assert await _accepted_nodelay(fix=True) != 0


def test_wbs_serve_runs_uvicorn_with_the_protocol(tmp_path, monkeypatch):
    import uvicorn
    from typer.testing import CliRunner

    from tests.conftest import TEST_SECRET
    from wbs.cli import app

    monkeypatch.setenv("WBS_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("WBS_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/wbs.sqlite3")
    monkeypatch.setenv("WBS_SECRET_KEY", TEST_SECRET)
    # `serve` points TMPDIR at its data dir: restored after the test.
    monkeypatch.setenv("TMPDIR", os.environ.get("TMPDIR", tempfile.gettempdir()))
    monkeypatch.setattr(tempfile, "tempdir", tempfile.tempdir)
    monkeypatch.setenv(DIRECTORY_ENV, "")  # `serve` sets it for its workers: restored too
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    started: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda target, **kw: started.update(kw, target=target))
    result = runner.invoke(app, ["serve", "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert started["http"] is NoDelayHttpToolsProtocol and started["loop"] == "uvloop"
    assert started["workers"] == 2
    metrics_dir = tmp_path / "var" / "run" / "metrics" / "8000"
    assert os.environ[DIRECTORY_ENV] == str(metrics_dir.resolve())
    assert metrics_dir.is_dir() and metrics_dir.stat().st_mode & 0o777 == 0o700
    started.clear()
    result = runner.invoke(app, ["serve", "--stock-http"])
    assert result.exit_code == 0, result.output
    assert started["http"] is NoDelayH11Protocol and started["loop"] == "asyncio"
    assert started["workers"] == 1  # SQLite: one process by default


def test_default_workers_are_the_cores_on_postgresql():
    assert (
        default_workers("postgresql+psycopg://wbs@/wbs") == cores() == len(os.sched_getaffinity(0))
    )
    assert default_workers("sqlite+aiosqlite:///var/wbs.sqlite3") == 1
