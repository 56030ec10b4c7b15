"""Run Alembic migrations from code (CLI, app start-up in development, tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

ALEMBIC_INI = Path(__file__).resolve().parent / "alembic.ini"


def alembic_config(database_url: str) -> Config:
    config = Config(str(ALEMBIC_INI))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def schema_problem(database_url: str) -> str | None:
    """Why the database cannot be served (not migrated, or behind the code), or None."""
    import asyncio

    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy.engine import Connection

    from wbs.core.db import make_engine

    wanted = set(ScriptDirectory.from_config(alembic_config(database_url)).get_heads())

    def heads(connection: Connection) -> set[str]:
        return set(MigrationContext.configure(connection).get_current_heads())

    async def current() -> set[str]:
        engine = make_engine(database_url)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(heads)
        finally:
            await engine.dispose()

    try:
        found = asyncio.run(current())
    except Exception as exc:
        return f"basis data tidak dapat dibuka / the database cannot be opened ({exc})"
    if found != wanted:
        return (
            f"basis data pada revisi {sorted(found) or 'kosong'}, kode memerlukan "
            f"{sorted(wanted)}; jalankan `wbs db upgrade` / the database is at "
            f"{sorted(found) or 'no revision (empty)'}, the code needs {sorted(wanted)}; "
            "run `wbs db upgrade`"
        )
    return None
