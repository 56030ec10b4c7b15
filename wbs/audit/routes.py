"""Auditors' view of a unit's audit log: the export with its signed tree heads and proofs,
and what an outside witness needs (the newest signed head, consistency between two)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from wbs.audit import service
from wbs.audit.schemas import ConsistencyOut, LatestHeadOut
from wbs.core.db import DbSession
from wbs.core.errors import NotFound
from wbs.staff.deps import CurrentAuditor
from wbs.staff.models import Staff
from wbs.units import repository
from wbs.units.models import Unit

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])

TreeSize = Annotated[int, Query(ge=0, le=2**31 - 1)]


async def _readable_unit(db: DbSession, auditor: Staff, code: str) -> Unit:
    unit = await db.scalar(
        repository.readable_units(auditor.unit_id).where(Unit.code == code.upper())
    )
    if unit is None:
        raise NotFound()
    return unit


@router.get("/{code}/export")
async def export(
    code: str, request: Request, db: DbSession, auditor: CurrentAuditor
) -> JSONResponse:
    """The log, after a sequencer round (so entries committed so far are under a signed
    tree head), with the consistency proofs between successive heads."""
    unit = await _readable_unit(db, auditor, code)
    await service.sequence(db, request.app.state.security.master)
    return JSONResponse(await service.export_chain(db, unit))


@router.get("/{code}/head", response_model=LatestHeadOut)
async def latest_head(code: str, db: DbSession, auditor: CurrentAuditor) -> LatestHeadOut:
    """The unit's newest signed tree head, as the sequencer signed it (a witness records it)."""
    unit = await _readable_unit(db, auditor, code)
    head = await service.latest_head(db, unit)
    return LatestHeadOut.model_validate(
        {"tree_head": None if head is None else service.head_json(head, unit.code)}
    )


@router.get("/{code}/consistency", response_model=ConsistencyOut)
async def consistency(
    code: str, first: TreeSize, second: TreeSize, db: DbSession, auditor: CurrentAuditor
) -> ConsistencyOut:
    """The signed heads of tree sizes `first` and `second` and the proof between them."""
    unit = await _readable_unit(db, auditor, code)
    try:
        doc = await service.consistency(db, unit, first, second)
    except LookupError:
        raise NotFound(
            "Tidak ada kepala pohon bertanda tangan dengan ukuran itu (berurutan).",
            "No signed tree heads of those sizes (in that order).",
        ) from None
    return ConsistencyOut.model_validate(doc)
