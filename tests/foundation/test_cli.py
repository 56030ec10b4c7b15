"""The `wbs` command as an operator uses it: real processes, real server."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import CSRF_RE


def wbs(
    data_dir: Path, *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("WBS_")}
    full_env.update(
        {
            "WBS_DATA_DIR": str(data_dir),
            "WBS_ARGON2_MEMORY_KIB": "1024",
            "WBS_ARGON2_TIME_COST": "1",
        }
    )
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "wbs", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=120,
        check=False,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_help_on_every_command(tmp_path):
    for args in (
        [],
        ["db"],
        ["unit", "create"],
        ["staff", "create"],
        ["staff", "deactivate"],
        ["audit", "verify"],
        ["serve"],
    ):
        result = wbs(tmp_path, *args, "--help")
        assert result.returncode == 0, (args, result.stderr)
        assert "Usage" in result.stdout


def test_unit_and_staff_creation_with_clear_errors(tmp_path):
    assert wbs(tmp_path, "db", "upgrade").returncode == 0
    made = wbs(tmp_path, "unit", "create", "KEMENTERIAN", "--name", "Kementerian X")
    assert made.returncode == 0 and "4 channels" in made.stdout
    child = wbs(
        tmp_path, "unit", "create", "ESELON1", "--name", "Eselon I", "--parent", "KEMENTERIAN"
    )
    assert child.returncode == 0
    again = wbs(tmp_path, "unit", "create", "KEMENTERIAN", "--name", "Lagi")
    assert again.returncode == 1 and "already exists" in again.stderr
    orphan = wbs(tmp_path, "unit", "create", "X1", "--name", "Y", "--parent", "NOPE")
    assert orphan.returncode == 1 and "not found" in orphan.stderr
    staff = wbs(
        tmp_path,
        "staff",
        "create",
        "Verif@Example.go.id",
        "--unit",
        "ESELON1",
        "--role",
        "verifikator",
        "--role",
        "auditor",
        "--password-stdin",
        stdin="a-long-enough-passphrase\n",
    )
    assert staff.returncode == 0, staff.stderr
    assert "verif@example.go.id" in staff.stdout and "TOTP" not in staff.stdout
    bad_role = wbs(
        tmp_path,
        "staff",
        "create",
        "x@example.go.id",
        "--unit",
        "ESELON1",
        "--role",
        "boss",
        "--password-stdin",
        stdin="a-long-enough-passphrase\n",
    )
    assert bad_role.returncode == 2 and "roles must be among" in bad_role.stderr
    short = wbs(
        tmp_path,
        "staff",
        "create",
        "y@example.go.id",
        "--unit",
        "ESELON1",
        "--role",
        "admin",
        "--password-stdin",
        stdin="short\n",
    )
    assert short.returncode == 2 and "12" in short.stderr
    with_totp = wbs(
        tmp_path,
        "staff",
        "create",
        "z@example.go.id",
        "--unit",
        "ESELON1",
        "--role",
        "admin",
        "--totp",
        "--password-stdin",
        stdin="a-long-enough-passphrase\n",
    )
    assert with_totp.returncode == 0 and "otpauth://totp/" in with_totp.stdout
    verified = wbs(tmp_path, "audit", "verify")
    assert verified.returncode == 0 and "OK" in verified.stdout


def test_production_refuses_to_start_without_a_real_secret(tmp_path):
    result = wbs(
        tmp_path, "db", "upgrade", env={"WBS_ENV": "production", "WBS_SECRET_KEY": "change-me"}
    )
    assert result.returncode == 2 and "WBS_SECRET_KEY" in result.stderr
    assert "Traceback" not in result.stderr


def test_make_run_flow_serves_and_the_demo_admin_signs_in(tmp_path):
    """What `make run` does: upgrade, demo (prints the accounts once), serve; a report sent
    to the demo unit is opened by the demo verifikator."""
    assert wbs(tmp_path, "db", "upgrade").returncode == 0
    demo = wbs(tmp_path, "demo")
    assert demo.returncode == 0, demo.stderr
    email = re.search(r"(admin@demo\.wbs\.local)\s+\S+\s+(\S+)", demo.stdout)
    officer = re.search(r"verifikator@demo\.wbs\.local\s+\S+\s+(\S+)", demo.stdout)
    assert email and officer
    password = re.search(r"admin@demo\.wbs\.local\s+\S+\s+(\S+)", demo.stdout)
    assert password and "development only" in demo.stdout
    assert "already present" in wbs(tmp_path, "demo").stdout  # printed only once
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WBS_")}
    env.update(
        {
            "WBS_DATA_DIR": str(tmp_path),
            "WBS_ARGON2_MEMORY_KIB": "1024",
            "WBS_ARGON2_TIME_COST": "1",
        }
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "wbs", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("server did not come up")
        with httpx.Client(base_url=base) as client:
            page = client.get("/staff/login")
            assert page.status_code == 200 and "Masuk petugas" in page.text
            token = CSRF_RE.search(page.text)
            assert token
            from crypto.staffkeys import login_secret

            # The browser derives the login secret from the printed passphrase with the
            # account's parameters; the passphrase itself is not what the server knows.
            kdf = client.get("/api/v1/staff/kdf", params={"email": email.group(1)}).json()
            assert kdf["kdf"]["name"] == "pbkdf2-sha256" and kdf["kdf"]["iterations"] >= 600_000
            form = {"csrf_token": token.group(1), "email": email.group(1), "next": "/admin"}
            refused = client.post("/staff/login", data={**form, "password": password.group(1)})
            assert refused.status_code == 401
            response = client.post(
                "/staff/login",
                data={**form, "password": login_secret(password.group(1), kdf["kdf"])},
            )
            assert response.status_code == 303
            admin = client.get("/admin")
            assert admin.status_code == 200 and "DEMO" in admin.text
        # The demo channels are ready: a report sent to DEMO opens for the demo verifikator.
        from wbs.client import flows
        from wbs.client.known import KnownUnits

        form = httpx.get(f"{base}/lapor/DEMO/pengaduan")
        assert form.status_code == 200
        sent = flows.submit(
            base,
            "DEMO",
            "pengaduan",
            "laporan demo pertama",
            known=KnownUnits(tmp_path / "known.json"),
        )
        cases = flows.inbox(base, "verifikator@demo.wbs.local", officer.group(1))
        assert [c["report"]["text"] for c in cases] == ["laporan demo pertama"]
        assert cases[0]["case_number"] == sent["case_number"]
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0].decode()
    log = (tmp_path / "logs" / "wbs.log").read_text()
    assert "GET /staff/login 200" in log and "POST /staff/login 303" in log
    for text in (output, log):  # neither the console nor the file names a client address
        assert "127.0.0.1:" not in text.replace(f"http://127.0.0.1:{port}", "")
