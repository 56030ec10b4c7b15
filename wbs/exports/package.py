"""Signed export packages: a ZIP of the data files, `manifest.json` and `manifest.sig`.

The manifest names the unit, period, kind (public or internal), the time of the figures,
every data file with its SHA-256 and size, and the signing key; `manifest.sig` is the
64-byte Ed25519 signature of the manifest's exact bytes (canonical JSON). The ZIP itself
is canonical too: stored (uncompressed) members in a fixed order with the figures' time,
no extra fields, no comments, written here byte by byte (`write_zip`). So `verify` can
check, after the signature and the hashes, that the whole file is exactly the canonical
encoding of its signed entries: any changed byte anywhere fails and is named.

`verify` reads untrusted input: it bounds the package, the number and declared sizes of
the members and the manifest before it reads a member, and refuses unsafe names,
duplicates, compression and encryption.
"""

from __future__ import annotations

import io
import json
import re
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from hashlib import sha256
from typing import Any

from crypto.encoding import b64u_decode
from crypto.errors import FormatError, SignatureError
from crypto.signing import SigningKey, signing_fingerprint, verify_ed25519
from wbs.core.text import Text
from wbs.exports import formats
from wbs.exports.formats import ExportRefused, Figures, canonical_json, zip_time

FORMAT = "wbs-indicator-export/1"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
DATA_NAME = "indikator"
KEY_LABEL = "indicator-export/"
MIB = 1024 * 1024
MAX_PACKAGE_BYTES = 64 * MIB
MAX_ENTRY_BYTES = 48 * MIB
MAX_MANIFEST_BYTES = 64 * 1024
MAX_ENTRIES = 8
ENTRY_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,40}\.[a-z]{2,5}$")
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
FORMATS = ("json", "csv", "xlsx", "pdf")
MEDIA_TYPES = {
    "json": "application/json",
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


def unit_key(master: bytes, unit_code: str) -> SigningKey:
    """The unit's export signing key, derived from the service master secret."""
    return SigningKey.derive(master, KEY_LABEL + unit_code)


def file_names(fmt: str) -> list[str]:
    """The data files of a package: the JSON always (the contract), and the asked format."""
    if fmt not in FORMATS:
        raise ExportRefused("Format tidak dikenal.", "Unknown format.", details={"field": "format"})
    names = [f"{DATA_NAME}.json"]
    if fmt != "json":
        names.append(f"{DATA_NAME}.{fmt}")
    return names


def write_file(figures: Figures, name: str) -> bytes:
    """One data file's bytes."""
    suffix = name.rsplit(".", 1)[-1]
    if suffix == "json":
        return formats.to_json(figures)
    if suffix == "csv":
        return formats.to_csv(figures)
    if suffix == "xlsx":
        return formats.to_xlsx(figures, FORMAT)
    return formats.to_pdf(figures, FORMAT)


def package_name(unit: str, period: str, fmt: str, public: bool) -> str:
    return f"{DATA_NAME}-{unit}-{period}-{fmt}{'-publik' if public else ''}.zip"


def seal(figures: Figures, files: list[tuple[str, bytes]], key: SigningKey) -> bytes:
    """The signed package of the data files."""
    manifest = {
        "format": FORMAT,
        "unit": figures.unit,
        "unit_name": figures.unit_name,
        "period": figures.period,
        "public": figures.public,
        "suppressed_below": figures.suppressed_below,
        "generated_at": figures.report["generated_at"],
        "files": [
            {
                "name": name,
                "media_type": MEDIA_TYPES[name.rsplit(".", 1)[-1]],
                "sha256": sha256(data).hexdigest(),
                "size": len(data),
            }
            for name, data in files
        ],
        "key": {"algorithm": "Ed25519", "id": key.fingerprint, "public_key": key.public_text},
    }
    body = canonical_json(manifest)
    return write_zip([*files, (MANIFEST, body), (SIGNATURE, key.sign(body))], figures.generated_at)


def build(
    figures: Figures, fmt: str, key: SigningKey, step: Callable[[int], None] | None = None
) -> bytes:
    """Write the data files and seal them; `step(percent)` after each file."""
    names = file_names(fmt)
    files = []
    for index, name in enumerate(names, start=1):
        files.append((name, write_file(figures, name)))
        if step is not None:
            step(int(90 * index / len(names)))
    return seal(figures, files, key)


# --------------------------------------------------------------------------- the ZIP


_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_END = struct.Struct("<IHHHHIIH")
_VERSION = 20  # 2.0: stored members
_MADE_BY = (3 << 8) | _VERSION  # Unix, so unzip gives the files mode 0644
_MODE = 0o100644 << 16


def _dos_time(at: datetime) -> tuple[int, int]:
    year, month, day, hour, minute, second = zip_time(at)
    return (hour << 11) | (minute << 5) | (second // 2), ((year - 1980) << 9) | (month << 5) | day


@dataclass(frozen=True)
class _Region:
    start: int
    end: int
    entry: str
    part: Text


def _layout(entries: list[tuple[str, bytes]], at: datetime) -> tuple[bytes, list[_Region]]:
    time, day = _dos_time(at)
    out = io.BytesIO()
    regions: list[_Region] = []
    central = []
    for name, data in entries:
        raw = name.encode("ascii")
        crc = zlib.crc32(data)
        offset = out.tell()
        out.write(
            _LOCAL.pack(
                0x04034B50, _VERSION, 0, 0, time, day, crc, len(data), len(data), len(raw), 0
            )
        )
        out.write(raw)
        regions.append(_Region(offset, out.tell(), name, Text("kepala lokal", "local header")))
        regions.append(_Region(out.tell(), out.tell() + len(data), name, Text("isi", "content")))
        out.write(data)
        central.append((raw, crc, len(data), offset))
    start = out.tell()
    for raw, crc, size, offset in central:
        at_entry = out.tell()
        out.write(
            _CENTRAL.pack(
                0x02014B50,
                _MADE_BY,
                _VERSION,
                0,
                0,
                time,
                day,
                crc,
                size,
                size,
                len(raw),
                0,
                0,
                0,
                0,
                _MODE,
                offset,
            )
        )
        out.write(raw)
        regions.append(
            _Region(
                at_entry, out.tell(), raw.decode(), Text("direktori pusat", "central directory")
            )
        )
    size = out.tell() - start
    at_end = out.tell()
    out.write(_END.pack(0x06054B50, 0, 0, len(entries), len(entries), size, start, 0))
    regions.append(_Region(at_end, out.tell(), "zip", Text("akhir direktori", "end of directory")))
    return out.getvalue(), regions


def write_zip(entries: list[tuple[str, bytes]], at: datetime) -> bytes:
    """The canonical ZIP of `entries`, in order: stored, time `at`, no extras or comments."""
    return _layout(entries, at)[0]


# --------------------------------------------------------------------------- verify


class PackageInvalid(Exception):
    """The package fails a check; `entry` names the member (or "zip", "manifest.json")."""

    def __init__(self, entry: str, problem: Text) -> None:
        self.entry = entry
        self.problem = problem
        super().__init__(f"{entry}: {problem.en}")


@dataclass(frozen=True)
class FileChecked:
    name: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Verified:
    """What `verify` established about a package."""

    unit: str
    unit_name: str
    period: str
    public: bool
    suppressed_below: int | None
    generated_at: str
    key_id: str
    public_key: str
    pinned: bool  # the signature was checked against a key given by the caller
    files: tuple[FileChecked, ...]
    consistent: tuple[str, ...]  # data files found equal to the JSON
    figures: int  # values in the JSON


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    try:
        with archive.open(info) as member:
            data = member.read(info.file_size + 1)
    except Exception:  # zipfile raises many kinds on a damaged member (hostile input)
        raise PackageInvalid(
            info.filename,
            Text("isi rusak atau diubah (CRC-32)", "content damaged or changed (CRC-32)"),
        ) from None
    if len(data) != info.file_size:
        raise PackageInvalid(
            info.filename, Text("ukuran tidak sesuai", "size differs from the declared size")
        )
    return data


def _members(data: bytes) -> tuple[zipfile.ZipFile, dict[str, zipfile.ZipInfo]]:
    """The members, checked before any is read: count, names, sizes, method."""
    if len(data) > MAX_PACKAGE_BYTES:
        raise PackageInvalid("zip", Text("paket terlalu besar", "package too large"))
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except Exception:  # zipfile raises many kinds on a damaged file (hostile input)
        raise PackageInvalid(
            "zip", Text("bukan berkas ZIP yang utuh", "not an intact ZIP file")
        ) from None
    if len(infos) > MAX_ENTRIES:
        raise PackageInvalid("zip", Text("terlalu banyak isi", "too many entries"))
    members: dict[str, zipfile.ZipInfo] = {}
    total = 0
    for info in infos:
        name = info.filename
        shown = name[:80].encode("ascii", "backslashreplace").decode()
        if not ENTRY_NAME.match(name):
            raise PackageInvalid(
                shown,
                Text("nama isi tidak aman atau tidak dikenal", "unsafe or unknown entry name"),
            )
        if name in members:
            raise PackageInvalid(name, Text("nama isi ganda", "duplicate entry name"))
        total += info.file_size
        if info.file_size > MAX_ENTRY_BYTES or total > MAX_PACKAGE_BYTES:
            raise PackageInvalid(
                name, Text("ukuran yang dinyatakan terlalu besar", "declared size too large")
            )
        if info.compress_type != zipfile.ZIP_STORED or info.flag_bits & 0x1:
            raise PackageInvalid(
                name, Text("isi dimampatkan atau dienkripsi", "entry compressed or encrypted")
            )
        members[name] = info
    return archive, members


def _manifest(body: bytes) -> dict[str, Any]:
    bad = PackageInvalid(MANIFEST, Text("manifes tidak sah", "not a valid manifest"))
    try:
        manifest = json.loads(body.decode())
    except (UnicodeDecodeError, ValueError):
        raise bad from None
    if not isinstance(manifest, dict) or canonical_json(manifest) != body:
        raise bad
    if manifest.get("format") != FORMAT:
        raise PackageInvalid(MANIFEST, Text("versi format tidak dikenal", "unknown format version"))
    files, key = manifest.get("files"), manifest.get("key")
    if not isinstance(files, list) or not 1 <= len(files) <= MAX_ENTRIES - 2:
        raise bad
    names: set[str] = set()
    for entry in files:
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("name"), str)
            or not ENTRY_NAME.match(entry["name"])
            or entry["name"] in (MANIFEST, SIGNATURE, *names)
            or not isinstance(entry.get("sha256"), str)
            or not SHA256_HEX.match(entry["sha256"])
            or isinstance(entry.get("size"), bool)
            or not isinstance(entry.get("size"), int)
        ):
            raise bad
        names.add(entry["name"])
    if f"{DATA_NAME}.json" not in names:
        raise bad
    if not isinstance(key, dict) or key.get("algorithm") != "Ed25519":
        raise bad
    try:
        raw = b64u_decode(str(key.get("public_key")))
    except FormatError:
        raise bad from None
    if len(raw) != 32 or key.get("id") != signing_fingerprint(raw):
        raise bad
    return manifest


def _canonical_check(data: bytes, entries: list[tuple[str, bytes]], at: datetime) -> None:
    expected, regions = _layout(entries, at)
    if expected == data:
        return
    offset = next(
        (i for i, (a, b) in enumerate(zip(data, expected, strict=False)) if a != b),
        min(len(data), len(expected)),
    )
    for region in regions:
        if region.start <= offset < region.end:
            raise PackageInvalid(
                region.entry,
                Text(
                    f"{region.part.id} berbeda dari bentuk kanonik (bita {offset})",
                    f"{region.part.en} differs from the canonical form (byte {offset})",
                ),
            )
    raise PackageInvalid(
        "zip", Text(f"bita tambahan pada posisi {offset}", f"extra bytes at byte {offset}")
    )


def verify(data: bytes, public_key: bytes | None = None) -> Verified:
    """Check a package; PackageInvalid naming the entry on the first problem.

    With `public_key` (raw Ed25519) the manifest must be signed by that key; without it
    the key named in the manifest is used and `pinned` is False."""
    archive, members = _members(data)
    for needed in (MANIFEST, SIGNATURE):
        if needed not in members:
            raise PackageInvalid(needed, Text("tidak ada dalam paket", "missing from the package"))
    if members[MANIFEST].file_size > MAX_MANIFEST_BYTES:
        raise PackageInvalid(MANIFEST, Text("terlalu besar", "too large"))
    body = _read_member(archive, members[MANIFEST])
    signature = (
        _read_member(archive, members[SIGNATURE]) if members[SIGNATURE].file_size == 64 else b""
    )
    manifest = _manifest(body)
    key_text = manifest["key"]["public_key"]
    if public_key is not None and b64u_decode(key_text) != public_key:
        found, wanted = manifest["key"]["id"], signing_fingerprint(public_key)
        raise PackageInvalid(
            SIGNATURE,
            Text(
                f"ditandatangani kunci lain ({found}), bukan {wanted}",
                f"signed by another key ({found}), not {wanted}",
            ),
        )
    try:
        verify_ed25519(key_text, body, signature)
    except SignatureError:
        raise PackageInvalid(
            SIGNATURE,
            Text("tanda tangan manifes tidak sah", "the manifest signature does not verify"),
        ) from None
    listed = [entry["name"] for entry in manifest["files"]]
    for name in listed:
        if name not in members:
            raise PackageInvalid(name, Text("tidak ada dalam paket", "missing from the package"))
    for name in members:
        if name not in (*listed, MANIFEST, SIGNATURE):
            raise PackageInvalid(name, Text("tidak tercantum dalam manifes", "not in the manifest"))
    contents: dict[str, bytes] = {}
    checked = []
    for entry in manifest["files"]:
        name = entry["name"]
        if members[name].file_size != entry["size"]:
            raise PackageInvalid(
                name, Text("ukuran berbeda dari manifes", "size differs from the manifest")
            )
        content = _read_member(archive, members[name])
        if sha256(content).hexdigest() != entry["sha256"]:
            raise PackageInvalid(
                name, Text("SHA-256 berbeda dari manifes", "SHA-256 differs from the manifest")
            )
        contents[name] = content
        checked.append(FileChecked(name, entry["sha256"], entry["size"]))
    try:
        at = datetime.fromisoformat(str(manifest.get("generated_at"))).astimezone(UTC)
    except ValueError:
        raise PackageInvalid(MANIFEST, Text("waktu tidak sah", "not a valid time")) from None
    ordered = [(name, contents[name]) for name in listed]
    _canonical_check(data, [*ordered, (MANIFEST, body), (SIGNATURE, signature)], at)
    figures, consistent = _consistent(manifest, contents)
    return Verified(
        unit=figures.unit,
        unit_name=figures.unit_name,
        period=figures.period,
        public=figures.public,
        suppressed_below=figures.suppressed_below,
        generated_at=str(manifest["generated_at"]),
        key_id=manifest["key"]["id"],
        public_key=key_text,
        pinned=public_key is not None,
        files=tuple(checked),
        consistent=consistent,
        figures=len(figures.rows),
    )


def _consistent(
    manifest: dict[str, Any], contents: dict[str, bytes]
) -> tuple[Figures, tuple[str, ...]]:
    """The JSON agrees with the manifest, and the CSV and XLSX with the JSON."""
    name = f"{DATA_NAME}.json"
    try:
        report = json.loads(contents[name].decode())
        figures = formats.check_report(report, None, public=manifest.get("public") is True)
    except (UnicodeDecodeError, ValueError, ExportRefused):
        raise PackageInvalid(
            name, Text("bukan data indikator yang sah", "not valid indicator data")
        ) from None
    if formats.to_json(figures) != contents[name]:
        raise PackageInvalid(name, Text("bukan JSON kanonik", "not canonical JSON"))
    labels = ("unit", "unit_name", "period", "suppressed_below", "generated_at")
    if any(manifest.get(k) != figures.report.get(k, "") for k in labels):
        raise PackageInvalid(
            MANIFEST,
            Text("label berbeda dengan indikator.json", "labels differ from indikator.json"),
        )
    consistent = []
    for other, check in (
        (f"{DATA_NAME}.csv", formats.csv_problem),
        (f"{DATA_NAME}.xlsx", formats.xlsx_problem),
    ):
        if other in contents:
            problem = check(figures, contents[other])
            if problem is not None:
                raise PackageInvalid(other, problem)
            consistent.append(other)
    return figures, tuple(consistent)
