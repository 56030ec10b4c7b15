"""Indicators: per-report summaries, counters per unit, channel and month, the time zone
they are built in, and cached public suppression patterns; backfilled from existing cases.

Revision ID: indicators_0002
Revises: ratelimit_0001
Create Date: 2026-12-03 17:30:00.000000+00:00
"""

import os
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "indicators_0002"
down_revision: str | None = "ratelimit_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    from wbs.core.db import UtcDateTime

    op.create_table(
        "indicator_cases",
        sa.Column("report_id", BigId, nullable=False),
        sa.Column("unit_id", BigId, nullable=True),
        sa.Column("case_type", sa.String(length=32), nullable=False),
        sa.Column("submitted_at", UtcDateTime(), nullable=True),
        sa.Column("month", sa.Date(), nullable=True),
        sa.Column("running_due", sa.Date(), nullable=True),
        sa.Column("feedback", sa.Boolean(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports.id"],
            name=op.f("fk_indicator_cases_report_id_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("report_id", name=op.f("pk_indicator_cases")),
    )
    op.create_index(
        "ix_indicator_cases_unit_submitted",
        "indicator_cases",
        ["unit_id", "submitted_at", "case_type"],
    )
    op.create_index(
        "ix_indicator_cases_running",
        "indicator_cases",
        ["unit_id", "running_due", "submitted_at", "case_type"],
        postgresql_where=sa.text("running_due IS NOT NULL"),
        sqlite_where=sa.text("running_due IS NOT NULL"),
    )
    op.create_table(
        "indicator_counts",
        sa.Column("unit_id", BigId, nullable=False),
        sa.Column("span", sa.String(length=1), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("case_type", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=48), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "unit_id",
            "span",
            "month",
            "case_type",
            "name",
            "key",
            name=op.f("pk_indicator_counts"),
        ),
    )
    op.create_table(
        "indicator_meta",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_indicator_meta")),
    )
    op.create_table(
        "indicator_patterns",
        sa.Column("root_id", BigId, nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("k", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("primary", sa.JSON(), nullable=False),
        sa.Column("complementary", sa.JSON(), nullable=False),
        sa.Column("computed_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["root_id"],
            ["units.id"],
            name=op.f("fk_indicator_patterns_root_id_units"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("root_id", "period", "k", name=op.f("pk_indicator_patterns")),
    )
    # Backfill from the cases already there, in the service's time zone.
    from wbs.indicators.aggregates import rebuild

    rebuild(op.get_bind(), os.environ.get("WBS_TIMEZONE") or "Asia/Jakarta")


def downgrade() -> None:
    op.drop_table("indicator_patterns")
    op.drop_table("indicator_meta")
    op.drop_table("indicator_counts")
    op.drop_index("ix_indicator_cases_running", table_name="indicator_cases")
    op.drop_index("ix_indicator_cases_unit_submitted", table_name="indicator_cases")
    op.drop_table("indicator_cases")
