"""Officer commands of the reference client sign in to TOTP accounts (mandatory in
production) with `--code`; without it the server's TOTP refusal is printed, exit 1."""

from __future__ import annotations

import json
import re

import pyotp
import pytest

from tests.client.server import Served

PASS = "kata-sandi-panjang-untuk-uji"


@pytest.mark.parametrize("backend", ["sqlite"])
def test_officer_commands_take_a_totp_code(tmp_path, fresh_db_url):
    served = Served(tmp_path, fresh_db_url)
    assert served.wbs("unit", "create", "KODE", "--name", "Unit Kode").returncode == 0
    made = served.wbs(
        "staff", "create", "k@kode.go.id", "--unit", "KODE", "--role", "custodian",
        "--totp", "--password-stdin", stdin=PASS + "\n",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    uri = re.search(r"TOTP: (otpauth://\S+)", made.stdout)
    assert uri is not None
    totp = pyotp.parse_uri(uri.group(1))
    served.start()
    pending = ("client", "identity", "pending", "--url", served.url, "--email", "k@kode.go.id")
    try:
        refused = served.wbs(*pending, "--password-stdin", stdin=PASS + "\n")
        assert refused.returncode == 1
        assert "TOTP" in refused.stderr or "kode" in refused.stderr.lower()
        ok = served.wbs(*pending, "--password-stdin", "--code", totp.now(), stdin=PASS + "\n")
        assert ok.returncode == 0, ok.stderr
        assert json.loads(ok.stdout) == []
        wrong = served.wbs(*pending, "--password-stdin", "--code", "000000", stdin=PASS + "\n")
        if totp.now() != "000000":
            assert wrong.returncode == 1
    finally:
        served.stop()
