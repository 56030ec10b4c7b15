"""Directory queries and writes: signed versions, the unit's directory key and its wraps,
recipient overrides, and the staff accounts a directory lists."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from wbs.core.db import utcnow
from wbs.directory.models import (
    DirectoryKey,
    DirectoryKeyWrap,
    RecipientOverride,
    SignedDirectory,
)
from wbs.staff.models import Staff, StaffKeyId
from wbs.units import repository as units
from wbs.units.models import CaseType, Channel, Unit


async def unit_in_subtree(db: AsyncSession, root_unit_id: int, code: str) -> Unit | None:
    """The unit `code` if it is `root_unit_id` or below it, else None."""
    return await db.scalar(units.readable_units(root_unit_id).where(Unit.code == code))


async def current(db: AsyncSession, unit_id: int) -> SignedDirectory | None:
    """The unit's newest signed directory."""
    return await db.scalar(
        select(SignedDirectory)
        .where(SignedDirectory.unit_id == unit_id)
        .order_by(SignedDirectory.version.desc())
        .limit(1)
    )


async def directory_key(db: AsyncSession, unit_id: int) -> DirectoryKey | None:
    return await db.scalar(select(DirectoryKey).where(DirectoryKey.unit_id == unit_id))


async def key_wrap(db: AsyncSession, unit_id: int, staff_id: int) -> str | None:
    """The unit's directory signing key as wrapped for this admin, if any."""
    return await db.scalar(
        select(DirectoryKeyWrap.wrapped).where(
            DirectoryKeyWrap.unit_id == unit_id, DirectoryKeyWrap.staff_id == staff_id
        )
    )


async def key_owners(db: AsyncSession, unit_id: int, key_ids: Iterable[str]) -> dict[str, int]:
    """key id -> id of the unit's staff account that enrolled it, for the ids that have one."""
    rows = await db.execute(
        select(StaffKeyId.key_id, StaffKeyId.staff_id)
        .join(Staff, Staff.id == StaffKeyId.staff_id)
        .where(Staff.unit_id == unit_id, StaffKeyId.key_id.in_(list(key_ids)))
    )
    return {key_id: staff_id for key_id, staff_id in rows}


async def staff_with_keys(db: AsyncSession, unit_id: int) -> list[Staff]:
    """Active staff of the unit that enrolled a key, by e-mail."""
    found = await db.scalars(
        select(Staff)
        .where(Staff.unit_id == unit_id, Staff.active.is_(True), Staff.public_key.is_not(None))
        .order_by(Staff.email)
    )
    return list(found)


async def overrides(db: AsyncSession, channel_ids: Iterable[int]) -> dict[int, set[int]]:
    """channel id -> staff ids the admin chose, for the channels that have an override."""
    rows = await db.execute(
        select(RecipientOverride.channel_id, RecipientOverride.staff_id).where(
            RecipientOverride.channel_id.in_(list(channel_ids))
        )
    )
    found: dict[int, set[int]] = {}
    for channel_id, staff_id in rows:
        found.setdefault(channel_id, set()).add(staff_id)
    return found


async def channel(db: AsyncSession, unit_id: int, case_type: CaseType) -> Channel | None:
    return await db.scalar(
        select(Channel).where(Channel.unit_id == unit_id, Channel.case_type == case_type)
    )


async def active_staff_ids(db: AsyncSession, unit_id: int, staff_ids: Iterable[int]) -> set[int]:
    """Those of `staff_ids` that are active staff of the unit."""
    found = await db.scalars(
        select(Staff.id).where(
            Staff.id.in_(list(staff_ids)), Staff.unit_id == unit_id, Staff.active.is_(True)
        )
    )
    return set(found)


async def clear_override(db: AsyncSession, channel_id: int) -> None:
    await db.execute(delete(RecipientOverride).where(RecipientOverride.channel_id == channel_id))


def add_override(db: AsyncSession, channel_id: int, staff_ids: Iterable[int]) -> None:
    for staff_id in staff_ids:
        db.add(RecipientOverride(channel_id=channel_id, staff_id=staff_id))


def add_directory_key(db: AsyncSession, unit_id: int, public_key: str) -> None:
    db.add(DirectoryKey(unit_id=unit_id, public_key=public_key))


async def replace_key_wrap(db: AsyncSession, unit_id: int, staff_id: int, wrapped: str) -> None:
    """The admin's wrap of the unit's signing key, replacing any earlier one."""
    await db.execute(
        delete(DirectoryKeyWrap).where(
            DirectoryKeyWrap.unit_id == unit_id, DirectoryKeyWrap.staff_id == staff_id
        )
    )
    db.add(DirectoryKeyWrap(unit_id=unit_id, staff_id=staff_id, wrapped=wrapped))


def add_signed(db: AsyncSession, signed: SignedDirectory) -> None:
    db.add(signed)


async def approve_keys(db: AsyncSession, staff_ids: Iterable[int]) -> None:
    """Mark the current keys of these accounts approved, now."""
    await db.execute(
        update(Staff).where(Staff.id.in_(list(staff_ids))).values(key_approved_at=utcnow())
    )


def add_key_id(db: AsyncSession, key_id: str, staff_id: int) -> None:
    """Bind a key id to the account that enrolled it, for good."""
    db.add(StaffKeyId(key_id=key_id, staff_id=staff_id, created_at=utcnow()))
