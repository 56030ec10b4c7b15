"""Auditor export of a unit's audit log with its signed tree heads and proofs."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from wbs.audit import service
from wbs.core.db import DbSession
from wbs.core.errors import NotFound
from wbs.staff.deps import CurrentAuditor
from wbs.units import repository
from wbs.units.models import Unit

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


@router.get("/{code}/export")
async def export(
    code: str, request: Request, db: DbSession, auditor: CurrentAuditor
) -> JSONResponse:
    """The log, after a sequencer round (so entries committed so far are under a signed
    tree head), with the consistency proofs between successive heads."""
    unit = await db.scalar(
        repository.readable_units(auditor.unit_id).where(Unit.code == code.upper())
    )
    if unit is None:
        raise NotFound()
    await service.sequence(db, request.app.state.security.master)
    return JSONResponse(await service.export_chain(db, unit))
