"""Audit: keep the hashes of perfect subtrees so proofs read O(log n) rows, not every leaf;
index entries by their object (a report's submission entry without a table scan).

Backfills every unit's complete subtrees (level >= 1) from its sequenced leaves (up to a
gap or a malformed leaf, which `wbs audit verify` names anyway).

Revision ID: audit_0003
Revises: cases_0001
Create Date: 2026-12-03 20:30:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from crypto import merkle

revision: str = "audit_0003"
down_revision: str | None = "cases_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    nodes = op.create_table(
        "audit_nodes",
        sa.Column("unit_id", BigId, nullable=False),
        sa.Column("level", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("idx", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name=op.f("fk_audit_nodes_unit_id_units"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("unit_id", "level", "idx", name=op.f("pk_audit_nodes")),
    )
    op.create_index(
        "ix_audit_events_object",
        "audit_events",
        ["unit_id", "object_type", "object_id", "action"],
        unique=False,
    )
    events = sa.table(
        "audit_events",
        sa.column("unit_id", BigId),
        sa.column("seq", sa.Integer()),
        sa.column("leaf_hash", sa.String()),
    )
    rows = op.get_bind().execute(
        sa.select(events.c.unit_id, events.c.seq, events.c.leaf_hash)
        .where(events.c.seq.is_not(None))
        .order_by(events.c.unit_id, events.c.seq)
    )
    leaves: dict[int, list[bytes]] = {}
    broken: set[int] = set()
    for unit_id, seq, leaf in rows:
        hashes = leaves.setdefault(unit_id, [])
        if unit_id in broken or seq != len(hashes) or not _is_hash(leaf):
            broken.add(unit_id)  # a gap or a bad leaf: only the intact prefix is stored
            continue
        hashes.append(bytes.fromhex(leaf))
    for unit_id, hashes in leaves.items():
        _edge, done = merkle.extend_nodes([], 0, hashes)
        if done:
            op.bulk_insert(
                nodes,
                [
                    {"unit_id": unit_id, "level": level, "idx": idx, "hash": h.hex()}
                    for level, idx, h in done
                ],
            )


def _is_hash(leaf: str) -> bool:
    return len(leaf) == 64 and all(c in "0123456789abcdef" for c in leaf)


def downgrade() -> None:
    op.drop_table("audit_nodes")
    op.drop_index("ix_audit_events_object", table_name="audit_events")
