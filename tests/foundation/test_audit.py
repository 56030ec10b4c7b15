"""The audit chain: `wbs audit verify` catches edits, deletions, reordering and insertions."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select, text

from tests.conftest import TEST_SECRET
from wbs.audit import service as audit
from wbs.audit.models import AuditEvent
from wbs.core.db import make_engine, make_sessionmaker
from wbs.units.models import Unit
from wbs.units.service import create_unit


def run_verify(db_url: str, data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "WBS_DATABASE_URL": db_url,
        "WBS_DATA_DIR": str(data_dir),
        "WBS_SECRET_KEY": TEST_SECRET,
    }
    return subprocess.run(
        [sys.executable, "-m", "wbs", "audit", "verify", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


async def build_chain(db_url: str, entries: int = 6) -> list[int]:
    engine = make_engine(db_url)
    try:
        async with make_sessionmaker(engine)() as db:
            unit = await create_unit(db, code="AUD", name="Unit Audit", actor="test")
            for i in range(entries - 1):
                await audit.append(
                    db,
                    unit=unit,
                    actor_id=None,
                    actor="test",
                    action="test.event",
                    object_type="thing",
                    object_id=i,
                    details={"n": i},
                )
            await audit.sign_checkpoint(db, unit, TEST_SECRET.encode())
            await db.commit()
            ids = (await db.scalars(select(AuditEvent.id).order_by(AuditEvent.seq))).all()
            return list(ids)
    finally:
        await engine.dispose()


async def tamper(db_url: str, *statements: str) -> None:
    engine = make_engine(db_url)
    try:
        async with engine.begin() as conn:
            for statement in statements:
                await conn.execute(text(statement))
    finally:
        await engine.dispose()


async def test_intact_chain_verifies_and_counts(fresh_db_url, tmp_path):
    await build_chain(fresh_db_url)
    result = await asyncio.to_thread(run_verify, fresh_db_url, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "OK 6 entries checked" in result.stdout


@pytest.mark.parametrize(
    ("name", "statements", "problem"),
    [
        (
            "edited",
            ["UPDATE audit_events SET details = '{\"n\": 99}' WHERE seq = 3"],
            "content altered",
        ),
        ("deleted", ["DELETE FROM audit_events WHERE seq = 3"], "sequence gap"),
        ("deleted-last", ["DELETE FROM audit_events WHERE seq = 6"], "head"),
        (
            "reordered",
            [
                "UPDATE audit_events SET seq = 100 WHERE seq = 2",
                "UPDATE audit_events SET seq = 2 WHERE seq = 4",
                "UPDATE audit_events SET seq = 4 WHERE seq = 100",
            ],
            "broken link",
        ),
        # Shifted in two steps so the unique (unit_id, seq) constraint never collides.
        (
            "inserted",
            [
                "UPDATE audit_events SET seq = seq + 1000 WHERE seq >= 4",
                "UPDATE audit_events SET seq = seq - 999 WHERE seq >= 1000",
                "INSERT INTO audit_events (unit_id, seq, at, actor_id, actor, action, "
                "object_type, object_id, details, prev_hash, hash) SELECT unit_id, 4, at, "
                "NULL, 'intruder', 'x', 'thing', '0', '{}', hash, hash FROM audit_events "
                "WHERE seq = 3",
            ],
            "content altered",
        ),
    ],
)
async def test_tampering_is_named(fresh_db_url, tmp_path, name, statements, problem):
    ids = await build_chain(fresh_db_url)
    await tamper(fresh_db_url, *statements)
    result = await asyncio.to_thread(run_verify, fresh_db_url, tmp_path)
    assert result.returncode == 1, result.stdout
    assert "FAIL unit AUD" in result.stderr and problem in result.stderr
    if name in {"edited", "deleted", "reordered", "inserted"}:
        assert "seq=" in result.stderr and "id=" in result.stderr
    assert ids  # the chain had entries before tampering


async def test_checkpoint_catches_truncation_with_forged_head(fresh_db_url, tmp_path):
    await build_chain(fresh_db_url)
    # Remove the last entry and rewrite the head to hide it: only the checkpoint can tell.
    await tamper(
        fresh_db_url,
        "DELETE FROM audit_events WHERE seq = 6",
        "UPDATE audit_heads SET seq = 5, hash = (SELECT hash FROM audit_events WHERE seq = 5)",
    )
    result = await asyncio.to_thread(run_verify, fresh_db_url, tmp_path)
    assert result.returncode == 1
    assert "checkpoint" in result.stderr


async def test_details_refuse_reporter_data(db, make_unit):
    unit = await make_unit()
    with pytest.raises(ValueError, match="must not carry"):
        await audit.append(
            db,
            unit=unit,
            actor_id=None,
            actor="t",
            action="x",
            object_type="t",
            object_id=1,
            details={"ip_address": "10.0.0.1"},
        )


async def test_twenty_concurrent_appenders_leave_a_valid_chain(fresh_db_url):
    engine = (
        make_engine(fresh_db_url, pool_size=25)
        if fresh_db_url.startswith("postgresql")
        else make_engine(fresh_db_url)
    )
    sessions = make_sessionmaker(engine)
    try:
        async with sessions() as db:
            await create_unit(db, code="CONC", name="Unit Konkuren", actor="test")
            await db.commit()

        async def appender(worker: int) -> None:
            for i in range(5):
                async with sessions() as db:
                    unit = await db.scalar(select(Unit).where(Unit.code == "CONC"))
                    assert unit is not None
                    await audit.append(
                        db,
                        unit=unit,
                        actor_id=None,
                        actor=f"w{worker}",
                        action="test.concurrent",
                        object_type="thing",
                        object_id=f"{worker}-{i}",
                    )
                    await db.commit()

        await asyncio.gather(*(appender(w) for w in range(20)))
        async with sessions() as db:
            unit = await db.scalar(select(Unit).where(Unit.code == "CONC"))
            assert unit is not None
            report = await audit.verify_unit(db, unit)
        assert report.ok, report
        assert report.checked == 1 + 20 * 5  # unit.create + every append
    finally:
        await engine.dispose()


async def test_auditor_exports_a_chain_that_checks_offline(client, make_unit, make_staff):
    import hashlib
    import json

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from tests.conftest import login

    unit = await make_unit("EXP")
    auditor = await make_staff(unit, "auditor")
    assert (await login(client, auditor)).status_code == 303
    body = (await client.get("/api/v1/audit/EXP/export")).json()
    assert body["unit"] == "EXP" and len(body["entries"]) >= 2  # unit.create, staff.create, login
    prev = body["genesis"]
    for entry in body["entries"]:
        claimed = entry.pop("hash")
        assert entry["prev"] == prev
        canonical = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert hashlib.sha256(canonical.encode()).hexdigest() == claimed
        prev = claimed
    assert body["checkpoints"] and body["checkpoints"][-1]["hash"] == prev
    for cp in body["checkpoints"]:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(cp["public_key"])).verify(
            bytes.fromhex(cp["signature"]), cp["message"].encode()
        )
    other = await make_unit("OTHER")
    assert (await client.get(f"/api/v1/audit/{other.code}/export")).status_code == 404
