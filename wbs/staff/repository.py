"""Staff queries, with the actor's unit scope inside the statement."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from wbs.staff.models import Role, Staff, StaffRole, StaffSession
from wbs.units.repository import subtree_ids


def readable_statement(actor: Staff) -> Select[Staff]:
    """Admins and auditors see staff of their unit subtree; others only themselves."""
    stmt = select(Staff).order_by(Staff.email)
    if actor.roles & {Role.admin, Role.auditor}:
        return stmt.where(Staff.unit_id.in_(subtree_ids(actor.unit_id)))
    return stmt.where(Staff.id == actor.id)


async def by_email(db: AsyncSession, email: str) -> Staff | None:
    return await db.scalar(select(Staff).where(Staff.email == email.strip().lower()))


async def session_with_staff(
    db: AsyncSession, session_id: str
) -> tuple[StaffSession, Staff] | None:
    row = (
        await db.execute(
            select(StaffSession, Staff)
            .join(Staff, Staff.id == StaffSession.staff_id)
            .where(StaffSession.id == session_id, Staff.active.is_(True))
        )
    ).first()
    return (row[0], row[1]) if row else None


async def staff_with_role_in_units(
    db: AsyncSession, role: Role, unit_ids: Select[int]
) -> list[Staff]:
    rows = await db.scalars(
        select(Staff)
        .join(StaffRole, StaffRole.staff_id == Staff.id)
        .where(StaffRole.role == role, Staff.unit_id.in_(unit_ids), Staff.active.is_(True))
        .order_by(Staff.email)
    )
    return list(rows)
