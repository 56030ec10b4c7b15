"""The compiled scoring plan equals the plain reference scorer (tests/zi/reference.py)."""

from __future__ import annotations

from dataclasses import fields
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.zi.reference import reference_evaluate
from tests.zi.strategies import documents, extreme
from wbs.zi.ruleset import get_rules
from wbs.zi.scoring import Evaluation, evaluate, parse_worksheet

RULES = ["lke-2021", "lke-2019"]


def _same(fast: Evaluation, slow: Evaluation) -> None:
    """Every field equal, exactly, and every mapping in the same order."""
    for f in fields(Evaluation):
        mine, theirs = getattr(fast, f.name), getattr(slow, f.name)
        assert mine == theirs, f.name
        if isinstance(mine, dict):
            assert list(mine) == list(theirs), f"{f.name}: order"
    assert fast.predicate == slow.predicate
    assert fast.predicate_determined == slow.predicate_determined


def _check(doc: dict[str, Any]) -> None:
    rules = get_rules(doc["rules"])
    ws = parse_worksheet(doc, rules)
    _same(evaluate(rules, ws), reference_evaluate(rules, ws))


@pytest.mark.parametrize("rules_id", RULES)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_plan_equals_reference_on_random_worksheets(rules_id: str, data: st.DataObject) -> None:
    _check(data.draw(documents(get_rules(rules_id))))


@settings(max_examples=80, deadline=None)
@given(
    previous=st.integers(0, 10**9),
    current=st.integers(0, 10**9),
    top=st.integers(0, 10**9),
    bottom=st.integers(0, 10**9),
)
def test_formula_items_at_any_count(previous: int, current: int, top: int, bottom: int) -> None:
    """Formula items (ratios, decreases, zero denominators) stay exact at any input size."""
    rules = get_rules("lke-2021")
    doc = extreme(rules, best=True)
    for _a, _i, item in rules.items():
        if item.formula is None:
            continue
        if item.formula.kind == "ratio":
            answer = {c: top for c in item.formula.numerator}
            answer |= {c: bottom for c in item.formula.denominator}
        else:
            answer = {item.formula.previous: previous, item.formula.current: current}
        doc["answers"][item.code] = answer
    _check(doc)


@pytest.mark.parametrize("rules_id", RULES)
@pytest.mark.parametrize("best", [True, False])
def test_plan_equals_reference_at_the_extremes(rules_id: str, best: bool) -> None:
    _check(extreme(get_rules(rules_id), best=best))


def test_hasil_boundaries_and_repeats_stay_exact() -> None:
    """The same index twice (memoised) and both ends of the range give the reference's values."""
    rules = get_rules("lke-2021")
    for value in ("0", "4", "3.72", "3.720", "3.72", "0.01"):
        doc = extreme(rules, best=True)
        doc["hasil"] = {**doc["hasil"], "HBA": Decimal(value), "HPA": Decimal(value)}
        _check(doc)
