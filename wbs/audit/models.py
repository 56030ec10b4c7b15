"""The audit log: one Merkle transparency log per unit (RFC 9162 shape), signed tree heads."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from wbs.core.db import Base, BigId, IdMixin


class AuditEvent(IdMixin, Base):
    """One entry; `leaf_hash` is fixed at insert, `seq` (the leaf index) by the sequencer."""

    __tablename__ = "audit_events"
    __table_args__ = (
        UniqueConstraint("unit_id", "seq"),
        Index(
            "ix_audit_events_pending",
            "id",
            postgresql_where=text("seq IS NULL"),
            sqlite_where=text("seq IS NULL"),
        ),
        # A report's submission entry (the mailbox's proof), found without a scan.
        Index("ix_audit_events_object", "unit_id", "object_type", "object_id", "action"),
    )

    unit_id: Mapped[int] = mapped_column(BigId, ForeignKey("units.id", ondelete="RESTRICT"))
    entry_id: Mapped[str] = mapped_column(String(64), unique=True)
    seq: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column()
    actor_id: Mapped[int | None] = mapped_column(BigId)
    actor: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str] = mapped_column(String(128))
    details: Mapped[dict[str, object]] = mapped_column(JSON)
    leaf_hash: Mapped[str] = mapped_column(String(64))


class AuditTree(Base):
    """The sequencer's state of a unit's tree: its size and right edge (hex subtree roots)."""

    __tablename__ = "audit_trees"

    unit_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("units.id", ondelete="RESTRICT"), primary_key=True
    )
    size: Mapped[int] = mapped_column(Integer, default=0)
    frontier: Mapped[list[str]] = mapped_column(JSON)


class AuditTreeHead(IdMixin, Base):
    """A signed tree head: Ed25519 over (unit, tree size, root hash, time).

    Not unique per size on purpose: two heads of one size with different roots are evidence
    of a fork, kept for `wbs audit verify` to name rather than refused by a constraint."""

    __tablename__ = "audit_tree_heads"
    __table_args__ = (Index("ix_audit_tree_heads_unit_size", "unit_id", "tree_size"),)

    unit_id: Mapped[int] = mapped_column(BigId, ForeignKey("units.id", ondelete="RESTRICT"))
    tree_size: Mapped[int] = mapped_column(Integer)
    root_hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column()
    public_key: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(Text)


class AuditNode(Base):
    """A perfect subtree of a unit's tree, kept by the sequencer so proofs read O(log n)
    hashes: level >= 1, covering leaves [idx << level, (idx + 1) << level). Level 0 (the
    leaves) is `AuditEvent.leaf_hash` by `seq`."""

    __tablename__ = "audit_nodes"

    unit_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("units.id", ondelete="RESTRICT"), primary_key=True
    )
    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(String(64))
