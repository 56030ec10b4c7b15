"""Migration audit_0002 with data: v1 hash chains become the first leaves of Merkle logs
(entry id = the old chain hash), and the downgrade rebuilds valid v1 chains."""

from __future__ import annotations

import asyncio
import hashlib
import json

import sqlalchemy as sa
from sqlalchemy import select

from tests.conftest import TEST_SECRET
from wbs.audit import service as audit
from wbs.audit.models import AuditEvent
from wbs.core.db import UtcDateTime, make_engine, make_sessionmaker
from wbs.migrate import downgrade, upgrade
from wbs.units.models import Unit
from wbs.units.service import create_unit

MASTER = TEST_SECRET.encode()
V1_EVENTS = sa.table(
    "audit_events",
    *(sa.column(n) for n in ("id", "unit_id", "seq", "actor_id", "actor", "action")),
    *(sa.column(n) for n in ("object_type", "object_id", "prev_hash", "hash")),
    sa.column("at", UtcDateTime()),
    sa.column("details", sa.JSON()),
)
UNITS = sa.table("units", sa.column("id"), sa.column("code"))


def v1_hash(row: sa.Row, code: str) -> str:
    doc = {
        "unit": code,
        "seq": row.seq,
        "at": row.at.isoformat(timespec="microseconds"),
        "actor_id": row.actor_id,
        "actor": row.actor,
        "action": row.action,
        "object_type": row.object_type,
        "object_id": row.object_id,
        "details": row.details,
        "prev": row.prev_hash,
    }
    data = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(data.encode()).hexdigest()


async def unit_named(db, code: str) -> Unit:
    found = await db.scalar(select(Unit).where(Unit.code == code))
    assert found is not None
    return found


async def test_chains_migrate_both_ways(fresh_db_url):
    engine = make_engine(fresh_db_url)
    sessions = make_sessionmaker(engine)
    try:
        async with sessions() as db:
            for code in ("MIGA", "MIGB"):
                unit = await create_unit(db, code=code, name=f"Unit {code}", actor="test")
                for i in range(4):
                    await audit.append(
                        db,
                        unit=unit,
                        actor_id=None,
                        actor="t",
                        action="t.x",
                        object_type="t",
                        object_id=i,
                        details={"n": i, "é": "ü"},
                    )
            await db.commit()
        await audit.sequence_all(sessions, MASTER)
        async with sessions() as db:  # one entry still pending at the downgrade
            await audit.append(
                db,
                unit=await unit_named(db, "MIGA"),
                actor_id=None,
                actor="t",
                action="t.late",
                object_type="t",
                object_id="late",
            )
            await db.commit()
        await engine.dispose()

        await asyncio.to_thread(downgrade, fresh_db_url, "indicators_0001")
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(V1_EVENTS, UNITS.c.code)
                    .join(UNITS, UNITS.c.id == V1_EVENTS.c.unit_id)
                    .order_by(UNITS.c.code, V1_EVENTS.c.seq)
                )
            ).all()
        ends: dict[str, str] = {}
        v1_hashes: dict[int, str] = {}
        for row in rows:
            genesis = hashlib.sha256(f"wbs/audit/genesis/{row.code}".encode()).hexdigest()
            assert row.prev_hash == ends.get(row.code, genesis)
            assert row.hash == v1_hash(row, row.code)
            ends[row.code] = row.hash
            v1_hashes[row.id] = row.hash
        assert len(rows) == 2 * 5 + 1 and rows[5].action == "t.late"
        await engine.dispose()

        await asyncio.to_thread(upgrade, fresh_db_url)
        async with sessions() as db:
            migrated = (
                await db.execute(select(AuditEvent.id, AuditEvent.seq, AuditEvent.entry_id))
            ).all()
            assert {r.id: r.entry_id for r in migrated} == v1_hashes
            assert all(r.seq is not None for r in migrated)
            run = await audit.sequence(db, MASTER)  # signs heads over the migrated trees
            await db.commit()
            assert run.sequenced == 0 and run.heads == 2
            for code, size in (("MIGA", 6), ("MIGB", 5)):
                report = await audit.verify_unit(db, await unit_named(db, code), MASTER)
                assert report.ok and report.checked == size, report
    finally:
        await engine.dispose()
