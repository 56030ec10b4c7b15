"""Unit queries; the readable set of an actor is its unit and every unit below it."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from wbs.units.models import Channel, Unit


def subtree_ids(root_unit_id: int) -> Select[int]:
    """A recursive query of a unit's id and all its descendants' ids."""
    tree = select(Unit.id).where(Unit.id == root_unit_id).cte("unit_tree", recursive=True)
    tree = tree.union_all(select(Unit.id).where(Unit.parent_id == tree.c.id))
    return select(tree.c.id)


def readable_units(root_unit_id: int) -> Select[Unit]:
    return (
        select(Unit)
        .where(Unit.id.in_(subtree_ids(root_unit_id)))
        .options(selectinload(Unit.channels))
        .order_by(Unit.code)
    )


async def by_code(db: AsyncSession, code: str) -> Unit | None:
    return await db.scalar(select(Unit).where(Unit.code == code))


async def channels_of(db: AsyncSession, unit_id: int) -> list[Channel]:
    rows = await db.scalars(select(Channel).where(Channel.unit_id == unit_id).order_by(Channel.id))
    return list(rows)
