"""`wbs retention run [--dry-run]` and `wbs retention set` (registered in wbs.cli)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from wbs.core.blobs import open_store
from wbs.core.commands import run_in_session, settings_or_exit
from wbs.core.db import make_engine, make_sessionmaker
from wbs.core.settings import Settings
from wbs.retention import service
from wbs.units.models import CaseType

app = typer.Typer(help="Retention of closed cases / retensi kasus selesai", no_args_is_help=True)


@app.command("run")
def run(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what is due (one batch); change nothing")
    ] = False,
) -> None:
    """Destroy the identities and purge the closed cases past their retention, in batches
    (WBS_RETENTION_BATCH) until none is due; the worker does the same each round."""
    settings = settings_or_exit()
    now = datetime.now(UTC)

    async def go() -> service.RetentionRun:
        engine = make_engine(settings.resolved_database_url)
        try:
            sessions = make_sessionmaker(engine)
            if dry_run:
                async with sessions() as db:
                    return await service.preview(db, settings, now)
            total, store = service.RetentionRun(), open_store(settings, "blobs")
            while True:
                done = await service.run_round(settings, sessions, store, now)
                total.identities += done.identities
                total.purged += done.purged
                total.blobs_removed += done.blobs_removed
                total.skipped = done.skipped
                if done.skipped or not (done.identities or done.purged):
                    return total
        finally:
            await engine.dispose()

    done = asyncio.run(go())
    verb = "due" if dry_run else "done"
    typer.echo(f"identities destroyed ({verb}): {len(done.identities)} {' '.join(done.identities)}")
    typer.echo(f"cases purged ({verb}): {len(done.purged)} {' '.join(done.purged)}")
    if not dry_run:
        typer.echo(f"stored files removed: {done.blobs_removed}")
    if done.skipped:
        typer.echo("another worker is running retention now; run again later", err=True)
        raise typer.Exit(1)


@app.command("set")
def set_years(
    unit: Annotated[str, typer.Argument(help="Unit code")],
    channel: Annotated[CaseType, typer.Argument(help="Channel (case type)")],
    years: Annotated[
        int | None, typer.Option("--years", help="Content, years after closing; omit: default")
    ] = None,
    identity_years: Annotated[
        int | None, typer.Option("--identity-years", help="Identity; omit: default")
    ] = None,
) -> None:
    """Set a channel's own retention (audited); without options it follows the defaults."""

    async def work(db: AsyncSession, _settings: Settings) -> None:
        await service.set_channel_years(db, unit, channel, years, identity_years, actor="cli")

    run_in_session(work)
    typer.echo(f"{unit.upper()} {channel.value}: years={years} identity_years={identity_years}")
