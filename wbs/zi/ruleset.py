"""LKE rule sets as data: pydantic models, loading and validation.

A rule set lives in `wbs/zi/rules/<id>.yaml`; adding a year is adding a file. Numbers are read
as `Decimal` straight from the YAML text (never through float).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from wbs.zi.errors import RuleSetError, UnknownRuleSet

RULES_DIR = Path(__file__).with_name("rules")
PREDICATES: tuple[str, ...] = ("WBK", "WBBM")
WEIGHT_TOLERANCE = Decimal("0.0001")
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,40}$")


class DecimalLoader(yaml.SafeLoader):
    """SafeLoader reading YAML floats as exact Decimals."""


def _decimal(loader: yaml.SafeLoader, node: yaml.Node) -> Decimal:
    text = str(loader.construct_scalar(node)).replace("_", "")  # type: ignore[arg-type]
    return Decimal(text)


DecimalLoader.add_constructor("tag:yaml.org,2002:float", _decimal)


def load_yaml(text: str) -> Any:
    """Parse YAML with floats as Decimal."""
    return yaml.load(text, Loader=DecimalLoader)  # noqa: S506 (SafeLoader subclass)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Minimum = dict[str, Decimal]


class ItemFormula(_Model):
    kind: Literal["ratio", "decrease"]
    numerator: list[str] = Field(default_factory=list)
    denominator: list[str] = Field(default_factory=list)
    previous: str | None = None
    current: str | None = None

    def referenced(self) -> list[str]:
        if self.kind == "ratio":
            return [*self.numerator, *self.denominator]
        return [c for c in (self.previous, self.current) if c is not None]


class Item(_Model):
    code: str
    text: str
    scale: str | None = None
    options: dict[str, str | None] | None = None
    formula: ItemFormula | None = None
    inputs: dict[str, str] | None = None
    note: str | None = None


class Discrepancy(_Model):
    indicators_sum: Decimal
    note: str


class Indicator(_Model):
    code: str
    name: str
    weight: Decimal
    items: list[Item]
    note: str | None = None


class AreaPart(_Model):
    """An area within a part (pemenuhan or reform), e.g. `PPE`."""

    code: str
    area: str
    name: str
    weight: Decimal
    minimum: Minimum | None = None
    discrepancy: Discrepancy | None = None
    indicators: list[Indicator]
    note: str | None = None


class Part(_Model):
    code: str
    name: str
    weight: Decimal
    minimum: Minimum | None = None
    areas: list[AreaPart]


class Pengungkit(_Model):
    weight: Decimal
    minimum: Minimum | None = None
    parts: list[Part]


class HasilInput(_Model):
    kind: Literal["index", "percent"]
    min: Decimal
    max: Decimal


class HasilFormula(_Model):
    kind: Literal["percent"]
    divisor: Decimal


class HasilIndicator(_Model):
    code: str
    name: str
    weight: Decimal
    input: HasilInput | None = None
    formula: HasilFormula | None = None
    scale: str | None = None
    options: dict[str, str | None] | None = None
    minimum: Minimum | None = None
    note: str | None = None


class HasilGroup(_Model):
    code: str
    name: str
    weight: Decimal
    minimum: Minimum | None = None
    indicators: list[HasilIndicator]


class Hasil(_Model):
    weight: Decimal
    groups: list[HasilGroup]


class PredicateRule(_Model):
    total_minimum: Decimal | None
    note: str | None = None


class RuleSet(_Model):
    id: str
    title: str
    notes: list[str] = Field(default_factory=list)
    scales: dict[str, dict[str, Decimal]]
    pengungkit: Pengungkit
    hasil: Hasil
    predicates: dict[str, PredicateRule]
    provenance: list[str] = Field(default_factory=list)

    # Navigation helpers (pure functions of the data).
    def area_parts(self) -> Iterator[tuple[Part, AreaPart]]:
        for part in self.pengungkit.parts:
            for area in part.areas:
                yield part, area

    def items(self) -> Iterator[tuple[AreaPart, Indicator, Item]]:
        for _part, area in self.area_parts():
            for indicator in area.indicators:
                for item in indicator.items:
                    yield area, indicator, item

    def hasil_indicators(self) -> Iterator[tuple[HasilGroup, HasilIndicator]]:
        for group in self.hasil.groups:
            for indicator in group.indicators:
                yield group, indicator

    def ranked_labels(self, scale: str) -> list[str]:
        """Option labels of a scale, best first (the order of steps)."""
        values = self.scales[scale]
        return sorted(values, key=lambda label: (-values[label], label))

    @property
    def total_weight(self) -> Decimal:
        return self.pengungkit.weight + self.hasil.weight


def _close(a: Decimal, b: Decimal) -> bool:
    return abs(a - b) <= WEIGHT_TOLERANCE


def _check_minimum(
    code: str, minimum: Minimum | None, weight: Decimal, known: set[str]
) -> Iterator[tuple[str, str]]:
    if minimum is None:
        return
    for predicate, value in minimum.items():
        if predicate not in known:
            yield code, f"minimum for unknown predicate {predicate!r}"
        if not Decimal(0) <= value <= weight:
            yield code, f"minimum {predicate} {value} outside 0..{weight}"
    if "WBK" in minimum and "WBBM" in minimum and minimum["WBBM"] < minimum["WBK"]:
        yield code, "WBBM minimum below WBK minimum"


def _check_options(
    rules: RuleSet, code: str, scale: str | None, options: dict[str, str | None] | None
) -> Iterator[tuple[str, str]]:
    if scale is None:
        return
    if scale not in rules.scales:
        yield code, f"unknown scale {scale!r}"
        return
    if options is not None and set(options) != set(rules.scales[scale]):
        yield (
            code,
            (f"options {sorted(options)} do not match scale {scale} {sorted(rules.scales[scale])}"),
        )


def _check_weights(
    code: str, weight: Decimal, parts: list[Decimal], what: str
) -> Iterator[tuple[str, str]]:
    total = sum(parts, Decimal(0))
    if not _close(total, weight):
        yield code, f"{what} weights add up to {total}, not {weight}"


def _check_scales(rules: RuleSet) -> Iterator[tuple[str, str]]:
    for name, values in rules.scales.items():
        if not values:
            yield name, "empty scale"
            continue
        if any(not Decimal(0) <= v <= Decimal(1) for v in values.values()):
            yield name, "scale values must lie in 0..1"
        if max(values.values()) != 1 or min(values.values()) != 0:
            yield name, "scale must run from 0 to 1"
        if len(set(values.values())) != len(values):
            yield name, "two options of the scale have the same value"


def _check_item(rules: RuleSet, item: Item, indicator: Indicator) -> Iterator[tuple[str, str]]:
    if not item.code.startswith(indicator.code):
        yield item.code, f"item code does not start with its indicator code {indicator.code}"
    if (item.scale is None) == (item.formula is None):
        yield item.code, "an item needs exactly one of scale or formula"
    yield from _check_options(rules, item.code, item.scale, item.options)
    if item.formula is not None:
        inputs = item.inputs or {}
        formula = item.formula
        if formula.kind == "ratio" and not (formula.numerator and formula.denominator):
            yield item.code, "ratio formula needs numerator and denominator inputs"
        if item.formula.kind == "decrease" and not (item.formula.previous and item.formula.current):
            yield item.code, "decrease formula needs previous and current inputs"
        for ref in item.formula.referenced():
            if ref not in inputs:
                yield item.code, f"formula input {ref} is not among the item's inputs"
    elif item.inputs:
        yield item.code, "inputs given for an item without formula"


def _check_area(rules: RuleSet, part: Part, area: AreaPart) -> Iterator[tuple[str, str]]:
    known = set(rules.predicates)
    if not area.code.startswith(part.code):
        yield area.code, f"area code does not start with its part code {part.code}"
    yield from _check_minimum(area.code, area.minimum, area.weight, known)
    if not area.indicators:
        yield area.code, "area has no indicators"
    sums = [i.weight for i in area.indicators]
    total = sum(sums, Decimal(0))
    if area.discrepancy is not None:
        if not area.discrepancy.note.strip():
            yield area.code, "declared discrepancy without a note"
        if not _close(total, area.discrepancy.indicators_sum):
            yield (
                area.code,
                (
                    f"declared discrepancy says indicators add up to "
                    f"{area.discrepancy.indicators_sum}, they add up to {total}"
                ),
            )
        if total > area.weight:
            yield area.code, "indicators weigh more than their area"
    else:
        yield from _check_weights(area.code, area.weight, sums, "indicator")
    for indicator in area.indicators:
        if not indicator.code.startswith(area.code):
            yield indicator.code, f"indicator code does not start with its area code {area.code}"
        if indicator.weight <= 0:
            yield indicator.code, "indicator weight must be positive"
        if not indicator.items:
            yield indicator.code, "indicator has no items"
        for item in indicator.items:
            yield from _check_item(rules, item, indicator)


def _check_hasil(rules: RuleSet) -> Iterator[tuple[str, str]]:
    known = set(rules.predicates)
    yield from _check_weights(
        "hasil", rules.hasil.weight, [g.weight for g in rules.hasil.groups], "group"
    )
    for group in rules.hasil.groups:
        yield from _check_minimum(group.code, group.minimum, group.weight, known)
        yield from _check_weights(
            group.code, group.weight, [i.weight for i in group.indicators], "indicator"
        )
        for ind in group.indicators:
            yield from _check_minimum(ind.code, ind.minimum, ind.weight, known)
            if (ind.input is None) == (ind.scale is None):
                yield ind.code, "a hasil indicator needs exactly one of input or scale"
            yield from _check_options(rules, ind.code, ind.scale, ind.options)
            if ind.input is not None:
                if ind.input.min >= ind.input.max:
                    yield ind.code, "input range is empty"
                if ind.input.kind == "percent" and (
                    ind.formula is None or ind.formula.divisor <= 0
                ):
                    yield ind.code, "percent input needs a percent formula with a divisor"
                if ind.input.kind == "index" and ind.formula is not None:
                    yield ind.code, "index input takes no formula"


def _all_codes(rules: RuleSet) -> Iterator[str]:
    for _part, area in rules.area_parts():
        yield area.code
        for indicator in area.indicators:
            yield indicator.code
            for item in indicator.items:
                yield item.code
                yield from (item.inputs or {})
    for part in rules.pengungkit.parts:
        yield part.code
    for group in rules.hasil.groups:
        yield group.code
        yield from (i.code for i in group.indicators)


def problems(rules: RuleSet) -> list[tuple[str, str]]:
    """Every problem of a rule set as (code, problem); empty when it holds together."""
    found: list[tuple[str, str]] = []
    if not _ID_RE.match(rules.id):
        found.append((rules.id, "rule set id must be lower-case letters, digits and dashes"))
    seen: set[str] = set()
    for code in _all_codes(rules):
        if code in seen:
            found.append((code, "duplicate code"))
        seen.add(code)
    for name in rules.predicates:
        if name not in PREDICATES:
            found.append((name, f"unknown predicate (known: {', '.join(PREDICATES)})"))
    for name, rule in rules.predicates.items():
        if rule.total_minimum is None and not rule.note:
            found.append((name, "unknown total minimum needs a note saying why"))
        elif rule.total_minimum is not None and not 0 <= rule.total_minimum <= rules.total_weight:
            found.append((name, "total minimum outside 0..total weight"))
    found.extend(_check_scales(rules))
    if not _close(rules.total_weight, Decimal(100)):
        found.append(("total", f"pengungkit + hasil weigh {rules.total_weight}, not 100"))
    peng = rules.pengungkit
    found.extend(_check_minimum("pengungkit", peng.minimum, peng.weight, set(rules.predicates)))
    found.extend(_check_weights("pengungkit", peng.weight, [p.weight for p in peng.parts], "part"))
    for part in peng.parts:
        found.extend(_check_minimum(part.code, part.minimum, part.weight, set(rules.predicates)))
        found.extend(_check_weights(part.code, part.weight, [a.weight for a in part.areas], "area"))
        for area in part.areas:
            found.extend(_check_area(rules, part, area))
    found.extend(_check_hasil(rules))
    return found


def parse_rules(data: Any, source: str) -> RuleSet:
    """Build and validate a rule set from parsed YAML; raise RuleSetError naming the codes."""
    try:
        rules = RuleSet.model_validate(data)
    except ValidationError as exc:
        found = []
        for err in exc.errors():
            where = ".".join(map(str, err["loc"]))
            found.append((_locate(data, err["loc"]), f"{where}: {err['msg']}"))
        raise RuleSetError(source, found) from None
    found = problems(rules)
    if found:
        raise RuleSetError(source, found)
    return rules


def _locate(data: Any, loc: tuple[int | str, ...]) -> str:
    """The innermost `code` along a pydantic error location (the code the problem is in)."""
    code = "rules"
    node = data
    parent: int | str | None = None
    for key in loc:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            break
        if parent in ("predicates", "scales") and isinstance(key, str):
            code = key
        elif isinstance(node, dict) and isinstance(node.get("code"), str):
            code = node["code"]
        parent = key
    return code


def load_file(path: Path) -> RuleSet:
    """Load and validate one rule file; its id must match the file name."""
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RuleSetError(path.stem, [("rules", f"not valid YAML: {exc}")]) from None
    rules = parse_rules(data, path.stem)
    if rules.id != path.stem:
        raise RuleSetError(path.stem, [(rules.id, f"id differs from file name {path.name}")])
    return rules


def available(directory: Path = RULES_DIR) -> list[str]:
    return sorted(p.stem for p in directory.glob("*.yaml"))


@functools.cache
def get_rules(rules_id: str) -> RuleSet:
    """The packaged rule set with this id (validated once, then cached)."""
    if rules_id not in available():
        raise UnknownRuleSet(rules_id)
    return load_file(RULES_DIR / f"{rules_id}.yaml")


def load_all() -> dict[str, RuleSet]:
    """Validate every packaged rule set (call on start)."""
    return {rules_id: get_rules(rules_id) for rules_id in available()}
