"""Database engine, declarative base and the one-commit-per-request session."""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, TypeVar

from fastapi import Depends, Path, Request
from sqlalchemy import BigInteger, DateTime, Integer, MetaData, TypeDecorator, event, text
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BIGINT identity on PostgreSQL, INTEGER PRIMARY KEY (rowid) on SQLite.
BigId = BigInteger().with_variant(Integer(), "sqlite")
# A row id in a URL: out of BIGINT range is a 422, never a database error.
PathId = Annotated[int, Path(ge=1, le=2**63 - 1)]


_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: ([\w.]+(?:, [\w.]+)*)")


def unique_violation(exc: BaseException) -> str | None:
    """The unique constraint an IntegrityError violated, named as NAMING_CONVENTION names
    it (`uq_<table>_<columns>`), or None when it is another kind of integrity error.

    PostgreSQL reports the constraint's name; SQLite reports `table.column, ...`.
    """
    orig = getattr(exc, "orig", None)
    if orig is None:
        return None
    if getattr(orig, "sqlstate", None) == "23505":  # psycopg: unique_violation
        name = getattr(getattr(orig, "diag", None), "constraint_name", None)
        return str(name) if name else None
    found = _SQLITE_UNIQUE.search(str(orig))
    if found is None:
        return None
    columns = [part.strip().split(".") for part in found.group(1).split(",")]
    return "uq_" + columns[0][0] + "_" + "_".join(col for _table, col in columns)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every backend (SQLite stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime()}


class IdMixin:
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)


class CreatedMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
    # Let SQLAlchemy emit BEGIN itself so writers serialise with BEGIN IMMEDIATE.
    dbapi_connection.isolation_level = None


def _sqlite_begin(conn: Any) -> None:
    if conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
        return  # a read outside any transaction (readiness): it takes no write lock
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine; SQLite gets WAL, foreign keys and serialised write transactions."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


async def take_turn(db: AsyncSession, job: str) -> bool:
    """Whether this transaction may run `job` now, so that several workers never run it at
    once: on PostgreSQL a transaction-scoped advisory lock taken without waiting (False:
    another worker has it); SQLite's write transactions are serialised already."""
    if db.get_bind().dialect.name != "postgresql":
        return True
    key = int.from_bytes(hashlib.sha256(job.encode()).digest()[:8], "big", signed=True)
    return bool(await db.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": key}))


T = TypeVar("T")


def on_connection(url: str, work: Callable[[Connection], T]) -> T:
    """Run `work` on a (sync) connection of a new engine for `url`, outside any event loop
    (commands: migrations, backups)."""

    async def run() -> T:
        engine = make_engine(url)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(work)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session and one commit per request; any error rolls everything back."""
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with sessionmaker() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


# scope="function": the commit runs when the route returns, before the response is sent.
# With the default ("request") FastAPI would send the response first and commit after it, so
# a client could be told 201 for a write whose commit then fails, or race its next request
# against the commit (a mailbox reply arriving before its login's session row is committed).
DbSession = Annotated[AsyncSession, Depends(get_session, scope="function")]
