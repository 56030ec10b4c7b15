"""`wbs backup DIR`, `wbs backup verify DIR`, `wbs restore DIR`.

A backup is a directory:

- `database.pgdump` (PostgreSQL: `pg_dump --format=custom`, one consistent snapshot) or
  `database.sqlite3` (SQLite: the online backup API, consistent while the service runs);
- `<store>/<sha256>` for every stored file of every file store (`wbs.ops.stores`), taken
  after the database, so every file a row of the snapshot names is there (files are
  written before their rows commit and never changed);
- `manifest.json`: format, wbs version, the database's Alembic revision (read from the
  dump itself), time, and the SHA-256 and size of every file, authenticated with a key
  derived from WBS_SECRET_KEY.

What is not in it: WBS_SECRET_KEY (keep it apart, e.g. in the password safe that holds
/etc/wbs/wbs.env); the restore needs the same one. The keys that matter are in the
database already, wrapped: officers' private keys (under their passphrases and recovery
keys), unit directory signing keys (to their admins) and report key wraps.

A restore goes into an empty deployment only: a database without tables and file stores
without files. Every hash is checked before anything is written.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from hashlib import sha256
from pathlib import Path
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.engine import Connection, make_url

import wbs
from crypto.atrest import keyed_digest
from wbs.core.blobs import CHUNK, BlobDamaged, BlobStore
from wbs.core.db import on_connection
from wbs.core.files import FileStore
from wbs.core.settings import Settings
from wbs.ops.stores import STORE_NAMES, file_stores

FORMAT = "wbs-backup/1"
MANIFEST = "manifest.json"
PG_FILE = "database.pgdump"
SQLITE_FILE = "database.sqlite3"
DIGEST = re.compile(r"^[0-9a-f]{64}$")


class BackupError(RuntimeError):
    """The backup or restore cannot go on; the message (Indonesian / English) says why."""


def _error(text_id: str, text_en: str) -> BackupError:
    return BackupError(f"{text_id} / {text_en}")


# --------------------------------------------------------------------------- database


def backend_of(url: str) -> str:
    if url.startswith("sqlite"):
        return "sqlite"
    if url.startswith("postgresql"):
        return "postgresql"
    raise _error(f"basis data tidak didukung: {url.split(':', 1)[0]}", "unsupported database")


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise _error("basis data SQLite tanpa berkas", "an SQLite database without a file")
    return Path(database)


def libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection URI for pg_dump/pg_restore, and PGPASSWORD apart (not in argv)."""
    parsed = make_url(url)
    env = {"PGPASSWORD": parsed.password} if parsed.password else {}
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def pg_tool(settings: Settings, name: str) -> str:
    """pg_dump or pg_restore: WBS_PG_BIN_DIR, PATH, then the newest /usr/lib/postgresql."""
    if settings.pg_bin_dir is not None:
        candidate = settings.pg_bin_dir / name
        if candidate.exists():
            return str(candidate)
        raise _error(f"{candidate} tidak ada (WBS_PG_BIN_DIR)", f"{candidate} does not exist")
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(
        Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0,
    )
    if versions:
        return str(versions[-1])
    raise _error(
        f"{name} tidak ditemukan; pasang postgresql-client atau atur WBS_PG_BIN_DIR",
        f"{name} not found; install postgresql-client or set WBS_PG_BIN_DIR",
    )


def _run(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(  # noqa: S603 - fixed tool paths, arguments are not shell words
        args, env={**os.environ, **env}, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        tool = Path(args[0]).name
        raise _error(
            f"{tool} gagal: {done.stderr.strip()[-800:]}",
            f"{tool} failed (exit {done.returncode})",
        )
    return done.stdout


def table_names(url: str) -> list[str]:
    """The tables of the database (none: an empty deployment)."""

    def names(connection: Connection) -> list[str]:
        return list(inspect(connection).get_table_names())

    return on_connection(url, names)


def _sqlite_revisions(path: Path) -> list[str]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return sorted(row[0] for row in db.execute("SELECT version_num FROM alembic_version"))


def _pg_revisions(settings: Settings, dump: Path) -> list[str]:
    """The Alembic revision inside the dump (the same snapshot as the data)."""
    text = _run(
        [
            pg_tool(settings, "pg_restore"),
            "--data-only",
            "-t",
            "alembic_version",
            "-f",
            "-",
            str(dump),
        ],
        {},
    )
    rows, inside = [], False
    for line in text.splitlines():
        if line.startswith("COPY ") and "alembic_version" in line:
            inside = True
        elif inside and line == "\\.":
            break
        elif inside and line:
            rows.append(line.strip())
    return sorted(rows)


def dump_database(settings: Settings, target: Path) -> tuple[str, list[str]]:
    """Write the database's consistent copy into `target`; (file name, its revisions)."""
    url = settings.resolved_database_url
    if backend_of(url) == "sqlite":
        out = target / SQLITE_FILE
        source = sqlite3.connect(f"file:{sqlite_path(url)}?mode=ro", uri=True)
        copy = sqlite3.connect(out)
        try:
            source.backup(copy)  # the online backup API: one consistent snapshot
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            copy.close()
            source.close()
        return SQLITE_FILE, _sqlite_revisions(out)
    out = target / PG_FILE
    dsn, env = libpq(url)
    _run(
        [pg_tool(settings, "pg_dump"), "--format=custom", "--file", str(out), "--dbname", dsn], env
    )
    return PG_FILE, _pg_revisions(settings, out)


def load_database(settings: Settings, source: Path, name: str) -> None:
    url = settings.resolved_database_url
    if backend_of(url) == "sqlite":
        target = sqlite_path(url)
        target.parent.mkdir(parents=True, exist_ok=True)
        backup = sqlite3.connect(f"file:{source / name}?mode=ro", uri=True)
        into = sqlite3.connect(target)
        try:
            backup.backup(into)
        finally:
            into.close()
            backup.close()
        return
    dsn, env = libpq(url)
    _run(
        [
            pg_tool(settings, "pg_restore"),
            "--exit-on-error",
            "--single-transaction",
            "--no-owner",
            "--no-privileges",
            "--dbname",
            dsn,
            str(source / name),
        ],
        env,
    )


# --------------------------------------------------------------------------- manifest


def _copy_blob(store: BlobStore, name: str, target: Path) -> tuple[str, int]:
    """Stream a blob of another backend (S3) into `target`; (sha256, size)."""
    digest, size = sha256(), 0
    try:
        with target.open("xb") as out:
            for chunk in store.chunks(name):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
    except BlobDamaged:
        return "damaged", size
    return digest.hexdigest(), size


def _hash_copy(source: Path, target: Path | None) -> tuple[str, int]:
    """SHA-256 and size of `source`, copied to `target` on the way (when given)."""
    digest, size = sha256(), 0
    with source.open("rb") as src:
        out = target.open("xb") if target is not None else None
        try:
            while chunk := src.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                if out is not None:
                    out.write(chunk)
            if out is not None:
                out.flush()
                os.fsync(out.fileno())
        finally:
            if out is not None:
                out.close()
    return digest.hexdigest(), size


def _mac(settings: Settings, manifest: dict[str, Any]) -> str:
    body = {k: v for k, v in manifest.items() if k != "mac"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return keyed_digest(settings.secret_bytes(), "backup/manifest", canonical)


def secret_check(settings: Settings) -> str:
    """Tells whether two deployments share WBS_SECRET_KEY without revealing it."""
    return keyed_digest(settings.secret_bytes(), "backup/secret-check", b"v1")


@dataclass(frozen=True)
class Summary:
    path: Path
    backend: str
    revisions: list[str]
    files: int
    stored_files: int
    bytes: int


def _summary(path: Path, manifest: dict[str, Any]) -> Summary:
    files: dict[str, dict[str, Any]] = manifest["files"]
    return Summary(
        path,
        manifest["database"]["backend"],
        list(manifest["alembic_revision"]),
        len(files),
        sum(1 for name in files if "/" in name),
        sum(int(f["size"]) for f in files.values()),
    )


def _empty_dir(path: Path) -> None:
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise _error(
            f"{path} sudah berisi; cadangan ditulis ke direktori baru atau kosong",
            f"{path} is not empty; a backup goes into a new or empty directory",
        )
    path.mkdir(parents=True, exist_ok=True)


def backup(settings: Settings, target: Path, *, hardlink: bool = False) -> Summary:
    """Database first, then every stored file, then the manifest (written last: a
    directory without one is an unfinished backup)."""
    target = target.resolve()
    _empty_dir(target)
    database, revisions = dump_database(settings, target)
    digest, size = _hash_copy(target / database, None)
    files: dict[str, dict[str, Any]] = {database: {"sha256": digest, "size": size}}
    for name, store in file_stores(settings).items():
        (target / name).mkdir()
        for stored in sorted(store.names()):
            out = target / name / stored
            if hardlink and isinstance(store, FileStore):
                os.link(store.path(stored), out)
                digest, size = _hash_copy(out, None)
            elif isinstance(store, FileStore):
                digest, size = _hash_copy(store.path(stored), out)
            else:
                digest, size = _copy_blob(store, stored, out)
            if digest != stored:
                raise _error(
                    f"berkas tersimpan {name}/{stored} rusak (isi tidak cocok dengan namanya)",
                    f"stored file {name}/{stored} is damaged (its content does not match its name)",
                )
            files[f"{name}/{stored}"] = {"sha256": digest, "size": size}
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "wbs_version": wbs.__version__,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": {"backend": backend_of(settings.resolved_database_url), "file": database},
        "alembic_revision": revisions,
        "stores": list(STORE_NAMES),
        "secret_check": secret_check(settings),
        "not_included": [
            "WBS_SECRET_KEY (keep it apart; the restore needs the same one)",
            "logs/ and tmp/ of the data directory",
        ],
        "keys": "officers' private keys, unit signing keys and report key wraps are in the "
        "database, wrapped; nothing in this backup opens a report without an officer's key",
        "files": files,
    }
    manifest["mac"] = _mac(settings, manifest)
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return _summary(target, manifest)


def _walk(root: Path) -> Iterator[str]:
    for path in sorted(root.rglob("*")):
        if path.is_file() or path.is_symlink():
            yield path.relative_to(root).as_posix()


def verify(settings: Settings, source: Path) -> tuple[Summary, dict[str, Any]]:
    """Check the manifest and every file's size and SHA-256; BackupError naming the first
    file that differs, is missing or is not in the manifest."""
    source = source.resolve()
    try:
        manifest = json.loads((source / MANIFEST).read_text())
    except FileNotFoundError:
        raise _error(
            f"{source / MANIFEST} tidak ada: bukan cadangan wbs atau cadangan belum selesai",
            f"{source / MANIFEST} is missing: not a wbs backup, or an unfinished one",
        ) from None
    except (ValueError, OSError) as exc:
        raise _error(f"{MANIFEST} tidak terbaca", f"{MANIFEST} cannot be read ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _error(f"{MANIFEST}: format tidak dikenal", f"{MANIFEST}: unknown format")
    if manifest.get("secret_check") != secret_check(settings):
        raise _error(
            "WBS_SECRET_KEY berbeda dari deployment asal cadangan; pulihkan dengan kunci yang sama",
            "WBS_SECRET_KEY differs from the backed-up deployment's; restore with the same one "
            "(the audit chain, receipts and sessions depend on it)",
        )
    if manifest.get("mac") != _mac(settings, manifest):
        raise _error(f"{MANIFEST} telah diubah", f"{MANIFEST} has been altered")
    files: dict[str, dict[str, Any]] = manifest["files"]
    for name in _walk(source):
        if name != MANIFEST and name not in files:
            raise _error(f"berkas tak dikenal dalam cadangan: {name}", f"unexpected file: {name}")
    for name, expected in sorted(files.items()):
        path = source / name
        if not path.is_file() or path.is_symlink():
            raise _error(f"berkas hilang dari cadangan: {name}", f"file missing: {name}")
        digest, size = _hash_copy(path, None)
        if digest != expected["sha256"] or size != expected["size"]:
            raise _error(f"berkas rusak atau diubah: {name}", f"file damaged or altered: {name}")
        store, _, stored = name.partition("/")
        if stored and (store not in manifest["stores"] or not DIGEST.match(stored)):
            raise _error(f"nama berkas tidak sah: {name}", f"bad file name: {name}")
    return _summary(source, manifest), manifest


def _stored(stores: dict[str, BlobStore]) -> list[str]:
    return [f"{name}/{n}" for name, store in stores.items() for n in store.names()]


def restore(settings: Settings, source: Path) -> Summary:
    """Verify, check that the deployment is empty, then the files and the database."""
    from wbs.migrate import unknown_revisions

    summary, manifest = verify(settings, source)
    url = settings.resolved_database_url
    made, into = manifest["database"]["backend"], backend_of(url)
    if made != into:
        raise _error(
            f"cadangan {made} tidak dapat dipulihkan ke {into}",
            f"a {made} backup cannot be restored into {into}",
        )
    unknown = unknown_revisions(manifest["alembic_revision"])
    if unknown:
        raise _error(
            f"cadangan dari versi wbs yang lebih baru (revisi {unknown}); pasang versi itu",
            f"the backup comes from a newer wbs (revision {unknown}); install that version",
        )
    if backend_of(url) == "sqlite" and not sqlite_path(url).exists():
        tables: list[str] = []
    else:
        tables = table_names(url)
    if tables:
        raise _error(
            f"basis data tujuan tidak kosong ({len(tables)} tabel); pulihkan ke basis data "
            "baru yang kosong (tanpa `wbs db upgrade`)",
            f"the target database is not empty ({len(tables)} tables); restore into a new, "
            "empty database (before `wbs db upgrade`)",
        )
    settings.prepare_data_dir()
    stores = file_stores(settings)
    present = _stored(stores)
    if present:
        raise _error(
            f"direktori data tidak kosong ({len(present)} berkas tersimpan, misalnya {present[0]})",
            f"the data directory is not empty ({len(present)} stored files, e.g. {present[0]})",
        )
    written: list[tuple[BlobStore, str]] = []
    try:
        for name, expected in sorted(manifest["files"].items()):
            store_name, _, stored = name.partition("/")
            if not stored:
                continue
            store = stores[store_name]
            with (source / name).open("rb") as fh:
                kept = store.put(fh, int(expected["size"]))
            written.append((store, kept.name))
            if kept.name != stored:
                raise _error(f"berkas rusak: {name}", f"file damaged: {name}")
        load_database(settings, source, manifest["database"]["file"])
    except BaseException:
        for store, stored in written:  # an interrupted restore leaves the stores empty again
            store.discard(stored)
        raise
    return summary
