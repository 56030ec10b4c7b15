"""Staff: recovery wrap of the private key, time of the officer's own passphrase change.

Revision ID: staff_0002
Revises: zi_0001
Create Date: 2026-11-24 00:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import wbs.core.db

revision: str = "staff_0002"
down_revision: str | None = "zi_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recovery_wrapped_private_key", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "passphrase_changed_at", wbs.core.db.UtcDateTime(timezone=True), nullable=True
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.drop_column("passphrase_changed_at")
        batch_op.drop_column("recovery_wrapped_private_key")
