"""Worksheets as spreadsheets: a fillable LKE-layout template, reading it back, scored export."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet as Sheet

from wbs.core.text import Text
from wbs.zi.errors import AnswerError
from wbs.zi.ruleset import PREDICATES, RuleSet, get_rules
from wbs.zi.scoring import Evaluation, Worksheet, parse_worksheet, to_decimal

SHEET = "LKE"
EVIDENCE_SHEET = "Data Dukung"
SUMMARY_SHEET = "Ringkasan"
HEADER_ROW = 6
COLUMNS = (
    "Kode",
    "Komponen / Pertanyaan",
    "Bobot",
    "Pilihan jawaban",
    "Jawaban",
    "Nilai",
    "Skor",
    "Jenis",
)
COL_CODE, COL_TEXT, COL_WEIGHT, COL_OPTIONS, COL_ANSWER, COL_VALUE, COL_SCORE, COL_KIND = range(
    1, 9
)
INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
BOLD = Font(bold=True)
WRAP = Alignment(wrap_text=True, vertical="top")


def _options_text(rules: RuleSet, scale: str, options: dict[str, str | None] | None) -> str:
    labels = rules.ranked_labels(scale)
    texts = []
    for label in labels:
        text = (options or {}).get(label)
        texts.append(text if text else f"{label} ({rules.scales[scale][label]})")
    return "\n".join(texts)


def _row(sheet: Sheet, values: list[Any], kind: str, bold: bool = False) -> int:
    sheet.append([*values, *[None] * (COL_KIND - 1 - len(values)), kind])
    row = sheet.max_row
    for col in (COL_TEXT, COL_OPTIONS):
        sheet.cell(row, col).alignment = WRAP
    if bold:
        for col in range(1, COL_SCORE + 1):
            sheet.cell(row, col).font = BOLD
    return int(row)


def template(rules: RuleSet) -> Workbook:
    """A fillable workbook in the LKE layout (answers in column E, evidence on its own sheet)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # noqa: S101 (a new workbook has a sheet)
    sheet.title = SHEET
    sheet.append([rules.title])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append(["Aturan / rules", rules.id])
    sheet.append(["Unit kerja / unit", None])
    sheet.append(["Tahun / year", None])
    for cell in ("B3", "B4"):
        sheet[cell].fill = INPUT_FILL
    sheet.append([])
    sheet.append(list(COLUMNS))
    for col in range(1, len(COLUMNS) + 1):
        sheet.cell(HEADER_ROW, col).font = BOLD
    lists: dict[str, DataValidation] = {}
    counts = DataValidation(
        type="whole",
        operator="greaterThanOrEqual",
        formula1="0",
        allow_blank=True,
        showErrorMessage=True,
        error="Jumlah bilangan bulat >= 0 / whole number >= 0",
    )
    sheet.add_data_validation(counts)

    def option_cell(row: int, scale: str) -> None:
        if scale not in lists:
            labels = ",".join(rules.ranked_labels(scale))
            lists[scale] = DataValidation(
                type="list",
                formula1=f'"{labels}"',
                allow_blank=True,
                showErrorMessage=True,
                error=f"Pilih salah satu / choose one of {labels}",
            )
            sheet.add_data_validation(lists[scale])
        lists[scale].add(sheet.cell(row, COL_ANSWER))
        sheet.cell(row, COL_ANSWER).fill = INPUT_FILL

    _row(sheet, ["pengungkit", "PENGUNGKIT", rules.pengungkit.weight], "pengungkit", bold=True)
    for part in rules.pengungkit.parts:
        _row(sheet, [part.code, part.name.upper(), part.weight], "part", bold=True)
        for area in part.areas:
            _row(sheet, [area.code, area.name, area.weight], "area", bold=True)
            for indicator in area.indicators:
                _row(
                    sheet,
                    [indicator.code, indicator.name, indicator.weight],
                    "indicator",
                    bold=True,
                )
                for item in indicator.items:
                    if item.scale is not None:
                        row = _row(
                            sheet,
                            [
                                item.code,
                                item.text,
                                None,
                                _options_text(rules, item.scale, item.options),
                            ],
                            "item",
                        )
                        option_cell(row, item.scale)
                        continue
                    _row(sheet, [item.code, item.text, None, "Rumus / formula"], "formula")
                    for code, label in (item.inputs or {}).items():
                        row = _row(sheet, [code, f"  {label}"], "input")
                        counts.add(sheet.cell(row, COL_ANSWER))
                        sheet.cell(row, COL_ANSWER).fill = INPUT_FILL
    _row(sheet, ["hasil", "HASIL", rules.hasil.weight], "hasil", bold=True)
    for group in rules.hasil.groups:
        _row(sheet, [group.code, group.name, group.weight], "group", bold=True)
        for ind in group.indicators:
            if ind.scale is not None:
                row = _row(
                    sheet,
                    [ind.code, ind.name, ind.weight, _options_text(rules, ind.scale, ind.options)],
                    "hasil-item",
                )
                option_cell(row, ind.scale)
                continue
            assert ind.input is not None  # noqa: S101 (validated rule set)
            low, high = ind.input.min, ind.input.max
            row = _row(
                sheet,
                [ind.code, ind.name, ind.weight, f"{ind.input.kind} {low}..{high}"],
                "hasil-item",
            )
            check = DataValidation(
                type="decimal",
                operator="between",
                formula1=str(low),
                formula2=str(high),
                allow_blank=True,
                showErrorMessage=True,
                error=f"{low}..{high}",
            )
            sheet.add_data_validation(check)
            check.add(sheet.cell(row, COL_ANSWER))
            sheet.cell(row, COL_ANSWER).fill = INPUT_FILL
    _row(sheet, ["total", "TOTAL", rules.total_weight], "total", bold=True)
    for letter, width in zip("ABCDEFGH", (10, 60, 8, 60, 10, 10, 10, 10), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.column_dimensions["H"].hidden = True
    sheet.freeze_panes = sheet.cell(HEADER_ROW + 1, COL_TEXT)

    evidence = book.create_sheet(EVIDENCE_SHEET)
    evidence.append(["Kode", "Tautan / dokumen (link)", "Keterangan / note"])
    for col in range(1, 4):
        evidence.cell(1, col).font = BOLD
    for _area, _indicator, item in rules.items():
        evidence.append([item.code])
    for _group, ind in rules.hasil_indicators():
        evidence.append([ind.code])
    for letter, width in zip("ABC", (10, 70, 50), strict=True):
        evidence.column_dimensions[letter].width = width
    return book


def _cell_value(value: Any) -> Any:
    """Spreadsheet numbers as exact Decimals (floats through their shortest repr)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


MAX_UNPACKED = 50 * 1024 * 1024
MAX_RATIO = 100  # spreadsheet XML packs 5-20 times; far more is a zip bomb
RATIO_FLOOR = 1024 * 1024  # small members may pack as tightly as they like
MAX_MEMBERS = 1000


def _check_unpacked_size(data: bytes) -> None:
    """Refuse zip bombs before openpyxl sees the file: more than MAX_UNPACKED bytes in all
    (as declared; zipfile never inflates a member past its declared size), a member that
    inflates more than MAX_RATIO times, or too many members."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError):
        raise AnswerError(
            "xlsx", Text("berkas bukan xlsx", "file is not an xlsx workbook")
        ) from None
    if len(infos) > MAX_MEMBERS:
        raise AnswerError(
            "xlsx", Text("isi berkas terlalu banyak", "too many parts in the workbook")
        )
    unpacked = sum(info.file_size for info in infos)
    if unpacked > MAX_UNPACKED:
        raise AnswerError("xlsx", Text("isi berkas terlalu besar", "workbook content too large"))
    for info in infos:
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise AnswerError(
                "xlsx",
                Text(
                    f"bagian {info.filename[:80]} memuai lebih dari {MAX_RATIO} kali (zip bomb?)",
                    f"part {info.filename[:80]} inflates more than {MAX_RATIO} times (zip bomb?)",
                ),
            )


# Rows a filled workbook may hold beyond what the template writes (notes, blank lines).
ROW_MARGIN = 100
EVIDENCE_ROW_MARGIN = 1000  # several links per item are fine


@lru_cache(maxsize=8)
def row_caps(rules_id: str) -> tuple[int, int]:
    """The last row `read` accepts on the LKE and evidence sheets of this rule set: the rows
    the template writes for it plus a margin. Derived from the template itself."""
    book = template(get_rules(rules_id))
    return (book[SHEET].max_row + ROW_MARGIN, book[EVIDENCE_SHEET].max_row + EVIDENCE_ROW_MARGIN)


class TooManyRows(AnswerError):
    """A sheet reaches past the row cap of its rule set (e.g. a cell at row 1,000,000)."""

    def __init__(self, sheet: str, row: int | None, cap: int) -> None:
        where = f"baris {row}" if row is not None else f"baris setelah {cap}"
        where_en = f"row {row}" if row is not None else f"rows after {cap}"
        super().__init__(
            f"{sheet}!{row}" if row is not None else sheet,
            Text(
                f"lembar {sheet} berisi {where}, padahal aturan ini paling banyak {cap} baris; "
                f"hapus baris di bawah tabel",
                f"sheet {sheet} has {where_en}, but this rule set takes at most {cap} rows; "
                f"delete the rows below the table",
            ),
        )
        self.row = row
        self.cap = cap


def _capped_rows(
    sheet: Any, name: str, min_row: int, max_col: int, cap: int
) -> Iterator[tuple[Any, ...]]:
    """Cell values of rows min_row..cap; refused as soon as the sheet goes past `cap`.

    `sheet` is read-only: rows stream from the XML and nothing past the cap is read. The
    declared dimension is checked first (it names the far row at once), then ignored, so a
    workbook that understates it cannot hide rows either.
    """
    declared = sheet.max_row
    if isinstance(declared, int) and declared > cap:
        raise TooManyRows(name, declared, cap)
    sheet.reset_dimensions()
    row_number = min_row - 1
    for row in sheet.iter_rows(min_row=min_row, max_col=max_col):
        row_number += 1
        if row_number > cap:
            real = next((c.row for c in row if getattr(c, "row", None)), None)
            raise TooManyRows(name, real, cap)
        yield tuple(getattr(c, "value", None) for c in row)


def read(data: bytes) -> Worksheet:
    """Read a filled workbook back into a validated Worksheet (read-only, bounded)."""
    _check_unpacked_size(data)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise AnswerError(
            "xlsx",
            Text(
                f"berkas tidak dapat dibaca ({type(exc).__name__})",
                f"file cannot be read ({type(exc).__name__})",
            ),
        ) from None
    try:
        return _read_book(book)
    except AnswerError:
        raise
    except Exception as exc:  # damaged sheet XML shows up while the rows stream
        raise AnswerError(
            "xlsx",
            Text(
                f"berkas tidak dapat dibaca ({type(exc).__name__})",
                f"file cannot be read ({type(exc).__name__})",
            ),
        ) from None
    finally:
        book.close()


def _read_book(book: Any) -> Worksheet:
    if SHEET not in book.sheetnames:
        raise AnswerError(SHEET, Text("lembar LKE tidak ada", "sheet LKE is missing"))
    sheet = book[SHEET]
    head = [
        tuple(getattr(c, "value", None) for c in row)
        for row in sheet.iter_rows(min_row=1, max_row=HEADER_ROW, max_col=2)
    ]
    head += [(None, None)] * (HEADER_ROW - len(head))
    rules_id = _cell_value(head[1][1])
    if not isinstance(rules_id, str):
        raise AnswerError(
            "B2",
            Text("kode aturan (mis. lke-2021) tidak ada", "rule set id (e.g. lke-2021) is missing"),
        )
    rules = get_rules(rules_id)
    cap, evidence_cap = row_caps(rules.id)
    answers: dict[str, Any] = {}
    hasil: dict[str, Any] = {}
    for row in _capped_rows(sheet, SHEET, HEADER_ROW + 1, COL_KIND, cap):
        code, kind, answer = row[COL_CODE - 1], row[COL_KIND - 1], _cell_value(row[COL_ANSWER - 1])
        if not isinstance(code, str) or answer is None:
            continue
        if kind in ("item", "input"):
            answers[code] = answer
        elif kind == "hasil-item":
            hasil[code] = answer
        elif kind is not None:
            raise AnswerError(
                code,
                Text(
                    "baris ini tidak diisi (hanya kolom Jawaban butir)",
                    "this row takes no answer (only item answer cells)",
                ),
            )
    evidence = []
    if EVIDENCE_SHEET in book.sheetnames:
        for row in _capped_rows(book[EVIDENCE_SHEET], EVIDENCE_SHEET, 2, 3, evidence_cap):
            code, link, note = (_cell_value(v) for v in row)
            if code is not None and link is not None:
                evidence.append({"code": str(code), "link": str(link), "note": note})
    raw = {
        "rules": rules.id,
        "unit": _cell_value(head[2][1]),
        "year": _cell_value(head[3][1]),
        "answers": answers,
        "hasil": hasil,
        "evidence": evidence,
    }
    if isinstance(raw["year"], Decimal):
        raw["year"] = int(raw["year"])
    return parse_worksheet(raw, rules)


def _number(value: Fraction) -> float:
    """Exact score shown in a spreadsheet cell (Excel stores doubles)."""
    return float(to_decimal(value))


def export(ws: Worksheet, ev: Evaluation) -> Workbook:
    """The filled worksheet with values and scores per row, and a summary sheet."""
    rules = get_rules(ws.rules)
    book = template(rules)
    sheet = book[SHEET]
    sheet["B3"], sheet["B4"] = ws.unit, ws.year
    inputs = {
        code: value
        for answer in ws.answers.values()
        if isinstance(answer, dict)
        for code, value in answer.items()
    }
    level = {
        "pengungkit": {"pengungkit": ev.pengungkit},
        "part": ev.parts,
        "area": ev.areas,
        "indicator": ev.indicators,
        "hasil": {"hasil": ev.hasil},
        "group": ev.hasil_groups,
        "total": {"total": ev.total},
    }
    for row in range(HEADER_ROW + 1, sheet.max_row + 1):
        code, kind = sheet.cell(row, COL_CODE).value, sheet.cell(row, COL_KIND).value
        assert isinstance(code, str)  # noqa: S101 (our own template)
        score_cell, value_cell = sheet.cell(row, COL_SCORE), sheet.cell(row, COL_VALUE)
        if kind in level:
            score_cell.value = _number(level[str(kind)][code])
        elif kind in ("item", "formula"):
            answer = ws.answers.get(code)
            if isinstance(answer, str):
                sheet.cell(row, COL_ANSWER).value = answer
            if code in ev.items:
                value_cell.value = _number(ev.items[code])
            score_cell.value = _number(ev.item_scores[code])
        elif kind == "input" and code in inputs:
            sheet.cell(row, COL_ANSWER).value = inputs[code]
        elif kind == "hasil-item":
            raw = ws.hasil.get(code)
            sheet.cell(row, COL_ANSWER).value = float(raw) if isinstance(raw, Decimal) else raw
            value_cell.value = _number(ev.hasil_values[code])
            score_cell.value = _number(ev.hasil_indicators[code])
        for cell in (value_cell, score_cell):
            cell.number_format = "0.00"
    evidence = book[EVIDENCE_SHEET]
    rows = {evidence.cell(r, 1).value: r for r in range(2, evidence.max_row + 1)}
    for link in ws.evidence:
        at = rows.get(link.code)
        if at is None or evidence.cell(at, 2).value:
            evidence.append([link.code, link.link, link.note])
        else:
            evidence.cell(at, 2).value, evidence.cell(at, 3).value = link.link, link.note
    _summary(book.create_sheet(SUMMARY_SHEET, 0), rules, ev)
    return book


def _summary(sheet: Sheet, rules: RuleSet, ev: Evaluation) -> None:
    sheet.append([rules.title])
    sheet.append(["Unit", ev.unit, "Tahun", ev.year])
    sheet.append(
        [
            "Predikat / predicate",
            ev.predicate or "-",
            "" if ev.predicate_determined else "belum dapat ditentukan / undetermined",
        ]
    )
    sheet.append([])
    sheet.append(["Kode", "Uraian", "Skor", "Bobot", *(f"Min {p}" for p in PREDICATES)])
    sheet.append(
        [
            "total",
            "Total",
            _number(ev.total),
            rules.total_weight,
            *(
                rules.predicates[p].total_minimum if p in rules.predicates else None
                for p in PREDICATES
            ),
        ]
    )
    sheet.append(
        [
            "pengungkit",
            "Pengungkit",
            _number(ev.pengungkit),
            rules.pengungkit.weight,
            *((rules.pengungkit.minimum or {}).get(p) for p in PREDICATES),
        ]
    )
    for part, area in rules.area_parts():
        sheet.append(
            [
                area.code,
                f"{part.name}: {area.name}",
                _number(ev.areas[area.code]),
                area.weight,
                *((area.minimum or {}).get(p) for p in PREDICATES),
            ]
        )
    for group in rules.hasil.groups:
        sheet.append(
            [
                group.code,
                group.name,
                _number(ev.hasil_groups[group.code]),
                group.weight,
                *((group.minimum or {}).get(p) for p in PREDICATES),
            ]
        )
        for ind in group.indicators:
            sheet.append(
                [
                    ind.code,
                    ind.name,
                    _number(ev.hasil_indicators[ind.code]),
                    ind.weight,
                    *((ind.minimum or {}).get(p) for p in PREDICATES),
                ]
            )
    sheet.append([])
    for name in PREDICATES:
        for s in ev.shortfalls.get(name, []):
            sheet.append([f"Kurang {name}", s.code, float(s.score), float(s.minimum)])
        if name in ev.undetermined:
            sheet.append([f"{name} belum dapat ditentukan", ev.undetermined[name]])
    if ev.unanswered:
        sheet.append(["Belum dijawab / unanswered", ", ".join(ev.unanswered)])
    sheet.column_dimensions["B"].width = 60
    sheet["A1"].font = Font(bold=True, size=13)


def to_bytes(book: Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
