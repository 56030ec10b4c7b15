"""Attachment streams: round trips in every shape, tampering, truncation, reordering,
splicing, constant memory; the metadata box."""

from __future__ import annotations

import io
import tracemalloc
import uuid
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.attachment import (
    HEADER_LEN,
    AttachmentDecryptor,
    AttachmentEncryptor,
    ciphertext_size,
    decrypt_attachment,
    decrypt_chunks,
    decrypt_stream,
    encrypt_attachment,
    encrypt_chunks,
    encrypt_stream,
    open_attachment_metadata,
    seal_attachment_metadata,
)
from crypto.boxes import TAG_LEN, DataKey
from crypto.errors import DecryptError, FormatError
from tests.crypto.helpers import CANARY, every_byte_flipped, names, new_context

DK = DataKey.generate()
CTX = new_context()


def split(data: bytes, sizes: list[int]) -> Iterator[bytes]:
    offset, i = 0, 0
    while offset < len(data):
        step = max(1, sizes[i % len(sizes)]) if sizes else len(data)
        yield data[offset : offset + step]
        offset += step
        i += 1


@settings(max_examples=40, deadline=None)
@given(
    data=st.binary(max_size=600),
    chunk=st.integers(1, 70),
    pieces=st.lists(st.integers(1, 90), max_size=5),
)
def test_round_trip_any_size_chunk_and_piece_boundaries(
    data: bytes, chunk: int, pieces: list[int]
) -> None:
    aid = str(uuid.uuid4())
    stream = b"".join(encrypt_chunks(DK, CTX, aid, split(data, pieces), chunk_size=chunk))
    assert len(stream) == ciphertext_size(len(data), chunk)
    assert b"".join(decrypt_chunks(DK, CTX, aid, split(stream, pieces))) == data
    assert decrypt_attachment(DK, CTX, aid, io.BytesIO(stream)) == data


def test_file_like_in_and_out() -> None:
    data = bytes(range(256)) * 1000
    src, enc, dec = io.BytesIO(data), io.BytesIO(), io.BytesIO()
    written = encrypt_stream(DK, CTX, "a1", src, enc, chunk_size=4096)
    assert written == len(enc.getvalue()) == ciphertext_size(len(data), 4096)
    enc.seek(0)
    assert decrypt_stream(DK, CTX, "a1", enc, dec) == len(data)
    assert dec.getvalue() == data


def test_exact_multiple_of_chunk_size_has_no_empty_tail() -> None:
    stream = encrypt_attachment(DK, CTX, "a", b"x" * 64, chunk_size=32)
    assert len(stream) == HEADER_LEN + 2 * (32 + TAG_LEN)
    empty = encrypt_attachment(DK, CTX, "a", b"", chunk_size=32)
    assert len(empty) == HEADER_LEN + TAG_LEN
    assert decrypt_attachment(DK, CTX, "a", empty) == b""


def chunks_of(stream: bytes, chunk: int) -> tuple[bytes, list[bytes]]:
    body = stream[HEADER_LEN:]
    size = chunk + TAG_LEN
    return stream[:HEADER_LEN], [body[i : i + size] for i in range(0, len(body), size)]


def refused(stream: bytes, aid: str = "a") -> None:
    with pytest.raises(DecryptError, match=r"^cannot decrypt$"):
        decrypt_attachment(DK, CTX, aid, stream)


def test_truncation_at_every_length_fails() -> None:
    stream = encrypt_attachment(DK, CTX, "a", b"0123456789" * 10, chunk_size=16)
    for n in range(len(stream)):
        refused(stream[:n])


def test_dropping_the_last_chunk_fails_even_on_a_chunk_boundary() -> None:
    stream = encrypt_attachment(DK, CTX, "a", b"z" * 64, chunk_size=16)
    header, chunks = chunks_of(stream, 16)
    assert len(chunks) == 4
    for keep in range(4):
        refused(header + b"".join(chunks[:keep]))


def test_reordered_duplicated_and_extended_chunks_fail() -> None:
    stream = encrypt_attachment(DK, CTX, "a", bytes(range(80)), chunk_size=16)
    header, chunks = chunks_of(stream, 16)
    refused(header + chunks[1] + chunks[0] + b"".join(chunks[2:]))
    refused(header + chunks[0] + b"".join(chunks))
    refused(stream + chunks[-1])
    refused(stream + b"\x00")


def test_splicing_between_files_fails() -> None:
    a = encrypt_attachment(DK, CTX, "a", b"A" * 48, chunk_size=16)
    b = encrypt_attachment(DK, CTX, "a", b"B" * 48, chunk_size=16)  # same key, other prefix
    c = encrypt_attachment(DK, CTX, "c", b"C" * 48, chunk_size=16)  # other attachment id
    ha, ca = chunks_of(a, 16)
    hb, cb = chunks_of(b, 16)
    _, cc = chunks_of(c, 16)
    refused(ha + ca[0] + cb[1] + ca[2])
    refused(hb + b"".join(ca))
    refused(ha + ca[0] + ca[1] + cc[2])
    refused(a, "c")  # a whole stream under another attachment id
    other_report = new_context()
    with pytest.raises(DecryptError):
        decrypt_attachment(DK, other_report, "a", a)
    with pytest.raises(DecryptError):
        decrypt_attachment(DataKey.generate(), CTX, "a", a)


def test_every_byte_flipped_fails() -> None:
    stream = encrypt_attachment(DK, CTX, "a", b"isi lampiran " + CANARY.encode(), chunk_size=8)
    every_byte_flipped(stream, lambda bad: decrypt_attachment(DK, CTX, "a", bad))


def test_chunk_level_api_enforces_sizes_and_order() -> None:
    enc = AttachmentEncryptor(DK, CTX, "a", chunk_size=4)
    with pytest.raises(FormatError):
        enc.encrypt_chunk(b"abc", last=False)
    c0 = enc.encrypt_chunk(b"abcd", last=False)
    c1 = enc.encrypt_chunk(b"ef", last=True)
    with pytest.raises(FormatError):
        enc.encrypt_chunk(b"", last=True)
    dec = AttachmentDecryptor(DK, CTX, "a", enc.header)
    assert dec.decrypt_chunk(c0, last=False) == b"abcd"
    with pytest.raises(DecryptError):  # claiming the final chunk is not last
        AttachmentDecryptor(DK, CTX, "a", enc.header).decrypt_chunk(c1, last=False)
    assert dec.decrypt_chunk(c1, last=True) == b"ef"
    with pytest.raises(DecryptError):
        dec.decrypt_chunk(c1, last=True)
    for size in (0, 16 * 1024 * 1024 + 1):
        with pytest.raises(FormatError):
            AttachmentEncryptor(DK, CTX, "a", chunk_size=size)
    with pytest.raises(DecryptError):
        AttachmentDecryptor(DK, CTX, "a", enc.header[:-4] + (2**31).to_bytes(4, "big"))
    assert "***" in repr(enc)


def test_memory_stays_constant_for_a_large_stream() -> None:
    """32 MiB through encrypt and decrypt generators; the peak Python allocation is a few
    chunks, not the file (the 1 GiB figure is in bench/crypto_bench.py)."""
    total, piece = 32 * 1024 * 1024, 1024 * 1024

    def source() -> Iterator[bytes]:
        block = bytes(piece)
        for _ in range(total // piece):
            yield block

    tracemalloc.start()
    try:
        seen = 0
        ciphertext = encrypt_chunks(DK, CTX, "big", source())
        for chunk in decrypt_chunks(DK, CTX, "big", ciphertext):
            seen += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seen == total
    assert peak < 8 * 1024 * 1024, peak


@settings(max_examples=25, deadline=None)
@given(name=names, content_type=st.sampled_from(["image/jpeg", "application/pdf", ""]))
def test_metadata_round_trip_and_binding(name: str, content_type: str) -> None:
    aid = str(uuid.uuid4())
    box = seal_attachment_metadata(DK, CTX, aid, name, content_type)
    meta = open_attachment_metadata(DK, CTX, aid, box)
    assert (meta.name, meta.content_type) == (name, content_type)
    assert name not in repr(meta) or name in "AttachmentMetadata(***)"
    with pytest.raises(DecryptError):
        open_attachment_metadata(DK, CTX, str(uuid.uuid4()), box)


def test_metadata_every_byte_flipped_fails() -> None:
    box = seal_attachment_metadata(DK, CTX, "a", CANARY + ".pdf", "application/pdf")
    every_byte_flipped(box, lambda bad: open_attachment_metadata(DK, CTX, "a", bad))
