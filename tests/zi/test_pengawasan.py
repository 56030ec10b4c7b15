"""The LKE link mapping: it validates against lke-2021, and turns figures into the answers
derived here by hand from wbs/zi/links/pengawasan-2021.yaml."""

from __future__ import annotations

import copy
import json
import types
from pathlib import Path
from typing import Any

import pytest

from wbs.zi import pengawasan
from wbs.zi.errors import RuleSetError
from wbs.zi.pengawasan import LINKS_DIR, decide, get_links, load_file
from wbs.zi.ruleset import get_rules
from wbs.zi.sources import IndicatorsService, JsonDataDukung, RuleNote

# A unit-year whose channels work well (the indicator contract, internal form).
GOOD: dict[str, Any] = {
    "unit": "ZILKE",
    "unit_name": "Unit LKE",
    "period": "2026",
    "period_start": "2026-01-01",
    "period_end": "2026-12-31",
    "suppressed_below": 5,
    "generated_at": "2027-01-05T08:00:00+00:00",
    "channels": {
        "pengaduan": {
            "received": 25,
            "received_form": 5,
            "received_e2e": 20,
            "verified": 20,
            "followed_up": 20,
            "completed": 18,
            "completed_on_time": 17,
            "completed_on_time_pct": 94.44,
            "overdue": 0,
            "first_response_wd_median": 1.0,
            "first_response_wd_p90": 2.5,
            "completion_wd_median": 6.0,
            "completion_wd_p90": 12.0,
            "forwarded": {"kpk": 0, "apip": 1, "aph": 0, "other_unit": 3},
            "mailbox_questions": 4,
            "mailbox_answers": 4,
        },
        "wbs": {
            "received": 3,
            "verified": 2,
            "followed_up": 2,
            "completed": 1,
            "completed_on_time": 1,
            "completed_on_time_pct": 100.0,
            "overdue": 0,
            "feedback_3m_pct": 100.0,
        },
        "gratifikasi": {
            "received": 6,
            "verified": 6,
            "followed_up": 6,
            "completed": 5,
            "completed_on_time": 5,
            "completed_on_time_pct": 100.0,
            "overdue": 0,
            "forwarded": {"kpk": 5, "apip": 0, "aph": 0, "other_unit": 0},
            "refusals": 2,
            "donations": 1,
            "by_value_band": {"<1jt": 4, "1-10jt": 2},
            "by_state": {"diteruskan_kpk": 5, "verifikasi": 1},
            "by_kpk_decision": {"milik_negara": 3, "milik_penerima": 2},
        },
        "benturan_kepentingan": {
            "received": 2,
            "declarations": 2,
            "complaints": 0,
            "by_control": {"pembatasan": 1, "pengalihan": 1},
            "overdue": 0,
        },
    },
    "total": {"received": 36},
}

# By hand, rule by rule:
# PPE1B: gratifikasi received 6 >= 1; completed 5 >= 1, on time 100 >= 90, overdue 0 -> A
# PPE3A: pengaduan received 25 >= 1; completed 18 >= 1, on time 94.44 >= 90, overdue 0 -> B
# PPE3B: verified 20 >= 1; followed_up 20 >= verified 20 -> Y
# PPE4A: wbs received 3 >= 1; followed_up 2 >= verified 2, feedback 100 >= 90 -> B
# PRE2A: verified 20 >= 1, completed 18 <= 20 -> PRE2A1 20, PRE2A2 20 - 18 = 2, PRE2A3 18
GOOD_ANSWERS = {
    "PPE1B": "A",
    "PPE3A": "B",
    "PPE3B": "Y",
    "PPE4A": "B",
    "PRE2A": {"PRE2A1": 20, "PRE2A2": 2, "PRE2A3": 18},
}


def weak() -> dict[str, Any]:
    figures = copy.deepcopy(GOOD)
    channels = figures["channels"]
    channels["pengaduan"].update(
        received=12, verified=10, followed_up=8, completed=6, completed_on_time_pct=75.0, overdue=2
    )
    channels["wbs"].update(received=1, verified=1, followed_up=1, feedback_3m_pct=0.0)
    channels["gratifikasi"].update(received=2, completed=1, completed_on_time_pct=100.0, overdue=1)
    return figures


def _decide_all(figures: dict[str, Any]) -> dict[str, Any]:
    return {link.code: decide(link, figures) for link in get_links().links}


def test_packaged_mapping_validates_against_lke_2021() -> None:
    links = get_links()
    assert links.rules == "lke-2021" and pengawasan.links_for("lke-2021") is links
    assert pengawasan.links_for("lke-2019") is None
    rules = get_rules("lke-2021")
    items = {i.code: i for _a, _n, i in rules.items()}
    linked = [link.code for link in links.links]
    assert linked == ["PPE1B", "PPE3A", "PPE3B", "PPE4A", "PRE2A"]
    area = [i.code for a, _n, i in rules.items() if a.area == "PW"]
    assert sorted(linked + [u.code for u in links.unlinked]) == sorted(area)
    assert len(area) == 2 + 4 + 4 + 3 + 5 + 1 + 1 + 2 and all(code in items for code in area)


def _mapping_with(tmp_path: Path, old: str, new: str) -> Path:
    text = (LINKS_DIR / "pengawasan-2021.yaml").read_text(encoding="utf-8")
    assert old in text, old
    target = tmp_path / "pengawasan-2021.yaml"
    target.write_text(text.replace(old, new, 1), encoding="utf-8")
    return target


@pytest.mark.parametrize(
    ("old", "new", "code", "words"),
    [
        ("  - code: PPE3B\n", "  - code: PPE9Z\n", "PPE9Z", "unknown item code in lke-2021"),
        ("  - code: PPE3B\n", "  - code: PPA1A\n", "PPA1A", "not an item of the Penguatan"),
        ("  - code: PPE3B\n", "  - code: PPE3A\n", "PPE3A", "listed twice"),
        ("    propose: Y\n", "    propose: A\n", "PPE3B", "'A' is not an option of scale"),
        ("[followed_up >= verified]\n", "[followed >= verified]\n", "PPE3B", "unknown figure"),
        ("PRE2A3: completed\n", "PRE2A9: completed\n", "PRE2A", "inputs must cover"),
    ],
)
def test_broken_mapping_fails_naming_the_code(
    tmp_path: Path, old: str, new: str, code: str, words: str
) -> None:
    with pytest.raises(RuleSetError) as caught:
        load_file(_mapping_with(tmp_path, old, new))
    problems = caught.value.problems
    assert any(c == code and words in problem for c, problem in problems), problems
    assert code in caught.value.text_en


def test_every_pengawasan_item_is_accounted_for(tmp_path: Path) -> None:
    """An item dropped from the mapping (neither linked nor unlinked) fails the load."""
    path = _mapping_with(tmp_path, "  - code: PPE1A\n", "  - code: PPE1A\n")
    text = path.read_text(encoding="utf-8")
    start, end = text.index("  - code: PPE1A\n"), text.index("  - code: PPE2A\n")
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    with pytest.raises(RuleSetError) as caught:
        load_file(path)
    assert caught.value.problems == [
        ("PPE1A", "Penguatan Pengawasan item neither linked nor unlinked")
    ]


def test_good_figures_give_the_hand_derived_answers() -> None:
    outcomes = _decide_all(GOOD)
    assert {code: o.value for code, o in outcomes.items()} == GOOD_ANSWERS
    assert all(o.reason is None for o in outcomes.values())
    # The proposal keeps the figures its rule read or shows, as given.
    assert outcomes["PPE3B"].figures == {"verified": 20, "followed_up": 20, "received": 25}
    assert outcomes["PPE1B"].figures["forwarded.kpk"] == 5


def test_weak_figures_propose_only_what_they_support() -> None:
    outcomes = _decide_all(weak())
    # PPE1B: received 2 >= 1 but overdue 1 != 0 -> otherwise B.
    assert outcomes["PPE1B"].value == "B"
    # PPE3A: on time 75 < 90 -> no proposal, the failed condition named.
    assert outcomes["PPE3A"].value is None
    reason = outcomes["PPE3A"].reason
    assert reason is not None and reason.en == "does not hold: completed_on_time_pct ≥ 90"
    # PPE3B: followed_up 8 < verified 10 -> no proposal (T is never proposed).
    assert outcomes["PPE3B"].value is None
    # PPE4A: feedback 0 < 90 -> no proposal.
    assert outcomes["PPE4A"].value is None
    # PRE2A: 10 verified, 6 completed -> 10, 4, 6.
    assert outcomes["PRE2A"].value == {"PRE2A1": 10, "PRE2A2": 4, "PRE2A3": 6}


def test_no_cases_no_proposals_and_missing_figures_are_named() -> None:
    empty = copy.deepcopy(GOOD)
    for channel in empty["channels"].values():
        for key, value in channel.items():
            if isinstance(value, int):
                channel[key] = 0
    assert all(o.value is None for o in _decide_all(empty).values())
    nulls = copy.deepcopy(GOOD)
    nulls["channels"]["gratifikasi"].update(completed=0, completed_on_time_pct=None)
    assert _decide_all(nulls)["PPE1B"].value == "B"  # reports in, none completed: started
    nulls["channels"]["pengaduan"]["completed_on_time_pct"] = None
    outcome = _decide_all(nulls)["PPE3A"]
    assert outcome.value is None and outcome.reason is not None
    assert outcome.reason.en == "figure completed_on_time_pct is not available"
    del nulls["channels"]["wbs"]
    assert _decide_all(nulls)["PPE4A"].reason is not None
    inconsistent = copy.deepcopy(GOOD)
    inconsistent["channels"]["pengaduan"]["completed"] = 21  # more than the 20 verified
    assert _decide_all(inconsistent)["PRE2A"].value is None


async def test_default_packager_writes_canonical_json_of_the_figures() -> None:
    link = get_links().link("PPE3B")
    assert link is not None
    note = RuleNote("PPE3B", link.id, link.rule_text(), link.why, "Y", {"verified": 20})
    unit = types.SimpleNamespace(code="ZILKE")
    name, data = await JsonDataDukung().package(None, unit, "2026", GOOD, note)  # type: ignore[arg-type]
    assert name == "data-dukung-ZILKE-2026-PPE3B.json"
    doc = json.loads(data)
    assert doc["figures"] == GOOD and doc["value"] == "Y" and doc["item"] == "PPE3B"
    assert doc["rule"]["id"] == "[pengaduan] bila verified ≥ 1: Y bila followed_up ≥ verified"
    again = await JsonDataDukung().package(None, unit, "2026", json.loads(json.dumps(GOOD)), note)  # type: ignore[arg-type]
    assert again[1] == data  # canonical: the same figures give the same bytes


async def test_production_source_gives_the_units_internal_figures(db, make_unit) -> None:
    unit = await make_unit()
    figures = await IndicatorsService().figures(db, unit, "2026")
    assert figures["unit"] == unit.code and figures["period"] == "2026"
    assert figures["suppressed_below"] is None  # internal figures, not the public form
    assert figures["channels"]["pengaduan"]["received"] == 0
    from wbs.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        await IndicatorsService().figures(db, unit, "bad")
