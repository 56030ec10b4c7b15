"""Unit keys this client has seen: trust on first use, and the rollback floor.

One small JSON file (by default ``$XDG_CONFIG_HOME/wbs-client/known_units.json``, else
``~/.config/wbs-client/known_units.json``; ``--state FILE`` or ``WBS_CLIENT_STATE``
override it) maps each server address and unit code to the unit's directory key, its
fingerprint and the highest directory version seen. It holds no secret and nothing about a
report, but whoever can write it can make the client trust another key: it is written
atomically, mode 0600, in a directory of mode 0700.

``{"v": 1, "units": {"<site> <UNIT>": {"site", "unit", "public_key", "fingerprint",
"version", "first_seen", "last_seen", "audit_public_key"}}, "heads": {"<site> <UNIT>":
{"site", "unit", "public_key", "tree_size", "root_hash", "at", "first_seen", "last_seen"}}}``;
``audit_public_key`` (hex, empty until known) is the audit tree-head key from the first signed
v2 proof of submission; ``heads`` are the newest signed tree heads `wbs client witness` checked
(a file without it is read as no heads).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from wbs.client.api import ClientError
from wbs.client.files import write_private

STATE_ENV = "WBS_CLIENT_STATE"
MAX_STATE_BYTES = 1 << 20  # a few hundred bytes per unit; anything larger is not ours
MAX_UNITS = 10_000
_DEFAULT_PORTS = {"http": 80, "https": 443}


def default_path() -> Path:
    """``WBS_CLIENT_STATE``, else the user's config dir (XDG), else ``~/.config``."""
    explicit = os.environ.get(STATE_ENV)
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or ""
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".config"
    return root / "wbs-client" / "known_units.json"


def site_of(url: str) -> str:
    """The server address as stored: host, port unless the default, path; no scheme, so
    that `http://` and `https://` of one server share the pin."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if not host:
        raise ClientError(f"alamat server tidak sah / not a server address: {url!r}")
    try:
        port = parts.port
    except ValueError:
        raise ClientError(f"alamat server tidak sah / not a server address: {url!r}") from None
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS.get(parts.scheme.lower()):
        host = f"{host}:{port}"
    return host + parts.path.rstrip("/")


@dataclass(frozen=True)
class KnownUnit:
    site: str
    unit: str
    public_key: str
    fingerprint: str
    version: int
    first_seen: str
    last_seen: str
    audit_public_key: str = ""


@dataclass(frozen=True)
class WitnessedHead:
    """The newest signed audit tree head a witness run checked for a unit."""

    site: str
    unit: str
    public_key: str
    tree_size: int
    root_hash: str
    at: str
    first_seen: str
    last_seen: str


class KeyChanged(ClientError):
    """The server now signs with a key other than the one stored for this unit."""

    def __init__(self, known: KnownUnit, new_fingerprint: str, path: Path) -> None:
        super().__init__(
            f"Kunci unit {known.unit} di {known.site} BERUBAH: tersimpan {known.fingerprint} "
            f"(sejak {known.first_seen}), sekarang {new_fingerprint}. Laporan TIDAK dikirim. "
            "Mungkin unit mengganti kuncinya, mungkin juga server mencoba membaca laporan "
            "Anda. Cocokkan sidik jari baru dengan poster unit (atau tanyakan ke unit lewat "
            "jalur lain, bukan lewat situs ini); hanya bila sama, jalankan lagi dengan "
            f'--fingerprint "{new_fingerprint}". (Catatan kunci: {path}) / '
            f"The unit key of {known.unit} at {known.site} CHANGED: stored "
            f"{known.fingerprint} (since {known.first_seen}), now {new_fingerprint}. The "
            "report was NOT sent. The unit may have replaced its key, or the server may be "
            "trying to read your report. Compare the new fingerprint with the unit's poster "
            "(or ask the unit through another channel, not this site); only if they match, "
            f'run again with --fingerprint "{new_fingerprint}". (Known keys: {path})',
            code="unit_key_changed",
        )


class Rollback(ClientError):
    """The server sent a directory version lower than one already seen."""

    def __init__(self, unit: str, got: int, seen: int) -> None:
        super().__init__(
            f"Server mengirim direktori kunci unit {unit} versi {got}, lebih lama dari versi "
            f"{seen} yang pernah diterima. Laporan TIDAK dikirim: direktori lama dapat memuat "
            "petugas yang tidak berhak lagi. / "
            f"The server sent version {got} of unit {unit}'s key directory, older than "
            f"version {seen} already received. The report was NOT sent: an old directory may "
            "list officers who are no longer entitled.",
            code="directory_rollback",
        )


def _damaged(path: Path, why: str) -> ClientError:
    return ClientError(
        f"berkas kunci unit yang dikenal rusak ({why}): {path}; periksa atau pindahkan "
        f"berkas itu (kunci yang tersimpan tidak diabaikan diam-diam) / the known unit keys "
        f"file is damaged ({why}): {path}; check or move it (stored keys are not silently "
        "dropped)",
        code="state_damaged",
    )


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class KnownUnits:
    """The state file: read it, decide, and record under a lock."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def default(cls) -> KnownUnits:
        return cls(default_path())

    @staticmethod
    def key(site: str, unit: str) -> str:
        return f"{site} {unit.upper()}"

    def get(self, url: str, unit: str) -> KnownUnit | None:
        site = site_of(url)
        return self._read().get(self.key(site, unit))

    def witnessed(self, url: str, unit: str) -> WitnessedHead | None:
        return self._load()[1].get(self.key(site_of(url), unit))

    def record_head(
        self, url: str, unit: str, head: dict[str, Any], *, after: WitnessedHead | None
    ) -> WitnessedHead:
        """Store `head` (checked by the caller against `after`) as the unit's newest witnessed
        head; refused if another run recorded a head since `after` was read."""
        site = site_of(url)
        key = self.key(site, unit)
        with self._locked():
            units, heads = self._load()
            if heads.get(key) != after:
                raise ClientError(
                    "berkas kunci berubah selama pemeriksaan (saksi lain berjalan?); jalankan "
                    "lagi / the state file changed during the check (another witness run?); "
                    "run again",
                    code="state_changed",
                )
            now = _now()
            new = WitnessedHead(
                site,
                unit.upper(),
                str(head["public_key"]),
                int(head["tree_size"]),
                str(head["root_hash"]),
                str(head["at"]),
                after.first_seen if after else now,
                now,
            )
            heads[key] = new
            if len(heads) > MAX_UNITS:
                raise _damaged(self.path, f"more than {MAX_UNITS} heads")
            self._write(units, heads)
        return new

    def remember(
        self, url: str, unit: str, public_key: str, fingerprint: str, version: int, *, repin: bool
    ) -> KnownUnit:
        """Record the key and raise the version floor. A different stored key is replaced
        only when `repin` (the caller checked the poster's fingerprint); otherwise KeyChanged
        (another run may have stored a key meanwhile)."""
        site = site_of(url)
        key = self.key(site, unit)
        with self._locked():
            units, heads = self._load()
            old = units.get(key)
            now = _now()
            if old is not None and old.public_key == public_key:
                if version < old.version:
                    raise Rollback(unit.upper(), version, old.version)
                new = KnownUnit(
                    site,
                    unit.upper(),
                    public_key,
                    fingerprint,
                    version,
                    old.first_seen,
                    now,
                    old.audit_public_key,
                )
            elif old is None or repin:
                new = KnownUnit(site, unit.upper(), public_key, fingerprint, version, now, now)
            else:
                raise KeyChanged(old, fingerprint, self.path)
            units[key] = new
            if len(units) > MAX_UNITS:
                raise _damaged(self.path, f"more than {MAX_UNITS} units")
            self._write(units, heads)
        return new

    def pin_audit_key(self, url: str, unit: str, audit_public_key: str) -> str:
        """The audit tree-head key pinned for this unit: the stored one, else (first use)
        `audit_public_key`, stored when the unit is known here."""
        key = self.key(site_of(url), unit)
        with self._locked():
            units, heads = self._load()
            old = units.get(key)
            if old is None:
                return audit_public_key
            if old.audit_public_key:
                return old.audit_public_key
            units[key] = replace(old, audit_public_key=audit_public_key)
            self._write(units, heads)
        return audit_public_key

    # ------------------------------------------------------------------ file handling

    def _read(self) -> dict[str, KnownUnit]:
        return self._load()[0]

    def _load(self) -> tuple[dict[str, KnownUnit], dict[str, WitnessedHead]]:
        try:
            with self.path.open("rb") as handle:
                data = handle.read(MAX_STATE_BYTES + 1)
        except FileNotFoundError:
            return {}, {}
        except OSError as exc:
            raise _damaged(self.path, type(exc).__name__) from None
        if len(data) > MAX_STATE_BYTES:
            raise _damaged(self.path, "too large")
        try:
            doc = json.loads(data.decode("utf-8"))
            if not isinstance(doc, dict) or doc.get("v") != 1:
                raise ValueError
            raw, raw_heads = doc.get("units"), doc.get("heads", {})
            if not isinstance(raw, dict) or not isinstance(raw_heads, dict):
                raise ValueError
            units = {str(k): _entry(v) for k, v in raw.items()}
            return units, {str(k): _head_entry(v) for k, v in raw_heads.items()}
        except (UnicodeDecodeError, ValueError, TypeError, KeyError):
            raise _damaged(self.path, "not the expected JSON") from None

    def _write(self, units: dict[str, KnownUnit], heads: dict[str, WitnessedHead]) -> None:
        directory = self.path.parent
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        doc: dict[str, Any] = {"v": 1, "units": {k: asdict(v) for k, v in sorted(units.items())}}
        if heads:
            doc["heads"] = {k: asdict(v) for k, v in sorted(heads.items())}
        text = json.dumps(
            doc,
            indent=2,
            sort_keys=True,
            ensure_ascii=False,
        )
        write_private(self.path, (text + "\n").encode("utf-8"))

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """One writer at a time (two client runs at once must not lose a pin)."""
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        lock = self.path.with_name(self.path.name + ".lock")
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if sys.platform != "win32":  # elsewhere no advisory lock; the rename stays atomic
                import fcntl

                fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock


def _entry(value: Any) -> KnownUnit:
    if not isinstance(value, dict):
        raise ValueError
    version = value["version"]
    if not isinstance(version, int) or isinstance(version, bool):
        raise ValueError
    strings = ("site", "unit", "public_key", "fingerprint", "first_seen", "last_seen")
    if not all(isinstance(value.get(k), str) for k in strings):
        raise ValueError
    audit_key = value.get("audit_public_key", "")
    if not isinstance(audit_key, str):
        raise ValueError
    return KnownUnit(**{k: value[k] for k in strings}, version=version, audit_public_key=audit_key)


def _head_entry(value: Any) -> WitnessedHead:
    if not isinstance(value, dict):
        raise ValueError
    size = value["tree_size"]
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise ValueError
    strings = ("site", "unit", "public_key", "root_hash", "at", "first_seen", "last_seen")
    if not all(isinstance(value.get(k), str) for k in strings):
        raise ValueError
    return WitnessedHead(**{k: value[k] for k in strings}, tree_size=size)
