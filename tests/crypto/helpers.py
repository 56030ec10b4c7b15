"""Shared helpers for the Python crypto tests."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from hypothesis import strategies as st

from crypto.boxes import ReportContext
from crypto.errors import DecryptError

CANARY = "KANARI-py-3e9a1f-RAHASIA"

texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=200)
names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=40)
fields = st.dictionaries(names, texts, max_size=6)


def new_context(unit: str = "DEMO", channel: str = "wbs") -> ReportContext:
    return ReportContext(unit, channel, str(uuid.uuid4()))


def every_byte_flipped(data: bytes, attempt: Callable[[bytes], object]) -> int:
    """Flip each byte in turn; every attempt must raise DecryptError('cannot decrypt')."""
    for i in range(len(data)):
        bad = bytearray(data)
        bad[i] ^= 0x01 if i % 2 else 0x80
        with pytest.raises(DecryptError) as info:
            attempt(bytes(bad))
        assert str(info.value) == "cannot decrypt"
    return len(data)
