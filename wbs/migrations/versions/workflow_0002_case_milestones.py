"""Workflow: the milestones each case reached (first response, verified, followed up,
responded, forwarded, completed) with working days since it arrived.

Revision ID: workflow_0002
Revises: sec_keys_0001
Create Date: 2026-12-03 00:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import wbs.core.db

revision: str = "workflow_0002"
down_revision: str | None = "sec_keys_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "case_milestones",
        sa.Column("report_id", BigId, nullable=False),
        sa.Column("name", sa.String(length=24), nullable=False),
        sa.Column("state", sa.String(length=48), nullable=False),
        sa.Column("reached_at", wbs.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("working_days", sa.Integer(), nullable=False),
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports.id"],
            name=op.f("fk_case_milestones_report_id_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_milestones")),
        sa.UniqueConstraint("report_id", "name", name=op.f("uq_case_milestones_report_id_name")),
    )
    op.create_index(
        op.f("ix_case_milestones_reached_at"), "case_milestones", ["reached_at"], unique=False
    )
    op.create_index(
        op.f("ix_case_milestones_report_id"), "case_milestones", ["report_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_case_milestones_report_id"), table_name="case_milestones")
    op.drop_index(op.f("ix_case_milestones_reached_at"), table_name="case_milestones")
    op.drop_table("case_milestones")
