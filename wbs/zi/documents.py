"""Evidence files (data dukung): which files are accepted, their names and download headers.

The upload and the storage are `wbs.core.files` (see `wbs.zi.evidence`): a file part is
written while it arrives into `<data dir>/evidence`, then `keep` checks its name and
content against these rules before the store keeps it under its digest.
"""

from __future__ import annotations

import re
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, BinaryIO
from urllib.parse import quote

from starlette.datastructures import UploadFile

from wbs.core.blobs import BlobWriter
from wbs.core.errors import ValidationFailed
from wbs.core.files import FileTooLarge, Upload, UploadLimits

MAX_NAME = 200


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
    ".docx": DocType(
        "DOCX",
        _OOXML + "wordprocessingml.document",
        "zip",
        ("[Content_Types].xml", "word/document.xml"),
    ),
    ".xlsx": DocType(
        "XLSX", _OOXML + "spreadsheetml.sheet", "zip", ("[Content_Types].xml", "xl/workbook.xml")
    ),
    ".pptx": DocType(
        "PPTX",
        _OOXML + "presentationml.presentation",
        "zip",
        ("[Content_Types].xml", "ppt/presentation.xml"),
    ),
    ".odt": DocType("ODT", _ODF + "text", "zip", odf_mimetype=_ODF + "text"),
    ".ods": DocType("ODS", _ODF + "spreadsheet", "zip", odf_mimetype=_ODF + "spreadsheet"),
    ".txt": DocType("TXT", "text/plain", "text"),
    ".csv": DocType("CSV", "text/csv", "text"),
}
ACCEPT = ",".join(TYPES)
KINDS = "PDF, PNG, JPEG, DOCX, XLSX, PPTX, ODT, ODS, TXT"
BINARY_MAGIC = (b"%PDF-", b"\x89PNG", b"\xff\xd8\xff", b"PK\x03\x04", b"MZ", b"\x7fELF")


class DocumentTooLarge(FileTooLarge):
    code = "zi_evidence_too_large"

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"Berkas data dukung terlalu besar (paling besar {size_text(limit)}).",
            f"The evidence file is too large (at most {size_text(limit)}).",
            details={"max_bytes": limit},
        )

    @classmethod
    def body(cls, limits: UploadLimits) -> FileTooLarge:
        return cls(limits.file_bytes)

    @classmethod
    def files(cls, limits: UploadLimits) -> FileTooLarge:
        return cls(limits.file_bytes)


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


def _zip_matches(written: BinaryIO, kind: DocType) -> bool:
    try:
        with zipfile.ZipFile(written) as archive:
            names = set(archive.namelist())
            if kind.members:
                return all(member in names for member in kind.members)
            info = archive.getinfo("mimetype")
            if info.file_size > 128:
                return False
            return archive.read(info).strip() == kind.odf_mimetype.encode()
    except (
        zipfile.BadZipFile,
        KeyError,
        OSError,
        RuntimeError,
        NotImplementedError,
        ValueError,
        EOFError,
        zlib.error,
    ):
        return False


def content_matches(kind: DocType, head: bytes, written: BinaryIO) -> bool:
    """Do the first bytes (and, for ZIP-based formats, the archive) fit the type?"""
    if kind.magic == "pdf":
        return b"%PDF-" in head[:1024]
    if kind.magic == "png":
        return head.startswith(b"\x89PNG\r\n\x1a\n")
    if kind.magic == "jpeg":
        return head.startswith(b"\xff\xd8\xff")
    if kind.magic == "zip":
        return head.startswith(b"PK\x03\x04") and _zip_matches(written, kind)
    return b"\x00" not in head and not head.startswith(BINARY_MAGIC)


@dataclass(frozen=True)
class StoredDocument:
    name: str
    content_type: str
    size: int
    sha256: str


@dataclass(frozen=True)
class IncomingDocument:
    """The uploaded file: the name it was sent with and the store writer it went into."""

    filename: str
    writer: BlobWriter


def chosen(upload: Upload) -> IncomingDocument:
    """The form's `file` part; refused when none was chosen."""
    part = upload.form.get("file")
    writer = upload.writer(part) if isinstance(part, UploadFile) else None
    if not isinstance(part, UploadFile) or not part.filename or writer is None:
        raise DocumentRefused(
            "Pilih berkas data dukung.", "Choose an evidence file.", details={"field": "file"}
        )
    return IncomingDocument(part.filename, writer)


def keep(incoming: IncomingDocument) -> StoredDocument:
    """Check the name and content, then make the file durable under its digest."""
    name = clean_name(incoming.filename)
    kind = doc_type(name)
    writer = incoming.writer
    if writer.size == 0:
        raise DocumentRefused(
            "Berkas data dukung kosong.", "The evidence file is empty.", details={"field": "file"}
        )
    with writer.reopen() as written:
        matches = content_matches(kind, writer.head, written)
    if not matches:
        raise DocumentRefused(
            f"Isi berkas '{name}' bukan {kind.label} seperti nama berkasnya.",
            f"The content of '{name}' is not {kind.label} as its name says.",
            details={"field": "file"},
        )
    stored = writer.keep()
    return StoredDocument(name, kind.content_type, stored.size, stored.name)


def download_headers(name: str, content_type: str) -> dict[str, Any]:
    """Headers of a download: never rendered inline, never sniffed, sandboxed if opened."""
    return {
        "Content-Type": content_type,
        "Content-Disposition": content_disposition(name),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox",
    }
