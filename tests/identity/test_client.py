"""Identity release end to end with the reference client against a real `wbs serve`: the
reporter's identity sealed v2 to the custodian, an officer's request, the custodian's
re-wrap on the command line, the requester's own key opening it; everyone else refused with
a non-zero exit; the reporter's `follow` shows the bilingual notice; the chain verifies."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.client.server import Served

PASS = "kata-sandi-panjang-untuk-uji"
CANARY = "KANARI-IDENTITAS-CLI-5c0a"


def _json(result: Any) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_identity_release_from_the_reference_client(tmp_path, fresh_db_url):
    served = Served(tmp_path, fresh_db_url)
    assert served.wbs("unit", "create", "IDEN", "--name", "Unit Identitas").returncode == 0
    people = {
        "admin@iden.go.id": "admin",
        "v@iden.go.id": "verifikator",
        "w@iden.go.id": "verifikator",
        "c@iden.go.id": "custodian",
    }
    for email, role in people.items():
        made = served.wbs(
            "staff", "create", email, "--unit", "IDEN", "--role", role, "--password-stdin",
            stdin=PASS + "\n",
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
    report = tmp_path / "laporan.txt"
    report.write_text("Pungutan liar di loket 2.")
    served.start()
    url = served.url

    def staff(email: str) -> tuple[str, ...]:
        return ("--url", url, "--email", email, "--password-stdin")

    def run(*args: str) -> Any:
        return served.wbs("client", *args, stdin=PASS + "\n")

    try:
        for email in ("v@iden.go.id", "w@iden.go.id", "c@iden.go.id"):
            _json(run("enroll", *staff(email)))
        approved = _json(run("approve", *staff("admin@iden.go.id")))
        assert approved["custodians"] == 1
        sent = _json(
            served.wbs(
                "client", "submit", "--url", url, "--unit", "IDEN", "--channel", "wbs",
                "--text-file", str(report), "--identity", f"nama={CANARY}",
                "--identity", "telepon=0812",
            )
        )  # fmt: skip
        assert sent["envelope_version"] == 2
        number = sent["case_number"]

        asked = _json(
            run("identity", "request", number, *staff("v@iden.go.id"), "--reason", "klarifikasi")
        )
        assert asked["state"] == "requested"
        early = run("identity", "open", number, *staff("v@iden.go.id"))
        assert early.returncode == 1 and "error:" in early.stderr
        # an officer is not a custodian: the list does not exist for them
        assert run("identity", "pending", *staff("w@iden.go.id")).returncode == 1
        [pending] = _json(run("identity", "pending", *staff("c@iden.go.id")))
        assert pending["id"] == asked["id"] and "identity" not in pending
        done = _json(run("identity", "approve", asked["id"], *staff("c@iden.go.id")))
        assert done["state"] == "approved"
        again = run("identity", "approve", asked["id"], *staff("c@iden.go.id"))
        assert again.returncode == 1 and again.stderr.startswith("error:")

        opened = _json(run("identity", "open", number, *staff("v@iden.go.id")))
        assert opened["identity"] == {"nama": CANARY, "telepon": "0812"}
        # the other officer asks too and is denied: nothing opens for them
        other = _json(
            run(
                "identity", "request", number, *staff("w@iden.go.id"),
                "--reason", "lainnya", "--note", "perlu konfirmasi",
            )
        )  # fmt: skip
        denied = run(
            "identity", "deny", other["id"], *staff("c@iden.go.id"), "--reason", "tidak perlu"
        )
        assert _json(denied)["state"] == "denied"
        refused = run("identity", "open", number, *staff("w@iden.go.id"))
        assert refused.returncode == 1 and CANARY not in refused.stdout + refused.stderr

        followed = _json(served.wbs("client", "follow", "--url", url, "--receipt", sent["receipt"]))
        [notice] = followed["notices"]
        assert notice["text"]["id"].startswith("Identitas Anda telah dibuka untuk")
        assert notice["text"]["en"].startswith("Your identity was opened for")
        assert followed["report"]["text"] == "Pungutan liar di loket 2."
    finally:
        served.stop()
    verified = served.wbs("audit", "verify", "--unit", "IDEN")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert CANARY not in served.log_path.read_text()
