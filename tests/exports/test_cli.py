"""`wbs export`: making a package on the command line, and `verify` as an evaluator runs it."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.exports.test_jobs import SOURCE
from tests.exports.test_package import KEY, OTHER, build, entries, figures, rezip
from tests.foundation.test_cli import wbs
from wbs.cli import app
from wbs.exports import package, service


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """`wbs ARGS` in this process (quick); `wbs(...)` runs the real command for real exits."""
    result = CliRunner().invoke(app, list(args))
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


@pytest.fixture
def good(tmp_path: Path) -> Path:
    path = tmp_path / "indikator-DEMO-2026-csv-publik.zip"
    path.write_bytes(build("csv"))
    return path


def test_verify_ok_prints_what_it_checked(tmp_path: Path, good: Path) -> None:
    pinned = wbs(tmp_path, "export", "verify", str(good), "--public-key", KEY.public_text)
    assert pinned.returncode == 0, pinned.stderr
    out = pinned.stdout
    assert out.startswith(f"OK {good.name}\n")
    assert "unit DEMO" in out and "period 2026, public" in out and "suppressed below 5" in out
    assert f"signature Ed25519 by key {KEY.fingerprint}" in out
    assert (
        "indikator.json: sha256 " in out and "indikator.csv: same values as indikator.json" in out
    )
    assert "WARNING" not in out
    hex_key = run("export", "verify", str(good), "--public-key", KEY.public_raw.hex())
    assert hex_key.returncode == 0
    unpinned = run("export", "verify", str(good))
    assert (
        unpinned.returncode == 0
        and "WARNING: the key was taken from the package" in unpinned.stdout
    )


def test_verify_fails_with_exit_1_naming_the_entry(tmp_path: Path, good: Path) -> None:
    items = entries(good.read_bytes())
    rows = dict(items)["indikator.csv"].decode().split("\r\n")
    rows[3], rows[4] = rows[4], rows[3]
    bad = tmp_path / "bad.zip"
    bad.write_bytes(
        rezip([(n, "\r\n".join(rows).encode() if n == "indikator.csv" else c) for n, c in items])
    )
    result = wbs(tmp_path, "export", "verify", str(bad))
    assert result.returncode == 1
    assert result.stderr.startswith("FAIL indikator.csv: ") and "SHA-256" in result.stderr
    assert result.stdout == ""
    flipped = bytearray(good.read_bytes())
    flipped[-30] ^= 1
    bad.write_bytes(bytes(flipped))
    assert run("export", "verify", str(bad)).returncode == 1
    other = run("export", "verify", str(good), "--public-key", OTHER.public_text)
    assert other.returncode == 1 and "FAIL manifest.sig: " in other.stderr


def test_verify_usage_errors_exit_2(tmp_path: Path, good: Path) -> None:
    assert wbs(tmp_path, "export", "verify", str(tmp_path / "none.zip")).returncode == 2
    assert run("export", "verify", str(good), "--public-key", "abc").returncode == 2
    both = run(
        "export",
        "verify",
        str(good),
        "--public-key",
        KEY.public_text,
        "--unit-key-from",
        "https://wbs.example.go.id",
    )
    assert both.returncode == 2
    plain = run("export", "verify", str(good), "--unit-key-from", "http://example.com")
    assert plain.returncode == 2 and "https" in plain.stderr


@pytest.fixture
def key_server() -> Iterator[str]:
    """A stand-in for a wbs server's public key route, answering for unit DEMO."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/api/v1/units/DEMO/export-key":
                self.send_response(404)
                self.end_headers()
                return
            body = json.dumps(
                {
                    "unit": "DEMO",
                    "algorithm": "Ed25519",
                    "public_key": KEY.public_text,
                    "key_id": KEY.fingerprint,
                }
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_verify_with_the_key_fetched_from_the_unit(
    tmp_path: Path, good: Path, key_server: str
) -> None:
    fetched = run("export", "verify", str(good), "--unit-key-from", key_server)
    assert fetched.returncode == 0, fetched.stderr
    assert "WARNING" not in fetched.stdout
    forged = tmp_path / "forged.zip"
    forged.write_bytes(build("csv", OTHER))  # well formed, signed by someone else
    assert run("export", "verify", str(forged)).returncode == 0  # unpinned: warns only
    refused = run("export", "verify", str(forged), "--unit-key-from", key_server)
    assert refused.returncode == 1 and "signed by another key" in refused.stderr


def test_export_indicators_writes_a_package_that_verifies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "var"
    assert wbs(data_dir, "db", "upgrade").returncode == 0
    assert wbs(data_dir, "unit", "create", "KPPN-UJI", "--name", "KPPN Uji").returncode == 0
    for name in [n for n in os.environ if n.startswith("WBS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("WBS_DATA_DIR", str(data_dir))
    monkeypatch.setattr(service, "indicator_source", lambda settings=None: SOURCE)
    out = tmp_path / "paket.zip"
    result = CliRunner().invoke(
        app,
        [
            "export",
            "indicators",
            "--unit",
            "kppn-uji",
            "--period",
            "2026",
            "--format",
            "pdf",
            "--public",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("ekspor / export")  # the progress bar (plain without a tty)
    assert result.stdout.startswith(f"{out} (") and "key " in result.stdout
    key = wbs(data_dir, "export", "key", "--unit", "KPPN-UJI")
    assert key.returncode == 0
    lines = key.stdout.splitlines()
    public = dict(line.split(" ", 1) for line in lines[:3])["public_key"]
    assert lines[3] == "-----BEGIN PUBLIC KEY-----"
    verified = run("export", "verify", str(out), "--public-key", public)
    assert verified.returncode == 0, verified.stderr
    assert "unit KPPN-UJI" in verified.stdout and "indikator.pdf: sha256" in verified.stdout
    assert package.verify(out.read_bytes()).figures == len(figures().rows)

    unknown = CliRunner().invoke(
        app, ["export", "indicators", "--unit", "NOPE", "--period", "2026"]
    )
    assert unknown.exit_code == 1 and "not found" in unknown.stderr
    bad = CliRunner().invoke(
        app, ["export", "indicators", "--unit", "KPPN-UJI", "--period", "2026-14"]
    )
    assert bad.exit_code == 2
