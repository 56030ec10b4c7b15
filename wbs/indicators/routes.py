"""Indicators API v1: staff figures of a readable unit, public (suppressed) figures of any."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from wbs.core.db import DbSession
from wbs.core.settings import Settings
from wbs.indicators import service
from wbs.indicators.schemas import IndicatorsOut
from wbs.staff.deps import CurrentStaff

router = APIRouter(tags=["indicators"])

PeriodQuery = Annotated[
    str | None,
    Query(
        max_length=16,
        description="2026 | 2026-Q1 | 2026-03; public figures: a complete year only",
    ),
]


def options(request: Request) -> service.Options:
    settings: Settings = request.app.state.settings
    return service.Options(settings.indicators_k, settings.timezone, request.app.state.workflows)


OptionsDep = Annotated[service.Options, Depends(options)]


@router.get("/api/v1/units/{code}/indicators", response_model=IndicatorsOut)
async def unit_indicators(
    code: str,
    db: DbSession,
    staff: CurrentStaff,
    opts: OptionsDep,
    period: PeriodQuery = None,
    public: Annotated[bool, Query(description="the suppressed, publishable figures")] = False,
    children: Annotated[bool, Query(description="add each unit directly below")] = False,
) -> Any:
    """A unit's indicators over its subtree: admins, auditors and atasan of the unit or above
    it; any other unit is 404."""
    return await service.for_staff(db, staff, code, period, opts, public=public, children=children)


@router.get("/api/v1/public/units/{code}/indicators", response_model=IndicatorsOut)
async def public_indicators(
    code: str, db: DbSession, opts: OptionsDep, period: PeriodQuery = None
) -> Any:
    """A unit's public, suppressed indicators for a complete year, with its children."""
    return await service.for_public(db, code, period, opts)
