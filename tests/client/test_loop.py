"""The whole reporting loop through `wbs client` against a real `wbs serve`, on both databases.

enroll officers, approve (admin signs the directory), submit with an attachment and an
excluded officer, follow, reply, inbox, answer, follow again; then look for the plaintext
canaries everywhere the server could have left them, and check that the excluded and the
not-yet-approved officers cannot read the case.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
import pytest

from tests.client.server import Served

PASS = "kata-sandi-panjang-untuk-uji"


def _json(result) -> object:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _files_containing(root: Path, needles: list[bytes]) -> list[str]:
    found = []
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            found += [f"{path}: {n!r}" for n in needles if n in data]
    return found


def _api_login(url: str, email: str) -> httpx.Client:
    """Sign in over the JSON API the way the client does (for direct 404 checks)."""
    from wbs.client.e2e import login_secret

    client = httpx.Client(base_url=url)
    kdf = client.get("/api/v1/staff/kdf", params={"email": email}).json()["kdf"]
    out = client.post(
        "/api/v1/staff/session", json={"email": email, "login_secret": login_secret(PASS, kdf)}
    )
    assert out.status_code == 200, out.text
    return client


@pytest.mark.slow
async def test_client_loop_and_no_plaintext_left(tmp_path, fresh_db_url, backend, pg_cluster):
    served = Served(tmp_path, fresh_db_url)
    canary = {k: f"KANARI-{k}-{uuid.uuid4().hex}" for k in ("report", "file", "reply", "answer")}
    texts = tmp_path / "inputs"
    texts.mkdir()
    (texts / "report.txt").write_text(f"Pengadaan fiktif. {canary['report']}\n")
    (texts / "bukti.txt").write_text(f"kuitansi {canary['file']}\n")
    (texts / "reply.txt").write_text(f"Tambahan dari pelapor {canary['reply']}")
    (texts / "answer.txt").write_text(f"Terima kasih, kami verifikasi {canary['answer']}")

    assert served.wbs("unit", "create", "DEMO", "--name", "Unit Demo").returncode == 0
    people = {
        "admin@demo.go.id": "admin",
        "v1@demo.go.id": "verifikator",
        "v2@demo.go.id": "verifikator",
        "v3@demo.go.id": "verifikator",
    }
    for email, role in people.items():
        made = served.wbs(
            "staff",
            "create",
            email,
            "--unit",
            "DEMO",
            "--role",
            role,
            "--password-stdin",
            "--name",
            f"Petugas {email.split('@')[0].upper()}",
            stdin=PASS + "\n",
        )
        assert made.returncode == 0, made.stderr
    served.start()
    url = served.url
    try:
        for email in ("v1@demo.go.id", "v2@demo.go.id"):
            enrolled = _json(
                served.wbs(
                    "client",
                    "enroll",
                    "--url",
                    url,
                    "--email",
                    email,
                    "--password-stdin",
                    stdin=PASS + "\n",
                )
            )
            assert enrolled["key_status"] == "pending" and len(enrolled["fingerprint"]) > 20
        approved = _json(
            served.wbs(
                "client",
                "approve",
                "--url",
                url,
                "--email",
                "admin@demo.go.id",
                "--password-stdin",
                stdin=PASS + "\n",
            )
        )
        assert approved["version"] == 1 and len(approved["approved"]) == 2  # v1, v2
        assert approved["recipients"]["wbs"] == 2
        late = _json(
            served.wbs(
                "client",
                "enroll",
                "--url",
                url,
                "--email",
                "v3@demo.go.id",
                "--password-stdin",
                stdin=PASS + "\n",
            )
        )
        assert late["key_status"] == "pending"

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
                str(texts / "report.txt"),
                "--field",
                "lokasi=Gudang 3",
                "--attach",
                str(texts / "bukti.txt"),
                "--exclude",
                "Petugas V2",
            )
        )
        number = submitted["case_number"]
        assert number.startswith("WBS-") and number.endswith("-000001")
        assert submitted["proof"]["case_number"] == submitted["case_number"]
        receipt = submitted["receipt"]

        first = _json(served.wbs("client", "follow", "--url", url, "--receipt", receipt))
        assert first["case_number"] == submitted["case_number"]
        assert first["status"] == "diterima" and first["messages"] == []
        assert canary["report"] in first["report"]["text"]
        # The submission's audit entry, once sequenced, is proved in the signed log.
        assert served.wbs("audit", "sequence").returncode == 0
        verified = _json(
            served.wbs("client", "follow", "--url", url, "--receipt", receipt, "--verify")
        )
        assert verified["audit"]["verified"] is True
        assert verified["audit"]["leaf_hash"] == submitted["proof"]["audit_leaf"]

        assert (
            served.wbs(
                "client",
                "reply",
                "--url",
                url,
                "--receipt",
                receipt,
                "--text-file",
                str(texts / "reply.txt"),
            ).returncode
            == 0
        )

        inbox = _json(
            served.wbs(
                "client",
                "inbox",
                "--url",
                url,
                "--email",
                "v1@demo.go.id",
                "--password-stdin",
                stdin=PASS + "\n",
            )
        )
        assert [c["case_number"] for c in inbox] == [submitted["case_number"]]
        case = inbox[0]
        assert case["channel"] == "wbs" and case["status"] == "diterima"
        assert canary["report"] in case["report"]["text"] and case["report"]["lokasi"] == "Gudang 3"
        assert [m["from"] for m in case["messages"]] == ["reporter"]
        assert canary["reply"] in case["messages"][0]["text"]
        assert case["attachments"][0]["name"] == "bukti.txt"
        assert canary["file"] in case["attachments"][0]["text"]

        answered = served.wbs(
            "client",
            "answer",
            "--url",
            url,
            "--email",
            "v1@demo.go.id",
            "--password-stdin",
            "--case",
            submitted["case_number"],
            "--text-file",
            str(texts / "answer.txt"),
            stdin=PASS + "\n",
        )
        assert answered.returncode == 0, answered.stderr

        again = _json(served.wbs("client", "follow", "--url", url, "--receipt", receipt))
        assert [m["from"] for m in again["messages"]] == ["reporter", "officer"]
        assert canary["answer"] in again["messages"][1]["text"]
        assert all(m["at"] for m in again["messages"])

        # Left out by the reporter, and enrolled but not approved: neither can read it.
        for email in ("v2@demo.go.id", "v3@demo.go.id"):
            other = _json(
                served.wbs(
                    "client",
                    "inbox",
                    "--url",
                    url,
                    "--email",
                    email,
                    "--password-stdin",
                    stdin=PASS + "\n",
                )
            )
            assert other == []
            client = _api_login(url, email)
            try:
                assert client.get(f"/api/v1/cases/{submitted['report_id']}").status_code == 404
                assert client.get("/api/v1/cases").json() == []
            finally:
                client.close()
        wrong = served.wbs("client", "follow", "--url", url, "--receipt", receipt[:-2] + "22")
        assert wrong.returncode == 1
    finally:
        served.stop()

    needles = [c.encode() for c in canary.values()]
    if backend == "sqlite":
        db_file = Path(fresh_db_url.split("///", 1)[1])
        for path in db_file.parent.glob(db_file.name + "*"):  # the file, -wal and -shm
            assert not [n for n in needles if n in path.read_bytes()], path
    else:
        dump = pg_cluster.dump(fresh_db_url.rsplit("/", 1)[1])
        assert submitted["case_number"] in dump  # the dump is real
        assert not [n for n in needles if n.decode() in dump]
    assert served.log_path.read_text(), "the server wrote nothing?"
    assert not _files_containing(served.root / "var", needles)  # data dir: blobs, logs
    assert not _files_containing(served.tmp_dir, needles)
    assert not [n for n in needles if n in served.log_path.read_bytes()]
    blobs = list((served.data_dir / "blobs").iterdir())
    assert len(blobs) == 1  # the attachment, as ciphertext
