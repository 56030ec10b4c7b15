"""Migrations with data, walked generically over the whole chain (new migrations included
without touching this file): for each step PREV -> REV, a database at PREV gets rows in
every table (values made from the column types; enums from the models), is upgraded to
REV (every row and value still there), downgraded to PREV (the same again), upgraded to
head, and every row of every model is read through the ORM. Plus: `wbs db upgrade`
refuses a database at a revision this code does not know."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Enum,
    MetaData,
    Table,
    TypeDecorator,
    create_engine,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from tests.client.server import Served
from tests.conftest import _require_pg
from wbs.migrate import downgrade, scripts, upgrade
from wbs.models import load_all_models

ROWS = 2


def _steps() -> list[tuple[str, str]]:
    """(previous, revision) for every migration after the first, base to head."""
    ordered = list(reversed(list(scripts().walk_revisions())))
    steps = []
    for script in ordered:
        down = script.down_revision
        if isinstance(down, str):
            steps.append((down, script.revision))
    return steps


STEPS = _steps()
ORDER = [STEPS[0][0], *(b for _, b in STEPS)]

# Migrations that rewrite data by design (each has its own data test): per table, the
# columns recomputed (None: the table is dropped or rebuilt whole). Rows still may not go.
REWRITES: dict[str, dict[str, frozenset[str] | None]] = {
    # v1 hash chains become Merkle logs: tests/foundation/test_audit_migration.py
    "audit_0002": {
        "audit_events": frozenset({"seq", "hash", "prev_hash"}),
        "audit_heads": None,
        "audit_checkpoints": None,
    },
}


def _rewritten(start: str, end: str) -> dict[str, frozenset[str] | None]:
    """What the migrations after `start` up to `end` rewrite."""
    lo, hi = ORDER.index(start), ORDER.index(end)
    out: dict[str, frozenset[str] | None] = {}
    for revision in ORDER[lo + 1 : hi + 1]:
        out.update(REWRITES.get(revision, {}))
    return out


def _new_database(backend: str, tmp_path: Path, pg_cluster) -> tuple[str, str]:
    """(async URL for wbs.migrate, sync URL for this test)."""
    if backend == "sqlite":
        path = tmp_path / f"m-{uuid.uuid4().hex[:8]}.sqlite3"
        return f"sqlite+aiosqlite:///{path}", f"sqlite:///{path}"
    cluster = _require_pg(pg_cluster)
    name = f"wbs_m_{uuid.uuid4().hex[:10]}"
    cluster.psql(f"CREATE DATABASE {name}")
    url = cluster.url(name)
    return url, url


def _head_types() -> dict[tuple[str, str], Any]:
    metadata = load_all_models().metadata
    return {(t.name, c.name): c.type for t in metadata.tables.values() for c in t.columns}


def _value(table: str, column, i: int, dialect: str, head: dict[tuple[str, str], Any]) -> Any:
    """A valid, row-distinct value for a column (by the model's type when it has one)."""
    kind = head.get((table, column.name), column.type)
    while isinstance(kind, TypeDecorator):  # UtcDateTime and the like: their storage type
        kind = kind.impl_instance
    if isinstance(kind, Enum):
        return kind.enums[i % len(kind.enums)]
    if isinstance(kind, JSON):
        return {"n": i}
    try:
        python = kind.python_type
    except NotImplementedError:
        python = str
    if python is bool:
        return i % 2 == 0
    if python is int:
        return 100 + i
    if python in (float, Decimal):
        return python(i) + python("0.5")
    if python is datetime:
        at = datetime(2025, 1, 1, 9, 0, tzinfo=UTC) + timedelta(hours=i)
        return at.replace(tzinfo=None) if dialect == "sqlite" else at
    if python is date:
        return date(2025, 1, 1) + timedelta(days=i)
    if python is bytes:
        return bytes([i % 256]) * 8
    if python is uuid.UUID:
        return uuid.UUID(int=i + 1)
    if python in (dict, list):
        return python()
    length = getattr(kind, "length", None) or 64
    return f"{column.name[:8]}{i}".ljust(min(length, 16), "x")[:length]


def _populate(conn: Connection, head: dict[tuple[str, str], Any]) -> None:
    metadata = MetaData()
    metadata.reflect(conn)
    made: dict[str, list[dict[str, Any]]] = {}
    for table in metadata.sorted_tables:
        if table.name == "alembic_version":
            continue
        rows = []
        for i in range(ROWS):
            row: dict[str, Any] = {}
            for column in table.columns:
                fk = next(iter(column.foreign_keys), None)
                if fk is not None:
                    parent = made.get(fk.column.table.name)
                    if parent:
                        row[column.name] = parent[i % len(parent)][fk.column.name]
                    elif column.nullable:
                        row[column.name] = None
                    else:
                        raise AssertionError(f"{table.name}.{column.name}: no parent row")
                elif column.primary_key and column.type.python_type is int:
                    row[column.name] = i + 1
                else:
                    row[column.name] = _value(table.name, column, i, conn.dialect.name, head)
            rows.append(row)
        conn.execute(table.insert(), rows)
        made[table.name] = rows


def _snapshot(conn: Connection) -> dict[str, set[tuple[tuple[str, str], ...]]]:
    """Every table's rows as sets of (column, value) pairs (values compared as text)."""
    out = {}
    for name in inspect(conn).get_table_names():
        if name == "alembic_version":
            continue
        table = Table(name, MetaData(), autoload_with=conn)
        out[name] = {
            tuple(sorted((k, _text(v)) for k, v in row._mapping.items()))
            for row in conn.execute(select(table))
        }
    return out


def _text(value: Any) -> str:
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return str(value)


def _kept(
    before: dict[str, set],
    after: dict[str, set],
    where: str,
    rewritten: dict[str, frozenset[str] | None] | None = None,
) -> None:
    """Every row of `before` is in `after`, with every column that is still there (but for
    what a migration on the way rewrites by design)."""
    rewritten = rewritten or {}
    for name, rows in before.items():
        if name in rewritten and rewritten[name] is None:
            continue
        assert name in after, f"{where}: table {name} is gone"
        assert len(after[name]) >= len(rows), f"{where}: rows of {name} lost"
        if not rows or not after[name]:
            continue
        columns = {k for k, _ in next(iter(after[name]))} - (rewritten.get(name) or set())
        narrowed = {tuple(p for p in row if p[0] in columns) for row in rows}
        columns &= {k for k, _ in next(iter(rows))}
        now = {tuple(p for p in row if p[0] in columns) for row in after[name]}
        missing = narrowed - now
        assert not missing, f"{where}: {name} rows changed: {sorted(missing)[:2]}"


def _read_every_model(engine: Engine) -> int:
    base = load_all_models()
    read = 0
    with Session(engine) as session:
        for mapper in base.registry.mappers:
            for obj in session.scalars(select(mapper.class_)):
                for attr in mapper.column_attrs:
                    getattr(obj, attr.key)
                read += 1
    return read


@pytest.mark.parametrize("step", STEPS, ids=[f"{a}-to-{b}" for a, b in STEPS])
def test_step_keeps_every_row(step, backend, pg_cluster, tmp_path):
    previous, revision = step
    url, sync_url = _new_database(backend, tmp_path, pg_cluster)
    upgrade(url, previous)
    engine = create_engine(sync_url)
    try:
        head = _head_types()
        with engine.begin() as conn:
            _populate(conn, head)
        with engine.connect() as conn:
            before = _snapshot(conn)
        assert sum(len(r) for r in before.values()) >= ROWS
        engine.dispose()

        upgrade(url, revision)
        with engine.connect() as conn:
            _kept(
                before,
                _snapshot(conn),
                f"upgrade {previous} -> {revision}",
                _rewritten(previous, revision),
            )
        engine.dispose()

        downgrade(url, previous)
        with engine.connect() as conn:
            restored = _snapshot(conn)
        assert restored.keys() == before.keys()
        _kept(
            before, restored, f"downgrade {revision} -> {previous}", _rewritten(previous, revision)
        )
        engine.dispose()

        upgrade(url, "head")
        with engine.connect() as conn:
            _kept(before, _snapshot(conn), f"{previous} -> head", _rewritten(previous, ORDER[-1]))
            count = conn.execute(text("SELECT count(*) FROM alembic_version")).scalar()
            assert count == 1
        dropped = {n for n, c in _rewritten(previous, ORDER[-1]).items() if c is None}
        kept_rows = sum(len(r) for n, r in before.items() if n not in dropped)
        assert _read_every_model(engine) >= kept_rows
    finally:
        engine.dispose()


def test_upgrade_refuses_a_newer_schema(tmp_path, fresh_db_url, backend):
    engine = create_engine(fresh_db_url.replace("+aiosqlite", ""))
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'zz_from_the_future'"))
        tables = len(inspect(conn).get_table_names())
    engine.dispose()
    served = Served(tmp_path, fresh_db_url)
    refused = served.wbs("db", "upgrade")
    assert refused.returncode == 1
    assert "zz_from_the_future" in refused.stderr and "newer schema" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert served.wbs("db", "downgrade", "base").returncode == 1
    serve = served.wbs("serve", "--port", "1")
    assert serve.returncode == 2 and "newer schema" in serve.stderr
    engine = create_engine(fresh_db_url.replace("+aiosqlite", ""))
    with engine.connect() as conn:  # nothing was touched
        assert len(inspect(conn).get_table_names()) == tables
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        assert version == "zz_from_the_future"
        assert (
            conn.execute(
                select(func.count()).select_from(Table("units", MetaData(), autoload_with=conn))
            ).scalar()
            == 0
        )
    engine.dispose()
