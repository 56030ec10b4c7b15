"""Audit: the per-unit hash chains become Merkle transparency logs (RFC 9162 shape).

Existing entries become the first leaves of their unit's tree in their old order
(leaf index = old seq - 1). They are re-hashed as v2 leaves whose entry id is the entry's
old chain hash, so each migrated leaf commits to the whole v1 chain before it and an
auditor's v1 export still matches entry by entry. The v1 checkpoints cannot be re-signed
here (no key): they are dropped, and the sequencer signs a tree head over the migrated
leaves on its first round. Downgrade rebuilds v1 chains (unsigned).

Revision ID: audit_0002
Revises: indicators_0001
Create Date: 2026-12-03 00:00:00.000000+00:00
"""

import hashlib
import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import wbs.core.db
from crypto import merkle

revision: str = "audit_0002"
down_revision: str | None = "indicators_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
FIELDS = ("actor_id", "actor", "action", "object_type", "object_id", "details")


def _events(*extra: str) -> Any:
    return sa.table(
        "audit_events",
        sa.column("id", BigId),
        sa.column("unit_id", BigId),
        sa.column("seq", sa.Integer()),
        sa.column("at", wbs.core.db.UtcDateTime(timezone=True)),
        sa.column("actor_id", BigId),
        sa.column("actor", sa.String()),
        sa.column("action", sa.String()),
        sa.column("object_type", sa.String()),
        sa.column("object_id", sa.String()),
        sa.column("details", sa.JSON()),
        *(sa.column(name, sa.String()) for name in extra),
    )


def _canonical(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _fields(row: Any, code: str) -> dict[str, Any]:
    return {"unit": code, "at": row.at.isoformat(timespec="microseconds")} | {
        name: getattr(row, name) for name in FIELDS
    }


def _codes(conn: Any) -> dict[int, str]:
    units = sa.table("units", sa.column("id", BigId), sa.column("code", sa.String()))
    return {uid: code for uid, code in conn.execute(sa.select(units.c.id, units.c.code))}


def upgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("entry_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("leaf_hash", sa.String(length=64), nullable=True))
        batch_op.alter_column("seq", existing_type=sa.Integer(), nullable=True)

    conn = op.get_bind()
    codes = _codes(conn)
    events = _events("hash", "entry_id", "leaf_hash")
    rows = conn.execute(sa.select(events).order_by(events.c.unit_id, events.c.seq)).all()
    trees: dict[int, tuple[int, list[bytes]]] = {}
    updates = []
    for row in rows:
        size, edge = trees.get(row.unit_id, (0, []))
        doc = _fields(row, codes[row.unit_id]) | {"v": 2, "id": row.hash}
        leaf = merkle.leaf_hash(_canonical(doc))
        updates.append({"b_id": row.id, "b_seq": size, "b_entry": row.hash, "b_leaf": leaf.hex()})
        trees[row.unit_id] = (size + 1, merkle.extend(edge, size, [leaf]))
    conn.execute(events.update().values(seq=None))
    if updates:
        conn.execute(
            events.update()
            .where(events.c.id == sa.bindparam("b_id"))
            .values(
                seq=sa.bindparam("b_seq"),
                entry_id=sa.bindparam("b_entry"),
                leaf_hash=sa.bindparam("b_leaf"),
            ),
            updates,
        )

    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.alter_column("entry_id", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("leaf_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_column("prev_hash")
        batch_op.drop_column("hash")
        batch_op.create_unique_constraint(batch_op.f("uq_audit_events_entry_id"), ["entry_id"])
    op.create_index(
        "ix_audit_events_pending",
        "audit_events",
        ["id"],
        unique=False,
        postgresql_where=sa.text("seq IS NULL"),
        sqlite_where=sa.text("seq IS NULL"),
    )

    audit_trees = op.create_table(
        "audit_trees",
        sa.Column("unit_id", BigId, nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("frontier", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name=op.f("fk_audit_trees_unit_id_units"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("unit_id", name=op.f("pk_audit_trees")),
    )
    op.create_table(
        "audit_tree_heads",
        sa.Column("unit_id", BigId, nullable=False),
        sa.Column("tree_size", sa.Integer(), nullable=False),
        sa.Column("root_hash", sa.String(length=64), nullable=False),
        sa.Column("at", wbs.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name=op.f("fk_audit_tree_heads_unit_id_units"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_tree_heads")),
    )
    op.create_index(
        "ix_audit_tree_heads_unit_size", "audit_tree_heads", ["unit_id", "tree_size"], unique=False
    )
    if trees:
        op.bulk_insert(
            audit_trees,
            [
                {"unit_id": uid, "size": size, "frontier": [h.hex() for h in edge]}
                for uid, (size, edge) in trees.items()
            ],
        )
    op.drop_table("audit_heads")
    op.drop_table("audit_checkpoints")


def downgrade() -> None:
    op.create_table(
        "audit_heads",
        sa.Column("unit_id", BigId, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name=op.f("fk_audit_heads_unit_id_units"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("unit_id", name=op.f("pk_audit_heads")),
    )
    op.create_table(
        "audit_checkpoints",
        sa.Column("unit_id", BigId, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("at", wbs.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name=op.f("fk_audit_checkpoints_unit_id_units"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checkpoints")),
        sa.UniqueConstraint("unit_id", "seq", name=op.f("uq_audit_checkpoints_unit_id_seq")),
    )
    op.drop_index("ix_audit_tree_heads_unit_size", table_name="audit_tree_heads")
    op.drop_table("audit_tree_heads")
    op.drop_table("audit_trees")
    op.drop_index("ix_audit_events_pending", table_name="audit_events")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("hash", sa.String(length=64), nullable=True))

    # Rebuild the v1 chains: pending entries after the sequenced ones, in id order.
    conn = op.get_bind()
    codes = _codes(conn)
    events = _events("prev_hash", "hash")
    rows = conn.execute(
        sa.select(events).order_by(
            events.c.unit_id, events.c.seq.is_(None), events.c.seq, events.c.id
        )
    ).all()
    heads: dict[int, tuple[int, str]] = {}
    updates = []
    for row in rows:
        code = codes[row.unit_id]
        seq, prev = heads.get(
            row.unit_id, (0, hashlib.sha256(f"wbs/audit/genesis/{code}".encode()).hexdigest())
        )
        doc = _fields(row, code) | {"seq": seq + 1, "prev": prev}
        digest = hashlib.sha256(_canonical(doc)).hexdigest()
        updates.append({"b_id": row.id, "b_seq": seq + 1, "b_prev": prev, "b_hash": digest})
        heads[row.unit_id] = (seq + 1, digest)
    conn.execute(events.update().values(seq=None))
    if updates:
        conn.execute(
            events.update()
            .where(events.c.id == sa.bindparam("b_id"))
            .values(
                seq=sa.bindparam("b_seq"),
                prev_hash=sa.bindparam("b_prev"),
                hash=sa.bindparam("b_hash"),
            ),
            updates,
        )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_audit_events_entry_id"), type_="unique")
        batch_op.drop_column("entry_id")
        batch_op.drop_column("leaf_hash")
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("seq", existing_type=sa.Integer(), nullable=False)
    audit_heads = sa.table(
        "audit_heads", sa.column("unit_id", BigId), sa.column("seq"), sa.column("hash")
    )
    if heads:
        op.bulk_insert(
            audit_heads,
            [{"unit_id": uid, "seq": seq, "hash": digest} for uid, (seq, digest) in heads.items()],
        )
