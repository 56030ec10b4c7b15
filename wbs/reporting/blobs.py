"""Encrypted attachment streams on disk, content-addressed, written atomically."""

from __future__ import annotations

import os
import shutil
import tempfile
from hashlib import sha256
from pathlib import Path
from typing import BinaryIO

from wbs.core.errors import PayloadTooLarge

CHUNK = 1024 * 1024


class FileTooLarge(PayloadTooLarge):
    message_id = "Lampiran terlalu besar."
    message_en = "An attachment is too large."


class BlobStore:
    """`WBS_DATA_DIR/blobs/<sha256>`: temp file + fsync + rename in the same directory."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, name: str) -> Path:
        if len(name) != 64 or any(c not in "0123456789abcdef" for c in name):
            raise ValueError("bad blob name")
        return self.root / name

    def put(self, source: BinaryIO | bytes, max_bytes: int) -> tuple[str, int, bool]:
        """Store a ciphertext stream: (name, size, newly created). FileTooLarge past max_bytes."""
        self.root.mkdir(parents=True, exist_ok=True)
        digest = sha256()
        size = 0
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=self.root)
        try:
            with os.fdopen(fd, "wb") as out:
                if isinstance(source, bytes):
                    if len(source) > max_bytes:
                        raise FileTooLarge()
                    out.write(source)
                    digest.update(source)
                    size = len(source)
                else:
                    while chunk := source.read(CHUNK):
                        size += len(chunk)
                        if size > max_bytes:
                            raise FileTooLarge()
                        digest.update(chunk)
                        out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            name = digest.hexdigest()
            created = not (self.root / name).exists()
            os.replace(tmp, self.root / name)
            return name, size, created
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def discard(self, name: str) -> None:
        """Remove a blob this request created and no row will reference."""
        self.path(name).unlink(missing_ok=True)

    def open(self, name: str) -> BinaryIO:
        return self.path(name).open("rb")

    def copy_to(self, name: str, out: BinaryIO) -> None:
        with self.open(name) as fh:
            shutil.copyfileobj(fh, out, CHUNK)
