"""Queries for units' calendars."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from wbs.calendar.models import UnitCalendar, UnitClosure


async def policy(db: AsyncSession, unit_id: int) -> UnitCalendar | None:
    return await db.get(UnitCalendar, unit_id)


async def closures(db: AsyncSession, unit_id: int) -> list[UnitClosure]:
    rows = await db.scalars(
        select(UnitClosure).where(UnitClosure.unit_id == unit_id).order_by(UnitClosure.day)
    )
    return list(rows)


async def closure(db: AsyncSession, unit_id: int, day: date) -> UnitClosure | None:
    return await db.scalar(
        select(UnitClosure).where(UnitClosure.unit_id == unit_id, UnitClosure.day == day)
    )
