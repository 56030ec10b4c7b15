"""Answers files: `.yaml`, `.json` (the reference contract) and `.xlsx` (the LKE workbook)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import yaml

from wbs.core.text import Text
from wbs.zi import workbook
from wbs.zi.errors import AnswerError
from wbs.zi.ruleset import load_yaml
from wbs.zi.scoring import Worksheet, parse_worksheet

MAX_BYTES = 10 * 1024 * 1024
IMPORT_BODY_BYTES = MAX_BYTES + 64 * 1024  # the import form: the file and a few fields
SUFFIXES = (".yaml", ".yml", ".json", ".xlsx")


def parse_bytes(data: bytes, suffix: str) -> Worksheet:
    """Parse an answers document given its file suffix."""
    suffix = suffix.lower()
    if len(data) > MAX_BYTES:
        raise AnswerError("file", Text("berkas terlalu besar", "file too large"))
    if suffix == ".xlsx":
        return workbook.read(data)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise AnswerError("file", Text("berkas bukan UTF-8", "file is not UTF-8")) from None
    if suffix in (".yaml", ".yml"):
        try:
            raw = load_yaml(text)
        except yaml.YAMLError as exc:
            where = getattr(exc, "problem_mark", None)
            line = f"line {where.line + 1}" if where is not None else "file"
            raise AnswerError(line, Text("YAML tidak valid", "not valid YAML")) from None
    elif suffix == ".json":
        try:
            raw = json.loads(text, parse_float=Decimal)
        except json.JSONDecodeError as exc:
            raise AnswerError(
                f"line {exc.lineno}", Text("JSON tidak valid", "not valid JSON")
            ) from None
    else:
        raise AnswerError(
            "file",
            Text(
                f"jenis berkas tidak didukung ({suffix})",
                f"unsupported file type ({suffix}); use {', '.join(SUFFIXES)}",
            ),
        )
    return parse_worksheet(raw)


def load(path: Path) -> Worksheet:
    """Read an answers file from disk."""
    if path.stat().st_size > MAX_BYTES:
        raise AnswerError(path.name, Text("berkas terlalu besar", "file too large"))
    return parse_bytes(path.read_bytes(), path.suffix)
