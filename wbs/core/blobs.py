"""Blob stores: one protocol, two backends (a directory, or S3-compatible object storage).

Every store keeps content under its sha256 (hex) name. `FileStore` (`wbs.core.files`) is a
directory under `WBS_DATA_DIR`; `S3Store` keeps `<prefix>/<store>/<sha256>` in a bucket
(`WBS_BLOB_URL=s3://bucket/prefix`). Both stream: a writer takes parts as they arrive (S3: a
multipart upload of a temp object in parts of `WBS_S3_PART_MIB`, copied to its digest on
`keep`), and `chunks` yields the content in pieces, checking it against its name at the end
(`BlobDamaged`). Orphans (a request that stored and then failed, a crash in between) go with
`discard` at once and `remove_orphans` later (`wbs blobs gc`).
"""

from __future__ import annotations

import asyncio
import io
import uuid
from collections.abc import Collection, Iterator
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from hashlib import sha256
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol, runtime_checkable
from urllib.parse import urlsplit

from starlette.responses import Response, StreamingResponse

from wbs.core.errors import DomainError

if TYPE_CHECKING:
    from wbs.core.settings import Settings

MIB = 1024 * 1024
CHUNK = MIB
SNIFF_BYTES = 8192
STORE_NAMES = ("blobs", "evidence", "exports")
HEX = frozenset("0123456789abcdef")


class BlobDamaged(RuntimeError):
    """Stored content does not match its name (its sha256)."""


def check_name(name: str) -> str:
    if len(name) != 64 or not set(name) <= HEX:
        raise ValueError("bad stored file name")
    return name


@dataclass(frozen=True)
class StoredFile:
    name: str  # the sha256 of the content, hex
    size: int
    created: bool  # False when the same content was stored already


class Counted:
    """Counting, hashing and sniffing of bytes as they arrive (shared by the writers)."""

    limit: int
    size: int
    head: bytes

    def start(self, limit: int) -> None:
        self.limit = limit
        self.digest = sha256()
        self.size = 0
        self.head = b""  # the first bytes, for type checks

    def count(self, data: bytes) -> None:
        """Account for bytes written to `file` by someone else (the multipart parser)."""
        from wbs.core.files import FileTooLarge

        self.size += len(data)
        if self.size > self.limit:
            raise FileTooLarge()
        self.digest.update(data)
        if len(self.head) < SNIFF_BYTES:
            self.head += data[: SNIFF_BYTES - len(self.head)]


@runtime_checkable
class BlobWriter(Protocol):
    """A blob being written: `file` takes the bytes, `count` accounts for them."""

    file: Any
    size: int
    head: bytes

    def count(self, data: bytes) -> None: ...
    def write(self, data: bytes) -> None: ...
    def flush(self) -> None: ...
    def reopen(self) -> BinaryIO: ...
    def keep(self) -> StoredFile: ...
    def discard(self) -> None: ...


class BlobStore(Protocol):
    """What every backend offers; names are sha256 hex digests of the content."""

    @property
    def label(self) -> str: ...

    def writer(self, limit: int) -> BlobWriter: ...
    def put(self, source: BlobWriter | BinaryIO | bytes, max_bytes: int) -> StoredFile: ...
    def discard(self, name: str) -> None: ...
    def size(self, name: str) -> int | None: ...
    def chunks(self, name: str) -> Iterator[bytes]: ...
    def names(self) -> Iterator[str]: ...
    def remove_orphans(
        self, referenced: Collection[str], *, older_than: float = 3600
    ) -> list[str]: ...
    def probe(self) -> None: ...


def put_into(store: BlobStore, source: BlobWriter | BinaryIO | bytes, max_bytes: int) -> StoredFile:
    """`put` for every backend: a finished writer is kept, bytes or a stream are written."""
    from wbs.core.files import FileTooLarge

    if isinstance(source, BlobWriter):
        if source.size > max_bytes:
            source.discard()
            raise FileTooLarge()
        return source.keep()
    writer = store.writer(max_bytes)
    try:
        if isinstance(source, bytes):
            writer.write(source)
        else:
            while chunk := source.read(CHUNK):
                writer.write(chunk)
        return writer.keep()
    finally:
        writer.discard()


def verified(name: str, pieces: Iterator[bytes]) -> Iterator[bytes]:
    """Pass the pieces on; BlobDamaged at the end when they do not hash to `name`."""
    digest = sha256()
    for piece in pieces:
        digest.update(piece)
        yield piece
    if digest.hexdigest() != name:
        raise BlobDamaged(f"stored blob {name[:12]}… does not match its name")


async def blob_response(
    store: BlobStore,
    name: str | None,
    *,
    missing: DomainError,
    headers: dict[str, str],
    media_type: str | None = None,
) -> Response:
    """Stream a stored blob (bounded memory); `missing` when it is not (or no longer) stored."""
    size = await asyncio.to_thread(store.size, name) if name else None
    if name is None or size is None:
        raise missing
    return StreamingResponse(
        store.chunks(name), media_type=media_type, headers={**headers, "Content-Length": str(size)}
    )


# --------------------------------------------------------------------------- S3


@dataclass(frozen=True)
class S3Location:
    bucket: str
    prefix: str  # "" or ending in "/"

    @classmethod
    def parse(cls, url: str) -> S3Location:
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc or parts.query or parts.fragment:
            raise ValueError("WBS_BLOB_URL must look like s3://bucket/prefix")
        prefix = parts.path.strip("/")
        return cls(parts.netloc, f"{prefix}/" if prefix else "")


_clients: dict[tuple[Any, ...], Any] = {}


def s3_client(settings: Settings) -> Any:
    """A boto3 S3 client from the WBS_S3_* settings (credentials: settings, else boto3's
    chain); one per configuration and process (boto3 clients are thread-safe)."""
    import boto3
    from botocore.config import Config

    secret = settings.s3_secret_access_key
    config = (
        settings.s3_endpoint_url,
        settings.s3_region,
        settings.s3_access_key_id,
        secret.get_secret_value() if secret else None,
        settings.s3_addressing_style,
    )
    if config in _clients:
        return _clients[config]
    _clients[config] = client = boto3.session.Session().client(
        "s3",
        endpoint_url=settings.s3_endpoint_url,
        region_name=settings.s3_region,
        aws_access_key_id=settings.s3_access_key_id,
        aws_secret_access_key=secret.get_secret_value() if secret else None,
        config=Config(
            s3={"addressing_style": settings.s3_addressing_style},
            retries={"max_attempts": 5, "mode": "standard"},
            connect_timeout=10,
            read_timeout=60,
            max_pool_connections=32,
        ),
    )
    return client


class _PartSink(io.RawIOBase):
    """The writable file of an `S3Writer`: bytes gather into parts of `part_bytes`, each
    uploaded as soon as it is full, so at most one part is held in memory."""

    def __init__(self, owner: S3Writer) -> None:
        self.owner = owner
        self.buffer = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        size = memoryview(data).nbytes
        self.buffer += data
        part_bytes = self.owner.store.part_bytes
        while len(self.buffer) >= part_bytes:
            with memoryview(self.buffer) as whole:
                part = bytes(whole[:part_bytes])
            del self.buffer[:part_bytes]
            self.owner.upload_part(part)
        return size

    def seek(self, offset: int, whence: int = 0) -> int:
        """Starlette rewinds an upload when its part ends; a sink has nothing to rewind."""
        return 0

    def close(self) -> None:
        """Closing the form's file keeps what was written; the writer decides its fate."""
        super().close()


class S3Writer(Counted):
    """A blob arriving into S3: a multipart upload of a temp key, copied to its digest."""

    def __init__(self, store: S3Store, limit: int) -> None:
        self.start(limit)
        self.store = store
        self.temp_key = f"{store.temp_prefix}{uuid.uuid4().hex}"
        self.file = _PartSink(self)
        self.upload_id: str | None = None
        self.parts: list[dict[str, Any]] = []
        self.finished = False
        self.kept: StoredFile | None = None

    def upload_part(self, data: bytes) -> None:
        s3, bucket = self.store.client, self.store.bucket
        if self.upload_id is None:
            made = s3.create_multipart_upload(Bucket=bucket, Key=self.temp_key)
            self.upload_id = made["UploadId"]
        number = len(self.parts) + 1
        done = s3.upload_part(
            Bucket=bucket, Key=self.temp_key, UploadId=self.upload_id, PartNumber=number, Body=data
        )
        self.parts.append({"PartNumber": number, "ETag": done["ETag"]})

    def write(self, data: bytes) -> None:
        self.count(data)
        self.file.write(data)

    def flush(self) -> None:
        """Finish the temp object (the last part, or one PUT for a small blob)."""
        if self.finished:
            return
        s3, bucket, rest = self.store.client, self.store.bucket, bytes(self.file.buffer)
        self.file.buffer.clear()
        if self.upload_id is None:
            s3.put_object(Bucket=bucket, Key=self.temp_key, Body=rest)
        else:
            if rest:
                self.upload_part(rest)
            s3.complete_multipart_upload(
                Bucket=bucket,
                Key=self.temp_key,
                UploadId=self.upload_id,
                MultipartUpload={"Parts": self.parts},
            )
        self.finished = True

    def reopen(self) -> BinaryIO:
        """The written bytes as a seekable file (ranged reads; for checks of the content)."""
        self.flush()
        return io.BufferedReader(_RangeReader(self.store, self.temp_key, self.size), CHUNK)

    def keep(self) -> StoredFile:
        """Finish, copy the temp object to its digest, drop the temp.

        The copy happens even when the digest is stored already: it renews the object's
        time, so `remove_orphans` cannot take it while this request's row is uncommitted
        (the directory store's rename does the same)."""
        if self.kept is None:
            self.flush()
            name = self.digest.hexdigest()
            created = self.store.size(name) is None
            self.store.client.copy(
                {"Bucket": self.store.bucket, "Key": self.temp_key},
                self.store.bucket,
                self.store.key(name),
            )
            self.store.client.delete_object(Bucket=self.store.bucket, Key=self.temp_key)
            self.kept = StoredFile(name, self.size, created)
        return self.kept

    def discard(self) -> None:
        """Abort the upload or remove the temp object (nothing once it was kept)."""
        if self.kept is not None:
            return
        s3, bucket = self.store.client, self.store.bucket
        with suppress(Exception):  # gc removes what a failing discard leaves
            if self.upload_id is not None and not self.finished:
                s3.abort_multipart_upload(Bucket=bucket, Key=self.temp_key, UploadId=self.upload_id)
            elif self.finished:
                s3.delete_object(Bucket=bucket, Key=self.temp_key)
        self.kept = StoredFile("", 0, False)  # discarded: never kept afterwards


class _RangeReader(io.RawIOBase):
    """A read-only, seekable view of one object by HTTP range requests."""

    def __init__(self, store: S3Store, key: str, size: int) -> None:
        self.store, self.key, self.length, self.position = store, key, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self.position, 2: self.length}[whence]
        self.position = max(0, base + offset)
        return self.position

    def tell(self) -> int:
        return self.position

    def readinto(self, buffer: Any) -> int:
        want = min(len(buffer), self.length - self.position)
        if want <= 0:
            return 0
        end = self.position + want - 1
        got = self.store.client.get_object(
            Bucket=self.store.bucket, Key=self.key, Range=f"bytes={self.position}-{end}"
        )["Body"].read()
        buffer[: len(got)] = got
        self.position += len(got)
        return len(got)


class S3Store:
    """`s3://bucket/prefix/<store>/<sha256>`; temp objects under `<prefix>.tmp/<store>/`."""

    def __init__(self, client: Any, location: S3Location, store: str, part_bytes: int) -> None:
        self.client = client
        self.bucket = location.bucket
        self.root_prefix = f"{location.prefix}{store}/"
        self.temp_prefix = f"{location.prefix}.tmp/{store}/"
        self.part_bytes = part_bytes
        self.label = f"s3://{self.bucket}/{self.root_prefix}"

    def key(self, name: str) -> str:
        return self.root_prefix + check_name(name)

    def writer(self, limit: int) -> S3Writer:
        return S3Writer(self, limit)

    def put(self, source: BlobWriter | BinaryIO | bytes, max_bytes: int) -> StoredFile:
        return put_into(self, source, max_bytes)

    def discard(self, name: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.key(name))

    def size(self, name: str) -> int | None:
        from botocore.exceptions import ClientError

        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self.key(name))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return None
            raise
        return int(head["ContentLength"])

    def chunks(self, name: str) -> Iterator[bytes]:
        body = self.client.get_object(Bucket=self.bucket, Key=self.key(name))["Body"]
        try:
            yield from verified(name, body.iter_chunks(CHUNK))
        finally:
            body.close()

    def _objects(self, prefix: str) -> Iterator[dict[str, Any]]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix
        )
        for page in pages:
            yield from page.get("Contents", [])

    def names(self) -> Iterator[str]:
        for item in self._objects(self.root_prefix):
            name = item["Key"][len(self.root_prefix) :]
            if len(name) == 64 and set(name) <= HEX:
                yield name

    def remove_orphans(self, referenced: Collection[str], *, older_than: float = 3600) -> list[str]:
        """Blobs no row references, temp objects and unfinished uploads older than the grace."""
        cutoff = datetime.now(UTC) - timedelta(seconds=older_than)
        removed = []
        for item in self._objects(self.root_prefix):
            name = item["Key"][len(self.root_prefix) :]
            if name not in referenced and item["LastModified"] <= cutoff:
                self.client.delete_object(Bucket=self.bucket, Key=item["Key"])
                removed.append(name)
        for item in self._objects(self.temp_prefix):
            if item["LastModified"] <= cutoff:
                self.client.delete_object(Bucket=self.bucket, Key=item["Key"])
        pages = self.client.get_paginator("list_multipart_uploads").paginate(
            Bucket=self.bucket, Prefix=self.temp_prefix
        )
        for page in pages:
            for upload in page.get("Uploads", []):
                if upload["Initiated"] <= cutoff:
                    self.client.abort_multipart_upload(
                        Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                    )
        return sorted(removed)

    def probe(self) -> None:
        """Write a small temp object, read it back, remove it (readiness)."""
        key = f"{self.temp_prefix}probe-{uuid.uuid4().hex}"
        data = b"wbs readiness probe"
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data)
        try:
            if self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read() != data:
                raise OSError("read back differs")
        finally:
            self.client.delete_object(Bucket=self.bucket, Key=key)


# --------------------------------------------------------------------------- choosing one


def open_stores(settings: Settings) -> dict[str, BlobStore]:
    """Every blob store by name: S3 when WBS_BLOB_URL is set, else directories."""
    from wbs.core.files import FileStore

    if settings.blob_url:
        client = s3_client(settings)
        location = S3Location.parse(settings.blob_url)
        part = settings.s3_part_mib * MIB
        return {name: S3Store(client, location, name, part) for name in STORE_NAMES}
    return {name: FileStore(settings.data_dir / name) for name in STORE_NAMES}


def open_store(settings: Settings, name: str) -> BlobStore:
    return open_stores(settings)[name]
