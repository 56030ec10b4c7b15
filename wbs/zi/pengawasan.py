"""The LKE link: Penguatan Pengawasan items proposed from a unit's case indicators.

The mapping is data (`wbs/zi/links/pengawasan-2021.yaml`), validated on start against its rule
set: every code must be an item of the Penguatan Pengawasan area, each item is either linked
(with a rule) or unlinked (with the reason), and a rule's answers must be options of its item.
`decide` applies one link to the indicator figures of its channel; it is pure.
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from wbs.core.text import Text
from wbs.indicators.definitions import CHANNELS, channel_figures
from wbs.zi.errors import RuleSetError
from wbs.zi.ruleset import Item, RuleSet, get_rules, load_yaml

LINKS_DIR = Path(__file__).with_name("links")
DEFAULT_LINKS = "pengawasan-2021"
AREA = "PW"  # Penguatan Pengawasan, both parts (PPE, PRE)

# The figures a rule may name, per channel: the indicators' own list.
FIGURES: dict[str, frozenset[str]] = {c: frozenset(channel_figures(c)) for c in CHANNELS}

OPS: dict[str, Callable[[Decimal, Decimal], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    "==": operator.eq,
    ">": operator.gt,
    "<": operator.lt,
}
SIGNS = {">=": "≥", "<=": "≤", "==": "=", ">": ">", "<": "<"}
_CONDITION = re.compile(r"^\s*([a-z][a-z0-9_.]*)\s*(>=|<=|==|>|<)\s*([a-z][a-z0-9_.]*|\d+)\s*$")
_EXPRESSION = re.compile(r"^\s*([a-z][a-z0-9_.]*)\s*(?:-\s*([a-z][a-z0-9_.]*))?\s*$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Why(_Model):
    id: str
    en: str

    @property
    def text(self) -> Text:
        return Text(self.id, self.en)


class LinkDoc(_Model):
    code: str
    id: str
    channel: str
    given: list[str] = Field(default_factory=list)
    when: list[str] = Field(default_factory=list)
    propose: str | None = None
    otherwise: str | None = None
    inputs: dict[str, str] | None = None
    shown: list[str] = Field(default_factory=list)
    why: Why


class UnlinkedDoc(_Model):
    code: str
    why: Why


class LinksDoc(_Model):
    id: str
    rules: str
    links: list[LinkDoc]
    unlinked: list[UnlinkedDoc] = Field(default_factory=list)


@dataclass(frozen=True)
class Condition:
    left: str
    op: str
    right: str | int  # a figure or a whole number

    @property
    def figures(self) -> tuple[str, ...]:
        return (self.left,) if isinstance(self.right, int) else (self.left, self.right)

    def __str__(self) -> str:
        return f"{self.left} {SIGNS[self.op]} {self.right}"


@dataclass(frozen=True)
class Expression:
    """A formula input: one figure, or one figure less another."""

    plus: str
    minus: str | None = None

    @property
    def figures(self) -> tuple[str, ...]:
        return (self.plus,) if self.minus is None else (self.plus, self.minus)

    def __str__(self) -> str:
        return self.plus if self.minus is None else f"{self.plus} − {self.minus}"


@dataclass(frozen=True)
class Link:
    code: str
    id: str
    channel: str
    given: tuple[Condition, ...]
    when: tuple[Condition, ...]
    propose: str | None
    otherwise: str | None
    inputs: dict[str, Expression] | None
    shown: tuple[str, ...]
    why: Text

    @property
    def figures(self) -> tuple[str, ...]:
        """Every figure the rule reads or shows, in a stable order, once."""
        names: list[str] = []
        for condition in (*self.given, *self.when):
            names.extend(condition.figures)
        for expression in (self.inputs or {}).values():
            names.extend(expression.figures)
        names.extend(self.shown)
        return tuple(dict.fromkeys(names))

    def rule_text(self) -> Text:
        """The rule in words, for the page and the data dukung package."""
        given = " dan ".join(str(c) for c in self.given)
        given_en = " and ".join(str(c) for c in self.given)
        if self.inputs is not None:
            parts = "; ".join(f"{code} = {expr}" for code, expr in self.inputs.items())
            return Text(
                f"[{self.channel}] bila {given}: {parts}",
                f"[{self.channel}] when {given_en}: {parts}",
            )
        when = " dan ".join(str(c) for c in self.when)
        when_en = " and ".join(str(c) for c in self.when)
        id_ = f"[{self.channel}] bila {given}: {self.propose} bila {when}"
        en = f"[{self.channel}] when {given_en}: {self.propose} when {when_en}"
        if self.otherwise:
            id_ += f", selain itu {self.otherwise}"
            en += f", otherwise {self.otherwise}"
        return Text(id_, en)


@dataclass(frozen=True)
class Unlinked:
    code: str
    why: Text


@dataclass(frozen=True)
class Links:
    id: str
    rules: str
    links: tuple[Link, ...]
    unlinked: tuple[Unlinked, ...]

    def link(self, code: str) -> Link | None:
        return next((link for link in self.links if link.code == code), None)


# ------------------------------------------------------------------------------- decisions


@dataclass(frozen=True)
class Outcome:
    """What a link makes of the figures: a value (label or inputs), or None with the reason."""

    value: str | dict[str, int] | None
    figures: dict[str, Any]  # the figures the rule read or shows, as given
    reason: Text | None = None


def figure(channel: Mapping[str, Any], name: str) -> Any:
    """A figure of a channel by its dotted name (`forwarded.kpk`); None when absent."""
    value: Any = channel
    for part in name.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    return number if number.is_finite() else None


def _holds(condition: Condition, channel: Mapping[str, Any]) -> Text | None:
    """None when the condition holds, else why not."""
    left = _number(figure(channel, condition.left))
    right = (
        Decimal(condition.right)
        if isinstance(condition.right, int)
        else _number(figure(channel, condition.right))
    )
    if left is None or right is None:
        missing = condition.left if left is None else str(condition.right)
        return Text(f"angka {missing} tidak tersedia", f"figure {missing} is not available")
    if OPS[condition.op](left, right):
        return None
    return Text(f"tidak terpenuhi: {condition}", f"does not hold: {condition}")


def _first_failure(conditions: tuple[Condition, ...], channel: Mapping[str, Any]) -> Text | None:
    for condition in conditions:
        failed = _holds(condition, channel)
        if failed is not None:
            return failed
    return None


def _count(expression: Expression, channel: Mapping[str, Any]) -> int | None:
    plus = _number(figure(channel, expression.plus))
    minus = Decimal(0) if expression.minus is None else _number(figure(channel, expression.minus))
    if plus is None or minus is None:
        return None
    value = plus - minus
    if value < 0 or value != value.to_integral_value():
        return None
    return int(value)


def decide(link: Link, figures: Mapping[str, Any]) -> Outcome:
    """Apply a link to an indicator dict (`channels.<channel>.<figure>`)."""
    channels = figures.get("channels")
    channel = channels.get(link.channel) if isinstance(channels, Mapping) else None
    if not isinstance(channel, Mapping):
        return Outcome(
            None,
            {},
            Text(f"tidak ada angka kanal {link.channel}", f"no figures for {link.channel}"),
        )
    used = {name: figure(channel, name) for name in link.figures}
    failed = _first_failure(link.given, channel)
    if failed is not None:
        return Outcome(None, used, failed)
    if link.inputs is not None:
        inputs: dict[str, int] = {}
        for code, expression in link.inputs.items():
            count = _count(expression, channel)
            if count is None:
                return Outcome(
                    None,
                    used,
                    Text(
                        f"{code} = {expression} bukan bilangan cacah",
                        f"{code} = {expression} is not a whole number ≥ 0",
                    ),
                )
            inputs[code] = count
        return Outcome(inputs, used)
    failed = _first_failure(link.when, channel)
    if failed is None:
        return Outcome(link.propose, used)
    if link.otherwise is not None:
        return Outcome(link.otherwise, used)
    return Outcome(None, used, failed)


# ------------------------------------------------------------------------------ loading


def _condition(text: str, channel: str, where: str, problems: list[tuple[str, str]]) -> Condition:
    found = _CONDITION.match(text)
    if found is None:
        problems.append((where, f"condition {text!r} is not 'figure OP figure|number'"))
        return Condition("received", ">=", 0)
    left, op, right = found.groups()
    condition = Condition(left, op, int(right) if right.isdigit() else right)
    for name in condition.figures:
        if name not in FIGURES.get(channel, frozenset()):
            problems.append((where, f"unknown figure {name!r} of channel {channel}"))
    return condition


def _check_answer(
    rules: RuleSet, item: Item, link: LinkDoc, problems: list[tuple[str, str]]
) -> None:
    if item.scale is not None:
        if link.inputs is not None or link.propose is None:
            problems.append((link.code, "an option item needs `propose` and no `inputs`"))
        for label in (link.propose, link.otherwise):
            if label is not None and label not in rules.scales[item.scale]:
                problems.append((link.code, f"{label!r} is not an option of scale {item.scale}"))
        return
    if link.inputs is None or link.propose is not None or link.otherwise is not None or link.when:
        problems.append((link.code, "a formula item needs `inputs` only"))
        return
    referenced = set(item.formula.referenced()) if item.formula else set()
    if not referenced <= set(link.inputs) or not set(link.inputs) <= set(item.inputs or {}):
        problems.append((link.code, f"inputs must cover {sorted(referenced)} within the item's"))


def _link(
    rules: RuleSet, items: dict[str, Item], doc: LinkDoc, problems: list[tuple[str, str]]
) -> Link | None:
    if doc.channel not in CHANNELS:
        problems.append((doc.code, f"unknown channel {doc.channel!r}"))
        return None
    given = tuple(_condition(c, doc.channel, doc.code, problems) for c in doc.given)
    when = tuple(_condition(c, doc.channel, doc.code, problems) for c in doc.when)
    inputs: dict[str, Expression] | None = None
    if doc.inputs is not None:
        inputs = {}
        for code, text in doc.inputs.items():
            found = _EXPRESSION.match(text)
            if found is None:
                problems.append((code, f"input {text!r} is not 'figure' or 'figure - figure'"))
                continue
            inputs[code] = Expression(found.group(1), found.group(2))
            for name in inputs[code].figures:
                if name not in FIGURES[doc.channel]:
                    problems.append((code, f"unknown figure {name!r} of channel {doc.channel}"))
    for name in doc.shown:
        if name not in FIGURES[doc.channel]:
            problems.append((doc.code, f"unknown figure {name!r} of channel {doc.channel}"))
    if doc.code in items:
        _check_answer(rules, items[doc.code], doc, problems)
    return Link(
        doc.code,
        doc.id,
        doc.channel,
        given,
        when,
        doc.propose,
        doc.otherwise,
        inputs,
        tuple(doc.shown),
        doc.why.text,
    )


def _area_items(rules: RuleSet) -> dict[str, Item]:
    return {item.code: item for area, _ind, item in rules.items() if area.area == AREA}


def _check_codes(links: LinksDoc, rules: RuleSet) -> Iterator[tuple[str, str]]:
    every = {item.code for _a, _i, item in rules.items()}
    area = _area_items(rules)
    seen: dict[str, str] = {}
    for kind, code in [("link", d.code) for d in links.links] + [
        ("unlinked", d.code) for d in links.unlinked
    ]:
        if code not in every:
            yield code, f"unknown item code in {rules.id}"
        elif code not in area:
            yield code, f"not an item of the Penguatan Pengawasan area ({AREA})"
        if code in seen:
            yield code, f"listed twice ({seen[code]}, {kind})"
        seen[code] = kind
    for code in area:
        if code not in seen:
            yield code, "Penguatan Pengawasan item neither linked nor unlinked"
    ids = [d.id for d in links.links]
    for rule_id in {i for i in ids if ids.count(i) > 1}:
        yield rule_id, "rule id used twice"


def parse_links(data: Any, source: str) -> Links:
    """Validate a mapping document against its rule set; every problem at once."""
    try:
        doc = LinksDoc.model_validate(data)
    except ValidationError as exc:
        raise RuleSetError(
            source,
            [(".".join(str(p) for p in e["loc"]) or "links", e["msg"]) for e in exc.errors()],
        ) from None
    rules = get_rules(doc.rules)
    problems = list(_check_codes(doc, rules))
    items = _area_items(rules)
    links = [_link(rules, items, d, problems) for d in doc.links]
    if doc.id != source:
        problems.append((doc.id, f"id differs from {source}"))
    if problems:
        raise RuleSetError(source, problems)
    return Links(
        doc.id,
        doc.rules,
        tuple(link for link in links if link is not None),
        tuple(Unlinked(d.code, d.why.text) for d in doc.unlinked),
    )


def load_file(path: Path) -> Links:
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RuleSetError(path.stem, [("links", f"not valid YAML: {exc}")]) from None
    return parse_links(data, path.stem)


def get_links(links_id: str = DEFAULT_LINKS) -> Links:
    """The packaged mapping (validated once, then cached)."""
    return _packaged(links_id)


@functools.cache
def _packaged(links_id: str) -> Links:
    return load_file(LINKS_DIR / f"{links_id}.yaml")


def links_for(rules_id: str) -> Links | None:
    """The packaged mapping of a rule set, if it has one."""
    for path in sorted(LINKS_DIR.glob("*.yaml")):
        links = get_links(path.stem)
        if links.rules == rules_id:
            return links
    return None


def load_all() -> list[Links]:
    """Validate every packaged mapping (call on start)."""
    return [get_links(path.stem) for path in sorted(LINKS_DIR.glob("*.yaml"))]
