"""A plain reference scorer (the README's rules, one Fraction at a time): the oracle for the plan.

Kept deliberately naive and independent of `wbs.zi.scoring`'s compiled plan: every value is
built from the rule set with Fractions, level by level, in the order the worksheet lists them.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from wbs.zi.ruleset import PREDICATES, HasilIndicator, Item, RuleSet
from wbs.zi.scoring import (
    AnswerValue,
    Evaluation,
    HasilValue,
    Shortfall,
    Worksheet,
    minimums,
    settle,
)

ZERO, ONE = Fraction(0), Fraction(1)


def item_value(rules: RuleSet, item: Item, answer: AnswerValue | None, warnings: list[str]):
    if answer is None:
        return None
    if item.scale is not None:
        assert isinstance(answer, str)
        return Fraction(rules.scales[item.scale][answer])
    assert item.formula is not None and isinstance(answer, dict)
    formula = item.formula
    missing = [c for c in formula.referenced() if c not in answer]
    if missing:
        warnings.append(f"{item.code}: input {', '.join(missing)} missing; item left unanswered")
        return None
    if formula.kind == "ratio":
        top = sum(answer[c] for c in formula.numerator)
        bottom = sum(answer[c] for c in formula.denominator)
        if bottom == 0:
            warnings.append(f"{item.code}: denominator is 0; value 0")
            return ZERO
        return min(ONE, Fraction(top, bottom))
    previous, current = answer[formula.previous], answer[formula.current]  # type: ignore[index]
    if previous == 0:
        return ONE if current == 0 else ZERO
    return max(ZERO, min(ONE, Fraction(previous - current, previous)))


def hasil_value(rules: RuleSet, ind: HasilIndicator, value: HasilValue | None) -> Fraction:
    if value is None:
        return ZERO
    if ind.scale is not None:
        return Fraction(rules.scales[ind.scale][value])  # type: ignore[index]
    assert ind.input is not None and isinstance(value, Decimal)
    if ind.input.kind == "percent":
        assert ind.formula is not None
        return Fraction(value) / Fraction(ind.formula.divisor)
    low, high = Fraction(ind.input.min), Fraction(ind.input.max)
    return (Fraction(value) - low) / (high - low)


def reference_evaluate(rules: RuleSet, ws: Worksheet) -> Evaluation:
    """Score every level with plain Fractions and judge each predicate."""
    ev = Evaluation(rules=rules.id, unit=ws.unit, year=ws.year)
    for part in rules.pengungkit.parts:
        part_score = ZERO
        for area in part.areas:
            area_score = ZERO
            for indicator in area.indicators:
                n = len(indicator.items)
                total = ZERO
                for item in indicator.items:
                    value = item_value(rules, item, ws.answers.get(item.code), ev.warnings)
                    if value is None:
                        ev.unanswered.append(item.code)
                        value = ZERO
                    else:
                        ev.items[item.code] = value
                    ev.item_scores[item.code] = Fraction(indicator.weight) / n * value
                    total += value
                score = Fraction(indicator.weight) * total / n
                ev.indicators[indicator.code] = score
                area_score += score
            ev.areas[area.code] = area_score
            ev.area_totals[area.area] = ev.area_totals.get(area.area, ZERO) + area_score
            part_score += area_score
        ev.parts[part.code] = part_score
        ev.pengungkit += part_score
    for group in rules.hasil.groups:
        group_score = ZERO
        for ind in group.indicators:
            raw = ws.hasil.get(ind.code)
            if raw is None:
                ev.unanswered.append(ind.code)
            value = hasil_value(rules, ind, raw)
            ev.hasil_values[ind.code] = value
            ev.hasil_indicators[ind.code] = Fraction(ind.weight) * value
            group_score += ev.hasil_indicators[ind.code]
        ev.hasil_groups[group.code] = group_score
        ev.hasil += group_score
    ev.total = ev.pengungkit + ev.hasil
    for name in PREDICATES:  # the minimums as the rule set lists them, compared as Fractions
        checks = [
            (code, minimum, getattr(ev, level) if key is None else getattr(ev, level)[key])
            for code, minimum, level, key in minimums(rules, name)
        ]
        failed = [
            Shortfall(code, minimum, Decimal(score.numerator) / Decimal(score.denominator))
            for code, minimum, score in checks
            if minimum is not None and score < Fraction(minimum)
        ]
        settle(rules, ev, name, failed)
    return ev
