"""The audit log as a Merkle transparency log: `wbs audit verify` names every tamper (edit,
delete, reorder, insert, truncate, forged or forked tree heads); appends never wait on a
per-unit row and are all sequenced exactly once."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text, update

from crypto import merkle, treehead
from tests.conftest import TEST_SECRET
from wbs.audit import service as audit
from wbs.audit.models import AuditEvent, AuditTree, AuditTreeHead
from wbs.core.db import make_engine, make_sessionmaker, utcnow
from wbs.units.models import Unit
from wbs.units.service import create_unit

MASTER = TEST_SECRET.encode()


def run_cli(db_url: str, data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "WBS_DATABASE_URL": db_url,
        "WBS_DATA_DIR": str(data_dir),
        "WBS_SECRET_KEY": TEST_SECRET,
    }
    return subprocess.run(
        [sys.executable, "-m", "wbs", "audit", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def run_verify(db_url: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return run_cli(db_url, data_dir, "verify")


async def _append(db: Any, unit: Unit, n: int) -> None:
    await audit.append(
        db,
        unit=unit,
        actor_id=None,
        actor="test",
        action="test.event",
        object_type="thing",
        object_id=n,
        details={"n": n},
    )


async def build_log(db_url: str) -> None:
    """Six entries of unit AUD under two signed tree heads (sizes 3 and 6)."""
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    try:
        async with sessions() as db:
            unit = await create_unit(db, code="AUD", name="Unit Audit", actor="test")
            for i in range(2):
                await _append(db, unit, i)
            await db.commit()
        await audit.sequence_all(sessions, MASTER)
        async with sessions() as db:
            for i in range(2, 5):
                await _append(db, unit, i)
            await db.commit()
        await audit.sequence_all(sessions, MASTER)
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


async def with_session(db_url: str, work: Any) -> Any:
    engine = make_engine(db_url)
    try:
        async with make_sessionmaker(engine)() as db:
            result = await work(db)
            await db.commit()
            return result
    finally:
        await engine.dispose()


async def test_intact_log_verifies_and_counts(fresh_db_url, tmp_path):
    await build_log(fresh_db_url)

    async def sizes(db):
        return list(await db.scalars(select(AuditTreeHead.tree_size).order_by(AuditTreeHead.id)))

    assert await with_session(fresh_db_url, sizes) == [3, 6]
    result = await asyncio.to_thread(run_verify, fresh_db_url, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "OK 6 entries checked" in result.stdout


async def _rehash(db, seq: int, **changes: Any) -> None:
    """An attacker who edits an entry and recomputes its leaf hash (but has no key)."""
    event = await db.scalar(select(AuditEvent).where(AuditEvent.seq == seq))
    for name, value in changes.items():
        setattr(event, name, value)
    event.leaf_hash = audit.leaf_of(event, "AUD")
    await db.flush()


async def _rewrite_and_resign(db) -> None:
    """An attacker holding the signing key rewrites entry 1 and signs a new head of size 6
    over the changed tree; the older head of size 3 still commits to the original."""
    await _rehash(db, 1, object_id="forged")
    leaves = [
        bytes.fromhex(h)
        for h in await db.scalars(select(AuditEvent.leaf_hash).order_by(AuditEvent.seq))
    ]
    await db.execute(
        update(AuditTree).values(frontier=[h.hex() for h in merkle.extend([], 0, leaves)])
    )
    await db.execute(AuditTreeHead.__table__.delete().where(AuditTreeHead.tree_size == 6))
    await _signed_head(db, 6, merkle.root(leaves).hex())


async def _signed_head(db, size: int, root: str) -> None:
    unit = await db.scalar(select(Unit).where(Unit.code == "AUD"))
    at = utcnow()
    db.add(
        AuditTreeHead(
            unit_id=unit.id,
            tree_size=size,
            root_hash=root,
            at=at,
            public_key=audit.public_key_hex(MASTER),
            signature=treehead.sign_head(
                audit.signing_key(MASTER), "AUD", size, root, audit._iso(at)
            ),
        )
    )
    await db.flush()


async def _fork(db) -> None:
    await _signed_head(db, 6, "ab" * 32)


async def _insert(db) -> None:
    """Shift entries 3.. up by one and slip in a well-formed entry at 3."""
    unit = await db.scalar(select(Unit).where(Unit.code == "AUD"))
    await db.execute(update(AuditEvent).where(AuditEvent.seq >= 3).values(seq=AuditEvent.seq + 100))
    await db.execute(
        update(AuditEvent).where(AuditEvent.seq >= 100).values(seq=AuditEvent.seq - 99)
    )
    event = AuditEvent(
        unit_id=unit.id,
        entry_id="intruder",
        seq=3,
        at=utcnow(),
        actor_id=None,
        actor="intruder",
        action="x",
        object_type="thing",
        object_id="0",
        details={},
        leaf_hash="",
    )
    event.leaf_hash = audit.leaf_of(event, "AUD")
    db.add(event)
    await db.flush()


async def _edit_pending(db) -> None:
    unit = await db.scalar(select(Unit).where(Unit.code == "AUD"))
    await _append(db, unit, 99)
    await db.flush()
    await db.execute(update(AuditEvent).where(AuditEvent.seq.is_(None)).values(details={"n": 100}))


SQL = "sql"
TAMPERS: list[tuple[str, Any, str, str]] = [
    (
        "edited",
        ["UPDATE audit_events SET details = '{\"n\": 99}' WHERE seq = 2"],
        "content altered",
        "entry seq=2 id=",
    ),
    (
        "edited-and-rehashed",
        lambda db: _rehash(db, 1, object_id="forged"),
        "tree head does not match the entries",
        "tree head size=3",
    ),
    ("edited-pending", _edit_pending, "content altered", "entry seq=None id="),
    ("deleted", ["DELETE FROM audit_events WHERE seq = 2"], "sequence gap", "entry seq=3 id="),
    (
        "truncated",
        ["DELETE FROM audit_events WHERE seq = 5"],
        "tree head beyond the log",
        "tree head size=6",
    ),
    (
        "truncated-tree-hidden",
        [
            "DELETE FROM audit_events WHERE seq >= 4",
            "DELETE FROM audit_tree_heads WHERE tree_size = 6",
        ],
        "log end does not match the tree",
        "entry seq=5",
    ),
    (
        "truncated-tree-rewritten",
        [
            "DELETE FROM audit_events WHERE seq >= 4",
            "DELETE FROM audit_tree_heads WHERE tree_size = 6",
            "UPDATE audit_trees SET size = 4",
        ],
        "tree state does not match the entries",
        "tree state size=4",
    ),
    (
        "reordered",
        [
            "UPDATE audit_events SET seq = 100 WHERE seq = 0",
            "UPDATE audit_events SET seq = 0 WHERE seq = 2",
            "UPDATE audit_events SET seq = 2 WHERE seq = 100",
        ],
        "tree head does not match the entries",
        "tree head size=3",
    ),
    (
        "reordered-late",
        [
            "UPDATE audit_events SET seq = 100 WHERE seq = 3",
            "UPDATE audit_events SET seq = 3 WHERE seq = 5",
            "UPDATE audit_events SET seq = 5 WHERE seq = 100",
        ],
        "inconsistent with earlier head size=3",
        "tree head size=6",
    ),
    ("inserted", _insert, "inconsistent with earlier head size=3", "tree head size=6"),
    (
        "root-forged",
        ["UPDATE audit_tree_heads SET root_hash = '" + "cd" * 32 + "' WHERE tree_size = 3"],
        "signature invalid",
        "tree head size=3",
    ),
    ("forked-head", _fork, "forked tree heads", "tree head size=6"),
    (
        "subtree-edited",
        ["UPDATE audit_nodes SET hash = '" + "ef" * 32 + "' WHERE level = 1 AND idx = 1"],
        "stored subtree does not match the entries",
        "subtree level=1 index=1",
    ),
    (
        "subtree-deleted",
        ["DELETE FROM audit_nodes WHERE level = 2"],
        "stored subtree missing",
        "subtree level=2 index=0",
    ),
    (
        "subtree-added",
        [
            "INSERT INTO audit_nodes (unit_id, level, idx, hash) SELECT unit_id, 1, 7, hash"
            " FROM audit_nodes WHERE level = 1 AND idx = 0"
        ],
        "stored subtree beyond the log",
        "subtree level=1 index=7",
    ),
    (
        "rewritten-and-resigned",
        _rewrite_and_resign,
        "tree head does not match the entries",
        "tree head size=3",
    ),
]


@pytest.mark.parametrize(("name", "how", "problem", "where"), TAMPERS, ids=[t[0] for t in TAMPERS])
async def test_tampering_is_named(fresh_db_url, tmp_path, name, how, problem, where):
    await build_log(fresh_db_url)
    if isinstance(how, list):
        await tamper(fresh_db_url, *how)
    else:
        await with_session(fresh_db_url, how)
    result = await asyncio.to_thread(run_verify, fresh_db_url, tmp_path)
    assert result.returncode == 1, (name, result.stdout)
    assert "FAIL unit AUD" in result.stderr
    assert problem in result.stderr and where in result.stderr, result.stderr


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


async def test_append_fixes_the_leaf_and_leaves_the_place_to_the_sequencer(db, make_unit):
    unit = await make_unit("LEAF")
    event = await audit.append(
        db, unit=unit, actor_id=None, actor="t", action="x", object_type="t", object_id=1
    )
    assert event.seq is None
    assert event.leaf_hash == merkle.leaf_hash(audit.canonical(event, "LEAF")).hex()
    doc = json.loads(audit.canonical(event, "LEAF"))
    assert "seq" not in doc and "prev" not in doc and doc["id"] == event.entry_id


async def test_concurrent_appenders_never_wait_and_are_sequenced_once(fresh_db_url):
    """Many open transactions append to one unit at once: on PostgreSQL none waits for a
    lock while all are open; a sequencer running alongside places every entry once."""
    pg = fresh_db_url.startswith("postgresql")
    engine = make_engine(fresh_db_url, pool_size=30) if pg else make_engine(fresh_db_url)
    sessions = make_sessionmaker(engine)
    writers = 20 if pg else 1
    try:
        async with sessions() as db:
            await create_unit(db, code="CONC", name="Unit Konkuren", actor="test")
            await db.commit()
        all_open = asyncio.Barrier(writers + 1)
        checked = asyncio.Event()

        async def appender(worker: int) -> None:
            async with sessions() as db:
                if pg:  # a wait on any lock fails this writer instead of hanging the test
                    await db.execute(text("SET LOCAL lock_timeout = '10s'"))
                unit = await db.scalar(select(Unit).where(Unit.code == "CONC"))
                for i in range(5):
                    await _append(db, unit, worker * 10 + i)
                await all_open.wait()  # every writer's transaction is open with its rows
                await checked.wait()
                await db.commit()

        async def observer() -> int:
            await all_open.wait()
            async with sessions() as db:
                waiting = 0
                if pg:
                    waiting = await db.scalar(
                        text(
                            "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                            "current_database() AND wait_event_type = 'Lock'"
                        )
                    )
            checked.set()
            return int(waiting or 0)

        async def sequencer(stop: asyncio.Event) -> None:
            while not stop.is_set():
                await audit.sequence_all(sessions, MASTER)
                await asyncio.sleep(0)

        stop = asyncio.Event()
        running = asyncio.create_task(sequencer(stop))
        results = await asyncio.gather(observer(), *(appender(w) for w in range(writers)))
        stop.set()
        await running
        assert results[0] == 0  # no transaction waited on a lock while all were open
        if not pg:  # SQLite serialises writers: the rest append one after the other
            for w in range(1, 20):
                async with sessions() as db:
                    unit = await db.scalar(select(Unit).where(Unit.code == "CONC"))
                    await _append(db, unit, w)
                    await db.commit()
        await audit.sequence_all(sessions, MASTER)
        async with sessions() as db:
            unit = await db.scalar(select(Unit).where(Unit.code == "CONC"))
            seqs = list(
                await db.scalars(select(AuditEvent.seq).where(AuditEvent.unit_id == unit.id))
            )
            report = await audit.verify_unit(db, unit, MASTER)
            pending = await db.scalar(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.seq.is_(None))
            )
        expected = 1 + (100 if pg else 5 + 19)  # unit.create + every append
        assert sorted(seqs) == list(range(expected)) and pending == 0
        assert report.ok and report.checked == expected, report
    finally:
        await engine.dispose()


async def test_one_sequencer_at_a_time(fresh_db_url):
    if not fresh_db_url.startswith("postgresql"):
        pytest.skip("SQLite serialises write transactions already")
    engine = make_engine(fresh_db_url)
    sessions = make_sessionmaker(engine)
    try:
        async with sessions() as db:
            await create_unit(db, code="ONE", name="Unit Satu", actor="test")
            await db.commit()
        async with sessions() as first, sessions() as second:
            taken = await audit.sequence(first, MASTER)
            skipped = await audit.sequence(second, MASTER)
            await first.commit()
            await second.commit()
        assert taken.sequenced == 1 and taken.heads == 1
        assert skipped == audit.SequencerRun()
    finally:
        await engine.dispose()


async def test_consistency_proof_checks_offline(fresh_db_url, tmp_path):
    await build_log(fresh_db_url)
    proved = await asyncio.to_thread(
        run_cli, fresh_db_url, tmp_path, "prove", "--unit", "aud", "--from", "3", "--to", "6"
    )
    assert proved.returncode == 0, proved.stderr
    doc = json.loads(proved.stdout)
    assert doc["first"]["tree_size"] == 3 and doc["second"]["tree_size"] == 6
    path = tmp_path / "proof.json"
    path.write_text(proved.stdout)
    key = audit.public_key_hex(MASTER)
    ok = await asyncio.to_thread(
        run_cli, fresh_db_url, tmp_path, "check-proof", str(path), "--public-key", key
    )
    assert ok.returncode == 0 and "OK tree size 6 extends tree size 3 of unit AUD" in ok.stdout
    # Any changed byte of the proof or of either head fails.
    variants = []
    for i in range(len(doc["proof"])):
        bad = json.loads(proved.stdout)
        bad["proof"][i] = ("0" if bad["proof"][i][0] != "0" else "1") + bad["proof"][i][1:]
        variants.append(bad)
    for field in ("root_hash", "signature"):
        for which in ("first", "second"):
            bad = json.loads(proved.stdout)
            bad[which][field] = ("0" if bad[which][field][0] != "0" else "1") + bad[which][field][
                1:
            ]
            variants.append(bad)
    bad = json.loads(proved.stdout)
    bad["second"]["tree_size"] = 7
    variants.append(bad)
    for n, variant in enumerate(variants):
        path.write_text(json.dumps(variant))
        failed = await asyncio.to_thread(run_cli, fresh_db_url, tmp_path, "check-proof", str(path))
        assert failed.returncode == 1 and "FAIL" in failed.stderr, (n, failed.stdout)
    path.write_text(proved.stdout)
    other_key = await asyncio.to_thread(
        run_cli, fresh_db_url, tmp_path, "check-proof", str(path), "--public-key", "00" * 32
    )
    assert other_key.returncode == 1 and "another key" in other_key.stderr


async def test_auditor_exports_a_log_that_checks_offline(client, make_unit, make_staff):
    from tests.conftest import login

    unit = await make_unit("EXP")
    auditor = await make_staff(unit, "auditor")
    assert (await login(client, auditor)).status_code == 303
    body = (await client.get("/api/v1/audit/EXP/export")).json()
    assert body["format"] == "wbs-audit-export/v2" and body["unit"] == "EXP"
    sequenced = [e for e in body["entries"] if e["seq"] is not None]
    assert len(sequenced) >= 2  # unit.create, staff.create (the login may still be pending)
    leaves = []
    for entry in sequenced:
        leaf = merkle.leaf_hash(entry["entry"].encode())
        assert leaf.hex() == entry["leaf_hash"] and json.loads(entry["entry"])["unit"] == "EXP"
        leaves.append(leaf)
    heads = body["tree_heads"]
    assert heads and heads[-1]["tree_size"] == len(leaves)
    key = audit.public_key_hex(MASTER)
    for head in heads:
        size, root = treehead.verify_head(head, key)
        assert merkle.root(leaves[:size]) == root
    for proof in body["consistency"]:
        first = next(h for h in heads if h["tree_size"] == proof["from"])
        treehead.check_consistency(
            {
                "first": first,
                "second": heads[-1]
                if proof["to"] == heads[-1]["tree_size"]
                else next(h for h in heads if h["tree_size"] == proof["to"]),
                "proof": proof["proof"],
            },
            key,
        )
    other = await make_unit("OTHER")
    assert (await client.get(f"/api/v1/audit/{other.code}/export")).status_code == 404
