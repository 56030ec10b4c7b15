"""Staff key ids: a device key id belongs to exactly one account (security review #1).

Revision ID: sec_keys_0001
Revises: sec_pow_0001
Create Date: 2026-11-26 00:00:00.000000+00:00

Backfill: every account's current public key gets its row. A key id that two or more
accounts hold already (the colleague-key hijack) is given to none of them and their approval
is cleared: the admin page flags the repeated key, directory signing refuses it until an
admin deactivates the impostor; the next signature then gives the key to the remaining holder.
"""

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import wbs.core.db

revision: str = "sec_keys_0001"
down_revision: str | None = "sec_pow_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staff_key_ids",
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("staff_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_at", wbs.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff.id"],
            name=op.f("fk_staff_key_ids_staff_id_staff"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_staff_key_ids")),
    )
    with op.batch_alter_table("staff_key_ids", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_key_ids_staff_id"), ["staff_id"], unique=False)
    _backfill()


def _backfill() -> None:
    from crypto.keys import key_id_hex

    bind = op.get_bind()
    staff = sa.table(
        "staff", sa.column("id"), sa.column("public_key"), sa.column("key_approved_at")
    )
    key_ids = sa.table(
        "staff_key_ids",
        sa.column("key_id"),
        sa.column("staff_id"),
        sa.column("created_at", wbs.core.db.UtcDateTime(timezone=True)),
    )
    holders: dict[str, list[int]] = defaultdict(list)
    for staff_id, public_key in bind.execute(
        sa.select(staff.c.id, staff.c.public_key).where(staff.c.public_key.is_not(None))
    ):
        try:
            holders[key_id_hex(public_key)].append(staff_id)
        except Exception:  # noqa: S112 - an unreadable key claims nothing
            continue
    now = datetime.now(UTC)
    rows = [
        {"key_id": k, "staff_id": ids[0], "created_at": now}
        for k, ids in holders.items()
        if len(ids) == 1
    ]
    if rows:
        bind.execute(key_ids.insert(), rows)
    shared = sorted(i for ids in holders.values() if len(ids) > 1 for i in ids)
    if shared:
        bind.execute(staff.update().where(staff.c.id.in_(shared)).values(key_approved_at=None))


def downgrade() -> None:
    with op.batch_alter_table("staff_key_ids", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_key_ids_staff_id"))

    op.drop_table("staff_key_ids")
