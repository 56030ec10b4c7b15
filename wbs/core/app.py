"""The application shell: settings, database, templates, security headers and body limits.

It knows no domain: `wbs.app.create_app` builds the application on it and adds each
domain's app-scoped objects and routers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
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
from wbs.core.routes import router as core_router
from wbs.core.security import SecurityHeadersMiddleware
from wbs.core.settings import Settings
from wbs.core.templating import make_environment

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
CRYPTO_JS_DIR = Path(__file__).resolve().parent.parent.parent / "crypto" / "js"


def build_app(settings: Settings, setup: Callable[[FastAPI], None]) -> FastAPI:
    """The application with the core's state, handlers and routes; `setup(app)` adds the
    domains before the static files, body limits and middleware are put in place."""
    settings.prepare_data_dir()  # SettingsError (naming the path) when it cannot be used
    master = settings.secret_bytes()
    engine = make_engine(settings.resolved_database_url, **settings.pool_options)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Background jobs a domain registered (e.g. the in-process worker under `make run`).
        stop = asyncio.Event()
        tasks = [asyncio.create_task(job(stop)) for job in app.state.background]
        yield
        stop.set()
        for task in tasks:
            await task
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
    app.state.background = []  # Callable[[asyncio.Event], Awaitable[None]], run while serving
    install_handlers(app)
    app.include_router(core_router)
    setup(app)
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
