"""Identity request queries and writes; who may see a request is decided in the statement."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from wbs.core.db import utcnow
from wbs.identity.models import IdentityRequest, State
from wbs.reporting.models import IdentityWrap, IdentityWrapKind, Report


async def by_public_id(db: AsyncSession, public_id: str) -> IdentityRequest | None:
    return await db.scalar(select(IdentityRequest).where(IdentityRequest.public_id == public_id))


async def of_requester(
    db: AsyncSession, report_id: int, requester_id: int
) -> list[IdentityRequest]:
    """The requester's own requests for one case, newest first."""
    rows = await db.scalars(
        select(IdentityRequest)
        .where(IdentityRequest.report_id == report_id, IdentityRequest.requester_id == requester_id)
        .order_by(IdentityRequest.created_at.desc(), IdentityRequest.id.desc())
    )
    return list(rows)


async def pending_in_unit(
    db: AsyncSession, unit_id: int
) -> Sequence[tuple[IdentityRequest, Report]]:
    """Open requests for cases of the unit, oldest first, with their reports."""
    rows = await db.execute(
        select(IdentityRequest, Report)
        .join(Report, Report.id == IdentityRequest.report_id)
        .where(IdentityRequest.unit_id == unit_id, IdentityRequest.state == State.requested)
        .order_by(IdentityRequest.created_at, IdentityRequest.id)
    )
    return [(r, report) for r, report in rows]


async def decide(
    db: AsyncSession, request: IdentityRequest, state: State, by_id: int, note: str | None
) -> bool:
    """Move a request from `requested` to `state`; False when someone decided first."""
    moved = await db.execute(
        update(IdentityRequest)
        .where(IdentityRequest.id == request.id, IdentityRequest.state == State.requested)
        .values(state=state, decided_by_id=by_id, decided_at=utcnow(), decision_note=note)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(moved, "rowcount", 0) == 1)


async def identity_wrap(
    db: AsyncSession, report_id: int, key_id: str, kind: IdentityWrapKind
) -> IdentityWrap | None:
    return await db.scalar(
        select(IdentityWrap).where(
            IdentityWrap.report_id == report_id,
            IdentityWrap.key_id == key_id,
            IdentityWrap.kind == kind,
        )
    )


async def released_wrap(db: AsyncSession, request_id: int) -> IdentityWrap | None:
    return await db.scalar(
        select(IdentityWrap).where(
            IdentityWrap.request_id == request_id, IdentityWrap.kind == IdentityWrapKind.released
        )
    )


async def approved_for(
    db: AsyncSession, report_id: int, requester_id: int
) -> IdentityRequest | None:
    """The requester's approved request for this case (the newest), if any."""
    return await db.scalar(
        select(IdentityRequest)
        .where(
            IdentityRequest.report_id == report_id,
            IdentityRequest.requester_id == requester_id,
            IdentityRequest.state == State.approved,
        )
        .order_by(IdentityRequest.decided_at.desc(), IdentityRequest.id.desc())
        .limit(1)
    )


async def report(db: AsyncSession, report_id: int) -> Report | None:
    return await db.get(Report, report_id)


def add(db: AsyncSession, row: IdentityRequest | IdentityWrap) -> None:
    db.add(row)
