"""Exports and the LKE data dukung made from the real indicator figures (not test inputs):
cases received, the worker makes the package, it verifies and carries those counts; the public
package suppresses them; the LKE evidence package is the unit's signed export."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date

from tests.conftest import login
from tests.exports.test_jobs import _ask
from tests.workflow.helpers import make_report
from wbs.calendar.workdays import WorkCalendar
from wbs.exports import package
from wbs.exports.service import SignedDataDukung
from wbs.indicators import service as indicators
from wbs.worker import run_once
from wbs.workflow import service as engine
from wbs.workflow.registry import load_all
from wbs.workflow.service import Clock


def _json_inside(data: bytes) -> dict:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return json.loads(archive.read("indikator.json"))


async def _cases(db, unit, kinds: dict[str, int], on: date = date(2025, 3, 3)) -> None:
    workflows, seq = load_all(), 0
    for kind, count in kinds.items():
        for _ in range(count):
            seq += 1
            report = await make_report(db, unit, kind, seq=seq, submitted=on)
            await engine.begin(db, workflows, WorkCalendar(), report, Clock.on(on))
    await db.commit()


async def test_export_of_real_figures_verifies_and_suppresses(
    app, client, db, make_unit, make_staff
) -> None:
    unit = await make_unit()
    await _cases(db, unit, {"pengaduan": 6, "wbs": 2})
    auditor = await make_staff(unit, "auditor")
    assert (await login(client, auditor)).status_code == 303
    made = {}
    for public in (False, True):
        # Public figures exist for complete years only (docs/indicators.md): 2025.
        asked = await _ask(client, unit.code, period="2025", format="csv", public=public)
        assert asked.status_code == 201, asked.text
        made[public] = asked.json()["id"]
    run = await run_once(app.state.settings, app.state.sessionmaker, app.state.workflows)
    assert run.exports == 2
    inside = {}
    for public, job_id in made.items():
        done = (await client.get(f"/api/v1/exports/{job_id}")).json()
        assert done["state"] == "done", done["error"]
        data = (await client.get(done["file"]["url"])).content
        verified = package.verify(data)
        assert (verified.unit, verified.period, verified.public) == (unit.code, "2025", public)
        inside[public] = {**_json_inside(data)["channels"], "total": _json_inside(data)["total"]}
    assert inside[False]["pengaduan"]["received"] == 6
    assert inside[False]["wbs"]["received"] == 2
    # Public: 2 WBS cases are "<5"; the 6 pengaduan are withheld as "x" too, or the total
    # (8) minus them would give the 2 away.
    assert inside[True]["wbs"]["received"] == "<5"
    assert inside[True]["pengaduan"]["received"] == "x"
    assert inside[True]["total"]["received"] == 8


async def test_lke_data_dukung_is_the_units_signed_export(app, db, make_unit) -> None:
    unit = await make_unit()
    await _cases(db, unit, {"gratifikasi": 3}, on=date(2026, 3, 2))
    figures = await indicators.compute(db, unit, indicators.parse_period("2026"), public=False)
    name, data = await SignedDataDukung(app.state.settings.secret_bytes()).package(
        db, unit, "2026", figures, None
    )
    assert name == f"indikator-{unit.code}-2026-xlsx.zip"
    verified = package.verify(data)
    assert verified.unit == unit.code and verified.consistent == ("indikator.xlsx",)
    assert _json_inside(data)["channels"]["gratifikasi"]["received"] == 3
