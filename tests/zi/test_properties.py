"""Hypothesis properties of scoring and answer parsing."""

from __future__ import annotations

import copy
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.zi.strategies import documents, extreme
from wbs.zi.errors import AnswerError
from wbs.zi.ruleset import get_rules
from wbs.zi.scoring import Evaluation, evaluate, parse_worksheet

RULES = ["lke-2021", "lke-2019"]
PROFILE = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _score(doc: dict[str, Any]) -> Evaluation:
    ws = parse_worksheet(doc)
    return evaluate(get_rules(ws.rules), ws)


def _levels(ev: Evaluation) -> dict[str, Fraction]:
    flat: dict[str, Fraction] = {"total": ev.total, "pengungkit": ev.pengungkit, "hasil": ev.hasil}
    for name in (
        "item_scores",
        "indicators",
        "areas",
        "area_totals",
        "parts",
        "hasil_indicators",
        "hasil_groups",
    ):
        flat.update({f"{name}:{code}": v for code, v in getattr(ev, name).items()})
    return flat


def test_all_best_scores_100_and_earns_wbbm() -> None:
    ev = _score(extreme(get_rules("lke-2021"), best=True))
    assert ev.total == 100 and ev.pengungkit == 60 and ev.hasil == 40
    assert ev.predicate == "WBBM" and not ev.unanswered
    assert all(not s for s in ev.shortfalls.values())


def test_all_best_2019_keeps_its_declared_gap_and_is_undetermined() -> None:
    """2019 Penataan Tatalaksana indicators add up to 4 of 5 (declared): the best is 99."""
    ev = _score(extreme(get_rules("lke-2019"), best=True))
    assert ev.areas["PB"] == 4 and ev.total == 99
    assert ev.predicate is None and not ev.predicate_determined
    assert ev.status == {"WBK": "undetermined", "WBBM": "undetermined"}
    assert "not found" in ev.undetermined["WBK"]


@pytest.mark.parametrize("rules_id", RULES)
def test_all_worst_scores_0(rules_id: str) -> None:
    ev = _score(extreme(get_rules(rules_id), best=False))
    assert ev.total == 0 and not ev.unanswered
    assert all(v == 0 for v in _levels(ev).values())
    if rules_id == "lke-2021":
        assert ev.predicate is None and ev.predicate_determined


@pytest.mark.parametrize("rules_id", RULES)
@PROFILE
@given(data=st.data())
def test_every_score_between_0_and_its_weight(rules_id: str, data: st.DataObject) -> None:
    rules = get_rules(rules_id)
    ev = _score(data.draw(documents(rules)))
    assert 0 <= ev.total <= 100
    assert 0 <= ev.pengungkit <= rules.pengungkit.weight
    assert 0 <= ev.hasil <= rules.hasil.weight
    for part in rules.pengungkit.parts:
        assert 0 <= ev.parts[part.code] <= part.weight
        for area in part.areas:
            assert 0 <= ev.areas[area.code] <= area.weight
            for ind in area.indicators:
                assert 0 <= ev.indicators[ind.code] <= ind.weight
                for item in ind.items:
                    assert 0 <= ev.item_scores[item.code] <= Fraction(ind.weight) / len(ind.items)
    for group in rules.hasil.groups:
        assert 0 <= ev.hasil_groups[group.code] <= group.weight
        for hind in group.indicators:
            assert 0 <= ev.hasil_indicators[hind.code] <= hind.weight
    for code, value in ev.items.items():
        assert 0 <= value <= 1, code
    # Sums hold exactly at every level.
    assert ev.total == ev.pengungkit + ev.hasil
    assert ev.pengungkit == sum(ev.parts.values())
    assert sum(ev.areas.values()) == sum(ev.area_totals.values()) == ev.pengungkit
    assert ev.hasil == sum(ev.hasil_groups.values()) == sum(ev.hasil_indicators.values())


def _better(labels: list[str], current: str | None) -> str | None:
    """The next better option label (unanswered counts below the worst), None at the top."""
    position = labels.index(current) if current is not None else len(labels)
    return labels[position - 1] if position else None


def _raise(rules_id: str, doc: dict[str, Any], code: str) -> dict[str, Any] | None:
    """The document with `code` raised by one option/count/hundredth, or None at the top."""
    rules = get_rules(rules_id)
    raised = copy.deepcopy(doc)
    for _a, _i, item in rules.items():
        if item.code != code:
            continue
        current = raised["answers"].get(code)
        if item.scale is not None:
            raised["answers"][code] = _better(rules.ranked_labels(item.scale), current)
            return raised if raised["answers"][code] else None
        assert item.formula is not None
        inputs = dict(current or {c: 0 for c in item.inputs or {}})
        if item.formula.kind == "ratio":
            inputs[item.formula.numerator[0]] += 1
        elif inputs[item.formula.current] > 0:
            inputs[item.formula.current] -= 1
        else:
            return None
        raised["answers"][code] = inputs
        return raised
    for _g, ind in rules.hasil_indicators():
        if ind.code != code:
            continue
        current = raised["hasil"].get(code)
        if ind.scale is not None:
            raised["hasil"][code] = _better(rules.ranked_labels(ind.scale), current)
            return raised if raised["hasil"][code] else None
        assert ind.input is not None
        value = (current if current is not None else ind.input.min) + Decimal("0.01")
        if value > ind.input.max:
            return None
        raised["hasil"][code] = value
        return raised
    raise AssertionError(code)


@pytest.mark.parametrize("rules_id", RULES)
@PROFILE
@given(data=st.data())
def test_raising_one_answer_never_lowers_any_score(rules_id: str, data: st.DataObject) -> None:
    rules = get_rules(rules_id)
    doc = data.draw(documents(rules))
    codes = [i.code for _a, _n, i in rules.items()] + [h.code for _g, h in rules.hasil_indicators()]
    code = data.draw(st.sampled_from(codes))
    raised = _raise(rules_id, doc, code)
    if raised is None:
        return
    before, after = _levels(_score(doc)), _levels(_score(raised))
    assert all(after[k] >= before[k] for k in before), code
    assert after["total"] >= before["total"]


# ----------------------------------------------------------------------------- parser errors

CODES_2021 = [i.code for _a, _n, i in get_rules("lke-2021").items()]


def _bad_documents() -> st.SearchStrategy[tuple[dict[str, Any], str]]:
    rules = get_rules("lke-2021")
    option_items = [i for _a, _n, i in rules.items() if i.scale is not None]
    formula_items = [i for _a, _n, i in rules.items() if i.formula is not None]
    known = set(CODES_2021) | {c for i in formula_items for c in i.inputs or {}}
    unknown_code = st.from_regex(r"[A-Z]{2,4}[0-9][A-Z]", fullmatch=True).filter(
        lambda c: c not in known and c not in {"HBA", "HBB", "HPA"}
    )
    bad_label = st.text(min_size=1, max_size=3).filter(
        lambda t: t.strip().upper() not in {"A", "B", "C", "D", "E", "Y", "T"} and t.strip()
    )

    def wrap(answers: dict[str, Any], hasil: dict[str, Any] | None = None) -> dict[str, Any]:
        return {"rules": "lke-2021", "answers": answers, "hasil": hasil or {}}

    return st.one_of(
        unknown_code.map(lambda c: (wrap({c: "A"}), c)),
        st.tuples(st.sampled_from(option_items), bad_label).map(
            lambda t: (wrap({t[0].code: t[1]}), t[0].code)
        ),
        st.tuples(
            st.sampled_from(option_items),
            st.one_of(st.integers(), st.lists(st.just("A"), max_size=2), st.booleans()),
        ).map(lambda t: (wrap({t[0].code: t[1]}), t[0].code)),
        st.tuples(st.sampled_from(formula_items), st.integers(max_value=-1)).map(
            lambda t: (
                wrap({t[0].code: {sorted(t[0].inputs or {})[0]: t[1]}}),
                sorted(t[0].inputs or {})[0],
            )
        ),
        st.tuples(st.sampled_from(formula_items), st.sampled_from(["x", "1.5", True])).map(
            lambda t: (wrap({sorted(t[0].inputs or {})[0]: t[1]}), sorted(t[0].inputs or {})[0])
        ),
        st.tuples(
            st.sampled_from(["HBA", "HPA"]),
            st.one_of(
                st.decimals(max_value=Decimal("-0.01"), allow_nan=False, allow_infinity=False),
                st.decimals(min_value=Decimal("4.01"), allow_nan=False, allow_infinity=False),
            ),
        ).map(lambda t: (wrap({}, {t[0]: t[1]}), t[0])),
        st.tuples(st.sampled_from(["HBA", "HPA"]), st.sampled_from(["tinggi", [3], None, "NaN"]))
        .filter(lambda t: t[1] is not None)
        .map(lambda t: (wrap({}, {t[0]: t[1]}), t[0])),
    )


@PROFILE
@given(case=_bad_documents())
def test_malformed_answers_name_the_code(case: tuple[dict[str, Any], str]) -> None:
    doc, code = case
    with pytest.raises(AnswerError) as caught:
        parse_worksheet(doc)
    assert caught.value.item == code
    assert code in caught.value.text_en and code in caught.value.text_id


@pytest.mark.parametrize(
    ("doc", "code"),
    [
        ({"answers": {"PRE2A": {"PRE2A1": "1e999999"}}}, "PRE2A1"),
        ({"answers": {"PRE2A": {"PRE2A1": 1.5}}}, "PRE2A1"),
        ({"answers": {"PRE2A": "A"}}, "PRE2A"),
        ({"answers": {"PPA1A": {"PPA1A1": 1}}}, "PPA1A"),
        ({"answers": {"PRE2A": {"PRA1A1": 1}}}, "PRA1A1"),
        ({"hasil": {"HBA": "Infinity"}}, "HBA"),
        ({"hasil": {"HBB": 3}}, "HBB"),
        ({"hasil": {"HXX": 3}}, "HXX"),
        ({"year": "9" * 5000}, "year"),
        ({"rules": 2021}, "rules"),
        ({"answer": {}}, "answer"),
    ],
)
def test_malformed_documents_name_the_code(doc: dict[str, Any], code: str) -> None:
    with pytest.raises(AnswerError) as caught:
        parse_worksheet({"rules": "lke-2021", **doc})
    assert caught.value.item == code


def test_missing_answers_are_listed_not_errors() -> None:
    ev = _score({"rules": "lke-2021", "answers": {"PPA1A": "y"}})
    assert ev.items == {"PPA1A": 1}
    assert len(ev.unanswered) == 110 - 1 + 3
    assert ev.unanswered[:2] == ["PPA1B", "PPA2A"] and ev.unanswered[-3:] == ["HBA", "HBB", "HPA"]


def test_formula_edges() -> None:
    ev = _score(
        {
            "rules": "lke-2021",
            "answers": {
                "PRD1A": {"PRD1A1": 0, "PRD1A2": 0},  # zero denominator: 0 and a warning
                "PRA1A": {"PRA1A1": 2, "PRA1A2": 9},  # capped at 1
                "PRC3A": {"PRC3A1": 0, "PRC3A2": 0},  # previous 0, current 0: 1
                "PRE2A": {"PRE2A1": 4},  # numerator missing: unanswered with a warning
                "PRA1B2": 1,
                "PRA1B1": 4,  # inputs given at top level
            },
        }
    )
    assert ev.items["PRD1A"] == 0 and any("PRD1A" in w for w in ev.warnings)
    assert ev.items["PRA1A"] == 1 and ev.items["PRC3A"] == 1 and ev.items["PRA1B"] == Fraction(1, 4)
    assert "PRE2A" in ev.unanswered and any("PRE2A3" in w for w in ev.warnings)
    ev = _score({"rules": "lke-2021", "answers": {"PRC3A": {"PRC3A1": 0, "PRC3A2": 1}}})
    assert ev.items["PRC3A"] == 0


@pytest.mark.parametrize("rules_id", RULES)
@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_json_result_carries_exact_numbers(rules_id: str, data: st.DataObject) -> None:
    import json

    from wbs.zi.scoring import dumps, result, to_decimal

    ev = _score(data.draw(documents(get_rules(rules_id))))
    body = json.loads(dumps(result(ev)), parse_float=Decimal)
    assert Decimal(body["total"]) == to_decimal(ev.total)
    assert {k: Decimal(v) for k, v in body["areas"].items()} == {
        k: to_decimal(v) for k, v in ev.areas.items()
    }
    assert body["predicate"] == ev.predicate and body["unanswered"] == ev.unanswered
