"""The export writers: what they accept (numbers only), what they write, and that the same
figures give the same bytes."""

from __future__ import annotations

import copy
import csv
import io
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from tests.exports.reports import DEFINITIONS, report
from wbs.core.text import Text
from wbs.exports import formats
from wbs.exports.formats import BLOCKS, CHANNELS, SHEETS, ExportRefused, check_report, printed

CANARY = "Rahasia pelapor: Budi Santoso 0812-CANARY-7f3a"


def figures(public: bool = True) -> formats.Figures:
    return check_report(report(public=public), DEFINITIONS, public=public)


# --------------------------------------------------------------------------- round trips


def test_json_is_the_canonical_report() -> None:
    f = figures()
    data = formats.to_json(f)
    assert json.loads(data) == report()  # every figure and label, nothing added
    assert (
        data
        == json.dumps(report(), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    )
    assert b"\n" not in data and b": " not in data


def test_csv_rows_equal_the_json() -> None:
    f = figures()
    lines = list(csv.DictReader(io.StringIO(formats.to_csv(f).decode(), newline="")))
    assert len(lines) == len(f.rows) == 88
    source = json.loads(formats.to_json(f))
    for line in lines:
        unit = (
            source
            if line["unit"] == "DEMO"
            else next(c for c in source["children"] if c["unit"] == line["unit"])
        )
        block = unit["total"] if line["channel"] == "total" else unit["channels"][line["channel"]]
        value = block[line["indicator"]]
        for part in filter(None, line["key"].split(".")):
            value = value[part]
        assert line["value"] == printed(value)
        assert line["period"] == "2026"
        definition = (
            DEFINITIONS.get(f"{line['indicator']}.{line['key']}") or DEFINITIONS[line["indicator"]]
        )
        assert (line["definition_id"], line["definition_en"]) == (definition.id, definition.en)
    # suppressed cells are written as printed, nested keys as key paths
    assert {
        "unit": "DEMO",
        "channel": "pengaduan",
        "indicator": "forwarded",
        "key": "apip",
    }.items() <= next(
        line for line in lines if line["indicator"] == "forwarded" and line["key"] == "apip"
    ).items()
    marks = [p for p in _leaf_paths(source) if _get(source, p) == "<5"]
    assert sum(line["value"] == "<5" for line in lines) == len(marks) > 10
    assert formats.csv_problem(f, formats.to_csv(f)) is None


def test_xlsx_read_back_equals_the_json() -> None:
    f = figures()
    book = load_workbook(io.BytesIO(formats.to_xlsx(f, "fmt/1")), data_only=True)
    assert book.sheetnames == ["Tentang", *(SHEETS[b] for b in BLOCKS), "Definisi"]
    source = json.loads(formats.to_json(f))
    units = {source["unit"]: source} | {c["unit"]: c for c in source["children"]}
    seen = 0
    for block in BLOCKS:
        for unit, indicator, key, value in book[SHEETS[block]].iter_rows(
            min_row=formats.FIRST_DATA_ROW, values_only=True
        ):
            holder = units[unit]
            expected = holder["total"] if block == "total" else holder["channels"][block]
            expected = expected[indicator]
            for part in filter(None, (key or "").split(".")):
                expected = expected[part]
            # 100.0 reads back as 100 (a spreadsheet has one kind of number)
            assert value == expected and isinstance(value, str) == isinstance(expected, str)
            assert (value is None) == (expected is None)
            seen += 1
    assert seen == len(f.rows)
    terms = {
        row[0]: (row[1], row[2]) for row in book["Definisi"].iter_rows(min_row=2, values_only=True)
    }
    assert terms["forwarded.kpk"] == (
        DEFINITIONS["forwarded.kpk"].id,
        DEFINITIONS["forwarded.kpk"].en,
    )
    assert set(terms) == set(f.definitions)
    about = dict(book["Tentang"].iter_rows(min_row=2, max_col=2, values_only=True))
    assert about["Unit"] == "DEMO" and about["Periode / Period"] == "2026"
    assert about["Sifat / Kind"] == "Publik / Public"
    assert '"<5"' in about["Suppression"]
    assert book.properties.created.isoformat() == "2026-12-31T23:59:58"
    assert formats.xlsx_problem(f, formats.to_xlsx(f, "fmt/1")) is None


def test_internal_export_says_so() -> None:
    f = figures(public=False)
    about = dict(
        load_workbook(io.BytesIO(formats.to_xlsx(f, "x")))["Tentang"].iter_rows(
            min_row=2, max_col=2, values_only=True
        )
    )
    assert about["Sifat / Kind"] == "Internal / Internal"
    assert "not suppressed" in about["Suppression"]


def test_pdf_is_a4_with_every_channel() -> None:
    data = formats.to_pdf(figures(), "fmt/1")
    assert data.startswith(b"%PDF-")
    assert b"/MediaBox [ 0 0 595.2756 841.8898 ]" in data  # A4 in points
    assert data.count(b"/Type /Page\n") >= 2


@pytest.mark.parametrize("writer", ["json", "csv", "xlsx", "pdf"])
def test_same_figures_same_bytes(writer: str) -> None:
    def write() -> bytes:
        f = figures()
        if writer == "json":
            return formats.to_json(f)
        if writer == "csv":
            return formats.to_csv(f)
        if writer == "xlsx":
            return formats.to_xlsx(f, "fmt/1")
        return formats.to_pdf(f, "fmt/1")

    first = write()
    assert write() == first
    later = report()
    later["generated_at"] = "2027-01-01T00:00:00+00:00"
    f = check_report(later, DEFINITIONS, public=True)
    other = {"json": formats.to_json, "csv": formats.to_csv}.get(writer)
    if other is not None:  # only the time differs: JSON changes, CSV does not carry it
        assert (other(f) == first) is (writer == "csv")


# --------------------------------------------------------------------------- no leak


def _leaf_paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in _leaf_paths(v, (*path, k))]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in _leaf_paths(v, (*path, i))]
    return [path]


def _get(node: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        node = node[part]
    return node


def _set(node: Any, path: tuple[Any, ...], value: Any) -> None:
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


ALLOWED_TEXT = {"unit_name"}  # the one free label an export carries: the unit's own name


def test_a_canary_in_any_leaf_is_refused_and_never_echoed() -> None:
    base = report()
    paths = [p for p in _leaf_paths(base) if p[-1] not in ALLOWED_TEXT]
    assert len(paths) > len(figures().rows)  # every figure and every label but the name
    for path in paths:
        poisoned = copy.deepcopy(base)
        _set(poisoned, path, CANARY)
        with pytest.raises(ExportRefused) as refused:
            check_report(poisoned, DEFINITIONS, public=True)
        assert CANARY not in str(refused.value.text) and CANARY not in json.dumps(
            refused.value.as_json("id")
        ), path


@pytest.mark.parametrize(
    ("where", "value"),
    [
        (("channels", "wbs", "notes"), [CANARY]),  # a list
        (("channels", "wbs", "received"), True),  # a bool is not a count
        (("channels", "wbs", "received"), float("nan")),
        (("channels", "wbs", "received"), "<3"),  # not this deployment's mark
        (("channels", "wbs", "forwarded", "kpk"), {"a": {"b": 1}}),  # too deep
        (("total", "received"), 2**60),
        (("facts",), {"x": 1}),  # an unknown top-level key
        (("children", 0, "description"), "x"),
        (("channels", "lainnya"), {"received": 1}),  # an unknown channel
    ],
)
def test_anything_but_figures_is_refused(where: tuple[Any, ...], value: Any) -> None:
    poisoned = report()
    _set(poisoned, where, value)
    with pytest.raises(ExportRefused):
        check_report(poisoned, DEFINITIONS, public=True)


def test_a_canary_as_a_key_is_refused() -> None:
    poisoned = report()
    poisoned["channels"]["wbs"][CANARY] = 1
    with pytest.raises(ExportRefused) as refused:
        check_report(poisoned, DEFINITIONS, public=True)
    assert CANARY not in refused.value.text_en


def test_the_unit_name_is_a_bounded_printable_label() -> None:
    for name in ("x" * 201, "baris\nbaru", "  "):
        poisoned = report()
        poisoned["unit_name"] = name
        with pytest.raises(ExportRefused):
            check_report(poisoned, DEFINITIONS, public=True)


def test_public_exports_must_be_suppressed_and_internal_ones_carry_no_marks() -> None:
    with pytest.raises(ExportRefused):
        check_report(report(public=False), DEFINITIONS, public=True)
    internal = report(public=False)
    internal["channels"]["wbs"]["overdue"] = "<5"  # no k: no mark is a figure
    with pytest.raises(ExportRefused):
        check_report(internal, DEFINITIONS, public=False)


def test_every_indicator_needs_a_definition() -> None:
    partial = {k: v for k, v in DEFINITIONS.items() if k != "refusals"}
    with pytest.raises(ExportRefused) as refused:
        check_report(report(), partial, public=True)
    assert refused.value.details == {"field": "gratifikasi.refusals"}


def test_the_writers_only_take_checked_figures() -> None:
    with pytest.raises(AttributeError):
        formats.to_csv(report())  # type: ignore[arg-type]


# --------------------------------------------------------------------------- properties

keys = st.text("abcdefghijklmnopqrstuvwxyz0123456789_", max_size=10).map(lambda s: "k" + s)
leaves = st.one_of(
    st.none(),
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.just("<5"),
)
blocks = st.dictionaries(
    keys, st.one_of(leaves, st.dictionaries(keys, leaves, max_size=4)), max_size=6
)


@st.composite
def reports(draw: st.DrawFn) -> dict[str, Any]:
    def unit(code: str) -> dict[str, Any]:
        return {
            "unit": code,
            "unit_name": draw(st.sampled_from(["Seksi Á", "Kantor Wilayah 3", "Unit"])),
            "channels": {c: draw(blocks) for c in CHANNELS},
            "total": draw(blocks),
        }

    top = unit("INDUK") | {
        "period": draw(st.sampled_from(["2026", "2026-Q3", "2026-11"])),
        "period_start": "2026-01-01",
        "period_end": "2026-12-31",
        "generated_at": "2026-06-01T08:00:00+07:00",
        "suppressed_below": 5,
    }
    top["children"] = [unit(f"ANAK-{i}") for i in range(draw(st.integers(0, 3)))]
    return top


class AnyDefinition(dict[str, Text]):
    def __contains__(self, key: object) -> bool:
        return True

    def __getitem__(self, key: str) -> Text:
        return Text(f"definisi {key}", f"definition {key}")


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(reports())
def test_csv_and_json_writers_agree_on_any_report(raw: dict[str, Any]) -> None:
    f = check_report(raw, AnyDefinition(), public=True)
    data = formats.to_json(f)
    assert json.loads(data) == json.loads(json.dumps(raw))
    again = check_report(json.loads(data), None, public=True)
    assert again.rows == f.rows  # the JSON alone gives the same figures, in the same order
    assert formats.csv_problem(again, formats.to_csv(f)) is None
    assert formats.to_csv(f) == formats.to_csv(
        check_report(copy.deepcopy(raw), AnyDefinition(), public=True)
    )
    lines = list(csv.reader(io.StringIO(formats.to_csv(f).decode(), newline="")))[1:]
    assert [tuple(line[:6]) for line in lines] == [
        (r.unit, f.period, r.channel, r.indicator, r.key, printed(r.value)) for r in f.rows
    ]


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(reports(), st.text(min_size=1, max_size=20).filter(lambda s: s not in ("<5", "x")))
def test_any_text_leaf_is_refused(raw: dict[str, Any], text: str) -> None:
    raw["channels"]["wbs"]["planted"] = {"inner": text}
    with pytest.raises(ExportRefused):
        check_report(raw, AnyDefinition(), public=True)
