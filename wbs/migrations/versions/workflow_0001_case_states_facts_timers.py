"""Workflow: case state and assignee, recorded facts, timers.

Revision ID: workflow_0001
Revises: calendar_0001
Create Date: 2026-12-03 00:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import wbs.core.db

revision: str = "workflow_0001"
down_revision: str | None = "calendar_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "case_states",
        sa.Column("report_id", BigId, nullable=False),
        sa.Column("workflow", sa.String(length=48), nullable=False),
        sa.Column("workflow_version", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=48), nullable=False),
        sa.Column("entered_at", wbs.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("assignee_id", BigId, nullable=True),
        sa.ForeignKeyConstraint(
            ["assignee_id"],
            ["staff.id"],
            name=op.f("fk_case_states_assignee_id_staff"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports.id"],
            name=op.f("fk_case_states_report_id_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("report_id", name=op.f("pk_case_states")),
    )
    op.create_index(
        op.f("ix_case_states_assignee_id"), "case_states", ["assignee_id"], unique=False
    )
    op.create_table(
        "case_facts",
        sa.Column("report_id", BigId, nullable=False),
        sa.Column("name", sa.String(length=48), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("action", sa.String(length=48), nullable=False),
        sa.Column("recorded_by_id", BigId, nullable=True),
        sa.Column("recorded_at", wbs.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["staff.id"],
            name=op.f("fk_case_facts_recorded_by_id_staff"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports.id"],
            name=op.f("fk_case_facts_report_id_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_facts")),
        sa.UniqueConstraint("report_id", "name", name=op.f("uq_case_facts_report_id_name")),
    )
    op.create_index(op.f("ix_case_facts_report_id"), "case_facts", ["report_id"], unique=False)
    op.create_table(
        "case_timers",
        sa.Column("report_id", BigId, nullable=False),
        sa.Column("name", sa.String(length=48), nullable=False),
        sa.Column("rule", sa.String(length=300), nullable=False),
        sa.Column("count", sa.String(length=16), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("base_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("pauses", sa.JSON(), nullable=False),
        sa.Column("paused_on", sa.Date(), nullable=True),
        sa.Column("stopped_on", sa.Date(), nullable=True),
        sa.Column("expired_on", sa.Date(), nullable=True),
        sa.Column("reminded_on", sa.Date(), nullable=True),
        sa.Column("escalated_to", sa.String(length=16), nullable=True),
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports.id"],
            name=op.f("fk_case_timers_report_id_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_timers")),
        sa.UniqueConstraint("report_id", "name", name=op.f("uq_case_timers_report_id_name")),
    )
    op.create_index(op.f("ix_case_timers_due_on"), "case_timers", ["due_on"], unique=False)
    op.create_index(
        op.f("ix_case_timers_escalated_to"), "case_timers", ["escalated_to"], unique=False
    )
    op.create_index(op.f("ix_case_timers_report_id"), "case_timers", ["report_id"], unique=False)


def downgrade() -> None:
    op.drop_table("case_timers")
    op.drop_table("case_facts")
    op.drop_index(op.f("ix_case_states_assignee_id"), table_name="case_states")
    op.drop_table("case_states")
