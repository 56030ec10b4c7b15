"""`wbs export`: make a unit's signed indicator export, check one, show a unit's key."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Annotated

import click
import typer
from sqlalchemy.ext.asyncio import AsyncSession

from crypto.encoding import b64u_decode
from crypto.errors import FormatError
from wbs.core.commands import run_in_session
from wbs.core.errors import NotFound, ValidationFailed
from wbs.core.settings import Settings
from wbs.core.text import Text
from wbs.exports import package, service
from wbs.exports.formats import Figures
from wbs.units.repository import by_code

app = typer.Typer(help="Signed indicator exports / ekspor indikator bertanda tangan")

KEY_RESPONSE_BYTES = 64 * 1024


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


@app.command("indicators")
def indicators(
    unit: Annotated[str, typer.Option("--unit", help="Unit code")],
    period: Annotated[str, typer.Option("--period", help="2026, 2026-Q1 or 2026-03")],
    fmt: Annotated[str, typer.Option("--format", help="xlsx, csv, pdf or json")] = "xlsx",
    public: Annotated[
        bool, typer.Option("--public", help="Suppress small counts (fit for publication)")
    ] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Package file (.zip)")] = None,
) -> None:
    """Compute the unit's indicators and write the signed package (progress on stderr)."""
    try:
        service.check_request(fmt, period)
    except ValidationFailed as exc:
        raise _fail(f"{exc.text_id} / {exc.text_en}") from None

    async def work(db: AsyncSession, settings: Settings) -> tuple[Figures, bytes]:
        found = await by_code(db, unit.strip().upper())
        if found is None:
            raise NotFound(f"Unit {unit} tidak ditemukan.", f"Unit {unit} not found.")
        source = service.indicator_source(settings)  # wbs.indicators, imported here
        figures = await service.figures_of(db, found, period, public, source)
        return figures, settings.secret_bytes()

    with click.progressbar(length=100, label="ekspor / export", file=sys.stderr) as bar:
        figures, master = run_in_session(work)
        bar.update(30)
        done = [30]

        def step(percent: int) -> None:
            target = 30 + percent * 2 // 3
            bar.update(target - done[0])
            done[0] = target

        key = package.unit_key(master, figures.unit)
        data = package.build(figures, fmt, key, step)
        target = out or Path(package.package_name(figures.unit, period, fmt, public))
        target.write_bytes(data)
        bar.update(100 - done[0])
    typer.echo(f"{target} ({len(data)} bytes, {len(figures.rows)} values, key {key.fingerprint})")


@app.command("key")
def key(unit: Annotated[str, typer.Option("--unit", help="Unit code")]) -> None:
    """Print the unit's export public key (give it to evaluators with the fingerprint)."""

    async def work(db: AsyncSession, settings: Settings) -> tuple[str, bytes]:
        found = await by_code(db, unit.strip().upper())
        if found is None:
            raise NotFound(f"Unit {unit} tidak ditemukan.", f"Unit {unit} not found.")
        return found.code, settings.secret_bytes()

    code, master = run_in_session(work)
    signing = package.unit_key(master, code)
    typer.echo(f"unit {code}\npublic_key {signing.public_text}\nfingerprint {signing.fingerprint}")
    typer.echo(signing.public_pem, nl=False)


def _parse_key(text: str) -> bytes:
    text = text.strip()
    try:
        raw = bytes.fromhex(text) if re.fullmatch(r"[0-9a-fA-F]{64}", text) else b64u_decode(text)
    except (FormatError, ValueError):
        raw = b""
    if len(raw) != 32:
        raise _fail("--public-key: an Ed25519 public key (base64url or hex, 32 bytes)")
    return raw


def _key_from(url: str, unit: str) -> bytes:
    import httpx

    if not url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
        raise _fail("--unit-key-from: use an https:// address")
    address = f"{url.rstrip('/')}/api/v1/units/{unit}/export-key"
    try:
        with (
            httpx.Client(timeout=15, follow_redirects=False) as client,
            client.stream("GET", address) as response,
        ):
            body = b""
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > KEY_RESPONSE_BYTES:
                    raise _fail(f"{address}: answer too large")
            if response.status_code != 200:
                raise _fail(f"{address}: HTTP {response.status_code}")
        answer = json.loads(body)
    except (httpx.HTTPError, ValueError) as exc:
        raise _fail(f"{address}: {type(exc).__name__}") from None
    if not isinstance(answer, dict) or answer.get("unit") != unit:
        raise _fail(f"{address}: not the key of unit {unit}")
    return _parse_key(str(answer.get("public_key", "")))


def _say(text: Text) -> str:
    return f"{text.id} / {text.en}"


@app.command("verify")
def verify(
    file: Annotated[Path, typer.Argument(help="The export package (.zip)")],
    public_key: Annotated[
        str | None, typer.Option("--public-key", help="The unit's export key (base64url or hex)")
    ] = None,
    unit_key_from: Annotated[
        str | None,
        typer.Option("--unit-key-from", help="wbs server address to fetch the unit's key from"),
    ] = None,
) -> None:
    """Check a package: ZIP structure, manifest signature, every SHA-256, the canonical
    form, and that the CSV or XLSX says what the JSON says. Exit 0 OK, 1 invalid."""
    if public_key and unit_key_from:
        raise _fail("give --public-key or --unit-key-from, not both")
    try:
        size = file.stat().st_size
        if size > package.MAX_PACKAGE_BYTES:
            typer.echo(f"FAIL zip: {_say(Text('paket terlalu besar', 'package too large'))}")
            raise typer.Exit(1)
        data = file.read_bytes()
    except OSError as exc:
        raise _fail(f"{file}: {exc.strerror}") from None
    pinned = _parse_key(public_key) if public_key else None
    if unit_key_from:
        try:
            unit = package.verify(data).unit  # structure and signature first, then the key
        except package.PackageInvalid as exc:
            typer.echo(f"FAIL {exc.entry}: {_say(exc.problem)}", err=True)
            raise typer.Exit(1) from None
        pinned = _key_from(unit_key_from, unit)
    try:
        result = package.verify(data, pinned)
    except package.PackageInvalid as exc:
        typer.echo(f"FAIL {exc.entry}: {_say(exc.problem)}", err=True)
        raise typer.Exit(1) from None
    kind = "public" if result.public else "internal"
    suppression = f", suppressed below {result.suppressed_below}" if result.public else ""
    typer.echo(f"OK {file.name}")
    typer.echo(f"  unit {result.unit} ({result.unit_name}), period {result.period}, {kind}")
    typer.echo(f"  generated {result.generated_at}{suppression}, {result.figures} values")
    typer.echo(f"  signature Ed25519 by key {result.key_id}")
    for checked in result.files:
        typer.echo(f"  {checked.name}: sha256 {checked.sha256}, {checked.size} bytes")
    for name in result.consistent:
        typer.echo(f"  {name}: same values as indikator.json")
    typer.echo("  zip: canonical, nothing outside the signed entries")
    if not result.pinned:
        typer.echo(
            "  PERINGATAN: kunci diambil dari paket itu sendiri; bandingkan sidik jarinya "
            "dengan kunci unit yang diumumkan, atau pakai --public-key / --unit-key-from.\n"
            "  WARNING: the key was taken from the package itself; compare its fingerprint "
            "with the unit's published key, or use --public-key / --unit-key-from."
        )
