"""Spreadsheets: a template filled by a script with openpyxl scores as the same answers in YAML."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from typer.testing import CliRunner

from tests.zi.strategies import documents
from wbs.zi import files, workbook
from wbs.zi.cli import app
from wbs.zi.errors import AnswerError
from wbs.zi.ruleset import get_rules, load_yaml
from wbs.zi.scoring import dumps, evaluate, parse_worksheet, result

FIXTURES = Path(__file__).with_name("fixtures")


def _fill(book: Workbook, doc: dict[str, Any]) -> bytes:
    """Fill the template the way a person would: find each code in column A, type column E."""
    sheet = book["LKE"]
    rows = {sheet.cell(r, 1).value: r for r in range(7, sheet.max_row + 1)}
    sheet["B3"], sheet["B4"] = doc.get("unit"), doc.get("year")
    for code, answer in doc.get("answers", {}).items():
        values = answer if isinstance(answer, dict) else {code: answer}
        for cell_code, value in values.items():
            sheet.cell(rows[cell_code], 5).value = value
    for code, value in doc.get("hasil", {}).items():
        sheet.cell(rows[code], 5).value = float(value) if isinstance(value, Decimal) else value
    evidence = book["Data Dukung"]
    evidence_rows = {evidence.cell(r, 1).value: r for r in range(2, evidence.max_row + 1)}
    for entry in doc.get("evidence", []):
        evidence.cell(evidence_rows[entry["code"]], 2).value = entry["link"]
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _yaml_doc(name: str) -> dict[str, Any]:
    doc = load_yaml((FIXTURES / f"{name}.yaml").read_text(encoding="utf-8"))["worksheet"]
    assert isinstance(doc, dict)
    return doc


@pytest.mark.parametrize("name", ["wbbm", "wbk", "area_minimum", "survey"])
def test_filled_template_scores_as_yaml(name: str) -> None:
    doc = _yaml_doc(name)
    doc["evidence"] = [{"code": "PPE4A", "link": "https://example.go.id/sk-wbs.pdf"}]
    rules = get_rules(doc["rules"])
    from_yaml = parse_worksheet(doc)
    from_xlsx = workbook.read(_fill(workbook.template(rules), doc))
    assert from_xlsx.answers == from_yaml.answers and from_xlsx.hasil == from_yaml.hasil
    assert (from_xlsx.unit, from_xlsx.year) == (from_yaml.unit, from_yaml.year)
    assert [e.code for e in from_xlsx.evidence] == ["PPE4A"]
    assert result(evaluate(rules, from_xlsx)) == result(evaluate(rules, from_yaml))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), rules_id=st.sampled_from(["lke-2021", "lke-2019"]))
def test_random_round_trip(data: st.DataObject, rules_id: str) -> None:
    rules = get_rules(rules_id)
    doc = data.draw(documents(rules))
    from_xlsx = workbook.read(_fill(workbook.template(rules), doc))
    assert result(evaluate(rules, from_xlsx)) == result(evaluate(rules, parse_worksheet(doc)))


def test_template_layout_and_validation() -> None:
    rules = get_rules("lke-2021")
    book = load_workbook(io.BytesIO(workbook.to_bytes(workbook.template(rules))))
    sheet = book["LKE"]
    assert sheet["B2"].value == "lke-2021"
    kinds: dict[str, str] = {}
    for row in sheet.iter_rows(min_row=7, values_only=True):
        kinds[row[0]] = row[7]
    assert kinds["PPA1A"] == "item" and kinds["PRA1A"] == "formula" and kinds["PRA1A1"] == "input"
    assert kinds["HBA"] == "hasil-item" and kinds["PPA"] == "area" and kinds["PPA1"] == "indicator"
    lists = {dv.formula1 for dv in sheet.data_validations.dataValidation if dv.type == "list"}
    assert lists == {'"Y,T"', '"A,B,C"', '"A,B,C,D"', '"A,B,C,D,E"'}
    yt = next(dv for dv in sheet.data_validations.dataValidation if dv.formula1 == '"Y,T"')
    row = next(r for r in range(7, sheet.max_row + 1) if sheet.cell(r, 1).value == "PPA1A")
    assert f"E{row}" in str(yt.sqref)
    assert "Ya, jika Tim telah dibentuk" in sheet.cell(row, 4).value
    assert book["Data Dukung"]["A2"].value == "PPA1A"


@pytest.mark.parametrize(
    ("code", "value"), [("PPA1", "A"), ("PPB1B", "F"), ("PRE2A1", -1), ("HPA", 4.5), ("PRA1A", 3)]
)
def test_read_rejects_bad_cells_naming_the_code(code: str, value: object) -> None:
    book = workbook.template(get_rules("lke-2021"))
    sheet = book["LKE"]
    row = next(r for r in range(7, sheet.max_row + 1) if sheet.cell(r, 1).value == code)
    sheet.cell(row, 5).value = value
    with pytest.raises(AnswerError) as caught:
        workbook.read(workbook.to_bytes(book))
    assert caught.value.item == code


def test_read_rejects_damaged_files() -> None:
    with pytest.raises(AnswerError):
        workbook.read(b"not a zip")


def test_export_writes_scores_per_row() -> None:
    ws = parse_worksheet(_yaml_doc("wbk"))
    ev = evaluate(get_rules(ws.rules), ws)
    data = workbook.to_bytes(workbook.export(ws, ev))
    book = load_workbook(io.BytesIO(data))
    sheet = book["LKE"]
    scores = {sheet.cell(r, 1).value: sheet.cell(r, 7).value for r in range(7, sheet.max_row + 1)}
    # Hand figures of tests/zi/fixtures/wbk.yaml.
    assert round(scores["PPB"], 2) == 2.5 and round(scores["PPF5"], 2) == 0.67
    assert round(scores["total"], 2) == 91.09 and round(scores["HPA"], 2) == 14.0
    assert round(scores["PPA3A"], 4) == round(0.67 / 3, 4)
    summary = book["Ringkasan"]
    assert summary["B3"].value == "WBK"
    # The exported workbook reads back to the same answers.
    again = workbook.read(data)
    assert again.answers == ws.answers and again.hasil == ws.hasil


# ----------------------------------------------------------------------------- files and CLI


def test_json_contract_round_trip(tmp_path: Path) -> None:
    doc = _yaml_doc("wbbm")
    path = tmp_path / "answers.json"
    path.write_text(json.dumps(doc, default=str), encoding="utf-8")
    assert files.load(path) == parse_worksheet(doc)
    runner = CliRunner()
    out = runner.invoke(app, ["score", str(path), "--json"])
    assert out.exit_code == 0, out.output
    body = json.loads(out.output, parse_float=Decimal)
    assert body["predicate"] == "WBBM" and body["hasil_indicators"]["HBA"] == Decimal("16.625")
    assert body["total"] == Decimal("94.60666666666666666666666667")
    assert set(body) >= {
        "rules",
        "total",
        "pengungkit",
        "hasil",
        "parts",
        "areas",
        "indicators",
        "hasil_indicators",
        "hasil_groups",
        "predicate",
        "shortfalls",
        "unanswered",
    }
    assert body["shortfalls"] == {"WBK": [], "WBBM": []}


def test_cli_template_score_export_rules(tmp_path: Path) -> None:
    runner = CliRunner()
    out = runner.invoke(app, ["rules"])
    assert out.exit_code == 0 and "lke-2021\t110" in out.output and "lke-2019\t81" in out.output
    template = tmp_path / "lke.xlsx"
    made = runner.invoke(app, ["template", "--rules", "lke-2021", "-o", str(template)])
    assert made.exit_code == 0
    filled = tmp_path / "filled.xlsx"
    filled.write_bytes(_fill(load_workbook(template), _yaml_doc("area_minimum")))
    out = runner.invoke(app, ["score", str(filled)])
    assert out.exit_code == 0, out.output
    assert "kurang WBK: PRC 2.25 < 3.0" in out.output and "93.06" in out.output
    exported = tmp_path / "scored.xlsx"
    out = runner.invoke(app, ["export", str(filled), "-o", str(exported)])
    assert out.exit_code == 0 and load_workbook(exported)["Ringkasan"]["B3"].value == "-"
    out = runner.invoke(app, ["gap", str(filled)])
    assert out.exit_code == 0 and "PRC1A: B -> A (+0.75)" in out.output


def test_cli_errors_name_the_code(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"rules": "lke-2021", "answers": {"PPE4B": "Z"}}))
    out = CliRunner().invoke(app, ["score", str(path)])
    assert out.exit_code == 1 and "PPE4B" in out.output and "unknown option" in out.output
    path.write_text("rules: lke-2021\nanswers: {PRE2A1: -3}\n")
    out = CliRunner().invoke(app, ["score", str(path)])
    assert out.exit_code == 1 and "PRE2A1: negative count" in out.output
    path = tmp_path / "bad.txt"
    path.write_text("x")
    assert CliRunner().invoke(app, ["score", str(path)]).exit_code == 1


def test_json_numbers_are_plain_and_exact() -> None:
    text = dumps(
        {
            "a": Decimal("1E+2"),
            "b": Decimal("0.6666666666666666666666666667"),
            "c": [Decimal("0E-28"), Decimal("2.50")],
            "d": "é",
        }
    )
    assert json.loads(text, parse_float=Decimal) == {
        "a": 100,
        "b": Decimal("0.6666666666666666666666666667"),
        "c": [0, Decimal("2.5")],
        "d": "é",
    }
    assert "E" not in text


def test_area_chart_is_plain_svg_against_minimums() -> None:
    from wbs.zi.chart import area_chart

    ws = parse_worksheet(_yaml_doc("wbk"))
    rules = get_rules(ws.rules)
    svg = area_chart(rules, evaluate(rules, ws), 'Skor <per> area & "minimum"')
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "<script" not in svg and "style" not in svg and " on" not in svg
    assert '<title id="zi-chart-title">Skor &lt;per&gt; area &amp; "minimum"</title>' in svg
    assert svg.count("<rect") == 2 * 12  # background and bar for each area part
    # PPB 2.50 meets WBK (2.1) not WBBM (2.625): amber; PPA 3.89 meets WBBM: green.
    rows = svg.split('<text x="0"')
    ppb = next(r for r in rows if r.split(">", 1)[1].startswith("PPB "))
    ppa = next(r for r in rows if r.split(">", 1)[1].startswith("PPA "))
    assert 'fill="#b35900"' in ppb and 'fill="#116329"' in ppa
    assert "<title>WBBM 2.625</title>" in ppb and "2.50/3.5" in ppb


def test_mounted_as_wbs_zi() -> None:
    from wbs.cli import app as wbs_app

    out = CliRunner().invoke(wbs_app, ["zi", "rules"])
    assert out.exit_code == 0 and "lke-2021" in out.output
