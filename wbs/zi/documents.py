"""Evidence files (data dukung): accepted types, streamed upload, content-addressed storage.

The bytes live in `<data dir>/evidence/<sha256>`. A file part is written while it arrives
to a temp file in that directory (never to /tmp), refused as soon as it passes the limit,
checked for its type, then fsynced and renamed to its digest.
"""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
import zipfile
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from fastapi import Request
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from wbs.core.errors import PayloadTooLarge, ValidationFailed

MiB = 1024 * 1024
DEFAULT_MAX_BYTES = 20 * MiB
MAX_NAME = 200
FIELD_BYTES = 16 * 1024  # one text field of the form (a note is at most 2000 characters)
MAX_FIELDS = 8
FORM_OVERHEAD = MAX_FIELDS * FIELD_BYTES + 64 * 1024
SNIFF_BYTES = 8192


class DocumentSettings(BaseSettings):
    """`WBS_ZI_EVIDENCE_MAX_BYTES`: the largest evidence file accepted (default 20 MiB)."""

    model_config = SettingsConfigDict(env_prefix="WBS_ZI_EVIDENCE_", extra="ignore")

    max_bytes: int = Field(default=DEFAULT_MAX_BYTES, ge=1, le=1024 * MiB)


def max_bytes() -> int:
    return DocumentSettings().max_bytes


BODY_SLACK = 64 * 1024


def upload_body_limit(_app: Any = None) -> int:
    """The body limit of the evidence upload routes (see wbs.core.bodylimit): the ceiling
    `receive` checks (the file limit and the form's other fields) and a little more, so
    that `receive`, which names the file limit (`zi_evidence_too_large`), answers first."""
    return max_bytes() + FORM_OVERHEAD + BODY_SLACK


@dataclass(frozen=True)
class DocType:
    label: str
    content_type: str
    magic: str  # pdf, png, jpeg, zip or text
    members: tuple[str, ...] = ()  # ZIP members an Office Open XML file must hold
    odf_mimetype: str = ""  # the `mimetype` member of an OpenDocument file


_OOXML = "application/vnd.openxmlformats-officedocument."
_ODF = "application/vnd.oasis.opendocument."
TYPES: dict[str, DocType] = {
    ".pdf": DocType("PDF", "application/pdf", "pdf"),
    ".png": DocType("PNG", "image/png", "png"),
    ".jpg": DocType("JPEG", "image/jpeg", "jpeg"),
    ".jpeg": DocType("JPEG", "image/jpeg", "jpeg"),
    ".docx": DocType("DOCX", _OOXML + "wordprocessingml.document", "zip",
                     ("[Content_Types].xml", "word/document.xml")),
    ".xlsx": DocType("XLSX", _OOXML + "spreadsheetml.sheet", "zip",
                     ("[Content_Types].xml", "xl/workbook.xml")),
    ".pptx": DocType("PPTX", _OOXML + "presentationml.presentation", "zip",
                     ("[Content_Types].xml", "ppt/presentation.xml")),
    ".odt": DocType("ODT", _ODF + "text", "zip", odf_mimetype=_ODF + "text"),
    ".ods": DocType("ODS", _ODF + "spreadsheet", "zip", odf_mimetype=_ODF + "spreadsheet"),
    ".txt": DocType("TXT", "text/plain", "text"),
    ".csv": DocType("CSV", "text/csv", "text"),
}
ACCEPT = ",".join(TYPES)
KINDS = "PDF, PNG, JPEG, DOCX, XLSX, PPTX, ODT, ODS, TXT"
BINARY_MAGIC = (b"%PDF-", b"\x89PNG", b"\xff\xd8\xff", b"PK\x03\x04", b"MZ", b"\x7fELF")


class DocumentTooLarge(PayloadTooLarge):
    code = "zi_evidence_too_large"

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"Berkas data dukung terlalu besar (paling besar {size_text(limit)}).",
            f"The evidence file is too large (at most {size_text(limit)}).",
            details={"max_bytes": limit},
        )


class DocumentRefused(ValidationFailed):
    code = "zi_evidence_file"


def size_text(size: int | None) -> str:
    """1536 -> '1.5 KiB'; whole numbers without decimals."""
    value = float(size or 0)
    for unit in ("B", "KiB", "MiB"):
        if value < 1024 or unit == "MiB":
            text = f"{value:.1f}".removesuffix(".0") if unit != "B" else str(int(value))
            return f"{text} {unit}"
        value /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


_UNSAFE_NAME = re.compile(r'["*/:<>?\\|]')


def _name_char(c: str) -> str:
    """Format characters (bidi overrides, zero widths) go, control characters become spaces."""
    category = unicodedata.category(c)
    if category == "Cf":
        return ""
    return " " if category.startswith("C") else c


def clean_name(raw: str) -> str:
    """The last path segment, without control or format characters, at most 200 characters."""
    name = unicodedata.normalize("NFC", raw).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(_name_char(c) for c in name)
    name = " ".join(_UNSAFE_NAME.sub("_", name).split()).strip(". ")
    if len(name) > MAX_NAME:
        suffix = PurePosixPath(name).suffix
        suffix = suffix if len(suffix) <= 16 else ""
        name = name[: MAX_NAME - len(suffix)].rstrip(". ") + suffix
    return name


def content_disposition(name: str) -> str:
    """`attachment` with an ASCII fallback and the UTF-8 name (RFC 6266, RFC 8187)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    fallback = " ".join(re.sub(r"[^A-Za-z0-9._ ()-]", "_", ascii_name).split())
    suffix = PurePosixPath(name).suffix
    if not re.search(r"[A-Za-z0-9]", fallback.removesuffix(suffix)):
        fallback = "data-dukung" + (suffix if suffix.isascii() else "")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _refuse_type(name: str) -> DocumentRefused:
    suffix = PurePosixPath(name).suffix.lower() or name
    return DocumentRefused(
        f"Jenis berkas '{suffix}' tidak diterima. Unggah {KINDS} atau CSV.",
        f"File type '{suffix}' is not accepted. Upload {KINDS} or CSV.",
        details={"field": "file", "accepted": sorted(TYPES)},
    )


def doc_type(name: str) -> DocType:
    """The accepted type a file name says it is; refused when its extension is not one."""
    found = TYPES.get(PurePosixPath(name).suffix.lower())
    if found is None:
        raise _refuse_type(name)
    return found


def _zip_matches(path: Path, kind: DocType) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if kind.members:
                return all(member in names for member in kind.members)
            info = archive.getinfo("mimetype")
            if info.file_size > 128:
                return False
            return archive.read(info).strip() == kind.odf_mimetype.encode()
    except (zipfile.BadZipFile, KeyError, OSError, RuntimeError, NotImplementedError,
            ValueError, EOFError, zlib.error):
        return False


def content_matches(kind: DocType, head: bytes, path: Path) -> bool:
    """Do the first bytes (and, for ZIP-based formats, the archive) fit the type?"""
    if kind.magic == "pdf":
        return b"%PDF-" in head[:1024]
    if kind.magic == "png":
        return head.startswith(b"\x89PNG\r\n\x1a\n")
    if kind.magic == "jpeg":
        return head.startswith(b"\xff\xd8\xff")
    if kind.magic == "zip":
        return head.startswith(b"PK\x03\x04") and _zip_matches(path, kind)
    return b"\x00" not in head and not head.startswith(BINARY_MAGIC)


@dataclass(frozen=True)
class StoredDocument:
    name: str
    content_type: str
    size: int
    sha256: str


class Incoming:
    """One file part being written to a temp file next to where it will be kept."""

    def __init__(self, root: Path, filename: str) -> None:
        root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=root)
        self.path = Path(tmp)
        self.file = os.fdopen(fd, "w+b")
        self.filename = filename
        self.digest = sha256()
        self.size = 0
        self.head = b""

    def feed(self, data: bytes, limit: int) -> None:
        self.size += len(data)
        if self.size > limit:
            raise _TooLarge("file too large")
        self.digest.update(data)
        if len(self.head) < SNIFF_BYTES:
            self.head += data[: SNIFF_BYTES - len(self.head)]

    def discard(self) -> None:
        """Remove the temp file (nothing once it was kept)."""
        with suppress(OSError):
            self.file.close()
        self.path.unlink(missing_ok=True)


class EvidenceStore:
    """`<data dir>/evidence/<sha256>`: temp file + fsync + rename in the same directory."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def of(cls, request: Request) -> EvidenceStore:
        return cls(Path(request.app.state.settings.data_dir) / "evidence")

    def path(self, digest: str) -> Path:
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ValueError("bad evidence file name")
        return self.root / digest

    def keep(self, incoming: Incoming) -> StoredDocument:
        """Check the name and content, then make the file durable under its digest."""
        name = clean_name(incoming.filename)
        kind = doc_type(name)
        if incoming.size == 0:
            raise DocumentRefused("Berkas data dukung kosong.", "The evidence file is empty.",
                                  details={"field": "file"})
        incoming.file.flush()
        os.fsync(incoming.file.fileno())
        if not content_matches(kind, incoming.head, incoming.path):
            raise DocumentRefused(
                f"Isi berkas '{name}' bukan {kind.label} seperti nama berkasnya.",
                f"The content of '{name}' is not {kind.label} as its name says.",
                details={"field": "file"},
            )
        incoming.file.close()
        digest = incoming.digest.hexdigest()
        os.replace(incoming.path, self.path(digest))
        _fsync_dir(self.root)
        return StoredDocument(name, kind.content_type, incoming.size, digest)


def _fsync_dir(root: Path) -> None:
    with suppress(OSError):  # not every platform can open a directory
        fd = os.open(root, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class _TooLarge(MultiPartException):
    """The file part went over the limit while it was arriving."""


class DocumentParser(MultiPartParser):
    """Multipart parsing whose one file part goes straight into the evidence directory."""

    def __init__(self, request: Request, root: Path, limit: int) -> None:
        super().__init__(request.headers, request.stream(), max_files=1, max_fields=MAX_FIELDS,
                         max_part_size=FIELD_BYTES)
        self.root = root
        self.limit = limit
        self.incoming: Incoming | None = None

    def on_headers_finished(self) -> None:
        super().on_headers_finished()
        upload = self._current_part.file
        if upload is not None:
            upload.file.close()  # the spooled file Starlette made is never used
            self.incoming = Incoming(self.root, upload.filename or "")
            upload.file = self.incoming.file

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._current_part.file is not None and self.incoming is not None:
            self.incoming.feed(data[start:end], self.limit)
        super().on_part_data(data, start, end)


@dataclass
class Upload:
    form: FormData
    incoming: Incoming | None

    def text(self, name: str) -> str:
        value = self.form.get(name)
        return value if isinstance(value, str) else ""

    def file(self) -> Incoming:
        """The uploaded file; refused when none was chosen."""
        upload = self.form.get("file")
        if (not isinstance(upload, UploadFile) or not upload.filename or self.incoming is None
                or upload.file is not self.incoming.file):
            raise DocumentRefused("Pilih berkas data dukung.", "Choose an evidence file.",
                                  details={"field": "file"})
        return self.incoming


@asynccontextmanager
async def receive(request: Request, store: EvidenceStore, limit: int) -> AsyncIterator[Upload]:
    """Parse a multipart upload within the limit; the temp file is gone afterwards."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise DocumentRefused("Kirim berkas sebagai multipart/form-data.",
                              "Send the file as multipart/form-data.", details={"field": "file"})
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit + FORM_OVERHEAD:
        raise DocumentTooLarge(limit)
    parser = DocumentParser(request, store.root, limit)
    try:
        try:
            form = await parser.parse()
        except _TooLarge:
            raise DocumentTooLarge(limit) from None
        except MultiPartException:
            raise DocumentRefused("Formulir terlalu besar atau rusak.",
                                  "The form is too large or damaged.") from None
        yield Upload(form, parser.incoming)
    finally:
        if parser.incoming is not None:
            parser.incoming.discard()


def download_headers(name: str, content_type: str) -> dict[str, Any]:
    """Headers of a download: never rendered inline, never sniffed, sandboxed if opened."""
    return {
        "Content-Type": content_type,
        "Content-Disposition": content_disposition(name),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox",
    }
