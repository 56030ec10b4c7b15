"""The framework ceiling: a bare FastAPI app, one statement per request.

Same uvicorn with the same HTTP protocol class (TCP_NODELAY, wbs/core/serving.py), same
SQLAlchemy async engine over psycopg, same PostgreSQL as `wbs serve`; no validation, no case
number logic, no audit. bench/load.py drives it next to `wbs serve`, on the same paths:

- POST /api/v1/reports stores the body as one row;
- POST /api/v1/mailbox/login looks one row up by its 32-byte key and returns its id;
- GET /api/v1/mailbox returns the row whose id is the bearer token;
- GET /api/v1/cases returns the first page of `ceiling_cases` in index order.

    .venv/bin/python bench/ceiling.py --database-url postgresql+psycopg://... --port 8100
    (the tables must exist: see TABLES below; bench/load.py creates and fills them)
"""

from __future__ import annotations

import argparse
import base64
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from wbs.core.serving import server_options

TABLES = (
    "CREATE TABLE ceiling (id BIGSERIAL PRIMARY KEY, body BYTEA NOT NULL)",
    """CREATE TABLE ceiling_mailbox (id BIGSERIAL PRIMARY KEY, lookup BYTEA NOT NULL UNIQUE,
       body BYTEA NOT NULL)""",
    """CREATE TABLE ceiling_cases (id BIGSERIAL PRIMARY KEY, at TIMESTAMPTZ NOT NULL,
       case_number TEXT NOT NULL, state TEXT NOT NULL)""",
    "CREATE INDEX ceiling_cases_at ON ceiling_cases (at DESC, id DESC)",
)
INSERT = text("INSERT INTO ceiling (body) VALUES (:body) RETURNING id")
LOOKUP = text("SELECT id FROM ceiling_mailbox WHERE lookup = :lookup")
ROW = text("SELECT body FROM ceiling_mailbox WHERE id = :id")
PAGE = text(
    "SELECT id, at, case_number, state FROM ceiling_cases ORDER BY at DESC, id DESC LIMIT :n"
)
PAGE_SIZE = 50  # wbs.cases.service.PAGE_SIZE
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

    @app.post("/api/v1/mailbox/login")
    async def login(request: Request) -> JSONResponse:
        lookup = base64.urlsafe_b64decode(json.loads(await request.body())["lookup"] + "==")
        async with engine.connect() as conn:
            row_id = await conn.scalar(LOOKUP, {"lookup": lookup})
        if row_id is None:
            return JSONResponse({"error": "not_found"}, status_code=404)
        return JSONResponse({"token": str(row_id)})

    @app.get("/api/v1/mailbox")
    async def read(request: Request) -> Response:
        row_id = int(request.headers["authorization"].removeprefix("Bearer "))
        async with engine.connect() as conn:
            body = await conn.scalar(ROW, {"id": row_id})
        if body is None:
            return JSONResponse({"error": "not_found"}, status_code=404)
        return Response(body, media_type="application/json")

    @app.get("/api/v1/cases")
    async def cases() -> JSONResponse:
        async with engine.connect() as conn:
            rows = (await conn.execute(PAGE, {"n": PAGE_SIZE})).all()
        return JSONResponse(
            [
                {"id": r.id, "at": r.at.isoformat(), "case_number": r.case_number, "state": r.state}
                for r in rows
            ]
        )

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
