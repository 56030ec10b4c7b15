"""The one commit per request happens before the response starts, never after it."""

from __future__ import annotations

import uuid

import httpx
from fastapi import FastAPI
from sqlalchemy import text

from wbs.core.db import DbSession, make_engine, make_sessionmaker


async def test_write_is_committed_when_the_response_starts(fresh_db_url):
    table = f"probe_{uuid.uuid4().hex[:8]}"
    engine = make_engine(fresh_db_url)
    sessions = make_sessionmaker(engine)
    async with engine.begin() as conn:
        await conn.execute(text(f"CREATE TABLE {table} (n INTEGER)"))
    app = FastAPI()
    app.state.sessionmaker = sessions

    @app.post("/write")
    async def write(db: DbSession) -> dict[str, str]:
        await db.execute(text(f"INSERT INTO {table} (n) VALUES (1)"))  # noqa: S608 - test name
        return {"ok": "yes"}

    seen_at_start: list[int] = []

    async def probe(scope, receive, send):  # the client's view: what exists once it hears back
        async def checking_send(message):
            if message["type"] == "http.response.start":
                async with engine.connect() as other:
                    count = await other.scalar(text(f"SELECT count(*) FROM {table}"))  # noqa: S608
                seen_at_start.append(int(count or 0))
            await send(message)

        await app(scope, receive, checking_send)

    try:
        transport = httpx.ASGITransport(app=probe)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.post("/write")
        assert response.status_code == 200
        # Committed before the status line went out (FastAPI's default dependency scope would
        # commit only after the response was sent: 0 here).
        assert seen_at_start == [1]
    finally:
        async with engine.begin() as conn:
            await conn.execute(text(f"DROP TABLE {table}"))
        await engine.dispose()
