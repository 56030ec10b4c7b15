"""LKE workbooks that would take the server's time or memory are refused (review #9).

The review's file: the project's own template with one more cell at row 1,000,000 (22 KB)
took 31 s and 1.8 GB in `wbs zi score`, and the web import ran the same code on the event
loop. Now the sheets are streamed read-only, refused past a row cap derived from the rule
set, zip bombs are refused before openpyxl opens them, and the web import parses in a
worker thread.
"""

from __future__ import annotations

import io
import re
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from typer.testing import CliRunner

from tests.conftest import csrf_from, login
from wbs.zi import files, workbook
from wbs.zi.cli import app as zi_cli
from wbs.zi.errors import AnswerError
from wbs.zi.ruleset import get_rules

FAR_ROW = 1_000_000


def template_with_far_cell(row: int = FAR_ROW) -> bytes:
    book = workbook.template(get_rules("lke-2021"))
    book[workbook.SHEET].cell(row, 1).value = "x"
    return workbook.to_bytes(book)


def rewrite(data: bytes, change: dict[str, Any]) -> bytes:
    """The same archive with members replaced (bytes) or edited (a function of the bytes)."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        names = [i.filename for i in src.infolist()]
        for name in names:
            body = src.read(name)
            edit = change.get(name)
            dst.writestr(name, edit(body) if callable(edit) else body)
        for name, body in change.items():
            if name not in names:
                dst.writestr(name, body)
    return out.getvalue()


@pytest.fixture
def rows_pulled(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many rows openpyxl streamed from each sheet read (read-only mode only)."""
    pulled: list[int] = []
    original = ReadOnlyWorksheet._cells_by_row

    def counting(self: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
        pulled.append(0)
        for row in original(self, *args, **kwargs):
            pulled[-1] += 1
            yield row

    monkeypatch.setattr(ReadOnlyWorksheet, "_cells_by_row", counting)
    return pulled


def test_a_cell_at_row_a_million_is_refused_naming_the_row(rows_pulled):
    data = template_with_far_cell()
    assert len(data) < 64 * 1024
    cap, _evidence_cap = workbook.row_caps("lke-2021")
    with pytest.raises(AnswerError) as refused:
        workbook.read(data)
    assert "baris 1000000" in refused.value.text_id
    assert "row 1000000" in refused.value.text_en
    assert f"{cap} rows" in refused.value.text_en
    assert rows_pulled and max(rows_pulled) <= cap  # streamed, and never past the cap


def test_an_understated_dimension_cannot_hide_far_rows(rows_pulled):
    """Without the <dimension> hint openpyxl would fill every empty row up to the far one:
    the reader stops at the cap instead."""
    data = rewrite(
        template_with_far_cell(),
        {"xl/worksheets/sheet1.xml": lambda b: re.sub(rb"<dimension[^>]*/>", b"", b)},
    )
    cap, _evidence_cap = workbook.row_caps("lke-2021")
    with pytest.raises(AnswerError) as refused:
        workbook.read(data)
    assert f"at most {cap} rows" in refused.value.text_en
    assert max(rows_pulled) <= cap + 1


def test_the_cap_comes_from_the_rule_set_and_leaves_room():
    for rules_id in ("lke-2019", "lke-2021"):
        book = workbook.template(get_rules(rules_id))
        cap, evidence_cap = workbook.row_caps(rules_id)
        assert cap == book[workbook.SHEET].max_row + workbook.ROW_MARGIN
        assert evidence_cap == book[workbook.EVIDENCE_SHEET].max_row + workbook.EVIDENCE_ROW_MARGIN
    # A filled template with a few rows added below the table still reads.
    book = workbook.template(get_rules("lke-2021"))
    sheet = book[workbook.SHEET]
    sheet.cell(sheet.max_row + 5, 2).value = "catatan di bawah tabel"
    assert workbook.read(workbook.to_bytes(book)).rules == "lke-2021"


def test_a_zip_bomb_is_refused_before_openpyxl_opens_it(monkeypatch):
    opened: list[object] = []
    monkeypatch.setattr(workbook, "load_workbook", lambda *a, **k: opened.append(a))
    template = workbook.to_bytes(workbook.template(get_rules("lke-2021")))
    # 40 MiB of zeros packs into ~40 KB: under the total limit, far over the ratio.
    bomb = rewrite(template, {"xl/media/pad.bin": bytes(40 * 1024 * 1024)})
    assert len(bomb) < 200 * 1024
    with pytest.raises(AnswerError) as refused:
        workbook.read(bomb)
    assert "zip bomb" in refused.value.text_en and "xl/media/pad.bin" in refused.value.text_id
    huge = rewrite(template, {f"xl/media/pad{i}.bin": bytes(20 * 1024 * 1024) for i in range(3)})
    with pytest.raises(AnswerError, match="too large"):
        workbook.read(huge)
    assert opened == []


def test_wbs_zi_score_refuses_the_bomb(tmp_path: Path):
    path = tmp_path / "lke.xlsx"
    path.write_bytes(template_with_far_cell())
    out = CliRunner().invoke(zi_cli, ["score", str(path)])
    assert out.exit_code == 1
    assert "baris 1000000" in out.output and "row 1000000" in out.output


async def test_web_import_refuses_the_bomb_parsing_off_the_event_loop(
    client, make_unit, make_staff, monkeypatch
):
    unit = await make_unit("ZIBOMB")
    auditor = await make_staff(unit, "auditor")
    assert (await login(client, auditor)).status_code == 303
    token = await csrf_from(client, "/zi/units/ZIBOMB")
    created = await client.post(
        "/api/v1/zi/units/ZIBOMB/assessments",
        headers={"x-csrf-token": token},
        json={"year": 2026, "assessor": "tpn", "rules": "lke-2021"},
    )
    assert created.status_code == 201, created.text
    page = f"/zi/assessments/{created.json()['id']}"

    threads: list[threading.Thread] = []
    parse = files.parse_bytes

    def recording(data: bytes, suffix: str) -> Any:
        threads.append(threading.current_thread())
        return parse(data, suffix)

    monkeypatch.setattr(files, "parse_bytes", recording)
    token = await csrf_from(client, page)
    response = await client.post(
        f"{page}/import",
        data={"csrf_token": token},
        files={"file": ("lke.xlsx", template_with_far_cell())},
    )
    assert response.status_code == 422
    assert "baris 1000000" in response.text
    assert threads and threads[0] is not threading.main_thread()
