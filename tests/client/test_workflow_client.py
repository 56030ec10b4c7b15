"""`wbs client case` and `wbs client act` against a real `wbs serve`: a pengaduan moved
through its workflow from the reference client, refusals exit non-zero with the reason."""

from __future__ import annotations

import json

import pytest

from tests.client.server import Served

PASS = "kata-sandi-panjang-untuk-uji"


def _json(result) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("backend", ["sqlite"])
def test_case_and_act_from_the_reference_client(tmp_path, fresh_db_url):
    served = Served(tmp_path, fresh_db_url)
    served.create_unit("ALUR", {"admin@alur.go.id": "admin", "v@alur.go.id": "verifikator"}, PASS)
    report = tmp_path / "laporan.txt"
    report.write_text("Pungutan liar di loket 2.")
    answer = tmp_path / "jawab.txt"
    answer.write_text("Kejadian Senin pukul 09.00.")
    served.start()
    url = served.url
    officer = ("--url", url, "--email", "v@alur.go.id", "--password-stdin")
    try:
        served.enroll_and_approve(["v@alur.go.id"], "admin@alur.go.id", PASS)
        sent = _json(
            served.wbs(
                "client",
                "submit",
                "--url",
                url,
                "--unit",
                "ALUR",
                "--channel",
                "pengaduan",
                "--text-file",
                str(report),
            )
        )
        number = sent["case_number"]

        seen = _json(served.wbs("client", "case", number, *officer, "--json", stdin=PASS + "\n"))
        assert seen["state"] == "diterima"
        assert [a["action"] for a in seen["actions"]] == ["mulai_verifikasi"]
        assert [d["name"] for d in seen["deadlines"]] == ["verifikasi"]

        moved = _json(
            served.wbs("client", "act", number, "mulai_verifikasi", *officer, stdin=PASS + "\n")
        )
        assert (moved["from"], moved["state"]) == ("diterima", "verifikasi")

        refused = served.wbs(
            "client", "act", number, "nyatakan_terverifikasi", *officer, stdin=PASS + "\n"
        )
        assert refused.returncode != 0 and "Report class is required" in refused.stderr
        wrong = served.wbs(
            "client",
            "act",
            number,
            "disposisi",
            "--fact",
            "tier=ringan",
            *officer,
            stdin=PASS + "\n",
        )
        assert wrong.returncode != 0 and "not available" in wrong.stderr

        asked = _json(
            served.wbs(
                "client",
                "act",
                number,
                "minta_kelengkapan",
                "--message",
                "Kapan kejadiannya?",
                *officer,
                stdin=PASS + "\n",
            )
        )
        assert asked["state"] == "perlu_kelengkapan"
        followed = _json(served.wbs("client", "follow", "--url", url, "--receipt", sent["receipt"]))
        assert followed["messages"][0]["text"] == "Kapan kejadiannya?"
        assert (
            served.wbs(
                "client",
                "reply",
                "--url",
                url,
                "--receipt",
                sent["receipt"],
                "--text-file",
                str(answer),
            ).returncode
            == 0
        )
        back = _json(served.wbs("client", "case", number, *officer, stdin=PASS + "\n"))
        assert back["state"] == "verifikasi"  # the reporter's answer resumed verification

        done = _json(
            served.wbs(
                "client",
                "act",
                number,
                "nyatakan_terverifikasi",
                "--fact",
                "klasifikasi=pengaduan",
                *officer,
                stdin=PASS + "\n",
            )
        )
        assert done["state"] == "terverifikasi"
        final = _json(served.wbs("client", "case", number, *officer, stdin=PASS + "\n"))
        assert final["facts"] == {"klasifikasi": "pengaduan"}
    finally:
        served.stop()
