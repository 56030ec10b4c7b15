"""Migrations: `alembic upgrade head` equals the models; downgrade to base and back works."""

from __future__ import annotations

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from wbs.core.db import make_engine
from wbs.migrate import downgrade, upgrade
from wbs.models import load_all_models


async def _diff_and_tables(url: str) -> tuple[list[object], set[str]]:
    metadata = load_all_models().metadata
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:

            def work(sync_conn):  # type: ignore[no-untyped-def]
                ctx = MigrationContext.configure(sync_conn, opts={"compare_type": True})
                return compare_metadata(ctx, metadata), set(inspect(sync_conn).get_table_names())

            return await conn.run_sync(work)
    finally:
        await engine.dispose()


async def test_models_equal_upgrade_head(fresh_db_url):
    diff, tables = await _diff_and_tables(fresh_db_url)
    assert diff == [], f"models and migrations differ: {diff}"
    assert {"units", "channels", "staff", "audit_events", "outbox"} <= tables


async def test_downgrade_to_base_and_upgrade_again(fresh_db_url):
    await asyncio.to_thread(downgrade, fresh_db_url, "base")
    _diff, tables = await _diff_and_tables(fresh_db_url)
    assert tables <= {"alembic_version"}, f"tables left after downgrade: {tables}"
    await asyncio.to_thread(upgrade, fresh_db_url)
    diff, _tables = await _diff_and_tables(fresh_db_url)
    assert diff == []


def test_single_head():
    from alembic.script import ScriptDirectory

    from wbs.migrate import alembic_config

    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    assert len(heads) == 1, f"several migration heads: {heads}"
