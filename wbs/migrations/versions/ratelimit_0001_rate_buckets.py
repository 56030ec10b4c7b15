"""Rate buckets shared by every app process (submission, no-JavaScript, failed logins).

Revision ID: ratelimit_0001
Revises: retention_0001
Create Date: 2026-12-03 00:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ratelimit_0001"
down_revision: str | None = "retention_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_buckets",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("level", sa.Float(), nullable=False),
        sa.Column("updated", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_rate_buckets")),
    )


def downgrade() -> None:
    op.drop_table("rate_buckets")
