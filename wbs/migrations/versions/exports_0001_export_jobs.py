"""Exports: indicator export jobs (queued, running with progress, done with the signed
package's stored file, failed with the reason).

Revision ID: exports_0001
Revises: lke_0001
Create Date: 2026-12-03 12:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import wbs.core.db

revision: str = "exports_0001"
down_revision: str | None = "lke_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "export_jobs",
        sa.Column("unit_id", BigId, nullable=False),
        sa.Column("requested_by_id", BigId, nullable=True),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "queued",
                "running",
                "done",
                "failed",
                name="export_state",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", wbs.core.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("started_at", wbs.core.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", wbs.core.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("error_id", sa.String(length=500), nullable=True),
        sa.Column("error_en", sa.String(length=500), nullable=True),
        sa.Column("file_name", sa.String(length=120), nullable=True),
        sa.Column("file_sha256", sa.String(length=64), nullable=True),
        sa.Column("file_size", sa.BigInteger(), nullable=True),
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("created_at", wbs.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["staff.id"],
            name=op.f("fk_export_jobs_requested_by_id_staff"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_export_jobs_unit_id_units"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_export_jobs")),
    )
    op.create_index(op.f("ix_export_jobs_state"), "export_jobs", ["state"], unique=False)
    op.create_index(op.f("ix_export_jobs_unit_id"), "export_jobs", ["unit_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_export_jobs_unit_id"), table_name="export_jobs")
    op.drop_index(op.f("ix_export_jobs_state"), table_name="export_jobs")
    op.drop_table("export_jobs")
