"""Indicators: reports by unit and submission time (with channel, entry path and id).

Revision ID: indicators_0001
Revises: identity_0001
Create Date: 2026-12-03 00:00:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "indicators_0001"
down_revision: str | None = "identity_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_reports_unit_submitted",
        "reports",
        ["unit_id", "submitted_at", "case_type", "server_sealed", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_reports_unit_submitted", table_name="reports")
