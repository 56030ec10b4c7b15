"""The wbs application: the core shell (`wbs.core.app`) with every domain's objects and routers.

A new domain adds its router here; `wbs.core` itself never imports a domain package.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, FastAPI

from wbs.audit.routes import router as audit_router
from wbs.calendar.pages import router as calendar_pages
from wbs.cases.pages import router as cases_pages
from wbs.cases.routes import router as cases_routes
from wbs.core.app import build_app
from wbs.core.settings import Settings, load_settings
from wbs.directory.pages import router as directory_pages
from wbs.directory.routes import router as directory_routes
from wbs.exports.pages import router as exports_pages
from wbs.exports.routes import router as exports_routes
from wbs.exports.service import SignedDataDukung, export_store
from wbs.identity.pages import router as identity_pages
from wbs.identity.routes import router as identity_routes
from wbs.indicators.pages import router as indicators_pages
from wbs.indicators.routes import router as indicators_routes
from wbs.ops.metrics import RequestMetrics, RequestStats, from_environment
from wbs.ops.routes import router as ops_routes
from wbs.outbox.pages import router as outbox_pages
from wbs.reporting.context import Reporting
from wbs.reporting.pages import router as reporting_pages
from wbs.reporting.routes import router as reporting_routes
from wbs.staff.pages import router as staff_pages
from wbs.staff.routes import router as staff_routes
from wbs.staff.service import Security
from wbs.units.pages import router as units_pages
from wbs.worker import run_forever
from wbs.workflow.registry import load_all as load_workflows
from wbs.workflow.routes import router as workflow_routes
from wbs.zi.evidence import Evidence
from wbs.zi.pages import router as zi_pages
from wbs.zi.routes import router as zi_routes
from wbs.zi.sources import IndicatorsService, Pengawasan

ROUTERS: tuple[APIRouter, ...] = (
    ops_routes,
    staff_pages,
    units_pages,
    audit_router,
    staff_routes,
    zi_routes,
    zi_pages,
    reporting_routes,
    directory_routes,
    reporting_pages,
    cases_routes,
    cases_pages,
    directory_pages,
    workflow_routes,
    identity_routes,
    identity_pages,
    calendar_pages,
    outbox_pages,
    exports_routes,
    exports_pages,
    indicators_routes,
    indicators_pages,
)


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_app(settings or load_settings(), _domains)


def _domains(app: FastAPI) -> None:
    settings: Settings = app.state.settings
    master = settings.secret_bytes()
    app.state.security = Security.from_settings(settings, master)
    # Workflow files are validated at start: a bad one stops the app naming file and place.
    app.state.workflows = load_workflows(settings.workflows_dir)
    # App-scoped objects of the domains, built once here; routes get them as dependencies.
    app.state.reporting = Reporting.build(settings, master, workflows=app.state.workflows)
    app.state.evidence = Evidence.build(settings)
    indicators = IndicatorsService(settings.timezone, settings.indicators_k)
    app.state.pengawasan = Pengawasan(indicators, SignedDataDukung(master))
    # Every file store, by the names wbs.ops.stores gives them (readiness, backups).
    app.state.file_stores = {
        "blobs": app.state.reporting.blobs,
        "evidence": app.state.evidence.store,
        "exports": export_store(settings),
    }
    for router in ROUTERS:
        app.include_router(router)
    # Innermost, around the router: it reads the route the router chose.
    # Under `wbs serve` the counts go to the instance's snapshot files (summed per scrape).
    stats = app.state.request_stats = RequestStats(directory=from_environment())
    app.add_middleware(RequestMetrics, stats=stats)
    if stats.directory is not None:
        app.state.background.append(stats.keep_flushed)
    in_process = settings.worker_in_process
    if in_process or (in_process is None and not settings.is_production):

        async def worker(stop: asyncio.Event) -> None:
            await run_forever(
                settings,
                app.state.sessionmaker,
                app.state.workflows,
                stop,
                settings.worker_interval_seconds,
            )

        app.state.background.append(worker)
