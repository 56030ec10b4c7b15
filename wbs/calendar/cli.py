"""`wbs calendar`: due dates on the Indonesian working-day calendar, unit closures."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from wbs.calendar import service
from wbs.calendar.workdays import MAX_DAYS, CalendarError, DayCount, WorkCalendar, holiday_names
from wbs.core.commands import run_in_session
from wbs.core.errors import NotFound
from wbs.core.settings import Settings
from wbs.units import repository as units
from wbs.units.models import Unit

T = TypeVar("T")

app = typer.Typer(help="Kalender hari kerja / working-day calendar", no_args_is_help=True)
closure_app = typer.Typer(help="Hari tutup unit / unit closures", no_args_is_help=True)
app.add_typer(closure_app, name="closure")

UnitArg = Annotated[str, typer.Argument(help="Unit code")]


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip()[:10])
    except ValueError:
        raise typer.BadParameter(
            f"tanggal tidak valid / not a date (YYYY-MM-DD): {text[:20]!r}"
        ) from None


def _with_db(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async def in_session(db: AsyncSession, _settings: Settings) -> T:
        return await work(db)

    return run_in_session(in_session)


async def _unit(db: AsyncSession, code: str) -> Unit:
    unit = await units.by_code(db, code.strip().upper())
    if unit is None:
        raise NotFound(f"Unit {code} tidak ditemukan.", f"Unit {code} not found.")
    return unit


@app.command("due")
def due(
    start: Annotated[str, typer.Argument(help="start date, YYYY-MM-DD")],
    days: Annotated[int, typer.Argument(min=0, max=MAX_DAYS, help="number of days")],
    unit: Annotated[str | None, typer.Option("--unit", help="use this unit's calendar")] = None,
    no_cuti_bersama: Annotated[
        bool, typer.Option("--no-cuti-bersama", help="count cuti bersama as working days")
    ] = False,
    calendar_days: Annotated[
        bool, typer.Option("--calendar-days", help="count calendar days, not working days")
    ] = False,
) -> None:
    """Print the due date (ISO) of a deadline of DAYS counted from START."""
    first = _date(start)
    if unit is not None:

        async def load(db: AsyncSession) -> WorkCalendar:
            return await service.calendar_for(db, await _unit(db, unit))

        calendar = _with_db(load)
    else:
        calendar = WorkCalendar()
    if no_cuti_bersama:
        calendar = WorkCalendar(cuti_bersama_libur=False, closures=calendar.closures)
    try:
        typer.echo(
            calendar.add(first, days, DayCount.CALENDAR if calendar_days else DayCount.WORKING)
        )
    except CalendarError as exc:
        typer.echo(f"galat / error: {exc}", err=True)
        raise typer.Exit(1) from None


@app.command("holidays")
def list_holidays(
    year: Annotated[int, typer.Argument(min=2004, max=2100)],
    lang: Annotated[str, typer.Option("--lang")] = "id",
) -> None:
    """List national holidays and cuti bersama of a year."""
    for day, name in holiday_names(year, lang=lang).items():
        typer.echo(f"{day.isoformat()}  {name}")


@app.command("cuti-bersama")
def cuti_bersama(
    unit: UnitArg,
    libur: Annotated[
        bool,
        typer.Option("--libur/--kerja", help="cuti bersama is leave (default) or a working day"),
    ],
) -> None:
    """Set whether the unit counts cuti bersama as leave."""

    async def work(db: AsyncSession) -> None:
        await service.set_cuti_bersama(
            db, await _unit(db, unit), libur=libur, actor_id=None, actor="cli"
        )

    _with_db(work)
    typer.echo(f"{unit}: cuti bersama {'libur' if libur else 'hari kerja'}")


@closure_app.command("add")
def closure_add(
    unit: UnitArg,
    day: Annotated[str, typer.Argument(help="YYYY-MM-DD")],
    reason: Annotated[str, typer.Option("--reason", help="shown to officers")],
) -> None:
    """Close the unit on a day (counted as a non-working day)."""
    when = _date(day)

    async def work(db: AsyncSession) -> None:
        await service.add_closure(
            db, await _unit(db, unit), when, reason, actor_id=None, actor="cli"
        )

    _with_db(work)
    typer.echo(f"{unit}: tutup / closed {when.isoformat()}")


@closure_app.command("remove")
def closure_remove(unit: UnitArg, day: Annotated[str, typer.Argument(help="YYYY-MM-DD")]) -> None:
    """Remove a closure day."""
    when = _date(day)

    async def work(db: AsyncSession) -> None:
        await service.remove_closure(db, await _unit(db, unit), when, actor_id=None, actor="cli")

    _with_db(work)
    typer.echo(f"{unit}: {when.isoformat()} dihapus / removed")


@closure_app.command("list")
def closure_list(unit: UnitArg) -> None:
    """List the unit's closure days."""

    async def work(db: AsyncSession) -> list[tuple[date, str]]:
        from wbs.calendar import repository

        rows = await repository.closures(db, (await _unit(db, unit)).id)
        return [(r.day, r.reason) for r in rows]

    for day, reason in _with_db(work):
        typer.echo(f"{day.isoformat()}  {reason}")
