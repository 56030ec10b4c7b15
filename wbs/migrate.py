"""Run Alembic migrations from code (CLI, app start-up in development, tests).

`upgrade` and `downgrade` refuse a database whose revision this code does not know (a
newer wbs migrated it): Alembic could neither walk from there nor tell what it would undo.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

ALEMBIC_INI = Path(__file__).resolve().parent / "alembic.ini"


class NewerSchema(RuntimeError):
    """The database is at a revision this code does not have; the message says what to do."""


def alembic_config(database_url: str) -> Config:
    config = Config(str(ALEMBIC_INI))
    config.attributes["database_url"] = database_url
    return config


def scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config("sqlite://"))


def unknown_revisions(revisions: Iterable[str]) -> list[str]:
    """The revisions among `revisions` that no migration of this code has."""
    known = {script.revision for script in scripts().walk_revisions()}
    return sorted(set(revisions) - known)


def database_revisions(database_url: str) -> set[str]:
    """The revisions recorded in the database (empty: not migrated)."""
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy.engine import Connection

    from wbs.core.db import on_connection

    def heads(connection: Connection) -> set[str]:
        return set(MigrationContext.configure(connection).get_current_heads())

    return on_connection(database_url, heads)


def refuse_newer(database_url: str) -> None:
    """NewerSchema when the database is at a revision unknown to this code."""
    unknown = unknown_revisions(database_revisions(database_url))
    if unknown:
        raise NewerSchema(
            f"basis data pada revisi {', '.join(unknown)} yang tidak dikenal versi wbs ini "
            "(skema lebih baru); pasang versi wbs yang membuatnya, jangan menurunkan versi / "
            f"the database is at revision {', '.join(unknown)}, unknown to this wbs (a newer "
            "schema); run the wbs version that made it instead of an older one"
        )


def upgrade(database_url: str, revision: str = "head") -> None:
    refuse_newer(database_url)
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    refuse_newer(database_url)
    command.downgrade(alembic_config(database_url), revision)


def schema_problem(database_url: str) -> str | None:
    """Why the database cannot be served (not migrated, newer or behind the code), or None."""
    wanted = set(scripts().get_heads())
    try:
        found = database_revisions(database_url)
    except Exception as exc:
        return f"basis data tidak dapat dibuka / the database cannot be opened ({exc})"
    if unknown_revisions(found):
        try:
            refuse_newer(database_url)
        except NewerSchema as exc:
            return str(exc)
    if found != wanted:
        return (
            f"basis data pada revisi {sorted(found) or 'kosong'}, kode memerlukan "
            f"{sorted(wanted)}; jalankan `wbs db upgrade` / the database is at "
            f"{sorted(found) or 'no revision (empty)'}, the code needs {sorted(wanted)}; "
            "run `wbs db upgrade`"
        )
    return None
