"""A real `wbs serve` subprocess on a fresh database, and the `wbs` command next to it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.conftest import TEST_SECRET
from wbs.client.api import Api
from wbs.client.flows import sign_in


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def end(process: subprocess.Popen[bytes], sig: int) -> None:
    """Send `sig`, wait up to 30 s, then kill."""
    if process.poll() is None:
        process.send_signal(sig)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=30)


@dataclass
class Served:
    """Environment shared by the server and every `wbs` command of one test."""

    root: Path
    database_url: str
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    workers: int = 1
    serve_args: tuple[str, ...] = ()
    process: subprocess.Popen[bytes] | None = None

    @property
    def data_dir(self) -> Path:
        return self.root / "var"

    @property
    def tmp_dir(self) -> Path:
        return self.root / "tmp"

    @property
    def config_dir(self) -> Path:
        return self.root / "config"

    @property
    def log_path(self) -> Path:
        return self.root / "server-output.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("WBS_")}
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        env.update(
            {
                "WBS_DATA_DIR": str(self.data_dir),
                "WBS_DATABASE_URL": self.database_url,
                "WBS_SECRET_KEY": TEST_SECRET,
                "WBS_ARGON2_MEMORY_KIB": "1024",
                "WBS_ARGON2_TIME_COST": "1",
                "WBS_ARGON2_PARALLELISM": "1",
                "WBS_POW_DIFFICULTY": "4",
                "WBS_REPORT_FORM_MIN_SECONDS": "0",
                "WBS_CRYPTO_ALLOW_WEAK_KDF": "1",
                "TMPDIR": str(self.tmp_dir),
                # `wbs client` keeps the unit keys it trusts here, not in the user's config.
                "XDG_CONFIG_HOME": str(self.config_dir),
            }
        )
        env.update(self.extra_env)
        return env

    def wbs(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "wbs", *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=self.env(),
            timeout=300,
            check=False,
        )

    def create_unit(self, code: str, staff: dict[str, str], passphrase: str) -> None:
        """`wbs unit create` and one `wbs staff create` per e-mail -> role."""
        made = self.wbs("unit", "create", code, "--name", f"Unit {code.title()}")
        assert made.returncode == 0, made.stderr
        for email, role in staff.items():
            made = self.wbs(
                "staff",
                "create",
                email,
                "--unit",
                code,
                "--role",
                role,
                "--password-stdin",
                stdin=passphrase + "\n",
            )
            assert made.returncode == 0, made.stderr

    def enroll_and_approve(
        self,
        officers: list[str],
        admin: str,
        passphrase: str,
        recipients: dict[str, list[str]] | None = None,
    ) -> None:
        """Each officer makes a key with `wbs client enroll`; the admin chooses who reads
        each channel in `recipients` (case type -> e-mails; else the channel's handling
        role) and signs the directory."""
        for email in officers:
            made = self.wbs(
                "client",
                "enroll",
                "--url",
                self.url,
                "--email",
                email,
                "--password-stdin",
                stdin=passphrase + "\n",
            )
            assert made.returncode == 0, made.stderr
        if recipients:
            self.choose_recipients(admin, passphrase, recipients)
        signed = self.wbs(
            "client",
            "approve",
            "--url",
            self.url,
            "--email",
            admin,
            "--password-stdin",
            stdin=passphrase + "\n",
        )
        assert signed.returncode == 0, signed.stderr

    def choose_recipients(
        self, admin: str, passphrase: str, recipients: dict[str, list[str]]
    ) -> None:
        """The admin's recipient choice per channel, through the admin API."""
        with Api(self.url) as api:
            unit = sign_in(api, admin, passphrase)["unit"]
            staff = api.get(f"/api/v1/admin/units/{unit}/directory")["staff"]
            ids = {s["email"]: s["id"] for s in staff}
            for channel, emails in recipients.items():
                api.put(
                    f"/api/v1/admin/units/{unit}/channels/{channel}/recipients",
                    json={"staff_ids": [ids[e] for e in emails]},
                )

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                *(sys.executable, "-m", "wbs", "serve", "--port", str(self.port)),
                *("--workers", str(self.workers), *self.serve_args),
            ],
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        for _ in range(300):
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("wbs serve did not come up:\n" + self.log_path.read_text())

    def stop(self) -> None:
        if self.process is not None:
            end(self.process, signal.SIGTERM)
            self.process = None
