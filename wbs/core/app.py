"""The application factory: settings, database, templates, security and routers."""

from __future__ import annotations

import importlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

import wbs
from crypto.atrest import keyed_digest
from wbs.core.bodylimit import BodyLimitMiddleware, BodyLimits
from wbs.core.db import make_engine, make_sessionmaker
from wbs.core.handlers import install_handlers
from wbs.core.security import SecurityHeadersMiddleware
from wbs.core.settings import Settings, load_settings
from wbs.core.templating import make_environment
from wbs.reporting.context import Reporting
from wbs.staff.service import Security
from wbs.zi.evidence import Evidence

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
CRYPTO_JS_DIR = Path(__file__).resolve().parent.parent.parent / "crypto" / "js"


def include_routers(app: FastAPI) -> None:
    """Every domain's router; a new domain adds one line here."""
    from wbs.audit.routes import router as audit_router
    from wbs.core.routes import router as core_router
    from wbs.staff.routes import router as staff_router
    from wbs.units.routes import router as units_router

    for router in (core_router, staff_router, units_router, audit_router):
        app.include_router(router)
    for optional in (
        "wbs.staff.api",
        "wbs.zi.routes",
        "wbs.reporting.routes",
        "wbs.reporting.pages",
        "wbs.cases.routes",
        "wbs.cases.pages",
    ):
        try:
            module = importlib.import_module(optional)
        except ModuleNotFoundError as exc:
            if not (exc.name and optional.startswith(exc.name)):
                raise
            continue  # that domain is not part of this build yet
        app.include_router(module.router)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    settings.prepare_data_dir()  # SettingsError (naming the path) when it cannot be used
    master = settings.secret_bytes()
    engine = make_engine(settings.resolved_database_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await engine.dispose()

    app = FastAPI(
        title="wbs",
        version=wbs.__version__,
        description="Whistle-blowing, complaints, gratification and conflict-of-interest "
        "channels with end-to-end encryption.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.templates = make_environment()
    app.state.csrf_secret = bytes.fromhex(keyed_digest(master, "csrf", b"v1"))
    app.state.security = Security.from_settings(settings, master)
    # App-scoped objects of the domains, built once here; routes get them as dependencies.
    app.state.reporting = Reporting.build(settings, master)
    app.state.evidence = Evidence.build(settings)
    install_handlers(app)
    include_routers(app)
    if CRYPTO_JS_DIR.is_dir():  # before /static, which would otherwise shadow it
        app.mount("/static/crypto", StaticFiles(directory=CRYPTO_JS_DIR), name="crypto-js")
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    # Inside the security headers (so a 413 carries them and is logged), outside routing.
    app.state.body_limits = BodyLimits(app)
    app.add_middleware(BodyLimitMiddleware, limits=app.state.body_limits)
    app.add_middleware(SecurityHeadersMiddleware, production=settings.is_production)
    logging.getLogger("wbs").setLevel(logging.INFO)
    return app
