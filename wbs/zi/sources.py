"""Where proposals get their figures and their data dukung: two small injected parts.

`IndicatorSource.figures` gives a unit's indicator dict for a period (the internal form of
`wbs.indicators.service.compute`); `EvidencePackager.package` turns those figures and the rule
of one item into the data dukung file attached when an assessor accepts a proposal.

Built once per app (`create_app`: `IndicatorsService` over `wbs.indicators`, and
`wbs.exports.service.SignedDataDukung`, the unit's signed indicator export); routes get it as
`PengawasanCtx`, tests put their own in `app.state.pengawasan`. `JsonDataDukung` is the plain,
unsigned packager the tests use.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Protocol

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from wbs.core.text import Text
from wbs.units.models import Unit

PACKAGE_KIND = "wbs.zi.data-dukung"


@dataclass(frozen=True)
class RuleNote:
    """What a data dukung package says about the item it supports."""

    code: str
    rule_id: str
    rule: Text
    why: Text
    value: Any
    figures: Mapping[str, Any]  # the figures the rule used


class IndicatorSource(Protocol):
    async def figures(self, db: AsyncSession, unit: Unit, period: str) -> dict[str, Any]: ...


class EvidencePackager(Protocol):
    async def package(
        self,
        db: AsyncSession,
        unit: Unit,
        period: str,
        figures: Mapping[str, Any],
        note: RuleNote,
    ) -> tuple[str, bytes]: ...


class IndicatorsService:
    """Production source: `wbs.indicators.service.compute` (internal figures, not public),
    in the service's time zone (`WBS_TIMEZONE`; `create_app` passes the settings)."""

    def __init__(self, tz: str = "Asia/Jakarta", k: int = 5) -> None:
        self.tz, self.k = tz, k

    async def figures(self, db: AsyncSession, unit: Unit, period: str) -> dict[str, Any]:
        from wbs.indicators import service

        chosen = service.parse_period(period)
        return dict(await service.compute(db, unit, chosen, public=False, tz=self.tz, k=self.k))


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8: the same figures always give the same bytes."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


class JsonDataDukung:
    """Default packager until the signed exporter is wired: one canonical JSON file."""

    async def package(
        self,
        db: AsyncSession,
        unit: Unit,
        period: str,
        figures: Mapping[str, Any],
        note: RuleNote,
    ) -> tuple[str, bytes]:
        doc = {
            "kind": PACKAGE_KIND,
            "version": 1,
            "unit": unit.code,
            "period": period,
            "item": note.code,
            "rule_id": note.rule_id,
            "rule": {"id": note.rule.id, "en": note.rule.en},
            "why": {"id": note.why.id, "en": note.why.en},
            "value": note.value,
            "figures_used": dict(note.figures),
            "figures": dict(figures),
        }
        return f"data-dukung-{unit.code}-{period}-{note.code}.json", canonical_json(doc)


@dataclass(frozen=True)
class Pengawasan:
    source: IndicatorSource
    packager: EvidencePackager


def pengawasan(request: Request) -> Pengawasan:
    """The app's indicator source and packager (a dependency)."""
    found: Pengawasan = request.app.state.pengawasan
    return found


PengawasanCtx = Annotated[Pengawasan, Depends(pengawasan)]
