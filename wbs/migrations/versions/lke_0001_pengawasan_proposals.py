"""ZI: answers proposed from the case indicators (the LKE link) and the runs they came from.

`zi_answers.source` gains the value `indicators` (a non-native enum: no schema change).

Revision ID: lke_0001
Revises: workflow_0002
Create Date: 2026-12-05 00:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import wbs.core.db

revision: str = "lke_0001"
down_revision: str | None = "workflow_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
STATUS = sa.Enum(
    "proposed",
    "accepted",
    "overridden",
    "superseded",
    "unsupported",
    name="zi_proposal_status",
    native_enum=False,
    length=16,
)


def _id_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("created_at", wbs.core.db.UtcDateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "zi_proposal_runs",
        sa.Column("assessment_id", BigId, nullable=False),
        sa.Column("period", sa.String(length=32), nullable=False),
        sa.Column("period_start", sa.String(length=10), nullable=True),
        sa.Column("period_end", sa.String(length=10), nullable=True),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("created_by_id", BigId, nullable=True),
        *_id_columns(),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["zi_assessments.id"],
            name=op.f("fk_zi_proposal_runs_assessment_id_zi_assessments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["staff.id"],
            name=op.f("fk_zi_proposal_runs_created_by_id_staff"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_zi_proposal_runs")),
    )
    with op.batch_alter_table("zi_proposal_runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_zi_proposal_runs_assessment_id"), ["assessment_id"], unique=False
        )

    op.create_table(
        "zi_proposals",
        sa.Column("assessment_id", BigId, nullable=False),
        sa.Column("run_id", BigId, nullable=False),
        sa.Column("item_code", sa.String(length=16), nullable=False),
        sa.Column("rule_id", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=32), nullable=False),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("reason", sa.JSON(), nullable=True),
        sa.Column("status", STATUS, nullable=False),
        sa.Column("answer", sa.JSON(), nullable=True),
        sa.Column("decided_at", wbs.core.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("decided_by_id", BigId, nullable=True),
        sa.Column("evidence_id", BigId, nullable=True),
        *_id_columns(),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["zi_assessments.id"],
            name=op.f("fk_zi_proposals_assessment_id_zi_assessments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["zi_proposal_runs.id"],
            name=op.f("fk_zi_proposals_run_id_zi_proposal_runs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["staff.id"],
            name=op.f("fk_zi_proposals_decided_by_id_staff"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["evidence_id"],
            ["zi_evidence.id"],
            name=op.f("fk_zi_proposals_evidence_id_zi_evidence"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_zi_proposals")),
    )
    with op.batch_alter_table("zi_proposals", schema=None) as batch_op:
        batch_op.create_index(
            "ix_zi_proposals_assessment_item", ["assessment_id", "item_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_zi_proposals_run_id"), ["run_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("zi_proposals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_zi_proposals_run_id"))
        batch_op.drop_index("ix_zi_proposals_assessment_item")
    op.drop_table("zi_proposals")
    with op.batch_alter_table("zi_proposal_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_zi_proposal_runs_assessment_id"))
    op.drop_table("zi_proposal_runs")
