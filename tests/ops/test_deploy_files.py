"""The shipped deploy files: systemd units pass `systemd-analyze verify` (with the wbs
command where this checkout has it) and name real commands; nginx keeps the operators'
endpoints off the public site."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import IN_CI

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("wbs*.*"))
INSTALLED_WBS = "/opt/wbs/.venv/bin/wbs"


def test_units_verify(tmp_path):
    tool = shutil.which("systemd-analyze")
    if tool is None:
        if IN_CI:
            pytest.fail("CI=true but systemd-analyze is missing (Debian package systemd)")
        pytest.skip("systemd-analyze not installed (apt-get install systemd)")
    here = str(Path(sys.executable).parent / "wbs")
    copies = []
    for unit in UNITS:
        copy = tmp_path / unit.name
        copy.write_text(unit.read_text().replace(INSTALLED_WBS, here))
        copies.append(str(copy))
    done = subprocess.run(
        [tool, "verify", "--man=no", *copies], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr


def test_units_run_real_commands():
    names = {u.name for u in UNITS}
    assert {"wbs.service", "wbs-worker.service", "wbs-backup.service", "wbs-backup.timer"} <= names
    for unit in UNITS:
        for line in re.findall(r"^ExecStart(?:Pre)?=(.+)$", unit.read_text(), re.M):
            found = re.search(re.escape(INSTALLED_WBS) + r" (\w+)(?: (\w+))?", line)
            assert found, f"{unit.name}: {line}"
            args = [found.group(1)]
            if found.group(1) == "db":
                args.append(found.group(2))
            helped = subprocess.run(
                [sys.executable, "-m", "wbs", *args, "--help"],
                capture_output=True,
                text=True,
                check=False,
            )
            assert helped.returncode == 0, f"{unit.name}: wbs {' '.join(args)}: {helped.stderr}"
            for option in re.findall(r" (--[a-z-]+)", line):
                assert option in helped.stdout, f"{unit.name}: no {option} in wbs {args[0]}"


def test_nginx_keeps_operator_endpoints_local():
    conf = (DEPLOY / "nginx" / "wbs.conf").read_text()
    for path in ("/metrics", "/readyz"):
        assert re.search(r"location = " + path + r" \{\s*return 404;\s*\}", conf), path
    proxy = (DEPLOY / "nginx" / "wbs-proxy.conf").read_text()
    assert re.search(r"^proxy_set_header X-Forwarded-Proto \$scheme;", proxy, re.M)
