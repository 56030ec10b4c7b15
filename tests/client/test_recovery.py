"""Passphrase change and recovery through `wbs client` against a real `wbs serve`, on both
databases: the officer enrols (the recovery key is printed once), a report arrives, the
officer changes the admin-typed passphrase, forgets it, the admin sets a temporary one at the
command line, and the officer recovers the same key with the recovery key. The report wrapped
before all of this still opens, and no passphrase ever had to be shared again."""

from __future__ import annotations

import json

import httpx
import pytest

from crypto.staffkeys import new_recovery_key
from tests.client.server import Served

ADMIN_PASS = "kata-sandi-admin-untuk-uji"
TYPED_BY_ADMIN = "diketik-admin-saat-membuat"
OWN = "hanya-petugas-yang-tahu-1"
TEMPORARY = "sementara-dari-admin-2"
AFTER = "pilihan-petugas-setelah-pulih-3"
OFFICER = "v1@demo.go.id"
ADMIN = "admin@demo.go.id"


def _json(result) -> object:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _signed_in(url: str, passphrase: str) -> httpx.Client:
    from wbs.client.api import Api
    from wbs.client.flows import sign_in

    api = Api(url)
    sign_in(api, OFFICER, passphrase)
    return api.http


@pytest.mark.slow
async def test_change_forget_and_recover_with_the_client(tmp_path, fresh_db_url):
    served = Served(tmp_path, fresh_db_url)
    (tmp_path / "report.txt").write_text("Laporan sebelum ganti kata sandi KANARI-91c2\n")
    assert served.wbs("unit", "create", "DEMO", "--name", "Unit Demo").returncode == 0
    for email, role, passphrase in (
        (ADMIN, "admin", ADMIN_PASS),
        (OFFICER, "verifikator", TYPED_BY_ADMIN),
    ):
        made = served.wbs(
            "staff",
            "create",
            email,
            "--unit",
            "DEMO",
            "--role",
            role,
            "--password-stdin",
            stdin=passphrase + "\n",
        )
        assert made.returncode == 0, made.stderr
        assert "/staff/key" in made.stdout  # the admin is told the officer must change it
    served.start()
    url = served.url
    try:
        enrolled = _json(
            served.wbs(
                "client",
                "enroll",
                "--url",
                url,
                "--email",
                OFFICER,
                "--password-stdin",
                stdin=TYPED_BY_ADMIN + "\n",
            )
        )
        recovery_key = enrolled["recovery_key"]
        assert len(recovery_key.replace("-", "")) == 28
        again = _json(
            served.wbs(
                "client",
                "enroll",
                "--url",
                url,
                "--email",
                OFFICER,
                "--password-stdin",
                stdin=TYPED_BY_ADMIN + "\n",
            )
        )
        assert again["recovery_key"] is None  # shown once; the stored copy stays
        approved = _json(
            served.wbs(
                "client",
                "approve",
                "--url",
                url,
                "--email",
                ADMIN,
                "--password-stdin",
                stdin=ADMIN_PASS + "\n",
            )
        )
        assert approved["approved"] and approved["recovery_key"]  # the admin's own, once
        submitted = _json(
            served.wbs(
                "client",
                "submit",
                "--url",
                url,
                "--unit",
                "DEMO",
                "--channel",
                "wbs",
                "--text-file",
                str(tmp_path / "report.txt"),
            )
        )

        # First sign-in: the officer replaces the passphrase the admin typed.
        other = _signed_in(url, TYPED_BY_ADMIN)
        try:
            assert other.get("/api/v1/staff/me").status_code == 200
            changed = _json(
                served.wbs(
                    "client",
                    "passwd",
                    "--url",
                    url,
                    "--email",
                    OFFICER,
                    "--password-stdin",
                    stdin=f"{TYPED_BY_ADMIN}\n{OWN}\n",
                )
            )
            assert changed["passphrase_changed_at"]
            assert changed["fingerprint"] == enrolled["fingerprint"]
            assert other.get("/api/v1/staff/me").status_code == 401  # other session ended
        finally:
            other.close()
        stale = served.wbs(
            "client",
            "inbox",
            "--url",
            url,
            "--email",
            OFFICER,
            "--password-stdin",
            stdin=TYPED_BY_ADMIN + "\n",
        )
        assert stale.returncode == 1  # the admin's passphrase no longer signs in
        short = served.wbs(
            "client",
            "passwd",
            "--url",
            url,
            "--email",
            OFFICER,
            "--password-stdin",
            stdin=f"{OWN}\npendek\n",
        )
        assert short.returncode == 1 and "12" in short.stderr
        inbox = _json(
            served.wbs(
                "client",
                "inbox",
                "--url",
                url,
                "--email",
                OFFICER,
                "--password-stdin",
                stdin=OWN + "\n",
            )
        )
        assert [c["case_number"] for c in inbox] == [submitted["case_number"]]

        # Forgotten: the admin sets a temporary passphrase; the key and its copies stay.
        reset = served.wbs(
            "staff", "set-password", OFFICER, "--password-stdin", stdin=TEMPORARY + "\n"
        )
        assert reset.returncode == 0, reset.stderr
        assert "recover" in reset.stdout
        assert TEMPORARY not in reset.stdout + reset.stderr
        locked = served.wbs(
            "client",
            "inbox",
            "--url",
            url,
            "--email",
            OFFICER,
            "--password-stdin",
            stdin=TEMPORARY + "\n",
        )
        assert locked.returncode == 1  # signs in, but the key does not open with it
        plain = served.wbs(
            "client",
            "passwd",
            "--url",
            url,
            "--email",
            OFFICER,
            "--password-stdin",
            stdin=f"{TEMPORARY}\n{AFTER}\n",
        )
        assert plain.returncode == 1 and "recover" in plain.stderr
        for wrong_key in (recovery_key[:-2], new_recovery_key()):  # mistyped, another key
            wrong = served.wbs(
                "client",
                "recover",
                "--url",
                url,
                "--email",
                OFFICER,
                "--password-stdin",
                stdin=f"{TEMPORARY}\n{wrong_key}\n{AFTER}\n",
            )
            assert wrong.returncode == 1 and "pemulihan" in wrong.stderr
        recovered = _json(
            served.wbs(
                "client",
                "recover",
                "--url",
                url,
                "--email",
                OFFICER,
                "--password-stdin",
                stdin=f"{TEMPORARY}\n{recovery_key.lower()}\n{AFTER}\n",
            )
        )
        assert recovered["fingerprint"] == enrolled["fingerprint"]
        assert recovered["key_status"] == "approved"  # same key: no new approval
        for passphrase in (OWN, TEMPORARY):
            refused = served.wbs(
                "client",
                "inbox",
                "--url",
                url,
                "--email",
                OFFICER,
                "--password-stdin",
                stdin=passphrase + "\n",
            )
            assert refused.returncode == 1
        inbox = _json(
            served.wbs(
                "client",
                "inbox",
                "--url",
                url,
                "--email",
                OFFICER,
                "--password-stdin",
                stdin=AFTER + "\n",
            )
        )
        assert [c["case_number"] for c in inbox] == [submitted["case_number"]]
        assert "KANARI-91c2" in inbox[0]["report"]["text"]
    finally:
        served.stop()
    log = served.log_path.read_text()
    for secret in (TYPED_BY_ADMIN, OWN, TEMPORARY, AFTER, recovery_key):
        assert secret not in log
    audit = served.wbs("audit", "verify")
    assert audit.returncode == 0, audit.stderr
