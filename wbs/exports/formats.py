"""The indicator figures as files: JSON (the machine contract), CSV, XLSX and PDF.

What may be written is decided once, in `check_report`: fixed label keys (unit code and
name, period, dates, k), identifier keys, and leaves that are an int, a finite float,
None or the suppression mark "<k". Anything else (free text, a list, a bool, an unknown
key) is refused, naming where it was and never what it was. The writers take only the
checked `Figures`, so nothing but those figures can reach an export.

Every writer is deterministic: the same figures give the same bytes (dates from
`generated_at`, fixed ZIP times in the workbook, reportlab's invariant mode).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from xml.sax.saxutils import escape

from wbs.core.errors import ValidationFailed
from wbs.core.text import Text
from wbs.units.models import CHANNEL_NAMES, CaseType
from wbs.units.service import UNIT_CODE

Leaf = int | float | str | None

CHANNELS = tuple(c.value for c in CaseType)
TOTAL = "total"
BLOCKS = (*CHANNELS, TOTAL)
BLOCK_NAMES: dict[str, Text] = {c.value: CHANNEL_NAMES[c] for c in CaseType} | {
    TOTAL: Text("Jumlah semua kanal", "All channels")
}
SHEETS = {
    "pengaduan": "Pengaduan",
    "wbs": "WBS",
    "gratifikasi": "Gratifikasi",
    "benturan_kepentingan": "Benturan Kepentingan",
    TOTAL: "Total",
}
ABOUT_SHEET, DEFINITIONS_SHEET = "Tentang", "Definisi"
FIRST_DATA_ROW = 3  # a title row, a header row, then the figures

PERIOD = re.compile(r"^(20\d\d)(-Q[1-4]|-(0[1-9]|1[0-2]))?$")
KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,47}$")
MAX_DEPTH = 3  # indicator -> key -> sub-key
MAX_CHILDREN = 5000
MAX_CHILD_LEVELS = 8
MAX_NAME = 200
# A complementary suppression (wbs/indicators/suppression.py): a withheld cell of k or more,
# shown so that a "<k" cell cannot be recovered from totals and differences.
WITHHELD = "x"
LABEL_KEYS = frozenset(
    {"unit", "unit_name", "period", "period_start", "period_end", "generated_at"}
    | {"suppressed_below", "as_of"}
)
ALLOWED_KEYS = LABEL_KEYS | {"channels", "total", "children"}
REQUIRED_TOP = frozenset({"unit", "period", "period_start", "period_end", "generated_at"}) | {
    "suppressed_below",
    "channels",
    "total",
}
REQUIRED_CHILD = frozenset({"unit", "channels", "total"})
CSV_HEADER = (
    "unit",
    "period",
    "channel",
    "indicator",
    "key",
    "value",
    "definition_id",
    "definition_en",
)


class ExportRefused(ValidationFailed):
    """The figures hold something an export must not carry (or is not a report at all)."""

    code = "export_refused"
    message_id = "Data indikator tidak dapat diekspor."
    message_en = "The indicator data cannot be exported."


def _refuse(where: str, problem: Text) -> ExportRefused:
    return ExportRefused(
        f"Ekspor ditolak: {where}: {problem.id}.",
        f"Export refused: {where}: {problem.en}.",
        details={"field": where},
    )


@dataclass(frozen=True)
class Row:
    """One figure: a unit's value of an indicator (or of one key of it) in a block."""

    unit: str
    channel: str  # one of BLOCKS
    indicator: str
    key: str  # "" for a plain value, "a" or "a.b" inside a nested one
    value: Leaf

    @property
    def name(self) -> str:
        return f"{self.indicator}.{self.key}" if self.key else self.indicator


@dataclass(frozen=True)
class Figures:
    """A checked indicator report: what the writers may write, and nothing else."""

    report: dict[str, Any]
    rows: tuple[Row, ...]
    definitions: dict[str, Text]  # the definitions used, by the name rows look them up with
    public: bool

    @property
    def unit(self) -> str:
        return str(self.report["unit"])

    @property
    def unit_name(self) -> str:
        return str(self.report.get("unit_name") or "")

    @property
    def period(self) -> str:
        return str(self.report["period"])

    @property
    def generated_at(self) -> datetime:
        return datetime.fromisoformat(self.report["generated_at"]).astimezone(UTC)

    @property
    def suppressed_below(self) -> int | None:
        k = self.report["suppressed_below"]
        return k if isinstance(k, int) else None

    def definition(self, row: Row) -> Text | None:
        for name in (row.name, row.indicator):
            if name in self.definitions:
                return self.definitions[name]
        return None


# --------------------------------------------------------------------------- the check


def _leaf(value: object, where: str, mark: str | None) -> Leaf:
    if value is None:
        return None
    if isinstance(value, bool):
        raise _refuse(where, Text("nilai ya/tidak bukan angka", "a boolean is not a figure"))
    if isinstance(value, int):
        if abs(value) > 2**53:
            raise _refuse(where, Text("angka terlalu besar", "number too large"))
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _refuse(where, Text("angka tidak terhingga", "not a finite number"))
        return value
    if isinstance(value, str) and mark is not None and value in (mark, WITHHELD):
        return value
    raise _refuse(
        where,
        Text(
            f"nilai harus angka, kosong, {mark} atau {WITHHELD}"
            if mark
            else "nilai harus angka atau kosong (tanpa penyamaran)",
            f"a value must be a number, null, {mark} or {WITHHELD}"
            if mark
            else "a value must be a number or null (unsuppressed)",
        ),
    )


def _block(block: object, where: str, mark: str | None, depth: int = 1) -> dict[str, Any]:
    if not isinstance(block, dict):
        raise _refuse(where, Text("harus objek indikator", "must be an object of indicators"))
    out: dict[str, Any] = {}
    for key, value in block.items():
        if not isinstance(key, str) or not KEY.match(key):
            raise _refuse(where, Text("nama indikator tidak sah", "an indicator name is not valid"))
        inner = f"{where}.{key}"
        if isinstance(value, dict):
            if depth >= MAX_DEPTH:
                raise _refuse(inner, Text("bersarang terlalu dalam", "nested too deep"))
            out[key] = _block(value, inner, mark, depth + 1)
        else:
            out[key] = _leaf(value, inner, mark)
    return out


def _label(key: str, value: object, where: str) -> object:
    bad = _refuse(f"{where}{key}", Text("label tidak sah", "not a valid label"))
    if key == "suppressed_below":
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not 2 <= value <= 100:
            raise bad
        return value
    if not isinstance(value, str):
        raise bad
    if key == "unit" and not UNIT_CODE.match(value):
        raise bad
    if key == "unit_name" and (
        len(value) > MAX_NAME or any(not c.isprintable() for c in value) or not value.strip()
    ):
        raise bad
    if key == "period" and not PERIOD.match(value):
        raise bad
    try:
        if key in ("period_start", "period_end", "as_of"):
            date.fromisoformat(value)
        if key == "generated_at" and datetime.fromisoformat(value).tzinfo is None:
            raise bad
    except ValueError:
        raise bad from None
    return value


def _unit_report(
    raw: object, where: str, mark: str | None, required: frozenset[str], level: int
) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise _refuse(where or "report", Text("harus objek", "must be an object"))
    unknown = [k for k in raw if k not in ALLOWED_KEYS]
    if unknown:
        raise _refuse(where or "report", Text("kunci tidak dikenal", "an unknown key"))
    missing = sorted(required - raw.keys())
    if missing:
        raise _refuse(f"{where}{missing[0]}", Text("wajib ada", "is required"))
    out: dict[str, Any] = {k: _label(k, raw[k], where) for k in LABEL_KEYS if k in raw}
    channels = raw["channels"]
    if not isinstance(channels, dict) or set(channels) != set(CHANNELS):
        raise _refuse(
            f"{where}channels", Text("harus memuat keempat kanal", "must hold the four channels")
        )
    out["channels"] = {c: _block(channels[c], f"{where}channels.{c}", mark) for c in CHANNELS}
    out["total"] = _block(raw["total"], f"{where}total", mark)
    if "children" in raw:
        children = raw["children"]
        if not isinstance(children, list) or len(children) > MAX_CHILDREN:
            raise _refuse(f"{where}children", Text("harus daftar unit", "must be a list of units"))
        if children and level >= MAX_CHILD_LEVELS:
            raise _refuse(f"{where}children", Text("terlalu dalam", "nested too deep"))
        out["children"] = [
            _unit_report(child, f"{where}children[{i}].", mark, REQUIRED_CHILD, level + 1)
            for i, child in enumerate(children)
        ]
    return out


def _leaves(block: Mapping[str, Any], path: tuple[str, ...] = ()) -> Iterator[tuple[str, Leaf]]:
    for key in sorted(block):
        value = block[key]
        if isinstance(value, dict):
            yield from _leaves(value, (*path, key))
        else:
            yield ".".join((*path, key)), value


def _rows(report: Mapping[str, Any]) -> Iterator[Row]:
    """The figures in one stable order: the unit, then its children (depth first); per
    unit the four channels and the total; names sorted as in the canonical JSON."""
    unit = str(report["unit"])
    for block in BLOCKS:
        values = report["total"] if block == TOTAL else report["channels"][block]
        for name, value in _leaves(values):
            indicator, _, key = name.partition(".")
            yield Row(unit, block, indicator, key, value)
    for child in report.get("children", ()):
        yield from _rows(child)


def check_report(
    report: Mapping[str, Any], definitions: Mapping[str, Text] | None, *, public: bool
) -> Figures:
    """The figures an export may carry, or ExportRefused naming the first problem.

    `definitions` (name -> Text) must define every indicator; None skips that (the
    verifier, which reads definitions from the files themselves)."""
    raw = dict(report) if isinstance(report, Mapping) else report
    k = raw.get("suppressed_below") if isinstance(raw, dict) else None
    mark = f"<{k}" if isinstance(k, int) and not isinstance(k, bool) else None
    checked = _unit_report(raw, "", mark, REQUIRED_TOP, 1)
    if public and checked["suppressed_below"] is None:
        raise _refuse(
            "suppressed_below",
            Text("ekspor publik wajib disamarkan", "a public export must be suppressed"),
        )
    rows = tuple(_rows(checked))
    used: dict[str, Text] = {}
    if definitions is not None:
        for row in rows:
            name = next((n for n in (row.name, row.indicator) if n in definitions), None)
            if name is None:
                raise _refuse(
                    f"{row.channel}.{row.indicator}",
                    Text("indikator tanpa definisi", "an indicator without a definition"),
                )
            used.setdefault(name, definitions[name])
    return Figures(checked, rows, used, public)


# --------------------------------------------------------------------------- JSON and CSV


def canonical_json(value: object) -> bytes:
    """Sorted keys, no spaces, UTF-8: one byte string per value."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def to_json(figures: Figures) -> bytes:
    return canonical_json(figures.report)


def printed(value: Leaf) -> str:
    """A value as the CSV writes it: numbers as in the JSON, "<5" as is, null as empty."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value)


def _csv_line(row: Row, period: str) -> tuple[str, ...]:
    return (row.unit, period, row.channel, row.indicator, row.key, printed(row.value))


def to_csv(figures: Figures) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for row in figures.rows:
        text = figures.definition(row)
        writer.writerow(
            (*_csv_line(row, figures.period), text.id if text else "", text.en if text else "")
        )
    return out.getvalue().encode()


def csv_problem(figures: Figures, data: bytes) -> Text | None:
    """None when the CSV holds exactly the figures of the JSON, in order; else the problem."""
    try:
        lines = list(csv.reader(io.StringIO(data.decode(), newline="")))
    except (UnicodeDecodeError, csv.Error):
        return Text("bukan CSV UTF-8", "not a UTF-8 CSV file")
    if not lines or tuple(lines[0]) != CSV_HEADER:
        return Text("kepala kolom berbeda", "the header row differs")
    found = [tuple(line[:6]) for line in lines[1:]]
    expected = [_csv_line(row, figures.period) for row in figures.rows]
    return _first_difference(found, expected)


def _first_difference(found: list[Any], expected: list[Any]) -> Text | None:
    for number, (got, want) in enumerate(zip(found, expected, strict=False), start=1):
        if got != want:
            return Text(
                f"baris data {number} berbeda dengan indikator.json",
                f"data row {number} differs from indikator.json",
            )
    if len(found) != len(expected):
        return Text(
            f"{len(found)} baris data, indikator.json memuat {len(expected)}",
            f"{len(found)} data rows, indikator.json holds {len(expected)}",
        )
    return None


# --------------------------------------------------------------------------- XLSX


def _suppression(figures: Figures) -> Text:
    k = figures.suppressed_below
    if k is None:
        return Text(
            "tidak disamarkan (internal, bukan untuk publikasi)",
            "not suppressed (internal, not for publication)",
        )
    return Text(
        f'sel yang dihitung dari kurang dari {k} kasus ditulis "<{k}"; jumlah dan selisih '
        "yang dapat membukanya juga disamarkan",
        f'a cell counted from fewer than {k} cases is written "<{k}"; totals and differences '
        "that would reveal it are suppressed as well",
    )


def _kind(figures: Figures) -> Text:
    return Text("Publik", "Public") if figures.public else Text("Internal", "Internal")


def _about(figures: Figures, format_name: str) -> list[tuple[str, str]]:
    report = figures.report
    return [
        ("Format", format_name),
        ("Unit", figures.unit),
        ("Nama unit / Unit name", figures.unit_name),
        ("Periode / Period", figures.period),
        ("Mulai / Start", str(report["period_start"])),
        ("Selesai / End", str(report["period_end"])),
        ("Dibuat / Generated", str(report["generated_at"])),
        ("Sifat / Kind", f"{_kind(figures).id} / {_kind(figures).en}"),
        ("Penyamaran", _suppression(figures).id),
        ("Suppression", _suppression(figures).en),
        (
            "Tanda tangan / Signature",
            "manifest.json + manifest.sig (Ed25519) dalam paket ZIP; periksa dengan "
            "`wbs export verify` / in the ZIP package; check with `wbs export verify`",
        ),
    ]


class _FixedTimeZip(zipfile.ZipFile):
    """A ZipFile whose members all carry one fixed time and mode (openpyxl stamps some
    with now and writes the sheets from temp files, which carry their own times)."""

    fixed: tuple[int, int, int, int, int, int] = (1980, 1, 1, 0, 0, 0)

    def writestr(self, zinfo_or_arcname: Any, data: Any, *args: Any, **kwargs: Any) -> None:
        if isinstance(zinfo_or_arcname, str):
            info = zipfile.ZipInfo(zinfo_or_arcname, date_time=self.fixed)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            zinfo_or_arcname = info
        super().writestr(zinfo_or_arcname, data, *args, **kwargs)

    def write(self, filename: Any, arcname: Any = None, *args: Any, **kwargs: Any) -> None:
        with open(filename, "rb") as source:
            self.writestr(str(arcname or filename), source.read())


def zip_time(at: datetime) -> tuple[int, int, int, int, int, int]:
    at = at.astimezone(UTC)
    if at.year < 1980:
        return (1980, 1, 1, 0, 0, 0)
    return (at.year, at.month, at.day, at.hour, at.minute, at.second - at.second % 2)


def to_xlsx(figures: Figures, format_name: str) -> bytes:
    """One sheet per channel and the total, a "Definisi" sheet (ID then EN) and "Tentang"."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.writer.excel import ExcelWriter

    bold = Font(bold=True)
    book = Workbook()
    about = book.active
    about.title = ABOUT_SHEET
    about.append(["Indikator Penguatan Pengawasan / Supervision indicators"])
    about["A1"].font = bold
    for label, value in _about(figures, format_name):
        about.append([label, value])
    about.column_dimensions["A"].width = 28
    about.column_dimensions["B"].width = 90
    for block in BLOCKS:
        sheet = book.create_sheet(SHEETS[block])
        sheet.append([f"{BLOCK_NAMES[block].id} / {BLOCK_NAMES[block].en}"])
        sheet.append(["Unit", "Indikator / Indicator", "Kunci / Key", "Nilai / Value"])
        for cell in (sheet["A1"], *sheet[2]):
            cell.font = bold
        for row in figures.rows:
            if row.channel == block:
                sheet.append([row.unit, row.indicator, row.key or None, row.value])
        for letter, width in zip("ABCD", (18, 36, 24, 14), strict=True):
            sheet.column_dimensions[letter].width = width
        sheet.freeze_panes = sheet.cell(FIRST_DATA_ROW, 1)
    terms = book.create_sheet(DEFINITIONS_SHEET)
    terms.append(["Indikator / Indicator", "Definisi", "Definition"])
    for cell in terms[1]:
        cell.font = bold
    for name, text in figures.definitions.items():
        terms.append([name, text.id, text.en])
    for letter, width in zip("ABC", (30, 80, 80), strict=True):
        terms.column_dimensions[letter].width = width
    when = figures.generated_at.replace(tzinfo=None, microsecond=0)
    props = book.properties
    props.creator = props.lastModifiedBy = "wbs"
    props.title = f"Indikator {figures.unit} {figures.period}"
    props.created = props.modified = when
    out = io.BytesIO()
    archive = _FixedTimeZip(out, "w", zipfile.ZIP_DEFLATED)
    archive.fixed = zip_time(figures.generated_at)
    ExcelWriter(book, archive).save()  # not save_workbook: that stamps `modified` with now
    return out.getvalue()


MAX_XLSX_UNPACKED = 200 * 1024 * 1024
MAX_XLSX_PARTS = 1000


def xlsx_problem(figures: Figures, data: bytes) -> Text | None:
    """None when the workbook's sheets hold exactly the figures of the JSON, in order."""
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
        if len(infos) > MAX_XLSX_PARTS or sum(i.file_size for i in infos) > MAX_XLSX_UNPACKED:
            return Text("isi buku kerja terlalu besar", "the workbook content is too large")
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds on a damaged file
        return Text("bukan buku kerja XLSX", "not an XLSX workbook")
    try:
        expected_titles = [ABOUT_SHEET, *(SHEETS[b] for b in BLOCKS), DEFINITIONS_SHEET]
        if book.sheetnames != expected_titles:
            return Text("lembar kerja berbeda atau tertukar", "sheets differ or are swapped")
        about = {
            row[0]: row[1]
            for row in book[ABOUT_SHEET].iter_rows(min_row=2, max_col=2, values_only=True)
        }
        if about.get("Unit") != figures.unit or about.get("Periode / Period") != figures.period:
            return Text("unit atau periode berbeda", "the unit or period differs")
        for block in BLOCKS:
            found = [
                (r[0], block, r[1], r[2] or "", r[3])
                for r in book[SHEETS[block]].iter_rows(
                    min_row=FIRST_DATA_ROW, max_col=4, values_only=True
                )
                if any(v is not None for v in r)
            ]
            expected = [
                (r.unit, r.channel, r.indicator, r.key, r.value)
                for r in figures.rows
                if r.channel == block
            ]
            problem = _first_difference(found, expected)
            if problem is not None:
                return Text(
                    f"lembar {SHEETS[block]}: {problem.id}", f"sheet {SHEETS[block]}: {problem.en}"
                )
        return None
    finally:
        book.close()


# --------------------------------------------------------------------------- PDF


def _number(figures: Figures, block: str, indicator: str) -> int | float | None:
    for row in figures.rows:
        if (row.unit, row.channel, row.indicator, row.key) == (figures.unit, block, indicator, ""):
            return row.value if isinstance(row.value, int | float) else None
    return None


def _bar_chart(
    title: Text, series: list[list[float]], names: list[str], labels: list[str], top: float | None
) -> Any:
    from reportlab.graphics.charts.barcharts import VerticalBarChart
    from reportlab.graphics.charts.legends import Legend
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.lib import colors

    drawing = Drawing(480, 200)
    drawing.add(String(0, 188, f"{title.id} / {title.en}", fontName="Helvetica-Bold", fontSize=9))
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 40, 40, 300, 130
    chart.data = series
    chart.categoryAxis.categoryNames = labels
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    if top is not None:
        chart.valueAxis.valueMax = top
    chart.valueAxis.labels.fontSize = 7
    palette = [colors.HexColor("#1f4e79"), colors.HexColor("#7aa6d1")]
    for index in range(len(series)):
        chart.bars[index].fillColor = palette[index % len(palette)]
    drawing.add(chart)
    legend = Legend()
    legend.x, legend.y = 360, 150
    legend.fontSize = 7
    legend.colorNamePairs = list(zip(palette, names, strict=False))
    drawing.add(legend)
    note = "Sel disamarkan (<k) atau kosong digambar 0 / suppressed or empty cells drawn as 0"
    drawing.add(String(0, 4, note, fontName="Helvetica", fontSize=6))
    return drawing


def _charts(figures: Figures) -> list[Any]:
    labels = [SHEETS[c] for c in CHANNELS]
    received, completed, share = [], [], []
    for channel in CHANNELS:
        got = _number(figures, channel, "received")
        done = _number(figures, channel, "completed")
        on_time = _number(figures, channel, "completed_on_time")
        received.append(float(got or 0))
        completed.append(float(done or 0))
        share.append(100.0 * float(on_time) / float(done) if on_time is not None and done else 0.0)
    return [
        _bar_chart(
            Text("Laporan diterima dan selesai per kanal", "Reports received and completed"),
            [received, completed],
            ["diterima / received", "selesai / completed"],
            labels,
            None,
        ),
        _bar_chart(
            Text("Selesai tepat waktu (% dari selesai)", "Completed on time (% of completed)"),
            [share],
            ["tepat waktu / on time"],
            labels,
            100.0,
        ),
    ]


def to_pdf(figures: Figures, format_name: str) -> bytes:
    """A4: title, unit, period, charts, a table per channel with definitions (ID first)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=7, leading=8.5)
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        invariant=1,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=f"Indikator {figures.unit} {figures.period}",
        author="wbs",
        creator="wbs",
        subject=format_name,
    )

    def para(text: str, style: Any = styles["BodyText"]) -> Any:
        return Paragraph(escape(text), style)

    story: list[Any] = [
        para("Indikator Penguatan Pengawasan", styles["Title"]),
        para("Supervision indicators", styles["Heading3"]),
        para(f"Unit: {figures.unit} - {figures.unit_name}"),
        para(
            f"Periode / Period: {figures.period} ({figures.report['period_start']} - "
            f"{figures.report['period_end']})"
        ),
        para(f"Dibuat / Generated: {figures.report['generated_at']}"),
        para(f"{_kind(figures).id} / {_kind(figures).en}: {_suppression(figures).id}"),
        para(_suppression(figures).en, small),
        Spacer(1, 4 * mm),
        *_charts(figures),
    ]
    grid = TableStyle(
        [
            ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dde7f0")),
            ("FONTSIZE", (0, 0), (-1, -1), 7),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]
    )
    header = ["Indikator / Indicator", "Kunci / Key", "Nilai / Value", "Definisi / Definition"]
    for block in BLOCKS:
        name = BLOCK_NAMES[block]
        story.append(para(f"{name.id} / {name.en}", styles["Heading2"]))
        lines: list[list[Any]] = [header]
        for row in figures.rows:
            if row.unit == figures.unit and row.channel == block:
                text = figures.definition(row)
                meaning = f"{text.id} / {text.en}" if text else ""
                lines.append([row.indicator, row.key, printed(row.value), para(meaning, small)])
        table = Table(lines, colWidths=[45 * mm, 25 * mm, 18 * mm, 92 * mm], repeatRows=1)
        table.setStyle(grid)
        story.append(table)
    others = [r for r in figures.rows if r.unit != figures.unit]
    if others:
        story.append(para("Unit bawahan / Subordinate units", styles["Heading2"]))
        lines = [["Unit", "Kanal / Channel", *header[:3]]]
        lines += [[r.unit, r.channel, r.indicator, r.key, printed(r.value)] for r in others]
        table = Table(lines, repeatRows=1)
        table.setStyle(grid)
        story.append(table)
    doc.build(story)
    return out.getvalue()
