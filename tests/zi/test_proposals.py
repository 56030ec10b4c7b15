"""The LKE link through the real app, on SQLite and PostgreSQL: proposals from figures written
here, accept (score, evidence, audit), override, access, no overwriting, no double decision."""

from __future__ import annotations

import copy
import io
import json
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import csrf_from, login
from tests.zi.test_pengawasan import GOOD, GOOD_ANSWERS, weak
from tests.zi.test_service_routes import _fixture
from wbs.units.models import Unit
from wbs.zi.sources import JsonDataDukung, Pengawasan, RuleNote

LINKED = tuple(GOOD_ANSWERS)


class Figures:
    """An indicator source serving figures written in the test."""

    def __init__(self, figures: dict[str, Any]) -> None:
        self.figures_ = figures
        self.asked: list[tuple[str, str]] = []

    async def figures(self, db: AsyncSession, unit: Unit, period: str) -> dict[str, Any]:
        self.asked.append((unit.code, period))
        return copy.deepcopy(self.figures_)


class Zipper:
    """A packager standing in for the signed exporter: a ZIP whose bytes the test knows."""

    @staticmethod
    def bytes_for(unit: str, period: str, figures: Mapping[str, Any], code: str) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            info = zipfile.ZipInfo("figures.json", date_time=(2026, 1, 1, 0, 0, 0))
            archive.writestr(info, json.dumps({"unit": unit, "period": period, "item": code}))
            info = zipfile.ZipInfo("all.json", date_time=(2026, 1, 1, 0, 0, 0))
            archive.writestr(info, json.dumps(figures, sort_keys=True))
        return out.getvalue()

    async def package(
        self,
        db: AsyncSession,
        unit: Unit,
        period: str,
        figures: Mapping[str, Any],
        note: RuleNote,
    ) -> tuple[str, bytes]:
        return f"paket-{note.code}.zip", self.bytes_for(unit.code, period, figures, note.code)


async def _headers(client: httpx.AsyncClient) -> dict[str, str]:
    return {"X-CSRF-Token": await csrf_from(client, "/staff"), "content-type": "application/json"}


async def _assessment(
    client: httpx.AsyncClient, unit: str, answers: dict[str, Any], assessor: str = "unit"
) -> int:
    headers = await _headers(client)
    made = await client.post(
        f"/api/v1/zi/units/{unit}/assessments",
        headers=headers,
        content=json.dumps({"year": 2026, "assessor": assessor}),
    )
    assert made.status_code == 201, made.text
    assessment_id: int = made.json()["id"]
    saved = await client.put(
        f"/api/v1/zi/assessments/{assessment_id}/answers",
        headers=headers,
        content=json.dumps({"answers": answers}),
    )
    assert saved.status_code == 200, saved.text
    return assessment_id


@dataclass
class Signed:
    """A signed-in writer with an assessment of their unit and the indicators it sees."""

    client: httpx.AsyncClient
    account: Any
    unit: Unit
    assessment_id: int
    headers: dict[str, str]

    @property
    def base(self) -> str:
        return f"/api/v1/zi/assessments/{self.assessment_id}/proposals"

    async def propose(self, body: dict[str, Any] | None = None) -> httpx.Response:
        return await self.client.post(
            self.base, headers=self.headers, content=json.dumps(body or {})
        )

    async def decide(self, proposal: int, action: str, answer: Any = None) -> httpx.Response:
        content = None if answer is None else json.dumps({"answer": answer})
        return await self.client.post(
            f"{self.base}/{proposal}/{action}", headers=self.headers, content=content
        )

    async def full(self) -> dict[str, Any]:
        response = await self.client.get(f"/api/v1/zi/assessments/{self.assessment_id}")
        body: dict[str, Any] = response.json()
        return body


async def _signed_in(
    app: Any,
    client: httpx.AsyncClient,
    unit: Unit,
    account: Any,
    pengawasan: Pengawasan,
    answers: dict[str, Any],
) -> Signed:
    assert (await login(client, account)).status_code == 303
    app.state.pengawasan = pengawasan
    assessment_id = await _assessment(client, unit.code, answers)
    return Signed(client, account, unit, assessment_id, await _headers(client))


def _wbk_without_linked() -> dict[str, Any]:
    """The WBK fixture's pengungkit answers, less the items the link proposes."""
    answers = dict(_fixture("wbk")["answers"])
    for code in LINKED:
        answers.pop(code)
    return answers


async def _total(client: httpx.AsyncClient, assessment_id: int) -> Decimal:
    body = (await client.get(f"/api/v1/zi/assessments/{assessment_id}")).json(parse_float=Decimal)
    return Decimal(body["result"]["total"])


async def test_propose_accept_rescores_and_attaches_evidence(
    app: Any, client: httpx.AsyncClient, make_unit: Any, make_staff: Any
) -> None:
    unit = await make_unit("ZILKE")
    admin = await make_staff(unit, "admin")
    source = Figures(GOOD)
    me = await _signed_in(
        app, client, unit, admin, Pengawasan(source, Zipper()), _wbk_without_linked()
    )
    before = await _total(client, me.assessment_id)

    proposed = await me.propose()
    assert proposed.status_code == 201, proposed.text
    assert source.asked == [("ZILKE", "2026")]  # the assessment year by default
    rows = {p["code"]: p for p in proposed.json()}
    assert {code: p["value"] for code, p in rows.items()} == GOOD_ANSWERS
    assert {p["status"] for p in rows.values()} == {"proposed"}
    assert rows["PRE2A"]["figures"] == {"verified": 20, "completed": 18, "received": 25}
    assert rows["PPE3B"]["period"] == "2026"
    assert rows["PPE3B"]["rule"] == "pengaduan-ditindaklanjuti"
    # Proposing changes no answer and so no score.
    assert await _total(client, me.assessment_id) == before

    for code in LINKED:
        accepted = await me.decide(rows[code]["id"], "accept")
        assert accepted.status_code == 200, accepted.text
        body = accepted.json()
        assert body["proposal"]["status"] == "accepted"
        assert body["answers"][code]["source"] == "indicators"
        assert body["answers"][code]["value"] == GOOD_ANSWERS[code]
        assert body["answers"][code]["computed_from"]["figures"] == rows[code]["figures"]
        # The data dukung package is attached and downloads byte for byte.
        evidence = body["proposal"]["evidence"]
        assert evidence["code"] == code and evidence["file"]["name"] == f"paket-{code}.zip"
        download = await client.get(evidence["file"]["url"])
        assert download.status_code == 200
        assert download.content == Zipper.bytes_for("ZILKE", "2026", GOOD, code)
        assert download.headers["content-type"] == "application/zip"
        assert download.headers["content-disposition"].startswith("attachment")

    # By hand from lke-2021.yaml (indicator weight / items x option value):
    # PPE1B A: 1.5/2 x 1 = 0.75; PPE3A B: 1.5/4 x 0.5 = 0.1875; PPE3B Y: 1.5/4 x 1 = 0.375;
    # PPE4A B: 1.5/3 x 0.5 = 0.25; PRE2A: 3.0 x 18/20 = 2.7. Sum 4.2625.
    after = await _total(client, me.assessment_id)
    assert after - before == Decimal("4.2625")
    assert not set(LINKED) & set((await me.full())["missing_evidence"])

    history = (await client.get(f"/api/v1/zi/assessments/{me.assessment_id}/history")).json()
    actions = [e["action"] for e in history]
    assert actions.count("zi.proposals.propose") == 1
    assert actions.count("zi.proposal.accept") == len(LINKED)
    accept = next(e for e in history if e["action"] == "zi.proposal.accept")
    assert accept["actor"] == admin.email
    assert accept["details"]["changes"] == [{"code": "PPE1B", "from": None, "to": "A"}]

    # A second decision on the same proposal is a clean 409.
    again = await me.decide(rows["PPE1B"]["id"], "accept")
    assert again.status_code == 409 and again.json()["error"] == "zi_proposal_decided"
    # The same figures again: nothing new to propose.
    repeat = await me.propose()
    assert repeat.status_code == 201 and repeat.json() == []


async def test_pages_propose_accept_and_override(
    app: Any, client: httpx.AsyncClient, make_unit: Any, make_staff: Any
) -> None:
    unit = await make_unit("ZILKEPG")
    auditor = await make_staff(unit, "auditor")
    me = await _signed_in(
        app, client, unit, auditor, Pengawasan(Figures(weak()), JsonDataDukung()), {"PPA1A": "Y"}
    )
    page = f"/zi/assessments/{me.assessment_id}"
    token = await csrf_from(client, page)
    response = await client.post(f"{page}/proposals", data={"csrf_token": token, "period": "2025"})
    assert response.status_code == 303 and response.headers["location"].endswith("#usulan")
    html = (await client.get(page)).text
    assert 'id="usulan-PPE1B"' in html and 'id="usulan-PPE3A"' in html
    # Weak figures (see test_pengawasan): PPE1B B, PPE3A/PPE3B/PPE4A not proposed, PRE2A 10/4/6.
    assert "does not hold" not in html  # Indonesian page
    assert "tidak terpenuhi: completed_on_time_pct ≥ 90" in html
    assert "<strong>PRE2A1 = 10</strong>" in html and "<code>completed_on_time_pct</code>" in html
    assert "<script" not in html and " style=" not in html
    accept_forms = re.findall(r'action="/zi/assessments/\d+/proposals/(\d+)/accept"', html)
    override_forms = re.findall(r'action="/zi/assessments/\d+/proposals/(\d+)/override"', html)
    assert len(accept_forms) == 2 == len(override_forms)  # PPE1B and PRE2A only
    by_code = {p["code"]: p for p in (await client.get(me.base)).json()}
    assert by_code["PPE1B"]["value"] == "B" and by_code["PPE1B"]["period"] == "2025"
    assert by_code["PPE3A"]["status"] == "unsupported" and by_code["PPE3A"]["value"] is None

    # Accept PPE1B through the page form.
    token = await csrf_from(client, page)
    accepted = await client.post(
        f"{page}/proposals/{by_code['PPE1B']['id']}/accept", data={"csrf_token": token}
    )
    assert accepted.status_code == 303
    # Override PRE2A with the assessor's own counts: answer stored, proposal kept.
    overridden = await client.post(
        f"{page}/proposals/{by_code['PRE2A']['id']}/override",
        data={"csrf_token": token, "a.PRE2A1": "10", "a.PRE2A2": "0", "a.PRE2A3": "10"},
    )
    assert overridden.status_code == 303
    full = await me.full()
    assert full["answers"]["PPE1B"] == {
        "value": "B",
        "source": "indicators",
        "computed_from": {
            "proposal": by_code["PPE1B"]["id"],
            "rule": "gratifikasi-upg-tepat-waktu",
            "period": "2025",
            "figures": by_code["PPE1B"]["figures"],
        },
    }
    assert full["answers"]["PRE2A"]["value"] == {"PRE2A1": 10, "PRE2A2": 0, "PRE2A3": 10}
    assert full["answers"]["PRE2A"]["source"] == "entered"
    after = {p["code"]: p for p in (await client.get(me.base)).json()}
    assert after["PRE2A"]["status"] == "overridden"
    assert after["PRE2A"]["value"] == {"PRE2A1": 10, "PRE2A2": 4, "PRE2A3": 6}  # kept
    assert after["PRE2A"]["answer"] == {"PRE2A1": 10, "PRE2A2": 0, "PRE2A3": 10}
    assert after["PRE2A"]["evidence"] is None  # only accepted items get a package
    # The JSON data dukung of PPE1B holds the figures of the run it came from.
    package = after["PPE1B"]["evidence"]["file"]
    assert package["name"] == "data-dukung-ZILKEPG-2025-PPE1B.json"
    doc = json.loads((await client.get(package["url"])).content)
    assert doc["figures"] == weak() and doc["value"] == "B" and doc["period"] == "2025"
    history = (await client.get(f"/api/v1/zi/assessments/{me.assessment_id}/history")).json()
    override = next(e for e in history if e["action"] == "zi.proposal.override")
    assert override["details"]["proposed"] == {"PRE2A1": 10, "PRE2A2": 4, "PRE2A3": 6}
    assert override["details"]["answer"] == {"PRE2A1": 10, "PRE2A2": 0, "PRE2A3": 10}
    html = (await client.get(page)).text
    assert "usulan indikator yang diterima" in html and "diganti jawaban penilai" in html


async def test_override_through_the_api_and_a_saved_form_keeps_the_source(
    app: Any, client: httpx.AsyncClient, make_unit: Any, make_staff: Any
) -> None:
    unit = await make_unit("ZILKEOV")
    admin = await make_staff(unit, "admin")
    me = await _signed_in(app, client, unit, admin, Pengawasan(Figures(GOOD), Zipper()), {})
    rows = {p["code"]: p for p in (await me.propose({"period": "2026-Q4"})).json()}
    bad = await me.decide(rows["PPE3B"]["id"], "override", "Z")
    assert bad.status_code == 422 and bad.json()["details"]["code"] == "PPE3B"
    done = await me.decide(rows["PPE3B"]["id"], "override", "T")
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["answers"]["PPE3B"] == {"value": "T", "source": "entered", "computed_from": None}
    assert body["proposal"]["status"] == "overridden" and body["proposal"]["value"] == "Y"
    assert body["proposal"]["period"] == "2026-Q4"
    assert body["result"]["items"]["PPE3B"] == 0
    assert (await me.decide(rows["PPE1B"]["id"], "accept")).status_code == 200
    # Saving the whole form with the accepted answer unchanged keeps its source.
    page = f"/zi/assessments/{me.assessment_id}"
    token = await csrf_from(client, page)
    saved = await client.post(
        f"{page}/answers", data={"csrf_token": token, "a.PPE1B": "A", "a.PPE3B": "T"}
    )
    assert saved.status_code == 303
    answers = (await me.full())["answers"]
    assert answers["PPE1B"]["source"] == "indicators" and answers["PPE3B"]["source"] == "entered"


async def test_propose_does_not_overwrite_answers(
    app: Any, client: httpx.AsyncClient, make_unit: Any, make_staff: Any
) -> None:
    unit = await make_unit("ZILKEKEEP")
    admin = await make_staff(unit, "admin")
    given = {"PPE3B": "T", "PPE1B": "C", "PRE2A": {"PRE2A1": 5, "PRE2A2": 1, "PRE2A3": 4}}
    me = await _signed_in(app, client, unit, admin, Pengawasan(Figures(GOOD), Zipper()), given)
    before = await me.full()
    proposed = await me.propose()
    assert proposed.status_code == 201 and len(proposed.json()) == len(LINKED)
    after = await me.full()
    assert after["answers"] == before["answers"]
    assert {c: a["source"] for c, a in after["answers"].items()} == dict.fromkeys(given, "entered")
    assert after["result"]["total"] == before["result"]["total"]
    # Changed figures supersede the undecided proposals; decided ones stay as they were.
    assert (await me.decide(proposed.json()[0]["id"], "accept")).status_code == 200
    app.state.pengawasan = Pengawasan(Figures(weak()), Zipper())
    assert (await me.propose()).status_code == 201
    every = (await client.get(me.base)).json()
    assert [(p["code"], p["status"]) for p in every[: len(LINKED)]] == [
        ("PPE1B", "accepted"),
        ("PPE3A", "superseded"),
        ("PPE3B", "superseded"),
        ("PPE4A", "superseded"),
        ("PRE2A", "superseded"),
    ]
    final = (await me.full())["answers"]
    assert final["PPE3B"] == {"value": "T", "source": "entered", "computed_from": None}
    assert final["PRE2A"]["value"] == given["PRE2A"]


async def test_who_may_propose_and_decide(
    app: Any, client: httpx.AsyncClient, make_unit: Any, make_staff: Any
) -> None:
    unit = await make_unit("ZILKEA")
    other = await make_unit("ZILKEB")
    admin = await make_staff(unit, "admin")
    me = await _signed_in(app, client, unit, admin, Pengawasan(Figures(GOOD), Zipper()), {})
    first = (await me.propose()).json()[0]["id"]

    async def as_other(account: Any, expected_read: int) -> None:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as c:
            assert (await login(c, account)).status_code == 303
            them = Signed(c, account, unit, me.assessment_id, await _headers(c))
            assert (await c.get(them.base)).status_code == expected_read
            assert (await them.propose()).status_code == 404
            assert (await them.decide(first, "accept")).status_code == 404
            assert (await them.decide(first, "override", "A")).status_code == 404
            token = await csrf_from(c, "/staff")
            page = f"/zi/assessments/{me.assessment_id}/proposals"
            assert (await c.post(page, data={"csrf_token": token})).status_code == 404
            accept = await c.post(f"{page}/{first}/accept", data={"csrf_token": token})
            assert accept.status_code == 404

    await as_other(await make_staff(other, "auditor"), 404)  # another unit: nothing exists
    await as_other(await make_staff(unit, "verifikator"), 200)  # reads, never writes
    # A proposal of another assessment is not found through this one.
    second = await _assessment(client, "ZILKEA", {}, assessor="tpi")
    elsewhere = Signed(client, admin, unit, second, me.headers)
    assert (await elsewhere.decide(first, "accept")).status_code == 404
    assert (await me.decide(999999, "accept")).status_code == 404
    # Still undecided after all the refused attempts.
    assert (await client.get(me.base)).json()[0]["status"] == "proposed"
