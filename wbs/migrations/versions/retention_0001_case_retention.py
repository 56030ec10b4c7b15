"""Retention: per-channel retention years; reports' identity-destroyed and purged times;
an index for the rounds' search of closed cases by channel.

Revision ID: retention_0001
Revises: audit_0002
Create Date: 2026-12-03 00:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import wbs.core.db

revision: str = "retention_0001"
down_revision: str | None = "audit_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("channels") as batch:
        batch.add_column(sa.Column("retention_years", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("identity_retention_years", sa.Integer(), nullable=True))
    with op.batch_alter_table("reports") as batch:
        batch.add_column(
            sa.Column(
                "identity_destroyed_at", wbs.core.db.UtcDateTime(timezone=True), nullable=True
            )
        )
        batch.add_column(
            sa.Column("purged_at", wbs.core.db.UtcDateTime(timezone=True), nullable=True)
        )
    op.create_index(
        "ix_reports_retention",
        "reports",
        ["channel_id", "status", "status_changed_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_reports_retention", table_name="reports")
    with op.batch_alter_table("reports") as batch:
        batch.drop_column("purged_at")
        batch.drop_column("identity_destroyed_at")
    with op.batch_alter_table("channels") as batch:
        batch.drop_column("identity_retention_years")
        batch.drop_column("retention_years")
