"""The application factory: settings, database, templates, security and routers."""

from __future__ import annotations

import asyncio
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
from wbs.core.openapi import install_openapi
from wbs.core.security import SecurityHeadersMiddleware
from wbs.core.settings import Settings, load_settings
from wbs.core.templating import make_environment
from wbs.staff.service import Security
from wbs.workflow.registry import load_all as load_workflows

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
CRYPTO_JS_DIR = Path(__file__).resolve().parent.parent.parent / "crypto" / "js"


def include_routers(app: FastAPI) -> None:
    """Every domain's router; a new domain adds one line here."""
    from wbs.audit.routes import router as audit_router
    from wbs.core.routes import router as core_router
    from wbs.staff.pages import router as staff_router
    from wbs.units.pages import router as units_router

    for router in (core_router, staff_router, units_router, audit_router):
        app.include_router(router)
    for optional in (
        "wbs.staff.routes",
        "wbs.zi.routes",
        "wbs.zi.pages",
        "wbs.reporting.routes",
        "wbs.reporting.pages",
        "wbs.cases.routes",
        "wbs.cases.pages",
        "wbs.workflow.routes",
        "wbs.calendar.pages",
        "wbs.outbox.pages",
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
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        background = None
        in_process = settings.worker_in_process
        if in_process or (in_process is None and not settings.is_production):
            from wbs.worker import run_forever  # the worker is a domain-level module

            background = asyncio.create_task(run_forever(
                settings, app.state.sessionmaker, app.state.workflows, stop,
                settings.worker_interval_seconds))
        yield
        stop.set()
        if background is not None:
            await background
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
    # Workflow files are validated at start: a bad one stops the app naming file and place.
    app.state.workflows = load_workflows(settings.workflows_dir)
    install_handlers(app)
    include_routers(app)
    install_openapi(app)
    if CRYPTO_JS_DIR.is_dir():  # before /static, which would otherwise shadow it
        app.mount("/static/crypto", StaticFiles(directory=CRYPTO_JS_DIR), name="crypto-js")
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    # Inside the security headers (so a 413 carries them and is logged), outside routing.
    app.state.body_limits = BodyLimits(app)
    app.add_middleware(BodyLimitMiddleware, limits=app.state.body_limits)
    app.add_middleware(SecurityHeadersMiddleware, production=settings.is_production)
    logging.getLogger("wbs").setLevel(logging.INFO)
    return app
