"""Assessments through the real app on SQLite and PostgreSQL: pages, API, access, audit."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from tests.conftest import csrf_from, login
from wbs.zi import service
from wbs.zi.models import Answer, AnswerSource, Assessment
from wbs.zi.ruleset import load_yaml

FIXTURES = Path(__file__).with_name("fixtures")


def _fixture(name: str) -> dict[str, Any]:
    doc = load_yaml((FIXTURES / f"{name}.yaml").read_text(encoding="utf-8"))["worksheet"]
    assert isinstance(doc, dict)
    return doc


def _form(doc: dict[str, Any]) -> dict[str, str]:
    """The answers document as the worksheet form posts it (a.<code> per field)."""
    fields: dict[str, str] = {}
    for code, value in doc["answers"].items():
        if isinstance(value, dict):
            fields.update({f"a.{k}": str(v) for k, v in value.items()})
        else:
            fields[f"a.{code}"] = str(value)
    fields.update({f"a.{k}": str(v) for k, v in doc["hasil"].items()})
    return fields


def _api_body(doc: dict[str, Any]) -> str:
    hasil = {k: str(v) if isinstance(v, Decimal) else v for k, v in doc["hasil"].items()}
    return json.dumps({"answers": doc["answers"], "hasil": hasil})


async def _create(client: httpx.AsyncClient, unit: str, year: int, assessor: str) -> int:
    token = await csrf_from(client, f"/zi/units/{unit}")
    response = await client.post(
        f"/zi/units/{unit}/assessments",
        data={"csrf_token": token, "year": str(year), "assessor": assessor, "rules": "lke-2021"},
    )
    assert response.status_code == 303, response.text
    found = re.search(r"/zi/assessments/(\d+)$", response.headers["location"])
    assert found
    return int(found.group(1))


async def test_fill_score_chart_evidence_history(client, make_unit, make_staff, db) -> None:
    unit = await make_unit("ZIONE")
    admin = await make_staff(unit, "admin")
    assert (await login(client, admin)).status_code == 303
    assessment_id = await _create(client, "ZIONE", 2026, "unit")

    page = f"/zi/assessments/{assessment_id}"
    token = await csrf_from(client, page)
    response = await client.post(
        f"{page}/answers", data={"csrf_token": token, **_form(_fixture("wbk"))}
    )
    assert response.status_code == 303
    html = (await client.get(page)).text
    # Hand figures of tests/zi/fixtures/wbk.yaml: total 91.09, WBK, WBBM short of PPB and HPA.
    assert "<strong>91.09</strong>" in html and "<strong>WBK</strong>" in html
    # Shortfalls named by area and indicator, with the points still needed (2.625 - 2.5).
    assert "<strong>Penataan Tatalaksana (Pemenuhan)</strong>" in html
    assert "<td>2.50</td><td>2.625</td><td><strong>0.13</strong></td>" in html
    assert (
        "(IPKP)</strong>" in html
        and "<td>14.00</td><td>15.75</td><td><strong>1.75</strong>" in html
    )
    assert "(PPB2: 1.00 / 2.0)" in html  # where the PPB points can come from
    assert "<svg" in html and "<script" not in html and "style=" not in html
    assert 'value="Y" selected' in html and 'name="a.PRA1A1" type="number"' in html

    api = (await client.get(f"/api/v1/zi/assessments/{assessment_id}")).json(parse_float=Decimal)
    assert api["result"]["predicate"] == "WBK" and api["result"]["unanswered"] == ["PPF5B"]
    assert api["result"]["total"] == Decimal("91.08583333333333333333333333")
    assert api["answers"]["PRE2A"] == {
        "value": {"PRE2A1": 20, "PRE2A2": 2, "PRE2A3": 18},
        "source": "entered",
        "computed_from": None,
    }
    assert len(api["missing_evidence"]) == 110 - 1 + 3

    # A malformed answer re-shows the form with the error naming the code; nothing is stored.
    bad = {**_form(_fixture("wbk")), "a.PPE4B": "Z"}
    response = await client.post(f"{page}/answers", data={"csrf_token": token, **bad})
    assert response.status_code == 422 and "PPE4B" in response.text
    assert 'value="Z"' not in response.text  # the select offers only real options
    api = (await client.get(f"/api/v1/zi/assessments/{assessment_id}")).json()
    assert api["answers"]["PPE4B"]["value"] == "A"

    # Evidence and completeness.
    response = await client.post(
        f"{page}/evidence",
        data={
            "csrf_token": token,
            "code": "ppe4a",
            "link": "https://jdih.example.go.id/sk-wbs.pdf",
            "note": "SK WBS",
        },
    )
    assert response.status_code == 303
    api = (await client.get(f"/api/v1/zi/assessments/{assessment_id}")).json()
    assert "PPE4A" not in api["missing_evidence"] and len(api["missing_evidence"]) == 111
    response = await client.post(
        f"{page}/evidence",
        data={"csrf_token": token, "code": "PPE4A", "link": "javascript:alert(1)"},
    )
    assert response.status_code == 422

    # History through the audit log, with who made each change.
    history = (await client.get(f"/api/v1/zi/assessments/{assessment_id}/history")).json()
    assert [e["action"] for e in history] == [
        "zi.assessment.create",
        "zi.answers.save",
        "zi.evidence.add",
    ]
    assert {e["actor"] for e in history} == {admin.email}
    assert {"code": "PPB2A", "from": None, "to": "B"} in history[1]["details"]["changes"]

    # Gap page and API: WBBM blocked by the survey index HPA only.
    gap = (await client.get(f"/api/v1/zi/assessments/{assessment_id}/gap")).json()
    assert gap["paths"]["WBBM"]["reachable"] is False
    assert gap["paths"]["WBBM"]["reasons"][0]["en"].startswith("HPA scores 14.00 < 15.75")
    assert "Analisis kesenjangan" in (await client.get(f"{page}/gap")).text
    exported = await client.get(f"{page}/export.xlsx")
    assert exported.status_code == 200 and exported.content[:2] == b"PK"


async def test_api_answers_compare_and_access(app, client, make_unit, make_staff, db) -> None:
    unit = await make_unit("ZITWO")
    other = await make_unit("ZIOTHER")
    auditor = await make_staff(unit, "auditor")
    assert (await login(client, auditor)).status_code == 303
    token = await csrf_from(client, "/staff")
    headers = {"X-CSRF-Token": token, "content-type": "application/json"}
    made = {}
    for assessor in ("unit", "tpi"):
        response = await client.post(
            "/api/v1/zi/units/ZITWO/assessments",
            headers=headers,
            content=json.dumps({"year": 2026, "assessor": assessor}),
        )
        assert response.status_code == 201, response.text
        made[assessor] = response.json()["id"]
    again = await client.post(
        "/api/v1/zi/units/ZITWO/assessments",
        headers=headers,
        content=json.dumps({"year": 2026, "assessor": "tpi"}),
    )
    assert again.status_code == 409

    response = await client.put(
        f"/api/v1/zi/assessments/{made['unit']}/answers",
        headers=headers,
        content=_api_body(_fixture("wbbm")),
    )
    assert response.status_code == 200
    assert response.json(parse_float=Decimal)["result"]["predicate"] == "WBBM"
    response = await client.put(
        f"/api/v1/zi/assessments/{made['tpi']}/answers",
        headers=headers,
        content=_api_body(_fixture("area_minimum")),
    )
    assert response.json()["result"]["predicate"] is None
    bad = await client.put(
        f"/api/v1/zi/assessments/{made['tpi']}/answers",
        headers=headers,
        content=json.dumps({"answers": {"PRE2A1": -1}}),
    )
    assert bad.status_code == 422 and bad.json()["details"]["code"] == "PRE2A1"

    compared = (await client.get("/api/v1/zi/units/ZITWO/compare/2026")).json(parse_float=Decimal)
    assert [c["assessor"] for c in compared["columns"]] == ["unit", "tpi"]
    differing = {d["code"]: d for d in compared["differences"]}
    assert set(differing) == {"PRC1A", "PRC3A"}
    assert differing["PRC1A"]["answers"] == {"unit": "A", "tpi": "B"}
    assert differing["PRC1A"]["scores"] == {"unit": Decimal("1.5"), "tpi": Decimal("0.75")}
    html = (await client.get("/zi/units/ZITWO/compare/2026")).text
    assert "PRC1A" in html and "94.61" in html and "93.06" in html

    listed = (await client.get("/api/v1/zi/units/ZITWO/assessments")).json()
    assert {a["assessor"] for a in listed} == {"unit", "tpi"}
    # Outside the auditor's subtree: 404, as if it did not exist.
    assert (await client.get("/api/v1/zi/units/ZIOTHER/assessments")).status_code == 404
    assert other.code == "ZIOTHER"

    # The unit's own verifikator reads but does not write; staff elsewhere see nothing.
    reader_client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    )
    async with reader_client:
        reader = await make_staff(unit, "verifikator")
        assert (await login(reader_client, reader)).status_code == 303
        assert (await reader_client.get(f"/zi/assessments/{made['unit']}")).status_code == 200
        page = (await reader_client.get(f"/zi/assessments/{made['unit']}")).text
        assert "Simpan jawaban" not in page and "disabled" in page
        token = await csrf_from(reader_client, "/staff")
        denied = await reader_client.put(
            f"/api/v1/zi/assessments/{made['unit']}/answers",
            headers={"X-CSRF-Token": token, "content-type": "application/json"},
            content=json.dumps({"answers": {}}),
        )
        assert denied.status_code == 404
    outsider_client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    )
    async with outsider_client:
        outsider = await make_staff(other, "auditor")
        assert (await login(outsider_client, outsider)).status_code == 303
        assert (
            await outsider_client.get(f"/api/v1/zi/assessments/{made['unit']}")
        ).status_code == 404


async def test_computed_answer_records_its_figures(make_unit, make_staff, db) -> None:
    unit = await make_unit("ZITHREE")
    admin = (await make_staff(unit, "admin")).staff
    assessment = await service.create(
        db, admin, unit, year=2026, assessor=service.Assessor.unit, rules_id="lke-2021"
    )
    await service.record_computed(
        db,
        assessment,
        "PRE2A",
        {"PRE2A1": 12, "PRE2A2": 1, "PRE2A3": 9},
        {"channel": "pengaduan", "period": "2026", "cases": 12, "closed": 9},
    )
    row = await db.scalar(select(Answer).where(Answer.assessment_id == assessment.id))
    assert row is not None and row.source == AnswerSource.computed
    assert row.computed_from == {"channel": "pengaduan", "period": "2026", "cases": 12, "closed": 9}
    found = await db.scalar(select(Assessment).where(Assessment.id == assessment.id))
    assert found is not None
    scored = await service.scored(db, assessment)
    assert scored.evaluation.items["PRE2A"] == Decimal("0.75")
    # A person overwriting it makes it an entered answer again.
    await service.save_answers(
        db, admin, assessment, {"PRE2A": {"PRE2A1": 12, "PRE2A3": 12}}, {}, replace=False
    )
    await db.refresh(row)
    assert row.source == AnswerSource.entered and row.computed_from is None


async def test_no_lost_update_between_two_editors(client, make_unit, make_staff, db) -> None:
    """Two people open the same worksheet; the second save is refused, nothing is lost."""
    unit = await make_unit("ZIFOUR")
    admin = await make_staff(unit, "admin")
    assert (await login(client, admin)).status_code == 303
    assessment_id = await _create(client, "ZIFOUR", 2025, "tpi")
    page = f"/zi/assessments/{assessment_id}"
    html = (await client.get(page)).text
    version = re.search(r'name="version" value="(\d+)"', html)
    assert version is not None
    token = await csrf_from(client, page)
    first = await client.post(
        f"{page}/answers", data={"csrf_token": token, "version": version.group(1), "a.PPA1A": "Y"}
    )
    assert first.status_code == 303
    second = await client.post(
        f"{page}/answers",
        data={"csrf_token": token, "version": version.group(1), "a.PPA1A": "T", "a.PPA1B": "B"},
    )
    assert second.status_code == 409
    assert "diubah orang lain" in second.text
    assert re.search(r'<option value="B"\s+selected', second.text)  # what was typed is kept
    api = (await client.get(f"/api/v1/zi/assessments/{assessment_id}")).json()
    assert {c: a["value"] for c, a in api["answers"].items()} == {"PPA1A": "Y"}
    current = api["assessment"]["version"]
    headers = {
        "X-CSRF-Token": await csrf_from(client, "/staff"),
        "content-type": "application/json",
    }
    stale = await client.put(
        f"/api/v1/zi/assessments/{assessment_id}/answers",
        headers=headers,
        content=json.dumps({"answers": {}, "version": current - 1}),
    )
    assert stale.status_code == 409 and stale.json()["error"] == "zi_changed_meanwhile"
    fresh = await client.put(
        f"/api/v1/zi/assessments/{assessment_id}/answers",
        headers=headers,
        content=json.dumps({"answers": {"PPA1A": "T"}, "version": current}),
    )
    assert fresh.status_code == 200 and fresh.json()["assessment"]["version"] == current + 1


async def test_import_filled_workbook(client, make_unit, make_staff, db) -> None:
    from openpyxl import load_workbook

    from tests.zi.test_workbook import _fill

    unit = await make_unit("ZIFIVE")
    auditor = await make_staff(unit, "auditor")
    assert (await login(client, auditor)).status_code == 303
    assessment_id = await _create(client, "ZIFIVE", 2026, "tpn")
    template = await client.get("/zi/template/lke-2021.xlsx")
    assert template.status_code == 200
    doc = _fixture("survey")
    doc["evidence"] = [
        {"code": "PPE4A", "link": "https://example.go.id/wbs.pdf"},
        {"code": "PPE1A", "link": "SK Kepala Kantor No. 7/2026"},
    ]
    import io

    filled = _fill(load_workbook(io.BytesIO(template.content)), doc)
    page = f"/zi/assessments/{assessment_id}"
    token = await csrf_from(client, page)
    response = await client.post(
        f"{page}/import", data={"csrf_token": token}, files={"file": ("lke.xlsx", filled)}
    )
    assert response.status_code == 303, response.text
    api = (await client.get(f"/api/v1/zi/assessments/{assessment_id}")).json(parse_float=Decimal)
    # Hand figures of tests/zi/fixtures/survey.yaml.
    assert api["result"]["total"] == Decimal("93.29416666666666666666666667")
    assert [s["code"] for s in api["result"]["shortfalls"]["WBK"]] == ["HBA"]
    assert {(e["code"], e["link"], e["file_ref"]) for e in api["evidence"]} == {
        ("PPE4A", "https://example.go.id/wbs.pdf", None),
        ("PPE1A", None, "SK Kepala Kantor No. 7/2026"),
    }
    # A file for another rule set, or a broken one, is refused naming the problem.
    other = await client.get("/zi/template/lke-2019.xlsx")
    response = await client.post(
        f"{page}/import", data={"csrf_token": token}, files={"file": ("lke.xlsx", other.content)}
    )
    assert response.status_code == 422 and "lke-2019" in response.text
    response = await client.post(
        f"{page}/import",
        data={"csrf_token": token},
        files={"file": ("lke.yaml", b"rules: lke-2021\nanswers: {X1: A}")},
    )
    assert response.status_code == 422 and "X1" in response.text
