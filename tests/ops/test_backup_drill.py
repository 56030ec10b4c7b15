"""The backup drill, on PostgreSQL and SQLite: a deployment used through the real flows
(a report with an attachment, a mailbox message, an officer reading it, a workflow action),
backed up while it serves, wiped, restored into a new empty deployment; then the audit
chain verifies, the officer opens the report, the reporter reads the thread with the
receipt and the attachment is intact. A tampered backup is refused, naming the file."""

from __future__ import annotations

import json
import shutil
import uuid
from hashlib import sha256
from pathlib import Path

import pytest

from tests.client.server import Served

PASS = "kata-sandi-panjang-untuk-uji"


def _json(result) -> object:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _ok(result) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def _stored(data_dir: Path) -> dict[str, str]:
    """Every stored file under the data dir's stores: relative name -> SHA-256 of content."""
    out = {}
    for store in ("blobs", "evidence", "exports"):
        root = data_dir / store
        if root.is_dir():
            for path in root.iterdir():
                if path.is_file() and not path.name.startswith(".tmp-"):
                    out[f"{store}/{path.name}"] = sha256(path.read_bytes()).hexdigest()
    return out


def _populate(served: Served, inputs: Path) -> dict[str, str]:
    """A unit, an admin and an officer with an approved key; a report with an attachment,
    read by the officer, moved one workflow step, answered by the reporter."""
    assert served.wbs("unit", "create", "DRILL", "--name", "Unit Latihan").returncode == 0
    for email, role in (("admin@drill.go.id", "admin"), ("v@drill.go.id", "verifikator")):
        made = served.wbs(
            "staff", "create", email, "--unit", "DRILL", "--role", role, "--password-stdin",
            stdin=PASS + "\n",
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
    served.start()
    url = served.url
    officer = ("--url", url, "--email", "v@drill.go.id", "--password-stdin")
    _json(served.wbs("client", "enroll", *officer, stdin=PASS + "\n"))
    admin = ("--url", url, "--email", "admin@drill.go.id", "--password-stdin")
    _json(served.wbs("client", "approve", *admin, stdin=PASS + "\n"))
    sent = _json(
        served.wbs(
            "client", "submit", "--url", url, "--unit", "DRILL", "--channel", "pengaduan",
            "--text-file", str(inputs / "laporan.txt"), "--attach", str(inputs / "bukti.txt"),
        )
    )  # fmt: skip
    number = sent["case_number"]
    read = _json(served.wbs("client", "inbox", *officer, stdin=PASS + "\n"))
    assert [c["case_number"] for c in read] == [number]
    moved = _json(
        served.wbs("client", "act", number, "mulai_verifikasi", *officer, stdin=PASS + "\n")
    )
    assert moved["state"] == "verifikasi"
    reply = ("--url", url, "--receipt", sent["receipt"], "--text-file")
    _ok(served.wbs("client", "reply", *reply, str(inputs / "balasan.txt")))
    return {"number": number, "receipt": sent["receipt"]}


def _empty_database(backend: str, root: Path, pg_cluster) -> str:
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{root / 'restored.sqlite3'}"
    name = f"wbs_restored_{uuid.uuid4().hex[:10]}"
    pg_cluster.psql(f"CREATE DATABASE {name}")
    return pg_cluster.url(name)


def _wipe(backend: str, served: Served, pg_cluster) -> None:
    if backend == "sqlite":
        db_file = Path(served.database_url.split("///", 1)[1])
        for path in db_file.parent.glob(db_file.name + "*"):
            path.unlink()
    else:
        name = served.database_url.rsplit("/", 1)[1]
        pg_cluster.psql(f"DROP DATABASE {name} WITH (FORCE)")
    shutil.rmtree(served.data_dir)


@pytest.mark.slow
def test_backup_wipe_restore_verify(tmp_path, fresh_db_url, backend, pg_cluster):
    extra = {"WBS_PG_BIN_DIR": str(pg_cluster.bin_dir)} if backend == "postgresql" else {}
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    canary = {k: f"KANARI-{k}-{uuid.uuid4().hex}" for k in ("laporan", "bukti", "balasan")}
    for name, text in canary.items():
        (inputs / f"{name}.txt").write_text(f"{name}: {text}\n")
    original = Served(tmp_path / "asal", fresh_db_url, extra_env=extra)
    try:
        case = _populate(original, inputs)
        backup_dir = tmp_path / "cadangan"
        written = original.wbs("backup", str(backup_dir))  # while it serves
    finally:
        original.stop()
    assert written.returncode == 0, written.stderr
    stored_before = _stored(original.data_dir)
    assert any(name.startswith("blobs/") for name in stored_before)
    manifest = json.loads((backup_dir / "manifest.json").read_text())
    assert set(stored_before) <= set(manifest["files"])
    assert manifest["alembic_revision"] and manifest["database"]["backend"] == backend
    assert _ok(original.wbs("backup", "verify", str(backup_dir))).startswith("OK ")
    no_plaintext = [c.encode() for c in canary.values()]
    for path in backup_dir.rglob("*"):
        if path.is_file():
            assert not [c for c in no_plaintext if c in path.read_bytes()], path

    _wipe(backend, original, pg_cluster)

    fresh = Served(
        tmp_path / "baru", _empty_database(backend, tmp_path, pg_cluster), extra_env=extra
    )
    # A tampered copy is refused before anything is written, naming the file.
    tampered = tmp_path / "diubah"
    shutil.copytree(backup_dir, tampered)
    blob = next(n for n in sorted(manifest["files"]) if n.startswith("blobs/"))
    damaged = bytearray((tampered / blob).read_bytes())
    damaged[len(damaged) // 2] ^= 0x01
    (tampered / blob).write_bytes(bytes(damaged))
    refused = fresh.wbs("backup", "verify", str(tampered))
    assert refused.returncode == 1 and blob in refused.stderr
    refused = fresh.wbs("restore", str(tampered))
    assert refused.returncode == 1 and blob in refused.stderr
    assert not _stored(fresh.data_dir)

    restored = fresh.wbs("restore", str(backup_dir))
    assert restored.returncode == 0, restored.stderr
    again = fresh.wbs("restore", str(backup_dir))
    assert again.returncode == 1 and "not empty" in again.stderr
    _ok(fresh.wbs("db", "upgrade"))
    audit = _ok(fresh.wbs("audit", "verify"))
    assert audit.startswith("OK ") and " 0 entries" not in audit
    assert _stored(fresh.data_dir) == stored_before  # every attachment byte intact

    fresh.start()
    try:
        url = fresh.url
        officer = ("--url", url, "--email", "v@drill.go.id", "--password-stdin")
        inbox = _json(fresh.wbs("client", "inbox", *officer, stdin=PASS + "\n"))
        assert [c["case_number"] for c in inbox] == [case["number"]]
        opened = inbox[0]
        assert canary["laporan"] in opened["report"]["text"]
        assert canary["bukti"] in opened["attachments"][0]["text"]
        assert canary["balasan"] in opened["messages"][-1]["text"]
        state = _json(fresh.wbs("client", "case", case["number"], *officer, stdin=PASS + "\n"))
        assert state["state"] == "verifikasi"
        thread = _json(fresh.wbs("client", "follow", "--url", url, "--receipt", case["receipt"]))
        assert thread["case_number"] == case["number"]
        assert canary["laporan"] in thread["report"]["text"]
        assert [m["from"] for m in thread["messages"]][-1] == "reporter"
        assert canary["balasan"] in thread["messages"][-1]["text"]
    finally:
        fresh.stop()
