"""The framework ceiling: a bare FastAPI app that stores each posted body as one row.

Same uvicorn with the same HTTP protocol class (TCP_NODELAY, wbs/core/serving.py), same
SQLAlchemy async engine over psycopg, same PostgreSQL as `wbs serve`; no validation, no case
number logic, no audit. bench/load.py drives it next to `wbs serve`.

    .venv/bin/python bench/ceiling.py --database-url postgresql+psycopg://... --port 8100
    (the table `ceiling` must exist: see CREATE below; bench/load.py creates it)
"""

from __future__ import annotations

import argparse
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from wbs.core.serving import server_options

CREATE = "CREATE TABLE IF NOT EXISTS ceiling (id BIGSERIAL PRIMARY KEY, body BYTEA NOT NULL)"
INSERT = text("INSERT INTO ceiling (body) VALUES (:body) RETURNING id")
URL_ENV = "WBS_CEILING_DATABASE_URL"


def create_app() -> FastAPI:
    engine = create_async_engine(os.environ[URL_ENV], pool_size=5, max_overflow=10)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await engine.dispose()

    app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)

    @app.post("/api/v1/reports")
    async def store(request: Request) -> JSONResponse:
        body = await request.body()
        async with engine.begin() as conn:
            row_id = await conn.scalar(INSERT, {"body": body})
        return JSONResponse({"case_number": f"C-{row_id:06d}"}, status_code=201)

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        return JSONResponse({"ok": True})

    return app


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--stock-protocol", action="store_true", help="uvicorn's own h11")
    parser.add_argument("--stock-http", action="store_true", help="asyncio and h11, TCP_NODELAY")
    args = parser.parse_args()
    os.environ[URL_ENV] = args.database_url
    uvicorn.run(
        "ceiling:create_app",
        factory=True,
        **(
            {"http": "h11", "loop": "asyncio"}
            if args.stock_protocol
            else server_options(stock=args.stock_http)
        ),
        app_dir=os.path.dirname(os.path.abspath(__file__)),
        host=args.host,
        port=args.port,
        workers=args.workers,
        access_log=False,
        proxy_headers=False,
        server_header=False,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
