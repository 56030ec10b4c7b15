"""The wbs application: the core shell (`wbs.core.app`) with every domain's objects and routers.

A new domain adds its router here; `wbs.core` itself never imports a domain package.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from wbs.audit.routes import router as audit_router
from wbs.cases.pages import router as cases_pages
from wbs.cases.routes import router as cases_routes
from wbs.core.app import build_app
from wbs.core.settings import Settings, load_settings
from wbs.directory.pages import router as directory_pages
from wbs.directory.routes import router as directory_routes
from wbs.reporting.pages import router as reporting_pages
from wbs.reporting.routes import router as reporting_routes
from wbs.staff.api import router as staff_api
from wbs.staff.routes import router as staff_pages
from wbs.staff.service import Security
from wbs.units.routes import router as units_router
from wbs.zi.routes import router as zi_router

ROUTERS: tuple[APIRouter, ...] = (
    staff_pages,
    units_router,
    audit_router,
    staff_api,
    zi_router,
    reporting_routes,
    directory_routes,
    reporting_pages,
    cases_routes,
    cases_pages,
    directory_pages,
)


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_app(settings or load_settings(), _domains)


def _domains(app: FastAPI) -> None:
    settings: Settings = app.state.settings
    app.state.security = Security.from_settings(settings, settings.secret_bytes())
    for router in ROUTERS:
        app.include_router(router)
