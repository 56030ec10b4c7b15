"""Single-use anti-spam work (spent_work) and per-report mailbox counters.

Revision ID: sec_pow_0001
Revises: outbox_0001
Create Date: 2026-12-01 00:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import wbs.core.db

revision: str = "sec_pow_0001"
down_revision: str | None = "outbox_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "spent_work",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("expires_at", wbs.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_spent_work")),
    )
    with op.batch_alter_table("spent_work", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_spent_work_expires_at"), ["expires_at"], unique=False)
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("mailbox_messages", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("mailbox_bytes", sa.BigInteger(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_column("mailbox_bytes")
        batch_op.drop_column("mailbox_messages")
    with op.batch_alter_table("spent_work", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_spent_work_expires_at"))
    op.drop_table("spent_work")
