"""Indicator pages: the staff dashboard of a unit (children side by side, SVG charts) and
the public transparency page (suppressed figures of complete years only)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from wbs.core.db import DbSession
from wbs.core.i18n import request_language
from wbs.core.templating import render
from wbs.indicators import charts, service
from wbs.indicators.definitions import (
    CHANNEL_FIGURES,
    CHANNELS,
    COMMON_FIGURES,
    EXTRA_KEYS,
    PERCENTILE_RULE,
    PERIOD_RULE,
    SUPPRESSION_RULE,
    definition,
    label,
)
from wbs.indicators.routes import OptionsDep, PeriodQuery
from wbs.staff.deps import CurrentStaff
from wbs.workflow.registry import Workflows

router = APIRouter(tags=["indicator pages"], include_in_schema=False)

MAIN_ROWS = COMMON_FIGURES
CHANNEL_ROWS = {c: rows for c, rows in CHANNEL_FIGURES.items() if rows}
TABLES = {
    "gratifikasi": ("by_value_band", "by_state", "by_kpk_decision"),
    "benturan_kepentingan": ("by_control",),
}
TABLE_SOURCES = {
    "by_value_band": "nilai_estimasi",
    "by_kpk_decision": "keputusan_kpk",
    "by_control": "bentuk_pengendalian",
}
CHILD_COLUMNS = (
    "received",
    "completed",
    "completed_on_time_pct",
    "overdue",
    "completion_wd_median",
)


def cell(block: dict[str, Any], key: str) -> Any:
    """A figure by its (dotted) key."""
    value: Any = block
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def option_label(flows: Workflows, channel: str, table: str, key: str, lang: str) -> str:
    if key in EXTRA_KEYS:
        return EXTRA_KEYS[key].get(lang)
    flow = flows.of(channel)
    if table == "by_state" and key in flow.states:
        return flow.states[key].label.get(lang)
    fact = flow.facts.get(TABLE_SOURCES.get(table, ""))
    if fact is not None and key in fact.options:
        return fact.options[key].label.get(lang)
    return key


def _context(figures: dict[str, Any], flows: Workflows, lang: str, public: bool) -> dict[str, Any]:
    return {
        "f": figures,
        "channels": CHANNELS,
        "main_rows": MAIN_ROWS,
        "channel_rows": CHANNEL_ROWS,
        "tables": TABLES,
        "child_columns": CHILD_COLUMNS,
        "cell": cell,
        "shown": charts.shown,
        "label": lambda key: label(key, lang),
        "definition": lambda key: definition(key, lang),
        "channel_name": lambda c: charts.channel_name(c, lang),
        "option_label": lambda c, t, k: option_label(flows, c, t, k, lang),
        "rules": [r.get(lang) for r in (PERIOD_RULE, PERCENTILE_RULE, SUPPRESSION_RULE)],
        "chart_compliance": Markup(charts.compliance(figures, lang)),  # noqa: S704 - escaped SVG
        "chart_completion": Markup(charts.completion(figures, lang)),  # noqa: S704 - escaped SVG
        "chart_monthly": (
            Markup(charts.monthly(figures["monthly"], lang))  # noqa: S704 - escaped SVG
            if figures.get("monthly")
            else None
        ),
        "public": public,
    }


@router.get("/admin/units/{code}/indicators", response_class=HTMLResponse)
async def dashboard(
    code: str,
    request: Request,
    db: DbSession,
    staff: CurrentStaff,
    opts: OptionsDep,
    period: PeriodQuery = None,
) -> Response:
    """Admins, auditors and atasan of the unit or above it; anyone else gets 404."""
    figures = await service.for_staff(db, staff, code, period, opts, children=True)
    lang = request_language(request)
    return render(request, "indicators/dashboard.html", _context(figures, opts.flows, lang, False))


@router.get("/transparansi/{code}", response_class=HTMLResponse)
async def transparency(
    code: str, request: Request, db: DbSession, opts: OptionsDep, period: PeriodQuery = None
) -> Response:
    figures = await service.for_public(db, code, period, opts)
    lang = request_language(request)
    context = _context(figures, opts.flows, lang, True)
    context["years"] = [
        p.label for p in service.public_periods(opts.today(), opts.today().year - 5)
    ]
    return render(request, "indicators/public.html", context)
