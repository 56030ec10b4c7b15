"""The `wbs` command."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from wbs.calendar import cli as calendar_cli
from wbs.client import cli as client_cli
from wbs.core.commands import run_in_session, settings_or_exit
from wbs.core.db import make_engine, make_sessionmaker
from wbs.core.errors import DomainError
from wbs.core.settings import Settings, SettingsError
from wbs.exports import cli as export_cli
from wbs.indicators import cli as indicators_cli
from wbs.ops import cli as ops_cli
from wbs.retention import cli as retention_cli
from wbs.staff.models import Role, Staff
from wbs.zi import cli as zi_cli

if TYPE_CHECKING:
    from wbs.staff.service import Security

T = TypeVar("T")

app = typer.Typer(
    help="wbs: saluran pelaporan terenkripsi / encrypted reporting channels",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database / basis data", no_args_is_help=True)
unit_app = typer.Typer(help="Units and their channels / unit dan kanal", no_args_is_help=True)
staff_app = typer.Typer(help="Staff accounts / akun petugas", no_args_is_help=True)
audit_app = typer.Typer(help="Audit log / log audit", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(unit_app, name="unit")
app.add_typer(staff_app, name="staff")
app.add_typer(audit_app, name="audit")
app.add_typer(zi_cli.app, name="zi", help="Zona Integritas (LKE)")
app.add_typer(client_cli.app, name="client")
app.add_typer(calendar_cli.app, name="calendar")
app.add_typer(export_cli.app, name="export")
app.add_typer(indicators_cli.app, name="indicators")
app.command("backup")(ops_cli.backup)
app.command("restore")(ops_cli.restore)
app.add_typer(ops_cli.blobs_app, name="blobs")
app.add_typer(retention_cli.app, name="retention")


_settings = settings_or_exit
_run_in_session = run_in_session


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Listen address (default from settings)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default from settings)")] = None,
    workers: Annotated[
        int | None,
        typer.Option(help="Worker processes (default: the cores on PostgreSQL, 1 on SQLite)"),
    ] = None,
    stock_http: Annotated[
        bool, typer.Option(help="asyncio loop and h11 instead of uvloop and httptools")
    ] = False,
) -> None:
    """Serve the web application (no IP addresses in the access log)."""
    import uvicorn

    from wbs.core.logging import log_config
    from wbs.core.tempdir import use_private_tempdir
    from wbs.migrate import schema_problem

    settings = _settings()
    try:
        settings.prepare_data_dir()
    except SettingsError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    problem = schema_problem(settings.resolved_database_url)
    if problem is not None:  # a removed data directory takes the SQLite database with it
        typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(2)
    from wbs.workflow.definition import WorkflowError
    from wbs.workflow.registry import load_all

    try:
        load_all(settings.workflows_dir)
    except (WorkflowError, OSError) as exc:
        typer.echo(f"error: alur kerja tidak valid / invalid workflow: {exc}", err=True)
        raise typer.Exit(2) from None
    from wbs.core.serving import default_workers, port_in_use, server_options
    from wbs.ops.metrics import DIRECTORY_ENV, instance_directory, reset_instance

    use_private_tempdir(settings.data_dir)
    port = port or settings.port
    host = host or settings.host
    if port_in_use(host, port):
        typer.echo(
            f"error: alamat {host}:{port} sudah dipakai / address {host}:{port} is in use",
            err=True,
        )
        raise typer.Exit(2)
    # Workers inherit the environment: each writes its request counts there (see /metrics).
    metrics_dir = reset_instance(instance_directory(settings.data_dir, port))
    os.environ[DIRECTORY_ENV] = str(metrics_dir)
    uvicorn.run(
        "wbs.app:create_app",
        factory=True,
        **server_options(stock=stock_http),
        host=host,
        port=port,
        workers=workers or default_workers(settings.resolved_database_url),
        access_log=False,
        proxy_headers=False,
        server_header=False,
        log_level="info",
        log_config=log_config(settings.data_dir, settings.log_format),
    )


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply migrations up to REVISION (default: head)."""
    from wbs.migrate import NewerSchema, upgrade

    settings = _settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        upgrade(settings.resolved_database_url, revision)
    except NewerSchema as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"database at {revision}")


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument()]) -> None:
    """Revert migrations down to REVISION (for example `base`)."""
    from wbs.migrate import NewerSchema, downgrade

    try:
        downgrade(_settings().resolved_database_url, revision)
    except NewerSchema as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"database at {revision}")


@unit_app.command("create")
def unit_create(
    code: Annotated[str, typer.Argument(help="Unit code, e.g. KPPN-KLATEN")],
    name: Annotated[str, typer.Option("--name", help="Unit name")],
    parent: Annotated[str | None, typer.Option("--parent", help="Parent unit code")] = None,
) -> None:
    """Create a unit with its four channels."""
    from wbs.units.service import create_unit

    async def work(db: AsyncSession, _s: Settings) -> str:
        unit = await create_unit(db, code=code, name=name, parent_code=parent, actor="cli")
        return unit.code

    typer.echo(f"unit {_run_in_session(work)} created with 4 channels")


def _read_password_stdin(password_stdin: bool) -> str:
    """The passphrase from the first line of stdin, within the length policy; exit 2 if not."""
    from wbs.staff.passwords import check_length

    if not password_stdin:
        typer.echo("error: give the passphrase with --password-stdin", err=True)
        raise typer.Exit(2)
    data = sys.stdin.readline().rstrip("\r\n")
    if not data:
        typer.echo("error: no password on standard input", err=True)
        raise typer.Exit(2)
    try:
        check_length(data)
    except DomainError as exc:
        typer.echo(f"error: {exc.text_id} / {exc.text_en}", err=True)
        raise typer.Exit(2) from None
    return data


@staff_app.command("create")
def staff_create(
    email: Annotated[str, typer.Argument()],
    unit: Annotated[str, typer.Option("--unit", help="Unit code")],
    role: Annotated[list[str], typer.Option("--role", help="Role (repeatable)")],
    name: Annotated[str, typer.Option("--name")] = "",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the passphrase from standard input")
    ] = False,
    totp: Annotated[
        bool, typer.Option("--totp/--no-totp", help="Enrol TOTP now (always in production)")
    ] = False,
) -> None:
    """Create a staff account; prints the TOTP enrolment URI when TOTP is enrolled."""
    try:
        roles = [Role(r) for r in role]
    except ValueError:
        typer.echo(f"error: roles must be among {', '.join(r.value for r in Role)}", err=True)
        raise typer.Exit(2) from None
    passphrase = _read_password_stdin(password_stdin)

    async def work(db: AsyncSession, settings: Settings) -> str | None:
        _staff, seed = await _create_staff(
            db,
            settings,
            email=email,
            name=name,
            unit=unit,
            roles=roles,
            passphrase=passphrase,
            with_totp=totp or settings.is_production,
        )
        return seed

    seed = _run_in_session(work)
    typer.echo(f"staff {email.strip().lower()} created")
    typer.echo(
        "Petugas mengganti kata sandi ini saat pertama masuk, di /staff/key. / "
        "The officer changes this passphrase at first sign-in, on /staff/key."
    )
    if seed:
        from wbs.staff.totp import provisioning_uri

        typer.echo(f"TOTP: {provisioning_uri(seed, email.strip().lower())}")


def _security(settings: Settings) -> Security:
    from wbs.staff import service

    return service.Security.from_settings(settings)


async def _create_staff(
    db: AsyncSession,
    settings: Settings,
    *,
    email: str,
    name: str,
    unit: str,
    roles: list[Role],
    passphrase: str,
    with_totp: bool,
) -> tuple[Staff, str | None]:
    from wbs.staff import service
    from wbs.staff.credentials import new_credentials

    login_secret, kdf_params = new_credentials(passphrase)
    return await service.create_staff(
        db,
        _security(settings),
        email=email,
        name=name,
        unit_code=unit,
        roles=roles,
        login_secret=login_secret,
        kdf_params=kdf_params,
        with_totp=with_totp,
        actor="cli",
    )


@staff_app.command("set-password")
def staff_set_password(
    email: Annotated[str, typer.Argument()],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the passphrase from standard input")
    ] = False,
) -> None:
    """Forgotten passphrase: set a temporary one (fresh parameters), end the account's
    sessions, keep its key. The officer signs in with it and, on /staff/key or with
    `wbs client recover`, opens the key with the recovery key and chooses a new passphrase."""
    passphrase = _read_password_stdin(password_stdin)

    async def work(db: AsyncSession, settings: Settings) -> tuple[bool, bool, int]:
        from wbs.staff import service
        from wbs.staff.credentials import new_credentials

        login_secret, kdf_params = new_credentials(passphrase)
        staff, ended = await service.set_password(
            db,
            _security(settings),
            email=email,
            login_secret=login_secret,
            kdf_params=kdf_params,
            actor="cli",
        )
        return staff.public_key is not None, staff.recovery_wrapped_private_key is not None, ended

    has_key, has_recovery, ended = _run_in_session(work)
    typer.echo(f"passphrase of {email.strip().lower()} set; {ended} session(s) ended")
    if has_key and has_recovery:
        typer.echo(
            "Petugas masuk dengan kata sandi ini, lalu memulihkan kuncinya dengan kunci "
            "pemulihan dan memilih kata sandi baru di /staff/key (atau `wbs client recover`). / "
            "The officer signs in with it, then recovers the key with the recovery key and "
            "chooses a new passphrase on /staff/key (or `wbs client recover`)."
        )
    elif has_key:
        typer.echo(
            "PERINGATAN: akun ini tidak memiliki salinan kunci untuk pemulihan; tanpa kata "
            "sandi lama kuncinya tidak dapat dibuka (buat kunci baru dan minta persetujuan). / "
            "WARNING: this account has no recovery copy of its key; without the old "
            "passphrase the key cannot be opened (make a new key and have it approved)."
        )
    else:
        typer.echo(
            "Petugas masuk dengan kata sandi ini lalu menggantinya di /staff/key. / "
            "The officer signs in with it and changes it on /staff/key."
        )


@staff_app.command("deactivate")
def staff_deactivate(email: Annotated[str, typer.Argument()]) -> None:
    """A departed officer: refuse sign-in, end every session, clear the key approval. Sign
    the unit's directory again afterwards so new reports are no longer wrapped to the key."""

    async def work(db: AsyncSession, _settings: Settings) -> int:
        from wbs.staff import service

        return await service.deactivate_by_email(db, email, actor="cli")

    ended = _run_in_session(work)
    typer.echo(f"staff {email.strip().lower()} deactivated; {ended} session(s) ended")
    typer.echo(
        "Tandatangani ulang direktori unit agar laporan baru tidak lagi dienkripsi untuk "
        "kunci petugas ini. / Sign the unit directory again so new reports are no longer "
        "encrypted to this officer's key."
    )


@audit_app.command("verify")
def audit_verify(
    unit: Annotated[str | None, typer.Option("--unit", help="Only this unit's log")] = None,
) -> None:
    """Check every audit log (entries, signed tree heads, consistency); exit 0 with the
    count, or 1 naming the first bad entry or tree head."""
    from wbs.audit.service import ChainReport, verify_unit
    from wbs.units.models import Unit

    async def work(db: AsyncSession, settings: Settings) -> list[ChainReport]:
        stmt = select(Unit).order_by(Unit.code)
        if unit:
            stmt = stmt.where(Unit.code == unit.upper())
        units = list(await db.scalars(stmt))
        if unit and not units:
            raise DomainError(f"Unit {unit} tidak ditemukan.", f"Unit {unit} not found.")
        return [await verify_unit(db, u, settings.secret_bytes()) for u in units]

    reports = _run_in_session(work)
    for report in reports:
        if not report.ok:
            typer.echo(
                f"FAIL unit {report.unit_code}: {report.problem} at {report.where}", err=True
            )
            raise typer.Exit(1)
    total = sum(r.checked for r in reports)
    typer.echo(f"OK {total} entries checked in {len(reports)} log(s)")


@audit_app.command("sequence")
def audit_sequence() -> None:
    """Place pending entries in their units' trees and sign new tree heads now."""
    from wbs.audit.service import BATCH, sequence

    async def work(db: AsyncSession, settings: Settings) -> str:
        total = heads = 0
        while True:
            run = await sequence(db, settings.secret_bytes())
            await db.commit()
            total, heads = total + run.sequenced, heads + run.heads
            if run.sequenced < BATCH:
                return f"{total} entries sequenced, {heads} tree head(s) signed"

    typer.echo(_run_in_session(work))


@audit_app.command("prove")
def audit_prove(
    unit: Annotated[str, typer.Option("--unit")],
    first: Annotated[int, typer.Option("--from", help="Size of the earlier signed tree head")],
    second: Annotated[int, typer.Option("--to", help="Size of the later signed tree head")],
) -> None:
    """Print (JSON) two signed tree heads and the consistency proof between them."""
    import json

    from wbs.audit.service import consistency
    from wbs.units.repository import by_code

    async def work(db: AsyncSession, _settings: Settings) -> dict[str, object]:
        found = await by_code(db, unit.upper())
        if found is None:
            raise DomainError(f"Unit {unit} tidak ditemukan.", f"Unit {unit} not found.")
        try:
            return await consistency(db, found, first, second)
        except LookupError as exc:
            raise DomainError(
                "Tidak ada tree head bertanda tangan dengan ukuran itu.", str(exc)
            ) from exc

    typer.echo(json.dumps(_run_in_session(work), indent=2))


@audit_app.command("check-proof")
def audit_check_proof(
    path: Annotated[str, typer.Argument(help="JSON from `wbs audit prove` or an inclusion proof")],
    public_key: Annotated[
        str | None, typer.Option("--public-key", help="Pin the log's Ed25519 key (hex)")
    ] = None,
) -> None:
    """Check a consistency or inclusion proof offline against its signed tree head(s)."""
    import json
    from pathlib import Path

    from crypto import merkle, treehead

    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
        if "first" in doc:
            m, n = treehead.check_consistency(doc, public_key)
            message = f"OK tree size {n} extends tree size {m} of unit {doc['first']['unit']}"
        else:
            fields = treehead.check_inclusion(doc, public_key)
            message = (
                f"OK entry {fields.get('id')} is leaf {doc['leaf_index']} of tree size "
                f"{doc['tree_head']['tree_size']} of unit {fields.get('unit')}"
            )
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        detail = str(exc) if isinstance(exc, merkle.ProofError) else type(exc).__name__
        typer.echo(f"FAIL {detail}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(message)
    if public_key is None:
        key = (doc.get("first") or doc.get("tree_head") or {}).get("public_key")
        typer.echo(f"signed by key {key} (pin it with --public-key)")


@app.command("worker")
def worker(
    once: Annotated[bool, typer.Option("--once", help="one round, then exit")] = False,
) -> None:
    """Run timers, daily digests, mail delivery and exports (several workers are safe)."""
    import logging.config

    from wbs.core.logging import log_config
    from wbs.worker import run_forever, run_once
    from wbs.workflow.registry import load_all

    settings = _settings()
    workflows = load_all()
    logging.config.dictConfig(log_config(settings.data_dir, settings.log_format, to_file=False))

    async def runner() -> None:
        engine = make_engine(settings.resolved_database_url)
        sessions = make_sessionmaker(engine)
        try:
            if once:
                done = await run_once(settings, sessions, workflows)
                typer.echo(
                    f"timers expired {done.timers.expired}, escalated "
                    f"{done.timers.escalated}, closed {done.timers.closed}, reminded "
                    f"{done.timers.reminded}; digests {done.digests}; mail sent "
                    f"{done.delivery.sent}, failed {done.delivery.failed}; exports "
                    f"{done.exports}"
                )
                return
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, stop.set)
            await run_forever(settings, sessions, workflows, stop, settings.worker_interval_seconds)
        finally:
            await engine.dispose()

    asyncio.run(runner())


@app.command("demo")
def demo() -> None:
    """First run in development: the unit DEMO ready to receive reports, an admin and one
    officer per role with device keys made here and a signed directory (printed once)."""
    from wbs import demo as demo_data

    settings = _settings()
    if settings.is_production:
        typer.echo("error: demo data is for development only", err=True)
        raise typer.Exit(2)

    async def work(db: AsyncSession, s: Settings) -> list[demo_data.DemoAccount]:
        if await db.scalar(select(Staff.id).limit(1)) is not None:
            return []
        return await demo_data.create(db, _security(s))

    accounts = _run_in_session(work)
    if not accounts:
        typer.echo("demo data already present")
        return
    base = settings.base_url or f"http://{settings.host}:{settings.port}"
    typer.echo("=" * 72)
    typer.echo("Akun demo (hanya untuk pengembangan; ditampilkan sekali) /")
    typer.echo("Demo accounts (development only; shown once):")
    for account in accounts:
        typer.echo(f"  {account.email:<30} {'+'.join(account.roles):<22} {account.passphrase}")
    typer.echo("Kunci perangkat petugas demo dibuat oleh perintah ini di mesin ini, bukan di")
    typer.echo("perangkat petugas: jangan pakai untuk data sungguhan. / The demo officers' device")
    typer.echo("keys were made by this command on this machine: never use them for real data.")
    typer.echo(f"Lapor / report:        {base}/lapor/{demo_data.UNIT}")
    typer.echo(f"Petugas / officers:    {base}/staff/login")
    typer.echo("=" * 72)


def main() -> None:  # pragma: no cover
    app()
