"""Scoring a worksheet exactly as the LKE does, at every level, with the predicate.

Arithmetic is exact: inputs are `Decimal`, intermediate sums are rationals (`Fraction` built from
those Decimals, so a mean over three items is not rounded before it is compared with a minimum),
and every figure is reported as a `Decimal` (28 significant digits).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from math import lcm
from typing import Any, TypeVar

from wbs.core.text import Text
from wbs.zi.errors import AnswerError
from wbs.zi.ruleset import PREDICATES, HasilIndicator, Item, RuleSet, get_rules

Inputs = dict[str, int]
AnswerValue = str | Inputs
HasilValue = str | Decimal

ZERO = Fraction(0)
ONE = Fraction(1)


@dataclass(frozen=True)
class EvidenceLink:
    """A document or link supporting an item (data dukung)."""

    code: str
    link: str
    note: str = ""


@dataclass(frozen=True)
class Worksheet:
    """A validated set of answers for one rule set."""

    rules: str
    answers: dict[str, AnswerValue]
    hasil: dict[str, HasilValue]
    unit: str | None = None
    year: int | None = None
    evidence: tuple[EvidenceLink, ...] = ()


# ---------------------------------------------------------------------------- parsing answers


def _number(code: str, value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal | float | str):
        raise AnswerError(code, Text("harus berupa angka", "must be a number"))
    try:
        number = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except ArithmeticError:
        raise AnswerError(code, Text("harus berupa angka", "must be a number")) from None
    if not number.is_finite():
        raise AnswerError(code, Text("harus berupa angka terhingga", "must be a finite number"))
    return number


MAX_COUNT = 10**9


def _count(code: str, value: Any) -> int:
    number = _number(code, value)
    if number < 0:
        raise AnswerError(code, Text(f"jumlah negatif ({number})", f"negative count ({number})"))
    if number > MAX_COUNT:
        raise AnswerError(code, Text(f"jumlah di atas {MAX_COUNT}", f"count above {MAX_COUNT}"))
    if number != number.to_integral_value():
        raise AnswerError(
            code,
            Text(
                f"jumlah harus bilangan bulat ({number})",
                f"count must be a whole number ({number})",
            ),
        )
    return int(number)


def _label(rules: RuleSet, code: str, scale: str, value: Any) -> str:
    if not isinstance(value, str):
        raise AnswerError(
            code,
            Text(
                f"jawaban harus berupa pilihan ({', '.join(rules.scales[scale])})",
                f"answer must be an option ({', '.join(rules.scales[scale])})",
            ),
        )
    label = value.strip().upper()
    if label not in rules.scales[scale]:
        allowed = ", ".join(rules.scales[scale])
        raise AnswerError(
            code,
            Text(
                f"pilihan '{value}' tidak dikenal (boleh: {allowed})",
                f"unknown option '{value}' (allowed: {allowed})",
            ),
        )
    return label


class _Index:
    """Where each answer code lives in a rule set."""

    def __init__(self, rules: RuleSet) -> None:
        self.items: dict[str, Item] = {}
        self.input_owner: dict[str, Item] = {}
        self.hasil: dict[str, HasilIndicator] = {}
        for _area, _indicator, item in rules.items():
            self.items[item.code] = item
            for input_code in item.inputs or {}:
                self.input_owner[input_code] = item
        for _group, indicator in rules.hasil_indicators():
            self.hasil[indicator.code] = indicator


Built = TypeVar("Built")


def _of_rules(
    cache: dict[str, tuple[RuleSet, Built]], rules: RuleSet, build: Callable[[RuleSet], Built]
) -> Built:
    """What `build` made of this very rule set object (rebuilt when another one has its id)."""
    cached = cache.get(rules.id)
    if cached is None or cached[0] is not rules:
        cached = cache[rules.id] = (rules, build(rules))
    return cached[1]


_INDEXES: dict[str, tuple[RuleSet, _Index]] = {}


def _index(rules: RuleSet) -> _Index:
    """The code index of a rule set."""
    return _of_rules(_INDEXES, rules, _Index)


def _formula_inputs(code: str, item: Item, value: Any) -> Inputs:
    if not isinstance(value, Mapping):
        raise AnswerError(
            code,
            Text(
                "butir rumus diisi dengan angka per masukan",
                "a formula item takes a number per input",
            ),
        )
    inputs: Inputs = {}
    for key, raw in value.items():
        key = str(key).strip().upper()
        if key not in (item.inputs or {}):
            raise AnswerError(
                key, Text(f"bukan masukan butir {code}", f"not an input of item {code}")
            )
        inputs[key] = _count(key, raw)
    return inputs


def parse_answers(rules: RuleSet, raw: Mapping[str, Any] | None) -> dict[str, AnswerValue]:
    """Validate `answers` (item -> option, item -> {input: n}, or input -> n)."""
    index = _index(rules)
    answers: dict[str, AnswerValue] = {}
    if raw is None:
        return answers
    if not isinstance(raw, Mapping):
        raise AnswerError(
            "answers",
            Text("harus berupa pemetaan kode -> jawaban", "must be a mapping code -> answer"),
        )
    for key, value in raw.items():
        code = str(key).strip().upper()
        if value is None or value == "":
            continue
        if code in index.items:
            item = index.items[code]
            if item.scale is not None:
                answers[code] = _label(rules, code, item.scale, value)
            else:
                merged = answers.get(code, {})
                assert isinstance(merged, dict)  # noqa: S101 (formula items hold dicts)
                answers[code] = {**merged, **_formula_inputs(code, item, value)}
        elif code in index.input_owner:
            owner = index.input_owner[code]
            merged = answers.get(owner.code, {})
            assert isinstance(merged, dict)  # noqa: S101
            answers[owner.code] = {**merged, code: _count(code, value)}
        else:
            raise AnswerError(
                code, Text(f"kode tidak dikenal di {rules.id}", f"unknown code in {rules.id}")
            )
    return answers


def parse_hasil(rules: RuleSet, raw: Mapping[str, Any] | None) -> dict[str, HasilValue]:
    """Validate `hasil` (index or percent numbers, option labels)."""
    index = _index(rules)
    hasil: dict[str, HasilValue] = {}
    if raw is None:
        return hasil
    if not isinstance(raw, Mapping):
        raise AnswerError(
            "hasil", Text("harus berupa pemetaan kode -> nilai", "must be a mapping code -> value")
        )
    for key, value in raw.items():
        code = str(key).strip().upper()
        if value is None or value == "":
            continue
        indicator = index.hasil.get(code)
        if indicator is None:
            raise AnswerError(
                code,
                Text(
                    f"kode hasil tidak dikenal di {rules.id}", f"unknown hasil code in {rules.id}"
                ),
            )
        if indicator.scale is not None:
            hasil[code] = _label(rules, code, indicator.scale, value)
            continue
        assert indicator.input is not None  # noqa: S101 (validated rule set)
        number = _number(code, value)
        low, high = indicator.input.min, indicator.input.max
        if not low <= number <= high:
            raise AnswerError(
                code,
                Text(
                    f"nilai {number} di luar rentang {low}..{high}",
                    f"value {number} outside {low}..{high}",
                ),
            )
        hasil[code] = number
    return hasil


def parse_worksheet(raw: Any, rules: RuleSet | None = None) -> Worksheet:
    """Validate an answers document (the reference contract) into a Worksheet."""
    if not isinstance(raw, Mapping):
        raise AnswerError(
            "dokumen",
            Text(
                "harus berupa pemetaan (rules, answers, hasil)",
                "must be a mapping (rules, answers, hasil)",
            ),
        )
    unknown = set(raw) - {"rules", "unit", "year", "answers", "hasil", "evidence"}
    if unknown:
        first = sorted(map(str, unknown))[0]
        raise AnswerError(first, Text("kunci tidak dikenal", "unknown key"))
    if rules is None:
        rules_id = raw.get("rules")
        if not isinstance(rules_id, str):
            raise AnswerError(
                "rules", Text("wajib diisi (mis. lke-2021)", "required (e.g. lke-2021)")
            )
        rules = get_rules(rules_id.strip())
    year = raw.get("year")
    if year is not None and (
        isinstance(year, bool)
        or not isinstance(year, int | str)
        or not str(year).strip().isdigit()
        or len(str(year).strip()) > 4
    ):
        raise AnswerError("year", Text("harus berupa tahun", "must be a year"))
    unit = raw.get("unit")
    return Worksheet(
        rules=rules.id,
        answers=parse_answers(rules, raw.get("answers")),
        hasil=parse_hasil(rules, raw.get("hasil")),
        unit=None if unit is None else str(unit),
        year=None if year is None else int(str(year).strip()),
        evidence=_parse_evidence(rules, raw.get("evidence")),
    )


def _parse_evidence(rules: RuleSet, raw: Any) -> tuple[EvidenceLink, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise AnswerError("evidence", Text("harus berupa daftar", "must be a list"))
    index = _index(rules)
    found = []
    for entry in raw:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("code"), str):
            raise AnswerError(
                "evidence",
                Text("setiap entri perlu code dan link", "every entry needs code and link"),
            )
        code = entry["code"].strip().upper()
        if code not in index.items and code not in index.hasil:
            raise AnswerError(code, Text("kode data dukung tidak dikenal", "unknown evidence code"))
        link = str(entry.get("link") or "").strip()
        if not link:
            raise AnswerError(code, Text("tautan data dukung kosong", "empty evidence link"))
        found.append(EvidenceLink(code, link, str(entry.get("note") or "")))
    return tuple(found)


# ---------------------------------------------------------------------------- scoring


def to_decimal(value: Fraction) -> Decimal:
    """A rational as a Decimal (exact when it terminates, else 28 significant digits)."""
    if value.denominator == 1:
        return Decimal(value.numerator)
    return Decimal(value.numerator) / Decimal(value.denominator)


CENT = Decimal("0.01")


def shown(value: Fraction | Decimal | None) -> str:
    """A figure as shown to people: two decimals, rounded half up; '-' when absent."""
    if value is None:
        return "-"
    number = to_decimal(value) if isinstance(value, Fraction) else value
    return str(number.quantize(CENT, rounding=ROUND_HALF_UP))


def _frac(value: Decimal) -> Fraction:
    return Fraction(value)


def formula_value(item: Item, answer: Inputs, warnings: list[str]) -> tuple[int, int] | None:
    """A formula item's value in 0..1 as (numerator, denominator), or None when inputs miss."""
    formula = item.formula
    assert formula is not None  # noqa: S101 (a formula item)
    missing = [c for c in formula.referenced() if c not in answer]
    if missing:
        warnings.append(f"{item.code}: input {', '.join(missing)} missing; item left unanswered")
        return None
    if formula.kind == "ratio":
        top = sum(answer[c] for c in formula.numerator)
        bottom = sum(answer[c] for c in formula.denominator)
        if bottom == 0:
            warnings.append(f"{item.code}: denominator is 0; value 0")
            return 0, 1
        return (top, bottom) if top < bottom else (1, 1)
    assert formula.previous is not None and formula.current is not None  # noqa: S101
    previous, current = answer[formula.previous], answer[formula.current]
    if previous == 0:
        return (1 if current == 0 else 0), 1
    return max(0, min(previous, previous - current)), previous


def hasil_value(rules: RuleSet, indicator: HasilIndicator, value: HasilValue | None) -> Fraction:
    if value is None:
        return ZERO
    if indicator.scale is not None:
        assert isinstance(value, str)  # noqa: S101
        return _frac(rules.scales[indicator.scale][value])
    assert indicator.input is not None and isinstance(value, Decimal)  # noqa: S101
    if indicator.input.kind == "percent":
        assert indicator.formula is not None  # noqa: S101
        return _frac(value) / _frac(indicator.formula.divisor)
    return (_frac(value) - _frac(indicator.input.min)) / (
        _frac(indicator.input.max) - _frac(indicator.input.min)
    )


@dataclass(frozen=True)
class Shortfall:
    code: str
    minimum: Decimal
    score: Decimal

    @property
    def gap(self) -> Decimal:
        return self.minimum - self.score


@dataclass
class Evaluation:
    """Every level of a scored worksheet (exact rationals; Decimal views for reporting)."""

    rules: str
    unit: str | None
    year: int | None
    items: dict[str, Fraction] = field(default_factory=dict)  # value 0..1 (answered only)
    item_scores: dict[str, Fraction] = field(default_factory=dict)  # contribution
    indicators: dict[str, Fraction] = field(default_factory=dict)
    areas: dict[str, Fraction] = field(default_factory=dict)  # area part, e.g. PPE
    area_totals: dict[str, Fraction] = field(default_factory=dict)  # area key, e.g. PW
    parts: dict[str, Fraction] = field(default_factory=dict)
    pengungkit: Fraction = ZERO
    hasil_values: dict[str, Fraction] = field(default_factory=dict)
    hasil_indicators: dict[str, Fraction] = field(default_factory=dict)
    hasil_groups: dict[str, Fraction] = field(default_factory=dict)
    hasil: Fraction = ZERO
    total: Fraction = ZERO
    unanswered: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    status: dict[str, str] = field(default_factory=dict)  # met / not_met / undetermined
    shortfalls: dict[str, list[Shortfall]] = field(default_factory=dict)
    undetermined: dict[str, str] = field(default_factory=dict)

    @property
    def predicate(self) -> str | None:
        """The highest predicate met, or None."""
        for name in reversed(PREDICATES):
            if self.status.get(name) == "met":
                return name
        return None

    @property
    def predicate_determined(self) -> bool:
        """False when a predicate above the reported one is undetermined."""
        reached = self.predicate
        above = PREDICATES[PREDICATES.index(reached) + 1 :] if reached else PREDICATES
        return not any(self.status.get(name) == "undetermined" for name in above)


Constraint = tuple[str, Decimal | None, Fraction]


def minimums(rules: RuleSet, predicate: str) -> list[tuple[str, Decimal | None, str, str | None]]:
    """Every minimum of a predicate as (code, minimum or None if unknown, Evaluation level, key)."""
    found: list[tuple[str, Decimal | None, str, str | None]] = []
    rule = rules.predicates.get(predicate)
    found.append(("total", rule.total_minimum if rule else None, "total", None))
    if rules.pengungkit.minimum and predicate in rules.pengungkit.minimum:
        found.append(("pengungkit", rules.pengungkit.minimum[predicate], "pengungkit", None))
    for part in rules.pengungkit.parts:
        if part.minimum and predicate in part.minimum:
            found.append((part.code, part.minimum[predicate], "parts", part.code))
        for area in part.areas:
            if area.minimum and predicate in area.minimum:
                found.append((area.code, area.minimum[predicate], "areas", area.code))
    for group in rules.hasil.groups:
        if group.minimum and predicate in group.minimum:
            found.append((group.code, group.minimum[predicate], "hasil_groups", group.code))
        for ind in group.indicators:
            if ind.minimum and predicate in ind.minimum:
                found.append((ind.code, ind.minimum[predicate], "hasil_indicators", ind.code))
    return found


def _score_at(ev: Evaluation, level: str, key: str | None) -> Fraction:
    found = getattr(ev, level)
    return found if key is None else found[key]  # type: ignore[no-any-return]


def constraints(rules: RuleSet, ev: Evaluation, predicate: str) -> list[Constraint]:
    """Every minimum of a predicate as (code, minimum or None if unknown, exact score)."""
    return [
        (code, minimum, _score_at(ev, level, key))
        for code, minimum, level, key in minimums(rules, predicate)
    ]


# ---------------------------------------------------------------------------- the compiled plan
#
# Scoring walks a plan compiled once per rule set. Every scale item's options carry their value,
# their score (share of the indicator weight) and that score as an integer count of 1/D, D being
# the common denominator of every option score and minimum. A level with only scale items adds
# integers; it becomes a Fraction once, at the end, memoised per level (a level takes few
# distinct values). Formula items and hasil indices stay Fractions, added to the integer part.

MEMO_LIMIT = 4096
Rational = tuple[int, int]  # numerator, denominator (not reduced)
NOTHING: Rational = (0, 1)


def _memo(memo: dict[int, Fraction], units: int, denominator: int) -> Fraction:
    value = memo.get(units)
    if value is None:
        if len(memo) >= MEMO_LIMIT:
            memo.clear()
        value = memo[units] = Fraction(units, denominator)
    return value


def _plus(a: Rational, b: Rational) -> Rational:
    if not b[0]:
        return a
    if not a[0]:
        return b
    return a[0] * b[1] + b[0] * a[1], a[1] * b[1]


@dataclass(frozen=True, slots=True)
class _PlanItem:
    code: str
    item: Item
    options: dict[str, tuple[Fraction, Fraction, int]] | None  # value, score, units; None: formula
    memo: dict[Rational, tuple[Fraction, Fraction, Rational]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _PlanNode:
    code: str
    share: Fraction  # an indicator's weight / its item count (unused above indicators)
    children: tuple[Any, ...]  # _PlanNode below a part or area, (code, options, _PlanItem) below
    area: str = ""
    memo: dict[int, Fraction] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _PlanHasil:
    code: str
    indicator: HasilIndicator
    weight: Fraction
    options: dict[str, tuple[Fraction, Fraction]] | None  # label -> (value, score)
    memo: dict[Decimal, tuple[Fraction, Fraction]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Check:
    """One minimum of a predicate: where its score is, and the bound as a ratio of integers."""

    code: str
    minimum: Decimal | None
    bound: Rational | None
    level: str  # an Evaluation attribute
    key: str | None  # its code when the attribute is a mapping


@dataclass(frozen=True)
class _Plan:
    denominator: int
    parts: tuple[_PlanNode, ...]
    area_keys: tuple[str, ...]
    hasil: tuple[tuple[str, tuple[_PlanHasil, ...]], ...]
    checks: dict[str, tuple[_Check, ...]]
    checked: frozenset[str]  # pengungkit codes with a minimum
    area_memo: dict[str, dict[int, Fraction]]
    total_memo: dict[int, Fraction]


def _common_denominator(rules: RuleSet) -> int:
    """The least common denominator of every scale item's scores and every pengungkit minimum."""
    found = [Fraction(m).denominator for m in (rules.pengungkit.minimum or {}).values()]
    for part, area in rules.area_parts():
        for minimum in (part.minimum or {}, area.minimum or {}):
            found.extend(Fraction(m).denominator for m in minimum.values())
        for indicator in area.indicators:
            share = Fraction(indicator.weight) / len(indicator.items)
            for item in indicator.items:
                if item.scale is not None:
                    values = rules.scales[item.scale].values()
                    found.extend((share * Fraction(v)).denominator for v in values)
    return lcm(*found)


def _compile(rules: RuleSet) -> _Plan:
    denominator = _common_denominator(rules)

    def options(item: Item, share: Fraction) -> dict[str, tuple[Fraction, Fraction, int]] | None:
        if item.scale is None:
            return None
        found = {}
        for label, raw in rules.scales[item.scale].items():
            value = Fraction(raw)
            units = share * value * denominator
            assert units.denominator == 1  # noqa: S101 (D is their common denominator)
            found[label] = (value, share * value, int(units))
        return found

    parts = []
    for part in rules.pengungkit.parts:
        areas = []
        for area in part.areas:
            indicators = []
            for ind in area.indicators:
                share = Fraction(ind.weight) / len(ind.items)
                plan_items = tuple(
                    (i.code, entry.options, entry)
                    for i in ind.items
                    for entry in [_PlanItem(i.code, i, options(i, share))]
                )
                indicators.append(_PlanNode(ind.code, share, plan_items))
            areas.append(_PlanNode(area.code, ZERO, tuple(indicators), area=area.area))
        parts.append(_PlanNode(part.code, ZERO, tuple(areas)))
    hasil = []
    for group in rules.hasil.groups:
        members = []
        for member in group.indicators:
            weight = Fraction(member.weight)
            scale = None
            if member.scale is not None:
                scale = {
                    label: (Fraction(v), weight * Fraction(v))
                    for label, v in rules.scales[member.scale].items()
                }
            members.append(_PlanHasil(member.code, member, weight, scale))
        hasil.append((group.code, tuple(members)))
    area_keys = tuple(dict.fromkeys(area.area for _part, area in rules.area_parts()))
    checks = {name: _checks(rules, name) for name in PREDICATES}
    return _Plan(
        denominator=denominator,
        parts=tuple(parts),
        area_keys=area_keys,
        hasil=tuple(hasil),
        checks=checks,
        checked=frozenset(
            c.code for found in checks.values() for c in found if c.level in ("parts", "areas")
        ),
        area_memo={key: {} for key in area_keys},
        total_memo={},
    )


def _checks(rules: RuleSet, predicate: str) -> tuple[_Check, ...]:
    return tuple(
        _Check(code, minimum, None if minimum is None else minimum.as_integer_ratio(), level, key)
        for code, minimum, level, key in minimums(rules, predicate)
    )


_PLANS: dict[str, tuple[RuleSet, _Plan]] = {}


def _plan(rules: RuleSet) -> _Plan:
    """The compiled plan of a rule set."""
    return _of_rules(_PLANS, rules, _compile)


def judge(rules: RuleSet, ev: Evaluation, exact: Mapping[str, Rational] | None = None) -> None:
    """Fill status, shortfalls and undetermined reasons for each predicate.

    `exact` may give scores as integer ratios by code (the plan's, to compare without Fractions).
    """
    plan = _plan(rules)
    exact = exact or {}
    for name in PREDICATES:
        failed = []
        for check in plan.checks[name]:
            if check.bound is None:
                continue
            pair = exact.get(check.code)
            if pair is None:
                pair = _score_at(ev, check.level, check.key).as_integer_ratio()
            if pair[0] * check.bound[1] < check.bound[0] * pair[1]:
                score = to_decimal(_score_at(ev, check.level, check.key))
                assert check.minimum is not None  # noqa: S101 (bound is its ratio)
                failed.append(Shortfall(check.code, check.minimum, score))
        settle(rules, ev, name, failed)


def settle(rules: RuleSet, ev: Evaluation, name: str, failed: list[Shortfall]) -> None:
    """Record a predicate's shortfalls and its status (met, not met, or undetermined)."""
    rule = rules.predicates.get(name)
    ev.shortfalls[name] = failed
    if failed:
        ev.status[name] = "not_met"
    elif rule is None or rule.total_minimum is None:
        ev.status[name] = "undetermined"
        note = rule.note if rule and rule.note else "threshold not in the rule set"
        ev.undetermined[name] = (
            f"{rules.id}: nilai minimum total {name} tidak diketahui / "
            f"{name} total minimum unknown. {note}"
        )
    else:
        ev.status[name] = "met"


def _add(extra: Fraction | None, value: Fraction) -> Fraction:
    return value if extra is None else extra + value


def _level(
    memo: dict[int, Fraction], units: int, denominator: int, extra: Rational
) -> tuple[Fraction, Rational]:
    """units/denominator + extra as a Fraction (memoised without extra) and a ratio."""
    if not extra[0]:
        return _memo(memo, units, denominator), (units, denominator)
    pair = (units * extra[1] + extra[0] * denominator, denominator * extra[1])
    return Fraction(*pair), pair


def _formula(entry: _PlanItem, share: Fraction, answer: Inputs, warnings: list[str]) -> Any:
    """(value, score, score as a ratio) of a formula item, or None when it is unanswered."""
    value = formula_value(entry.item, answer, warnings)
    if value is None:
        return None
    known = entry.memo.get(value)
    if known is None:
        contribution = (value[0] * share.numerator, value[1] * share.denominator)
        if len(entry.memo) >= MEMO_LIMIT:
            entry.memo.clear()
        known = entry.memo[value] = (Fraction(*value), Fraction(*contribution), contribution)
    return known


def evaluate(rules: RuleSet, ws: Worksheet) -> Evaluation:
    """Score a worksheet at every level (the compiled plan) and judge the predicate."""
    plan = _plan(rules)
    denominator, checked = plan.denominator, plan.checked
    ev = Evaluation(rules=rules.id, unit=ws.unit, year=ws.year)
    answers, items, item_scores = ws.answers, ev.items, ev.item_scores
    unanswered, warnings = ev.unanswered, ev.warnings
    exact: dict[str, Rational] = {}
    keys: dict[str, tuple[int, Rational]] = {}
    peng_units, peng_extra = 0, NOTHING
    for part in plan.parts:
        part_units, part_extra = 0, NOTHING
        for area in part.children:
            area_units, area_extra = 0, NOTHING
            for ind in area.children:
                units, extra = 0, NOTHING
                for code, options, entry in ind.children:
                    answer = answers.get(code)
                    if answer is None:
                        unanswered.append(code)
                        item_scores[code] = ZERO
                    elif options is not None:
                        items[code], item_scores[code], option_units = options[answer]
                        units += option_units
                    else:
                        known = _formula(entry, ind.share, answer, warnings)  # type: ignore[arg-type]
                        if known is None:
                            unanswered.append(code)
                            item_scores[code] = ZERO
                            continue
                        items[code], item_scores[code], contribution = known
                        extra = _plus(extra, contribution)
                ev.indicators[ind.code] = _level(ind.memo, units, denominator, extra)[0]
                area_units += units
                area_extra = _plus(area_extra, extra)
            ev.areas[area.code], pair = _level(area.memo, area_units, denominator, area_extra)
            if area.code in checked:
                exact[area.code] = pair
            key_units, key_extra = keys.get(area.area, (0, NOTHING))
            keys[area.area] = (key_units + area_units, _plus(key_extra, area_extra))
            part_units += area_units
            part_extra = _plus(part_extra, area_extra)
        ev.parts[part.code], pair = _level(part.memo, part_units, denominator, part_extra)
        if part.code in checked:
            exact[part.code] = pair
        peng_units += part_units
        peng_extra = _plus(peng_extra, part_extra)
    for key in plan.area_keys:
        key_units, key_extra = keys[key]
        ev.area_totals[key] = _level(plan.area_memo[key], key_units, denominator, key_extra)[0]
    ev.pengungkit, exact["pengungkit"] = _level(
        plan.total_memo, peng_units, denominator, peng_extra
    )
    hasil: Fraction | None = None
    for group_code, members in plan.hasil:
        group: Fraction | None = None
        for member in members:
            raw = ws.hasil.get(member.code)
            if raw is None:
                unanswered.append(member.code)
                value, contribution = ZERO, ZERO
            elif member.options is not None:
                value, contribution = member.options[raw]  # type: ignore[index]
            else:
                assert isinstance(raw, Decimal)  # noqa: S101 (parsed)
                known = member.memo.get(raw)
                if known is None:
                    value = hasil_value(rules, member.indicator, raw)
                    if len(member.memo) >= MEMO_LIMIT:
                        member.memo.clear()
                    known = member.memo[raw] = (value, member.weight * value)
                value, contribution = known
            ev.hasil_values[member.code] = value
            ev.hasil_indicators[member.code] = contribution
            group = _add(group, contribution)
        ev.hasil_groups[group_code] = ZERO if group is None else group
        if group is not None:
            hasil = _add(hasil, group)
    ev.hasil = ZERO if hasil is None else hasil
    ev.total = ev.pengungkit + ev.hasil
    judge(rules, ev, exact)
    return ev


def score(ws: Worksheet) -> Evaluation:
    """Score a worksheet with its own rule set."""
    return evaluate(get_rules(ws.rules), ws)


# ---------------------------------------------------------------------------- result contract


def _decimals(values: Mapping[str, Fraction]) -> dict[str, Decimal]:
    return {code: to_decimal(v) for code, v in values.items()}


def result(ev: Evaluation) -> dict[str, Any]:
    """The JSON result contract of the reference README (values as Decimal)."""
    return {
        "rules": ev.rules,
        "unit": ev.unit,
        "year": ev.year,
        "total": to_decimal(ev.total),
        "pengungkit": to_decimal(ev.pengungkit),
        "hasil": to_decimal(ev.hasil),
        "parts": _decimals(ev.parts),
        "areas": _decimals(ev.areas),
        "area_totals": _decimals(ev.area_totals),
        "indicators": _decimals(ev.indicators),
        "items": _decimals(ev.items),
        "item_scores": _decimals(ev.item_scores),
        "hasil_indicators": _decimals(ev.hasil_indicators),
        "hasil_groups": _decimals(ev.hasil_groups),
        "predicate": ev.predicate,
        "predicate_determined": ev.predicate_determined,
        "predicate_status": dict(ev.status),
        "undetermined": dict(ev.undetermined),
        "shortfalls": {
            name: [
                {"code": s.code, "minimum": s.minimum, "score": s.score, "gap": s.gap}
                for s in entries
            ]
            for name, entries in ev.shortfalls.items()
        },
        "unanswered": list(ev.unanswered),
        "warnings": list(ev.warnings),
    }


def _json_number(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text if "." not in text else text.rstrip("0").rstrip(".")


def dumps(value: Any, indent: int | None = 2, _level: int = 0) -> str:
    """JSON text with Decimals as plain numbers at full precision."""
    import json

    pad = "" if indent is None else "\n" + " " * (indent * (_level + 1))
    end = "" if indent is None else "\n" + " " * (indent * _level)
    sep = ", " if indent is None else ","
    if isinstance(value, Decimal):
        return _json_number(value)
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        body = sep.join(
            f"{pad}{json.dumps(str(k))}: {dumps(v, indent, _level + 1)}" for k, v in value.items()
        )
        return "{" + body + end + "}"
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        body = sep.join(f"{pad}{dumps(v, indent, _level + 1)}" for v in value)
        return "[" + body + end + "]"
    return json.dumps(value, ensure_ascii=False)
