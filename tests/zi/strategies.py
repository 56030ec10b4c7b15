"""Hypothesis strategies and helpers for LKE worksheets."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from wbs.zi.ruleset import Item, RuleSet


def best_answer(rules: RuleSet, item: Item) -> Any:
    if item.scale is not None:
        return rules.ranked_labels(item.scale)[0]
    assert item.formula is not None
    if item.formula.kind == "ratio":
        bottom = {code: 1 for code in item.formula.denominator}
        return {**bottom, **{code: len(bottom) for code in item.formula.numerator}}
    return {item.formula.previous: 3, item.formula.current: 0}


def worst_answer(rules: RuleSet, item: Item) -> Any:
    if item.scale is not None:
        return rules.ranked_labels(item.scale)[-1]
    assert item.formula is not None
    if item.formula.kind == "ratio":
        top = {c: 0 for c in item.formula.numerator}
        return {**top, **{c: 2 for c in item.formula.denominator}}
    return {item.formula.previous: 3, item.formula.current: 5}


def extreme(rules: RuleSet, best: bool) -> dict[str, Any]:
    """The answers document with every answer at its best (or worst) and indices at 4 (or 0)."""
    pick = best_answer if best else worst_answer
    answers = {item.code: pick(rules, item) for _a, _i, item in rules.items()}
    hasil: dict[str, Any] = {}
    for _group, ind in rules.hasil_indicators():
        if ind.scale is not None:
            labels = rules.ranked_labels(ind.scale)
            hasil[ind.code] = labels[0] if best else labels[-1]
        else:
            assert ind.input is not None
            hasil[ind.code] = ind.input.max if best else ind.input.min
    return {"rules": rules.id, "answers": answers, "hasil": hasil}


def _formula(item: Item) -> st.SearchStrategy[dict[str, int]]:
    return st.fixed_dictionaries({code: st.integers(0, 40) for code in item.inputs or {}})


@st.composite
def documents(draw: st.DrawFn, rules: RuleSet) -> dict[str, Any]:
    """A random answers document (some answers missing) for a rule set."""
    answers: dict[str, Any] = {}
    for _a, _i, item in rules.items():
        if draw(st.integers(0, 9)) == 0:
            continue  # unanswered
        if item.scale is not None:
            answers[item.code] = draw(st.sampled_from(sorted(rules.scales[item.scale])))
        else:
            answers[item.code] = draw(_formula(item))
    hasil: dict[str, Any] = {}
    for _group, ind in rules.hasil_indicators():
        if ind.scale is not None:
            hasil[ind.code] = draw(st.sampled_from(sorted(rules.scales[ind.scale])))
        else:
            assert ind.input is not None
            hundredths = draw(st.integers(int(ind.input.min * 100), int(ind.input.max * 100)))
            hasil[ind.code] = Decimal(hundredths) / 100
    return {"rules": rules.id, "answers": answers, "hasil": hasil}
