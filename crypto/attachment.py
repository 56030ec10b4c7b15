"""Streaming attachment encryption (format version 1) with constant memory.

Stream: header `0x01 || 0x07 || nonce_prefix(7) || chunk_size(4)`, then chunks of
`chunk_size` plaintext bytes (the last may be shorter, even empty), each
`AES-256-GCM(key, nonce_prefix || counter(4) || last(1), chunk, aad = header || context)`.
Truncation, reordering and splicing between files fail with DecryptError.

Decryption yields plaintext chunk by chunk: a consumer must treat what it received as
unconfirmed until the iterator finishes without error (a truncated stream is only detected
at its end). `decrypt_stream` documents how to do that with files.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from crypto.boxes import (
    TAG_LEN,
    VERSION,
    DataKey,
    Kind,
    Label,
    ReportContext,
    as_data_key,
    open_box,
    seal_box,
)
from crypto.encoding import encode_context
from crypto.errors import DecryptError, FormatError

DEFAULT_CHUNK_SIZE = 65536
MAX_CHUNK_SIZE = 16 * 1024 * 1024
HEADER_LEN = 13
PREFIX_LEN = 7
MAX_CHUNKS = 2**32

Source = BinaryIO | Iterable[bytes] | bytes | bytearray | memoryview


def _fields(ctx: ReportContext, attachment_id: str) -> tuple[str, ...]:
    if not isinstance(attachment_id, str) or not attachment_id:
        raise FormatError("attachment_id is required")
    return (*ctx.fields, attachment_id)


def _stream_key(data_key: DataKey | bytes, attachment_id: str) -> AESGCM:
    info = Label.ATTACHMENT.encode() + attachment_id.encode("utf-8")
    return AESGCM(as_data_key(data_key).subkey(info))


class _ChunkCipher:
    __slots__ = ("_aad", "_aead", "_counter", "_finished", "_prefix")

    def __init__(self, aead: AESGCM, prefix: bytes, aad: bytes) -> None:
        self._aead = aead
        self._prefix = prefix
        self._aad = aad
        self._counter = 0
        self._finished = False

    @property
    def finished(self) -> bool:
        return self._finished

    def _nonce(self, last: bool) -> bytes:
        if self._finished:
            raise FormatError("stream already finished")
        if self._counter >= MAX_CHUNKS:
            raise FormatError("too many chunks")
        nonce = self._prefix + self._counter.to_bytes(4, "big") + (b"\x01" if last else b"\x00")
        self._counter += 1
        self._finished = last
        return nonce

    def __repr__(self) -> str:
        return f"{type(self).__name__}(chunks={self._counter}, key=***)"


class AttachmentEncryptor(_ChunkCipher):
    """Encrypts one attachment chunk by chunk. `header` goes first on the wire."""

    __slots__ = ("chunk_size", "header")

    def __init__(
        self,
        data_key: DataKey | bytes,
        ctx: ReportContext,
        attachment_id: str,
        *,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> None:
        if not isinstance(chunk_size, int) or not 1 <= chunk_size <= MAX_CHUNK_SIZE:
            raise FormatError("bad chunk size")
        fields = _fields(ctx, attachment_id)
        prefix = os.urandom(PREFIX_LEN)
        self.chunk_size = chunk_size
        self.header = (
            bytes([VERSION, Kind.ATTACHMENT_STREAM]) + prefix + chunk_size.to_bytes(4, "big")
        )
        aad = self.header + encode_context(Label.ATTACHMENT, *fields)
        super().__init__(_stream_key(data_key, attachment_id), prefix, aad)

    def encrypt_chunk(self, plaintext: bytes, last: bool) -> bytes:
        if len(plaintext) > self.chunk_size or (not last and len(plaintext) != self.chunk_size):
            raise FormatError("only the last chunk may be shorter than the chunk size")
        return self._aead.encrypt(self._nonce(last), plaintext, self._aad)


def parse_header(header: bytes) -> tuple[bytes, int]:
    """(nonce prefix, chunk size) of a stream header; DecryptError if it is not v1."""
    if len(header) != HEADER_LEN or header[0] != VERSION or header[1] != Kind.ATTACHMENT_STREAM:
        raise DecryptError()
    chunk_size = int.from_bytes(header[9:13], "big")
    if not 1 <= chunk_size <= MAX_CHUNK_SIZE:
        raise DecryptError()
    return bytes(header[2:9]), chunk_size


class AttachmentDecryptor(_ChunkCipher):
    """Decrypts one attachment chunk by chunk, after its header."""

    __slots__ = ("chunk_size", "cipher_chunk_size")

    def __init__(
        self, data_key: DataKey | bytes, ctx: ReportContext, attachment_id: str, header: bytes
    ) -> None:
        fields = _fields(ctx, attachment_id)
        header = bytes(header)
        prefix, self.chunk_size = parse_header(header)
        self.cipher_chunk_size = self.chunk_size + TAG_LEN
        aad = header + encode_context(Label.ATTACHMENT, *fields)
        super().__init__(_stream_key(data_key, attachment_id), prefix, aad)

    def decrypt_chunk(self, ciphertext: bytes, last: bool) -> bytes:
        n = len(ciphertext)
        if n < TAG_LEN or n > self.cipher_chunk_size or (not last and n != self.cipher_chunk_size):
            self._finished = True
            raise DecryptError()
        try:
            return self._aead.decrypt(self._nonce(last), bytes(ciphertext), self._aad)
        except (InvalidTag, FormatError):
            self._finished = True
            raise DecryptError() from None


# ---------------------------------------------------------------- sources and regrouping


def _pieces(source: Source, read_size: int) -> Iterator[bytes]:
    if isinstance(source, bytes | bytearray | memoryview):
        view = memoryview(source)
        for offset in range(0, len(view), read_size):
            yield bytes(view[offset : offset + read_size])
    elif hasattr(source, "read"):
        while True:
            piece = source.read(read_size)
            if not piece:
                return
            yield piece
    else:
        for piece in source:
            yield bytes(piece)


def _regroup(pieces: Iterator[bytes], size: int) -> Iterator[tuple[bytes, bool]]:
    """Pieces of exactly `size` bytes (the last may be shorter or empty), with a last flag."""
    buffer = bytearray()
    pending: bytes | None = None
    for piece in pieces:
        buffer += piece
        while len(buffer) >= size:
            if pending is not None:
                yield pending, False
            pending = bytes(buffer[:size])
            del buffer[:size]
        if buffer and pending is not None:
            yield pending, False
            pending = None
    if buffer:
        if pending is not None:
            yield pending, False
        yield bytes(buffer), True
    elif pending is not None:
        yield pending, True
    else:
        yield b"", True


# ---------------------------------------------------------------- whole streams


def encrypt_chunks(
    data_key: DataKey | bytes,
    ctx: ReportContext,
    attachment_id: str,
    source: Source,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> Iterator[bytes]:
    """Yield the header, then each ciphertext chunk; memory stays at a few chunks."""
    enc = AttachmentEncryptor(data_key, ctx, attachment_id, chunk_size=chunk_size)
    yield enc.header
    for chunk, last in _regroup(_pieces(source, chunk_size), chunk_size):
        yield enc.encrypt_chunk(chunk, last)


def decrypt_chunks(
    data_key: DataKey | bytes, ctx: ReportContext, attachment_id: str, source: Source
) -> Iterator[bytes]:
    """Yield plaintext chunks of a stream (header + chunks); DecryptError on any tampering.

    Output is confirmed only when the iterator ends without raising.
    """
    pieces = _pieces(source, DEFAULT_CHUNK_SIZE + TAG_LEN)
    head = bytearray()
    for piece in pieces:
        head += piece
        if len(head) >= HEADER_LEN:
            break
    if len(head) < HEADER_LEN:
        raise DecryptError()
    dec = AttachmentDecryptor(data_key, ctx, attachment_id, bytes(head[:HEADER_LEN]))
    rest = bytes(head[HEADER_LEN:])

    def remaining() -> Iterator[bytes]:
        if rest:
            yield rest
        yield from pieces

    for chunk, last in _regroup(remaining(), dec.cipher_chunk_size):
        yield dec.decrypt_chunk(chunk, last)


def _pump(pieces: Iterator[bytes], out: BinaryIO) -> int:
    written = 0
    for piece in pieces:
        out.write(piece)
        written += len(piece)
    return written


def encrypt_stream(
    data_key: DataKey | bytes,
    ctx: ReportContext,
    attachment_id: str,
    source: Source,
    out: BinaryIO,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> int:
    """Encrypt `source` into the file-like `out`; returns the number of bytes written."""
    return _pump(encrypt_chunks(data_key, ctx, attachment_id, source, chunk_size=chunk_size), out)


def decrypt_stream(
    data_key: DataKey | bytes,
    ctx: ReportContext,
    attachment_id: str,
    source: Source,
    out: BinaryIO,
) -> int:
    """Decrypt into the file-like `out`; returns plaintext bytes written.

    On DecryptError `out` holds an unconfirmed prefix: write to a temporary file and
    discard it on error (never show it).
    """
    return _pump(decrypt_chunks(data_key, ctx, attachment_id, source), out)


def encrypt_attachment(
    data_key: DataKey | bytes,
    ctx: ReportContext,
    attachment_id: str,
    data: bytes,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> bytes:
    """Whole-buffer convenience for small files."""
    return b"".join(encrypt_chunks(data_key, ctx, attachment_id, data, chunk_size=chunk_size))


def decrypt_attachment(
    data_key: DataKey | bytes, ctx: ReportContext, attachment_id: str, stream: Source
) -> bytes:
    """Whole-buffer convenience: all of the plaintext, or DecryptError."""
    return b"".join(decrypt_chunks(data_key, ctx, attachment_id, stream))


def ciphertext_size(plaintext_size: int, chunk_size: int = DEFAULT_CHUNK_SIZE) -> int:
    """Exact size of the encrypted stream for a plaintext of `plaintext_size` bytes."""
    chunks = max(1, -(-plaintext_size // chunk_size))
    return HEADER_LEN + plaintext_size + chunks * TAG_LEN


# ---------------------------------------------------------------- metadata box


@dataclass(frozen=True)
class AttachmentMetadata:
    name: str
    content_type: str

    def __repr__(self) -> str:
        return "AttachmentMetadata(***)"


def seal_attachment_metadata(
    data_key: DataKey | bytes,
    ctx: ReportContext,
    attachment_id: str,
    name: str,
    content_type: str,
) -> bytes:
    """File name and content type in a box of kind 0x06 bound to the attachment id."""
    if not isinstance(name, str) or not isinstance(content_type, str):
        raise FormatError("name and content_type are required")
    body = json.dumps(
        {"name": name, "content_type": content_type}, ensure_ascii=False, separators=(",", ":")
    ).encode()
    fields = _fields(ctx, attachment_id)
    return seal_box(data_key, Kind.ATTACHMENT_METADATA, Label.ATTACHMENT, fields, body)


def open_attachment_metadata(
    data_key: DataKey | bytes, ctx: ReportContext, attachment_id: str, box: bytes
) -> AttachmentMetadata:
    fields = _fields(ctx, attachment_id)
    body = open_box(data_key, Kind.ATTACHMENT_METADATA, Label.ATTACHMENT, fields, box)
    try:
        value = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise DecryptError() from None
    if (
        not isinstance(value, dict)
        or not isinstance(value.get("name"), str)
        or not isinstance(value.get("content_type"), str)
    ):
        raise DecryptError()
    return AttachmentMetadata(value["name"], value["content_type"])
