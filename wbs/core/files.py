"""Stored files and bounded uploads: one content-addressed store, one multipart parser.

`FileStore` keeps files under their sha256 in one directory (report attachments in
`<data dir>/blobs`, ZI evidence in `<data dir>/evidence`): a file is written to a temp file
in that directory, fsynced, renamed to its digest and the directory fsynced, so a stored
name always means whole, durable content. It is the default backend of `wbs.core.blobs`
(`BlobStore`), which also has the S3 one.

`parse_multipart` reads a multipart body within `UploadLimits`, stopping as soon as a
field, a file or the files together pass their limits. File parts go into memory (never a
temp file: the no-JavaScript reporter forms carry plaintext) or, with a store, straight
into that store as its writers (`BlobWriter`), which the service keeps or that vanish.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Collection, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from fastapi import Request
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from wbs.core.blobs import (
    CHUNK,
    MIB,
    BlobStore,
    BlobWriter,
    Counted,
    StoredFile,
    check_name,
    put_into,
    verified,
)
from wbs.core.errors import PayloadTooLarge, ValidationFailed

TEMP_PREFIX = ".tmp-"
PROBE = b"wbs readiness probe"


# --------------------------------------------------------------------------- errors


class FileTooLarge(PayloadTooLarge):
    """A file, the files together or a whole upload over its limit (413).

    The one family of upload size errors: a domain names its own with a subclass that
    overrides `body` and `files` (the ZI evidence upload does).
    """

    message_id = "Lampiran terlalu besar."
    message_en = "An attachment is too large."

    @classmethod
    def body(cls, limits: UploadLimits) -> FileTooLarge:
        """Content-Length says more than the upload may be."""
        mib = limits.body_bytes // MIB
        return cls(
            f"Kiriman terlalu besar (maks. {mib} MiB termasuk lampiran).",
            f"The submission is too large (at most {mib} MiB with attachments).",
        )

    @classmethod
    def files(cls, limits: UploadLimits) -> FileTooLarge:
        """A file part, or the file parts together, went over the limit while arriving."""
        each, total = limits.file_bytes // MIB, limits.total_bytes // MIB
        return cls(
            f"Lampiran terlalu besar (maks. {each} MiB per berkas, {total} MiB seluruhnya).",
            f"Attachments too large (at most {each} MiB each, {total} MiB in all).",
        )


class FormDamaged(ValidationFailed):
    message_id = "Formulir terlalu besar atau rusak."
    message_en = "The form is too large or damaged."


# --------------------------------------------------------------------------- the store


def fsync_dir(root: Path) -> None:
    """Make a rename in `root` durable."""
    with suppress(OSError):  # not every platform can open a directory
        fd = os.open(root, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class StoreWriter(Counted):
    """A file being written into a directory store: counted, hashed and sniffed as it arrives."""

    def __init__(self, store: FileStore, limit: int) -> None:
        store.root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=store.root)
        self.start(limit)
        self.store = store
        self.path = Path(tmp)
        self.file: BinaryIO = os.fdopen(fd, "w+b")
        self.kept: StoredFile | None = None

    def write(self, data: bytes) -> None:
        self.count(data)
        self.file.write(data)

    def flush(self) -> None:
        """Everything written is on disk (so the temp file can be read back by path)."""
        self.file.flush()
        os.fsync(self.file.fileno())

    def reopen(self) -> BinaryIO:
        """The written bytes as a seekable file (for checks of the content)."""
        self.flush()
        return self.path.open("rb")

    def keep(self) -> StoredFile:
        """fsync, rename to the digest, fsync the directory; once."""
        if self.kept is None:
            self.flush()
            self.file.close()
            name = self.digest.hexdigest()
            target = self.store.path(name)
            created = not target.exists()
            os.replace(self.path, target)
            fsync_dir(self.store.root)
            self.kept = StoredFile(name, self.size, created)
        return self.kept

    def discard(self) -> None:
        """Remove the temp file (nothing once it was kept)."""
        with suppress(OSError):
            self.file.close()
        if self.kept is None:
            self.path.unlink(missing_ok=True)


class FileStore:
    """`<root>/<sha256>`: temp file + fsync + rename + directory fsync, in one directory."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def label(self) -> str:
        return str(self.root)

    def path(self, name: str) -> Path:
        return self.root / check_name(name)

    def writer(self, limit: int) -> StoreWriter:
        return StoreWriter(self, limit)

    def put(self, source: BlobWriter | BinaryIO | bytes, max_bytes: int) -> StoredFile:
        """Store bytes, a stream or a finished writer of this store; FileTooLarge past max_bytes."""
        if isinstance(source, StoreWriter) and source.store.root != self.root:
            raise ValueError("a writer of another store")
        return put_into(self, source, max_bytes)

    def discard(self, name: str) -> None:
        """Remove a file this request created and no row will reference."""
        self.path(name).unlink(missing_ok=True)

    def size(self, name: str) -> int | None:
        try:
            return self.path(name).stat().st_size
        except FileNotFoundError:
            return None

    def open(self, name: str) -> BinaryIO:
        return self.path(name).open("rb")

    def chunks(self, name: str) -> Iterator[bytes]:
        """The content in pieces of CHUNK bytes; BlobDamaged at the end if it is not `name`."""
        with self.open(name) as fh:
            yield from verified(name, iter(lambda: fh.read(CHUNK), b""))

    def copy_to(self, name: str, out: BinaryIO) -> None:
        with self.open(name) as fh:
            shutil.copyfileobj(fh, out, CHUNK)

    def names(self) -> Iterator[str]:
        """Every stored file's name (temp files are not stored files)."""
        if self.root.is_dir():
            for entry in self.root.iterdir():
                if not entry.name.startswith(TEMP_PREFIX) and entry.is_file():
                    yield entry.name

    def remove_orphans(self, referenced: Collection[str], *, older_than: float = 3600) -> list[str]:
        """Remove stored files no row references, and abandoned temp files.

        Only files untouched for `older_than` seconds go, so a request that has written
        its files but not yet committed its rows keeps them. Returns the removed blobs' names.
        """
        if not self.root.is_dir():
            return []
        cutoff = time.time() - older_than
        removed = []
        for entry in self.root.iterdir():
            if entry.name in referenced or not entry.is_file():
                continue
            with suppress(FileNotFoundError):
                if entry.stat().st_mtime <= cutoff:
                    entry.unlink()
                    if not entry.name.startswith(TEMP_PREFIX):
                        removed.append(entry.name)
        return sorted(removed)

    def probe(self) -> None:
        """Write a temp file into the directory, read it back, remove it (readiness)."""
        writer = self.writer(len(PROBE))
        try:
            writer.write(PROBE)
            writer.flush()
            if writer.path.read_bytes() != PROBE:
                raise OSError("read back differs")
        finally:
            writer.discard()


# --------------------------------------------------------------------------- the parser


@dataclass(frozen=True)
class UploadLimits:
    body_bytes: int  # the whole body, from Content-Length
    file_bytes: int  # one file part
    total_bytes: int  # the file parts together
    max_files: int
    max_fields: int
    field_bytes: int  # one text part


def check_length(
    request: Request,
    limits: UploadLimits,
    errors: type[FileTooLarge] = FileTooLarge,
    *,
    required: bool = False,
) -> None:
    """Refuse at once what Content-Length says is too large (before a byte is read)."""
    length = request.headers.get("content-length", "")
    if not length.isdigit():
        if required:
            raise ValidationFailed(
                "Panjang data (Content-Length) wajib.", "A Content-Length header is required."
            )
        return
    if int(length) > limits.body_bytes:
        raise errors.body(limits)


class _Parser(MultiPartParser):
    def __init__(self, request: Request, limits: UploadLimits, store: BlobStore | None) -> None:
        super().__init__(
            request.headers,
            request.stream(),
            max_files=limits.max_files,
            max_fields=limits.max_fields,
            max_part_size=limits.field_bytes,
        )
        # In memory, a file never rolls over to disk: the limit stops it first.
        self.spool_max_size = limits.file_bytes + 1
        self.limits = limits
        self.store = store
        self.writers: list[BlobWriter] = []
        self.file_bytes = 0
        self.part_bytes = 0

    def on_headers_finished(self) -> None:
        super().on_headers_finished()
        upload = self._current_part.file
        if upload is not None and self.store is not None:
            upload.file.close()  # the spooled file Starlette made is never used
            writer = self.store.writer(self.limits.file_bytes)
            self.writers.append(writer)
            upload.file = writer.file

    def on_part_begin(self) -> None:
        super().on_part_begin()
        self.part_bytes = 0

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._current_part.file is not None:
            self.part_bytes += end - start
            self.file_bytes += end - start
            limits = self.limits
            if self.part_bytes > limits.file_bytes or self.file_bytes > limits.total_bytes:
                raise _TooLarge("file too large")
            if self.store is not None:
                self.writers[-1].count(data[start:end])
        super().on_part_data(data, start, end)


class _TooLarge(MultiPartException):
    """A file part went over a limit while it was arriving."""


@dataclass
class Upload:
    """A parsed multipart body: its text fields and files (and their writers, with a store)."""

    form: FormData
    writers: list[BlobWriter] = field(default_factory=list)

    def text(self, name: str) -> str:
        value = self.form.get(name)
        return value if isinstance(value, str) else ""

    def files(self, name: str) -> list[UploadFile]:
        return [u for u in self.form.getlist(name) if isinstance(u, UploadFile)]

    def writer(self, upload: UploadFile) -> BlobWriter | None:
        """The store writer a file part went into (None in memory)."""
        return next((w for w in self.writers if upload.file is w.file), None)

    async def close(self) -> None:
        """Remove the writers nobody kept and close the form's files."""
        for writer in self.writers:
            writer.discard()
        await self.form.close()


async def parse_multipart(
    request: Request,
    limits: UploadLimits,
    *,
    store: BlobStore | None = None,
    errors: type[FileTooLarge] = FileTooLarge,
) -> Upload:
    """Parse a multipart body within the limits; file parts into memory or into `store`.

    Raises `errors.files(limits)` as soon as a file or the files pass their limit, and
    `FormDamaged` for anything else the parser refuses. Nothing is left in the store
    when it raises; afterwards the caller keeps the writers it wants and calls `close`.
    """
    parser = _Parser(request, limits, store)
    try:
        return Upload(await parser.parse(), parser.writers)
    except BaseException as exc:
        for writer in parser.writers:
            writer.discard()
        if isinstance(exc, _TooLarge):
            raise errors.files(limits) from None
        if isinstance(exc, MultiPartException):
            raise FormDamaged() from None
        raise
