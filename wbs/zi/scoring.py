"""Scoring a worksheet exactly as the LKE does, at every level, with the predicate.

Arithmetic is exact: inputs are `Decimal`, intermediate sums are rationals (`Fraction` built from
those Decimals, so a mean over three items is not rounded before it is compared with a minimum),
and every figure is reported as a `Decimal` (28 significant digits).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

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


_INDEXES: dict[str, tuple[RuleSet, _Index]] = {}


def _index(rules: RuleSet) -> _Index:
    """The code index of this very rule set object (rebuilt when another one has its id)."""
    cached = _INDEXES.get(rules.id)
    if cached is None or cached[0] is not rules:
        cached = _INDEXES[rules.id] = (rules, _Index(rules))
    return cached[1]


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


def item_value(
    rules: RuleSet, item: Item, answer: AnswerValue | None, warnings: list[str]
) -> Fraction | None:
    """The item's value in 0..1, or None when it is unanswered."""
    if answer is None:
        return None
    if item.scale is not None:
        assert isinstance(answer, str)  # noqa: S101 (parsed)
        return _frac(rules.scales[item.scale][answer])
    assert item.formula is not None and isinstance(answer, dict)  # noqa: S101
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
    assert formula.previous is not None and formula.current is not None  # noqa: S101
    previous, current = answer[formula.previous], answer[formula.current]
    if previous == 0:
        return ONE if current == 0 else ZERO
    return max(ZERO, min(ONE, Fraction(previous - current, previous)))


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


def constraints(rules: RuleSet, ev: Evaluation, predicate: str) -> list[Constraint]:
    """Every minimum of a predicate as (code, minimum or None if unknown, exact score)."""
    found: list[Constraint] = []
    rule = rules.predicates.get(predicate)
    found.append(("total", rule.total_minimum if rule else None, ev.total))
    if rules.pengungkit.minimum and predicate in rules.pengungkit.minimum:
        found.append(("pengungkit", rules.pengungkit.minimum[predicate], ev.pengungkit))
    for part in rules.pengungkit.parts:
        if part.minimum and predicate in part.minimum:
            found.append((part.code, part.minimum[predicate], ev.parts[part.code]))
        for area in part.areas:
            if area.minimum and predicate in area.minimum:
                found.append((area.code, area.minimum[predicate], ev.areas[area.code]))
    for group in rules.hasil.groups:
        if group.minimum and predicate in group.minimum:
            found.append((group.code, group.minimum[predicate], ev.hasil_groups[group.code]))
        for ind in group.indicators:
            if ind.minimum and predicate in ind.minimum:
                found.append((ind.code, ind.minimum[predicate], ev.hasil_indicators[ind.code]))
    return found


def judge(rules: RuleSet, ev: Evaluation) -> None:
    """Fill status, shortfalls and undetermined reasons for each predicate."""
    for name in PREDICATES:
        rule = rules.predicates.get(name)
        failed = [
            Shortfall(code, minimum, to_decimal(score))
            for code, minimum, score in constraints(rules, ev, name)
            if minimum is not None and score < _frac(minimum)
        ]
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


def evaluate(rules: RuleSet, ws: Worksheet) -> Evaluation:
    """Score a worksheet at every level and judge the predicate."""
    ev = Evaluation(rules=rules.id, unit=ws.unit, year=ws.year)
    for part in rules.pengungkit.parts:
        part_score = ZERO
        for area in part.areas:
            area_score = ZERO
            for indicator in area.indicators:
                n = len(indicator.items)
                share = _frac(indicator.weight) / n
                total = ZERO
                for item in indicator.items:
                    value = item_value(rules, item, ws.answers.get(item.code), ev.warnings)
                    if value is None:
                        ev.unanswered.append(item.code)
                        value = ZERO
                    else:
                        ev.items[item.code] = value
                    ev.item_scores[item.code] = share * value
                    total += value
                score = _frac(indicator.weight) * total / n
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
            ev.hasil_indicators[ind.code] = _frac(ind.weight) * value
            group_score += ev.hasil_indicators[ind.code]
        ev.hasil_groups[group.code] = group_score
        ev.hasil += group_score
    ev.total = ev.pengungkit + ev.hasil
    judge(rules, ev)
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
