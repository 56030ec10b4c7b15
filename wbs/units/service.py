"""Creating units with their four channels."""

from __future__ import annotations

import re

from sqlalchemy.ext.asyncio import AsyncSession

from wbs.audit import service as audit
from wbs.core.errors import Conflict, NotFound, ValidationFailed
from wbs.units import repository
from wbs.units.models import CHANNEL_NAMES, CaseType, Channel, Unit

UNIT_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{1,31}$")


class UnitCodeInvalid(ValidationFailed):
    message_id = "Kode unit hanya boleh huruf besar, angka, '-' dan '_' (2-32 karakter)."
    message_en = "A unit code may only hold capital letters, digits, '-' and '_' (2-32 characters)."


async def create_unit(
    db: AsyncSession,
    *,
    code: str,
    name: str,
    parent_code: str | None = None,
    actor_id: int | None = None,
    actor: str = "system",
) -> Unit:
    code = code.strip().upper()
    if not UNIT_CODE.match(code):
        raise UnitCodeInvalid()
    if not name.strip() or len(name) > 200:
        raise ValidationFailed(
            "Nama unit wajib diisi (maks. 200 karakter).",
            "A unit name is required (at most 200 characters).",
        )
    if await repository.by_code(db, code) is not None:
        raise Conflict(f"Unit {code} sudah ada.", f"Unit {code} already exists.")
    parent = None
    if parent_code:
        parent = await repository.by_code(db, parent_code.strip().upper())
        if parent is None:
            raise NotFound(
                f"Unit induk {parent_code} tidak ditemukan.",
                f"Parent unit {parent_code} not found.",
            )
    unit = Unit(code=code, name=name.strip(), parent_id=parent.id if parent else None)
    db.add(unit)
    await db.flush()
    for case_type in CaseType:
        db.add(Channel(unit_id=unit.id, case_type=case_type, name=CHANNEL_NAMES[case_type].id))
    await db.flush()
    await audit.append(
        db,
        unit=unit,
        actor_id=actor_id,
        actor=actor,
        action="unit.create",
        object_type="unit",
        object_id=unit.code,
        details={"name": unit.name, "parent": parent.code if parent else None},
    )
    return unit
