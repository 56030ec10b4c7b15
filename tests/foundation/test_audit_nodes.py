"""Proofs from stored subtrees: O(log n) rows per proof, the same proofs as from all leaves,
and the migration's backfill of the subtrees of existing logs."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event, func, select

from crypto import merkle
from tests.conftest import TEST_SECRET
from tests.foundation.test_audit import _append
from wbs.audit import service as audit
from wbs.audit.models import AuditEvent, AuditNode
from wbs.core.db import make_engine, make_sessionmaker
from wbs.migrate import downgrade, upgrade
from wbs.units.models import Unit
from wbs.units.service import create_unit

MASTER = TEST_SECRET.encode()


async def _grow(sessions: Any, code: str, sizes: list[int]) -> None:
    """Unit `code` whose log is sequenced (one signed head) at each size in `sizes`."""
    async with sessions() as db:
        unit = await create_unit(db, code=code, name=f"Unit {code}", actor="test")
        await db.commit()
    done = 1  # creating the unit is its log's first entry
    for size in sizes:
        async with sessions() as db:
            for i in range(done, size):
                await _append(db, unit, i)
            await db.commit()
        await audit.sequence_all(sessions, MASTER)
        done = size


class Reads:
    """Statements sent to the database, and rows the node query returned."""

    def __init__(self, engine: Any, monkeypatch: Any) -> None:
        self.statements: list[str] = []
        self.node_rows: list[int] = []
        event.listen(engine.sync_engine, "before_cursor_execute", self._statement)
        real = audit.stored_nodes

        async def spy(db: Any, unit: Unit, wanted: set[merkle.Node]) -> Any:
            found = await real(db, unit, wanted)
            self.node_rows.append(len(found))
            return found

        monkeypatch.setattr(audit, "stored_nodes", spy)

    def _statement(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.statements.append(statement)

    def reset(self) -> None:
        self.statements.clear()
        self.node_rows.clear()


async def test_proofs_read_log_n_rows_and_equal_leaf_proofs(fresh_db_url, monkeypatch):
    engine = make_engine(fresh_db_url)
    sessions = make_sessionmaker(engine)
    try:
        await _grow(sessions, "BIG", [1234, 3001])
        async with sessions() as db:
            unit = await db.scalar(select(Unit).where(Unit.code == "BIG"))
            leaves = [
                bytes.fromhex(h)
                for h in await db.scalars(
                    select(AuditEvent.leaf_hash)
                    .where(AuditEvent.unit_id == unit.id)
                    .order_by(AuditEvent.seq)
                )
            ]
            assert len(leaves) == 3001
            bound = 2 * len(leaves).bit_length()  # 24 rows, against 3001 leaves
            events = {
                e.seq: e
                for e in await db.scalars(
                    select(AuditEvent).where(AuditEvent.seq.in_([0, 1, 1233, 2047, 2999, 3000]))
                )
            }
            reads = Reads(engine, monkeypatch)
            for seq, entry in sorted(events.items()):
                reads.reset()
                doc = await audit.inclusion(db, unit, entry)
                assert doc["proof"] == [p.hex() for p in merkle.inclusion_proof(seq, leaves)]
                assert len(reads.statements) == 2, reads.statements  # head, then nodes
                assert len(reads.node_rows) == 1 and 0 < reads.node_rows[0] <= bound
                merkle.verify_inclusion(
                    seq,
                    3001,
                    leaves[seq],
                    [bytes.fromhex(p) for p in doc["proof"]],
                    bytes.fromhex(doc["tree_head"]["root_hash"]),
                )

            reads.reset()
            doc = await audit.consistency(db, unit, 1234, 3001)
            assert doc["proof"] == [p.hex() for p in merkle.consistency_proof(1234, leaves)]
            assert len(reads.statements) == 3, reads.statements  # two heads, then nodes
            assert len(reads.node_rows) == 1 and 0 < reads.node_rows[0] <= bound
            merkle.verify_consistency(
                1234,
                3001,
                bytes.fromhex(doc["first"]["root_hash"]),
                bytes.fromhex(doc["second"]["root_hash"]),
                [bytes.fromhex(p) for p in doc["proof"]],
            )
            # The sequencer kept every perfect subtree: 3001 leaves have 3001 - 6 of them
            # above the leaves (n minus the number of 1 bits of n).
            stored = await db.scalar(
                select(func.count()).select_from(AuditNode).where(AuditNode.unit_id == unit.id)
            )
            assert stored == 3001 - bin(3001).count("1")
    finally:
        await engine.dispose()


async def test_migration_backfills_the_subtrees_of_existing_logs(fresh_db_url):
    engine = make_engine(fresh_db_url)
    sessions = make_sessionmaker(engine)
    try:
        await _grow(sessions, "NODA", [5, 13])
        await _grow(sessions, "NODB", [1])
        async with sessions() as db:
            before = (await db.execute(select(AuditNode).order_by(AuditNode.unit_id))).all()
        await engine.dispose()

        await asyncio.to_thread(downgrade, fresh_db_url, "indicators_0002")
        await asyncio.to_thread(upgrade, fresh_db_url)

        async with sessions() as db:
            rows = await db.execute(
                select(AuditNode.unit_id, AuditNode.level, AuditNode.idx, AuditNode.hash)
            )
            backfilled = sorted(tuple(r) for r in rows)
            assert backfilled == sorted((n.unit_id, n.level, n.idx, n.hash) for (n,) in before)
            assert len(backfilled) == 13 - 3  # NODB's single leaf has no subtree above it
            for code in ("NODA", "NODB"):
                unit = await db.scalar(select(Unit).where(Unit.code == code))
                report = await audit.verify_unit(db, unit, MASTER)
                assert report.ok, report
    finally:
        await engine.dispose()
