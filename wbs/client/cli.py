"""`wbs client ...`: the reference client, printing JSON on standard output."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from wbs.client import e2e, flows
from wbs.client.api import ClientError
from wbs.client.known import STATE_ENV, KnownUnits

app = typer.Typer(
    help="Klien rujukan (enkripsi di perangkat ini) / reference client (encrypts on this device)",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

Url = Annotated[str, typer.Option("--url", help="Server address, e.g. http://127.0.0.1:8000")]
Email = Annotated[str, typer.Option("--email", help="Staff e-mail")]
PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the passphrase from standard input")
]
Receipt = Annotated[
    str | None,
    typer.Option(
        "--receipt",
        help="The receipt shown at submission (visible to other local users in the process "
        "list: prefer --receipt-stdin)",
    ),
]
ReceiptStdin = Annotated[
    bool, typer.Option("--receipt-stdin", help="Read the receipt from standard input")
]
Code = Annotated[
    str | None, typer.Option("--code", help="TOTP code for the sign-in (when enrolled)")
]
ReauthCode = Annotated[
    str | None,
    typer.Option(
        "--reauth-code",
        help="A second, later TOTP code confirming the change (when enrolled)",
    ),
]
TextFile = Annotated[Path, typer.Option("--text-file", exists=True, dir_okay=False)]
State = Annotated[
    Path | None,
    typer.Option(
        "--state",
        envvar=STATE_ENV,
        dir_okay=False,
        help="File of the unit keys this client trusts (default: "
        "$XDG_CONFIG_HOME/wbs-client/known_units.json)",
    ),
]


def _passphrase(flag: bool, what: str = "passphrase") -> str:
    if not flag:
        typer.echo("error: give the passphrase with --password-stdin", err=True)
        raise typer.Exit(2)
    value = sys.stdin.readline().rstrip("\r\n")
    if not value:
        typer.echo(f"error: no {what} on standard input", err=True)
        raise typer.Exit(2)
    return value


def _receipt(given: str | None, from_stdin: bool) -> str:
    """The receipt from --receipt or (preferred) the first line of standard input."""
    if given is not None and from_stdin:
        typer.echo("error: give --receipt or --receipt-stdin, not both", err=True)
        raise typer.Exit(2)
    if given is not None:
        return given
    if not from_stdin:
        typer.echo("error: give the receipt with --receipt-stdin (or --receipt)", err=True)
        raise typer.Exit(2)
    return _passphrase(True, "receipt")


def _run(work: Callable[[], Any]) -> None:
    try:
        result = work()
    except ClientError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(json.dumps(result, ensure_ascii=False, indent=2))


@app.command()
def enroll(
    url: Url,
    email: Email,
    password_stdin: PasswordStdin = False,
    code: Code = None,
    reauth_code: ReauthCode = None,
) -> None:
    """Make this officer's key pair here and send the public key (pending approval); prints
    the recovery key once (print it or write it down)."""
    passphrase = _passphrase(password_stdin)
    _run(lambda: flows.enroll(url, email, passphrase, code, reauth_code))


@app.command()
def passwd(
    url: Url,
    email: Email,
    password_stdin: PasswordStdin = False,
    code: Code = None,
    reauth_code: ReauthCode = None,
) -> None:
    """Change the passphrase here (stdin: current, then new); the key pair stays the same."""
    current = _passphrase(password_stdin, "current passphrase")
    new = _passphrase(password_stdin, "new passphrase (second line)")
    _run(lambda: flows.passwd(url, email, current, new, code, reauth_code))


@app.command()
def recover(
    url: Url,
    email: Email,
    password_stdin: PasswordStdin = False,
    code: Code = None,
    reauth_code: ReauthCode = None,
) -> None:
    """After an admin's `wbs staff set-password`: stdin lines are the temporary passphrase,
    the recovery key, the new passphrase. Opens the key with the recovery key here."""
    temporary = _passphrase(password_stdin, "temporary passphrase")
    recovery_key = _passphrase(password_stdin, "recovery key (second line)")
    new = _passphrase(password_stdin, "new passphrase (third line)")
    _run(lambda: flows.recover(url, email, temporary, recovery_key, new, code, reauth_code))


@app.command()
def approve(
    url: Url,
    email: Email,
    password_stdin: PasswordStdin = False,
    code: Code = None,
    unit: Annotated[str | None, typer.Option("--unit", help="Unit (default: the admin's)")] = None,
) -> None:
    """Sign the unit's key directory with every enrolled key; prints the fingerprints."""
    passphrase = _passphrase(password_stdin)
    _run(lambda: flows.approve(url, email, passphrase, unit, code=code))


def _known(state: Path | None) -> KnownUnits:
    return KnownUnits(state.expanduser()) if state is not None else KnownUnits.default()


@app.command()
def unit(
    url: Url,
    unit: Annotated[str, typer.Option("--unit", help="Unit code, e.g. KPP001")],
    state: State = None,
) -> None:
    """Print the unit's directory key fingerprint, computed here from the key that signed the
    directory (compare it with the unit's poster), and what this client has stored for it."""
    _run(lambda: flows.unit_info(url, unit, _known(state)))


@app.command()
def submit(
    url: Url,
    unit: Annotated[str, typer.Option("--unit")],
    channel: Annotated[str, typer.Option("--channel", help="pengaduan, wbs, gratifikasi, ...")],
    text_file: TextFile,
    field: Annotated[list[str] | None, typer.Option("--field", help="NAME=VALUE")] = None,
    attach: Annotated[
        list[Path] | None, typer.Option("--attach", exists=True, dir_okay=False)
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option("--exclude", help="Officer to leave out: key id (8+ hex) or display name"),
    ] = None,
    identity: Annotated[
        list[str] | None,
        typer.Option(
            "--identity",
            help="Your identity NAME=VALUE (repeat); sealed for the unit's custodians only",
        ),
    ] = None,
    fingerprint: Annotated[
        str | None,
        typer.Option(
            "--fingerprint",
            help="The unit key fingerprint from the unit's poster: any other key is refused "
            "(without it: the key stored on first use)",
        ),
    ] = None,
    state: State = None,
) -> None:
    """Encrypt a report here and send it; prints case number, receipt and proof. The unit's
    directory must be signed by the key of --fingerprint, else by the key this client stored
    the first time (a changed key or an older directory version is refused)."""
    if fingerprint is not None:
        try:
            e2e.normalize_fingerprint(fingerprint)
        except ClientError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
    text = text_file.read_text(encoding="utf-8")
    notes: list[str] = []
    try:
        _run(
            lambda: flows.submit(
                url,
                unit,
                channel,
                text,
                fields=field or [],
                attach=attach or [],
                exclude=exclude or [],
                fingerprint=fingerprint,
                known=_known(state),
                notes=notes,
                identity=identity or [],
            )
        )
    finally:
        for note in notes:
            typer.echo(note, err=True)


@app.command()
def follow(
    url: Url,
    receipt: Receipt = None,
    receipt_stdin: ReceiptStdin = False,
    verify: Annotated[
        bool,
        typer.Option("--verify", help="Check the audit log's inclusion proof of the submission"),
    ] = False,
    state: State = None,
) -> None:
    """Open the mailbox with the receipt; prints status and decrypted messages (with
    --verify: also the submission's inclusion in the unit's audit log, under a tree head
    signed by the unit's pinned audit key)."""
    secret = _receipt(receipt, receipt_stdin)
    _run(lambda: flows.follow(url, secret, verify=verify, known=_known(state)))


@app.command()
def witness(
    url: Url,
    email: Email,
    unit: Annotated[str, typer.Option("--unit", help="Unit code")],
    password_stdin: PasswordStdin = False,
    code: Code = None,
    state: State = None,
) -> None:
    """As an outside witness (auditor account): check that the unit's newest signed audit
    tree head extends the one witnessed last (kept in --state), then record it; exit 1 on a
    rewritten log or another key. Run it regularly, e.g. from cron."""
    passphrase = _passphrase(password_stdin)
    _run(lambda: flows.witness(url, email, passphrase, unit, code=code, known=_known(state)))


@app.command()
def reply(
    url: Url, text_file: TextFile, receipt: Receipt = None, receipt_stdin: ReceiptStdin = False
) -> None:
    """Send a message to the officers (as the reporter)."""
    secret = _receipt(receipt, receipt_stdin)
    text = text_file.read_text(encoding="utf-8")
    _run(lambda: flows.reply(url, secret, text))


@app.command()
def inbox(url: Url, email: Email, password_stdin: PasswordStdin = False, code: Code = None) -> None:
    """The cases this officer can read, decrypted here."""
    passphrase = _passphrase(password_stdin)
    _run(lambda: flows.inbox(url, email, passphrase, code=code))


@app.command()
def answer(
    url: Url,
    email: Email,
    case: Annotated[str, typer.Option("--case", help="Case number, e.g. WBS-2026-000001")],
    text_file: TextFile,
    password_stdin: PasswordStdin = False,
    code: Code = None,
) -> None:
    """Reply to the reporter of a case (as an officer)."""
    passphrase = _passphrase(password_stdin)
    text = text_file.read_text(encoding="utf-8")
    _run(lambda: flows.answer(url, email, passphrase, case, text, code=code))


@app.command("case")
def case_command(
    case_number: Annotated[str, typer.Argument(help="Case number (or report id)")],
    url: Url,
    email: Email,
    password_stdin: PasswordStdin = False,
    code: Code = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output (the default)")] = True,
) -> None:
    """Where a case is: state, assignee, deadlines and the actions you may take now."""
    passphrase = _passphrase(password_stdin)
    _run(lambda: flows.case(url, email, passphrase, case_number, code=code))


@app.command("act")
def act_command(
    case_number: Annotated[str, typer.Argument(help="Case number (or report id)")],
    action: Annotated[str, typer.Argument(help="Workflow action, e.g. mulai_verifikasi")],
    url: Url,
    email: Email,
    fact: Annotated[
        list[str] | None,
        typer.Option("--fact", help="A fact NAME=VALUE (repeat); the server can read facts"),
    ] = None,
    message: Annotated[
        str | None, typer.Option("--message", help="Message to the reporter (encrypted here)")
    ] = None,
    password_stdin: PasswordStdin = False,
    code: Code = None,
) -> None:
    """Take a workflow action on a case; a refusal exits non-zero with the server's reason."""
    passphrase = _passphrase(password_stdin)
    _run(
        lambda: flows.act(
            url,
            email,
            passphrase,
            case_number,
            action,
            facts=fact or [],
            message=message,
            code=code,
        )
    )


class ExportFormat(StrEnum):
    xlsx = "xlsx"
    pdf = "pdf"


@app.command("export-gratifikasi")
def export_gratifikasi_command(
    case_number: Annotated[str, typer.Argument(help="Case number (or report id)")],
    url: Url,
    email: Email,
    out: Annotated[
        Path, typer.Option("--out", dir_okay=False, help="File to write (mode 0600, replaced)")
    ],
    fmt: Annotated[ExportFormat, typer.Option("--format", help="xlsx or pdf")] = ExportFormat.xlsx,
    password_stdin: PasswordStdin = False,
    code: Code = None,
) -> None:
    """Fill KPK's gratification report form (Formulir Laporan Gratifikasi) from a gratifikasi
    case, decrypted on this device, as XLSX or PDF; other case types are refused."""
    passphrase = _passphrase(password_stdin)
    target = out.expanduser()
    if not target.parent.is_dir():
        typer.echo(f"error: folder tidak ada / no such folder: {target.parent}", err=True)
        raise typer.Exit(2)
    _run(
        lambda: flows.export_gratifikasi(
            url, email, passphrase, case_number, fmt=fmt.value, out=target, code=code
        )
    )


identity_app = typer.Typer(
    help="Pembukaan identitas pelapor melalui penjaga identitas / identity release through "
    "the custodian",
    no_args_is_help=True,
)
app.add_typer(identity_app, name="identity")
CaseArg = Annotated[str, typer.Argument(help="Case number (or report id)")]
RequestArg = Annotated[str, typer.Argument(help="Request id (from `wbs client identity pending`)")]


@identity_app.command("request")
def identity_request(
    case_number: CaseArg,
    url: Url,
    email: Email,
    reason: Annotated[
        str,
        typer.Option(
            "--reason",
            help="klarifikasi, perlindungan, pemeriksaan, permintaan_aph or lainnya",
        ),
    ],
    note: Annotated[
        str | None, typer.Option("--note", help="Note for the custodian (required for lainnya)")
    ] = None,
    password_stdin: PasswordStdin = False,
    code: Code = None,
) -> None:
    """Ask the unit's custodian for the reporter's identity of a case you can read."""
    passphrase = _passphrase(password_stdin)
    _run(
        lambda: flows.identity_request(url, email, passphrase, case_number, reason, note, code=code)
    )


@identity_app.command("pending")
def identity_pending(
    url: Url, email: Email, password_stdin: PasswordStdin = False, code: Code = None
) -> None:
    """Custodians: the open identity requests of your unit."""
    passphrase = _passphrase(password_stdin)
    _run(lambda: flows.identity_pending(url, email, passphrase, code=code))


@identity_app.command("approve")
def identity_approve(
    request_id: RequestArg,
    url: Url,
    email: Email,
    password_stdin: PasswordStdin = False,
    code: Code = None,
) -> None:
    """Custodians: approve; the identity key is re-wrapped here to the requester's key only."""
    passphrase = _passphrase(password_stdin)
    _run(lambda: flows.identity_decide(url, email, passphrase, request_id, code=code))


@identity_app.command("deny")
def identity_deny(
    request_id: RequestArg,
    url: Url,
    email: Email,
    reason: Annotated[str, typer.Option("--reason", help="Why (shown to the requester)")],
    password_stdin: PasswordStdin = False,
    code: Code = None,
) -> None:
    """Custodians: deny, with a reason for the requester."""
    passphrase = _passphrase(password_stdin)
    _run(
        lambda: flows.identity_decide(
            url, email, passphrase, request_id, deny_note=reason, code=code
        )
    )


@identity_app.command("open")
def identity_open(
    case_number: CaseArg,
    url: Url,
    email: Email,
    password_stdin: PasswordStdin = False,
    code: Code = None,
) -> None:
    """The reporter's identity released to you, opened here with your key."""
    passphrase = _passphrase(password_stdin)
    _run(lambda: flows.identity_open(url, email, passphrase, case_number, code=code))
