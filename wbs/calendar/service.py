"""A unit's working-day calendar: read it, switch cuti bersama, add and remove closures."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from wbs.audit import service as audit
from wbs.calendar import repository
from wbs.calendar.models import UnitCalendar, UnitClosure
from wbs.calendar.workdays import FIRST_YEAR, LAST_YEAR, WorkCalendar
from wbs.core.errors import Conflict, NotFound, ValidationFailed
from wbs.units.models import Unit

MAX_CLOSURES = 366


async def _audit(
    db: AsyncSession,
    unit: Unit,
    actor_id: int | None,
    actor: str,
    action: str,
    details: dict[str, Any],
) -> None:
    """A change to the unit's calendar, in the unit's audit chain."""
    await audit.append(
        db,
        unit=unit,
        actor_id=actor_id,
        actor=actor,
        action=action,
        object_type="unit",
        object_id=unit.code,
        details=details,
    )


async def calendar_for(db: AsyncSession, unit: Unit) -> WorkCalendar:
    """The unit's working days: national calendar, its cuti bersama switch, its closures."""
    policy = await repository.policy(db, unit.id)
    closed = await repository.closures(db, unit.id)
    return WorkCalendar.of(
        cuti_bersama_libur=policy.cuti_bersama_libur if policy else True,
        closures=(c.day for c in closed),
    )


async def set_cuti_bersama(
    db: AsyncSession, unit: Unit, *, libur: bool, actor_id: int | None, actor: str
) -> None:
    """Count cuti bersama as leave (default) or as working days for this unit."""
    policy = await repository.policy(db, unit.id)
    if policy is None:
        db.add(UnitCalendar(unit_id=unit.id, cuti_bersama_libur=libur))
    else:
        policy.cuti_bersama_libur = libur
    await db.flush()
    await _audit(db, unit, actor_id, actor, "calendar.cuti_bersama", {"libur": libur})


def _check_day(day: date) -> None:
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValidationFailed(
            f"Tanggal harus antara tahun {FIRST_YEAR} dan {LAST_YEAR}.",
            f"The date must be between {FIRST_YEAR} and {LAST_YEAR}.",
        )


async def add_closure(
    db: AsyncSession, unit: Unit, day: date, reason: str, *, actor_id: int | None, actor: str
) -> UnitClosure:
    """Close the unit on one more day; the reason is shown to officers."""
    _check_day(day)
    reason = reason.strip()
    if not reason or len(reason) > 200:
        raise ValidationFailed(
            "Alasan penutupan wajib diisi (maks. 200 karakter).",
            "A reason for the closure is required (at most 200 characters).",
        )
    if await repository.closure(db, unit.id, day) is not None:
        raise Conflict(
            f"Unit sudah ditutup pada {day.isoformat()}.",
            f"The unit is already closed on {day.isoformat()}.",
        )
    if len(await repository.closures(db, unit.id)) >= MAX_CLOSURES:
        raise ValidationFailed(
            f"Paling banyak {MAX_CLOSURES} hari penutupan per unit.",
            f"At most {MAX_CLOSURES} closure days per unit.",
        )
    row = UnitClosure(unit_id=unit.id, day=day, reason=reason)
    db.add(row)
    await db.flush()
    await _audit(
        db,
        unit,
        actor_id,
        actor,
        "calendar.closure_add",
        {"day": day.isoformat(), "reason": reason},
    )
    return row


async def remove_closure(
    db: AsyncSession, unit: Unit, day: date, *, actor_id: int | None, actor: str
) -> None:
    row = await repository.closure(db, unit.id, day)
    if row is None:
        raise NotFound(
            f"Tidak ada penutupan pada {day.isoformat()}.",
            f"There is no closure on {day.isoformat()}.",
        )
    await db.delete(row)
    await db.flush()
    await _audit(db, unit, actor_id, actor, "calendar.closure_remove", {"day": day.isoformat()})
