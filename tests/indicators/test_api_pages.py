"""The indicators API and pages: who may read them, the same figures as the service, public
figures suppressed consistently across a unit tree, and nothing from report content."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import login
from tests.indicators.dataset import AS_OF, CANARY, build
from wbs.indicators import routes, service

K = 5


@pytest.fixture
async def tree(db, make_unit, make_staff, app):
    built = await build(db, make_unit, make_staff)

    def fixed(request: Any = None) -> service.Options:
        settings = app.state.settings
        return service.Options(settings.indicators_k, settings.timezone, app.state.workflows, AS_OF)

    app.dependency_overrides[routes.options] = fixed
    yield built
    app.dependency_overrides.clear()


def _counts(node: Any, path: str = "") -> list[tuple[str, Any]]:
    """Every figure of a JSON answer (header fields left out)."""
    if isinstance(node, dict):
        found = []
        for key, value in node.items():
            if key in (
                "unit",
                "unit_name",
                "period",
                "period_start",
                "period_end",
                "as_of",
                "generated_at",
                "suppressed_below",
            ):
                continue
            found += _counts(value, f"{path}.{key}")
        return found
    if isinstance(node, list):
        return [x for n, v in enumerate(node) for x in _counts(v, f"{path}[{n}]")]
    return [(path, node)]


async def test_staff_read_their_subtree_only(client, make_staff, tree):
    admin = await make_staff(tree.p, "admin")
    await login(client, admin)
    answer = await client.get(f"/api/v1/units/{tree.p.code}/indicators?period=2026&children=true")
    assert answer.status_code == 200
    body = answer.json()
    assert body["total"]["received"] == 15 and body["channels"]["wbs"]["feedback_3m_pct"] == 33.3
    assert body["suppressed_below"] is None
    assert [c["total"]["received"] for c in body["children"]] in ([8, 5], [5, 8])
    assert CANARY not in answer.text
    # A quarter, and a bad period (bilingual 422).
    q1 = await client.get(f"/api/v1/units/{tree.p.code}/indicators?period=2026-Q1")
    assert q1.json()["total"]["received"] == 4
    bad = await client.get(f"/api/v1/units/{tree.p.code}/indicators?period=2026-Q7")
    assert bad.status_code == 422 and bad.json()["error"] == "period_invalid"


async def test_atasan_of_a_child_cannot_read_the_parent(client, make_staff, tree):
    atasan = await make_staff(tree.a, "atasan")
    await login(client, atasan)
    mine = await client.get(f"/api/v1/units/{tree.a1.code}/indicators?period=2026")
    assert mine.status_code == 200 and mine.json()["total"]["received"] == 5
    for unit in (tree.p, tree.b):
        assert (
            await client.get(f"/api/v1/units/{unit.code}/indicators?period=2026")
        ).status_code == 404
        assert (
            await client.get(f"/admin/units/{unit.code}/indicators?period=2026")
        ).status_code == 404


async def test_officers_without_an_oversight_role_get_404(client, make_staff, tree):
    await login(client, await make_staff(tree.p, "verifikator", "upg"))
    assert (await client.get(f"/api/v1/units/{tree.p.code}/indicators")).status_code == 404


async def test_public_figures_show_no_small_cell_and_agree_across_the_tree(client, tree):
    pages = {}
    for unit in (tree.p, tree.a, tree.b, tree.a1):
        answer = await client.get(f"/api/v1/public/units/{unit.code}/indicators?period=2026")
        assert answer.status_code == 200, answer.text
        assert CANARY not in answer.text
        body = answer.json()
        assert body["suppressed_below"] == K and body.get("monthly") is None
        for path, value in _counts(body):
            assert not (isinstance(value, int) and 1 <= value < K), (unit.code, path, value)
            assert value in (None, "<5", "x") or isinstance(value, int | float), (path, value)
        pages[unit.code] = body
    # Every unit shows the same figures on its own page as beside its siblings on its
    # parent's page: one suppression for the whole tree.
    for parent in (tree.p, tree.a):
        for child in pages[parent.code]["children"]:
            own = pages[child["unit"]]
            assert child["channels"] == own["channels"] and child["total"] == own["total"]
    # P's 15 cases are spread too thin for any channel to show; zeros show.
    assert pages[tree.p.code]["total"]["received"] in ("x", 15)
    assert pages[tree.a1.code]["channels"]["wbs"]["received"] in ("<5", "x")
    assert pages[tree.p.code]["channels"]["gratifikasi"]["by_state"]["dicatat"] in ("<5", "x")
    assert pages[tree.p.code]["channels"]["gratifikasi"]["by_state"]["gugur"] == 0


async def test_public_figures_are_for_complete_years_only(client, tree):
    for period in ("2026-Q1", "2026-03", "2027"):
        answer = await client.get(f"/api/v1/public/units/{tree.p.code}/indicators?period={period}")
        assert answer.status_code == 422 and answer.json()["error"] == "public_period"
    assert (await client.get("/api/v1/public/units/NOSUCHUNIT/indicators")).status_code == 404


async def test_staff_can_ask_for_the_public_form(client, make_staff, tree):
    await login(client, await make_staff(tree.p, "auditor"))
    staff = await client.get(f"/api/v1/units/{tree.a.code}/indicators?period=2026&public=true")
    public = await client.get(f"/api/v1/public/units/{tree.a.code}/indicators?period=2026")
    assert staff.status_code == 200
    assert staff.json()["channels"] == public.json()["channels"]


async def test_dashboard_and_transparency_pages(client, make_staff, tree):
    await login(client, await make_staff(tree.p, "admin"))
    page = await client.get(f"/admin/units/{tree.p.code}/indicators?period=2026")
    assert page.status_code == 200
    text = page.text
    assert "<svg" in text and "chart-monthly" in text and "chart-compliance" in text
    assert tree.a.name in text and tree.b.name in text  # children side by side
    assert "<script" not in text and " style=" not in text and CANARY not in text
    assert 'title="Laporan yang diterima pada periode ini."' in text  # definitions on hover
    public = await client.get(f"/transparansi/{tree.p.code}?period=2026&lang=en")
    assert public.status_code == 200 and "Transparency of report handling" in public.text
    assert CANARY not in public.text and "chart-monthly" not in public.text
    cells = re.findall(r'<td class="num">([^<]*)</td>', public.text)
    assert cells and all(not (c.isdigit() and 1 <= int(c) < K) for c in cells), cells
    landing = await client.get(f"/lapor/{tree.p.code}")
    assert f'href="/transparansi/{tree.p.code}"' in landing.text
