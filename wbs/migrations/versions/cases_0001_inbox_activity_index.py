"""Cases: reports by latest activity, the inbox's order (a page is read off the index).

Revision ID: cases_0001
Revises: indicators_0002
Create Date: 2026-12-03 20:30:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "cases_0001"
down_revision: str | None = "indicators_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_reports_activity", "reports", ["last_activity_at", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_reports_activity", table_name="reports")
