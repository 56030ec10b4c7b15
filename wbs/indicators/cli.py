"""`wbs indicators`: the pre-aggregated indicators (rebuild them from the cases)."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from wbs.core.commands import run_in_session
from wbs.core.settings import Settings
from wbs.indicators import service

app = typer.Typer(help="Indikator Penguatan Pengawasan / supervision indicators")


@app.command("rebuild")
def rebuild(
    timezone: Annotated[
        str | None, typer.Option("--timezone", help="Time zone of the months (WBS_TIMEZONE)")
    ] = None,
) -> None:
    """Recompute every per-case summary and counter from the cases (after changing
    WBS_TIMEZONE, or to check them): one transaction."""

    async def work(db: AsyncSession, settings: Settings) -> tuple[int, str]:
        tz = timezone or settings.timezone
        return await service.rebuild(db, tz), tz

    count, tz = run_in_session(work)
    typer.echo(f"{count} kasus dihitung ulang ({tz}) / {count} cases recomputed ({tz})")
