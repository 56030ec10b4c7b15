"""`wbs backup DIR`, `wbs backup verify DIR`, `wbs restore DIR` and `wbs blobs gc`
(registered in wbs.cli)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from wbs.core.commands import run_in_session, settings_or_exit
from wbs.core.settings import Settings
from wbs.ops import backup as backups
from wbs.ops import blobgc
from wbs.ops.stores import file_stores

blobs_app = typer.Typer(help="Stored files / berkas tersimpan", no_args_is_help=True)


def _say(summary: backups.Summary, what: str) -> None:
    typer.echo(
        f"{what} {summary.path}: {summary.backend} database at "
        f"{', '.join(summary.revisions) or 'no revision'}, {summary.stored_files} stored "
        f"file(s), {summary.files} file(s), {summary.bytes} bytes"
    )


def backup(
    words: Annotated[
        list[str], typer.Argument(metavar="[verify] DIR", help="DIR, or `verify DIR`")
    ],
    hardlink: Annotated[
        bool,
        typer.Option(
            "--hardlink", help="Link stored files instead of copying (same file system only)"
        ),
    ] = False,
) -> None:
    """Back up the database and every stored file into DIR (new or empty) with a manifest
    of SHA-256 hashes; `wbs backup verify DIR` checks one. Exit 1 naming the problem."""
    settings = settings_or_exit()
    try:
        if len(words) == 2 and words[0] == "verify":
            summary, _manifest = backups.verify(settings, Path(words[1]))
            _say(summary, "OK")
            return
        if len(words) != 1:
            typer.echo("usage: wbs backup DIR | wbs backup verify DIR", err=True)
            raise typer.Exit(2)
        _say(backups.backup(settings, Path(words[0]), hardlink=hardlink), "backup written to")
    except backups.BackupError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


def restore(directory: Annotated[Path, typer.Argument(metavar="DIR")]) -> None:
    """Restore a backup into an empty deployment (database without tables, no stored
    files), after checking every hash. Then: `wbs db upgrade`, `wbs audit verify`."""
    settings = settings_or_exit()
    try:
        summary = backups.restore(settings, directory)
    except backups.BackupError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    _say(summary, "restored from")
    typer.echo(
        "Selanjutnya: `wbs db upgrade` lalu `wbs audit verify`. / "
        "Next: `wbs db upgrade`, then `wbs audit verify`."
    )


@blobs_app.command("gc")
def blobs_gc(
    grace: Annotated[
        int | None,
        typer.Option("--grace", help="Seconds (default WBS_BLOB_GC_GRACE_SECONDS)", min=0),
    ] = None,
) -> None:
    """Remove stored files that no row references and that are older than the grace."""

    async def work(db: AsyncSession, settings: Settings) -> dict[str, list[str]]:
        seconds = settings.blob_gc_grace_seconds if grace is None else grace
        return await blobgc.collect(db, file_stores(settings), seconds)

    for store, names in run_in_session(work).items():
        typer.echo(f"{store}: {len(names)} removed")
