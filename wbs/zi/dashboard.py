"""The assessment page as an evaluator reads it: shortfalls by name with the points still
needed, where those points can come from, and the unanswered items grouped by area."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from wbs.core.text import Text
from wbs.zi.ruleset import PREDICATES, RuleSet
from wbs.zi.scoring import Evaluation, constraints, to_decimal


@dataclass(frozen=True)
class Room:
    """A part of the worksheet below its weight: where points can still come from."""

    code: str
    name: str
    score: Decimal
    weight: Decimal

    @property
    def room(self) -> Decimal:
        return self.weight - self.score


@dataclass(frozen=True)
class Shortfall:
    code: str
    name: Text
    score: Decimal
    minimum: Decimal
    rooms: tuple[Room, ...] = ()

    @property
    def needed(self) -> Decimal:
        """Points still needed to reach the minimum."""
        return self.minimum - self.score


@dataclass(frozen=True)
class PredicateView:
    name: str
    status: str  # met / not_met / undetermined
    shortfalls: tuple[Shortfall, ...]


@dataclass(frozen=True)
class UnansweredItem:
    code: str
    text: str


@dataclass
class UnansweredGroup:
    code: str  # area part (PPA) or hasil group (HB)
    name: Text
    items: list[UnansweredItem] = field(default_factory=list)


@dataclass(frozen=True)
class Dashboard:
    predicates: tuple[PredicateView, ...]
    unanswered: tuple[UnansweredGroup, ...]


def _room(code: str, name: str, score: Fraction, weight: Decimal) -> Room:
    return Room(code, name, to_decimal(score), weight)


def _rooms(rooms: list[Room]) -> tuple[Room, ...]:
    return tuple(sorted((r for r in rooms if r.room > 0), key=lambda r: (-r.room, r.code)))


def names(rules: RuleSet, ev: Evaluation) -> dict[str, tuple[Text, tuple[Room, ...]]]:
    """Every code a minimum applies to: its name and the parts below it that have room."""
    found: dict[str, tuple[Text, tuple[Room, ...]]] = {}
    parts = [_room(p.code, p.name, ev.parts[p.code], p.weight) for p in rules.pengungkit.parts]
    groups = [_room(g.code, g.name, ev.hasil_groups[g.code], g.weight) for g in rules.hasil.groups]
    found["total"] = (Text("Nilai total", "Total score"), _rooms(parts + groups))
    found["pengungkit"] = (Text("Komponen pengungkit", "Enabler component"), _rooms(parts))
    for part in rules.pengungkit.parts:
        areas = [
            _room(a.code, f"{a.name} ({part.name})", ev.areas[a.code], a.weight) for a in part.areas
        ]
        found[part.code] = (
            Text(f"Pengungkit: {part.name}", f"Enabler: {part.name}"),
            _rooms(areas),
        )
        for area in part.areas:
            indicators = [
                _room(i.code, i.name, ev.indicators[i.code], i.weight) for i in area.indicators
            ]
            name = f"{area.name} ({part.name})"
            found[area.code] = (Text(name, name), _rooms(indicators))
    for group in rules.hasil.groups:
        indicators = [
            _room(i.code, i.name, ev.hasil_indicators[i.code], i.weight) for i in group.indicators
        ]
        found[group.code] = (Text(group.name, group.name), _rooms(indicators))
        for ind in group.indicators:
            found[ind.code] = (Text(ind.name, ind.name), ())
    return found


def build(rules: RuleSet, ev: Evaluation) -> Dashboard:
    named = names(rules, ev)
    predicates = []
    for predicate in PREDICATES:
        shortfalls = []
        for code, minimum, score in constraints(rules, ev, predicate):
            if minimum is None or score >= Fraction(minimum):
                continue
            name, rooms = named.get(code, (Text(code, code), ()))
            shortfalls.append(Shortfall(code, name, to_decimal(score), minimum, rooms))
        predicates.append(
            PredicateView(predicate, ev.status.get(predicate, "undetermined"), tuple(shortfalls))
        )
    return Dashboard(tuple(predicates), tuple(_unanswered(rules, set(ev.unanswered))))


def _unanswered(rules: RuleSet, missing: set[str]) -> list[UnansweredGroup]:
    """Unanswered items grouped by area part, then hasil group, in worksheet order."""
    groups: dict[str, UnansweredGroup] = {}
    for part, area in rules.area_parts():
        label = f"{area.name} ({part.name})"
        for ind in area.indicators:
            for item in ind.items:
                if item.code in missing:
                    group = groups.setdefault(
                        area.code, UnansweredGroup(area.code, Text(label, label))
                    )
                    group.items.append(UnansweredItem(item.code, item.text))
    for hasil_group, hasil in rules.hasil_indicators():
        if hasil.code in missing:
            title = Text(f"Hasil: {hasil_group.name}", f"Results: {hasil_group.name}")
            group = groups.setdefault(hasil_group.code, UnansweredGroup(hasil_group.code, title))
            group.items.append(UnansweredItem(hasil.code, hasil.name))
    return list(groups.values())
