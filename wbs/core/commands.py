"""What every `wbs` subcommand shares: settings and one transaction per command."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from wbs.core.db import make_engine, make_sessionmaker
from wbs.core.errors import DomainError
from wbs.core.settings import Settings, SettingsError, load_settings

T = TypeVar("T")


def settings_or_exit() -> Settings:
    """The settings, or exit 2 with the reason."""
    try:
        return load_settings()
    except SettingsError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


def run_in_session(work: Callable[[AsyncSession, Settings], Awaitable[T]]) -> T:
    """Run one unit of work in a transaction; domain errors exit 1 with their message."""
    settings = settings_or_exit()

    async def runner() -> T:
        engine = make_engine(settings.resolved_database_url)
        try:
            async with make_sessionmaker(engine)() as session:
                result = await work(session, settings)
                await session.commit()
                return result
        finally:
            await engine.dispose()

    try:
        return asyncio.run(runner())
    except DomainError as exc:
        typer.echo(f"error: {exc.text_id} / {exc.text_en}", err=True)
        raise typer.Exit(1) from None
