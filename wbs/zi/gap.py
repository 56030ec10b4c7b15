"""Gap analysis: where a unit's next points are, and the fewest option steps to each predicate.

An *answer change* raises an option item (a pengungkit item with a scale, or a hasil indicator
answered with options such as HBB) by one or more options; its cost is the number of option steps.
Formula items (counts) and survey indices are figures, not answer changes: they stay as they are.

The smallest set of changes is found exactly (see docs/zi.md): a multiple-choice knapsack per area
part over step counts gives the best gain for every budget, area parts are combined per part and
then across parts by a max-plus convolution that enforces each level's minimum, and the few hasil
option combinations are enumerated. Every gain is an exact rational, so no tie is lost to rounding.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from wbs.core.text import Text
from wbs.zi.ruleset import PREDICATES, RuleSet
from wbs.zi.scoring import (
    ONE,
    ZERO,
    Evaluation,
    Worksheet,
    constraints,
    shown,
    to_decimal,
)

Table = list[Fraction | None]


@dataclass(frozen=True)
class Move:
    """Raising one option item by `steps` options, to `label`, gaining `gain` points."""

    code: str
    label: str
    steps: int
    gain: Fraction


@dataclass(frozen=True)
class ItemGain:
    code: str
    kind: str  # option / formula / survey
    where: str  # area-part or hasil group code
    current: str | None
    next_label: str | None
    gain_next: Decimal | None
    best_label: str | None
    gain_best: Decimal
    steps_to_best: int | None


@dataclass(frozen=True)
class Change:
    code: str
    current: str | None
    target: str
    steps: int
    gain: Decimal


@dataclass(frozen=True)
class Reason(Text):
    """Why a predicate cannot be reached (or decided), in Indonesian and English."""

    def __str__(self) -> str:
        return f"{self.id} / {self.en}"


@dataclass
class PredicatePath:
    predicate: str
    reachable: bool | None  # None: undetermined (unknown thresholds)
    steps: int | None = None
    changes: list[Change] = field(default_factory=list)
    reasons: list[Reason] = field(default_factory=list)


@dataclass
class GapAnalysis:
    gains: list[ItemGain]
    distance: dict[str, Decimal | None]
    paths: dict[str, PredicatePath]


@dataclass
class _Option:
    """An option item: the moves open to it."""

    code: str
    current: str | None
    moves: list[Move]


def _options(
    rules: RuleSet, ws: Worksheet, ev: Evaluation
) -> tuple[dict[str, list[_Option]], dict[str, list[_Option]]]:
    """Option items per area part, and option hasil indicators per hasil group."""
    per_area: dict[str, list[_Option]] = {}
    for area, indicator, item in rules.items():
        if item.scale is None:
            continue
        share = Fraction(indicator.weight) / len(indicator.items)
        current = ws.answers.get(item.code)
        assert current is None or isinstance(current, str)  # noqa: S101
        per_area.setdefault(area.code, []).append(
            _option(rules, item.code, item.scale, current, share)
        )
    per_group: dict[str, list[_Option]] = {}
    for group, ind in rules.hasil_indicators():
        if ind.scale is None:
            continue
        label = ws.hasil.get(ind.code)
        assert label is None or isinstance(label, str)  # noqa: S101
        per_group.setdefault(group.code, []).append(
            _option(rules, ind.code, ind.scale, label, Fraction(ind.weight))
        )
    return per_area, per_group


def _option(rules: RuleSet, code: str, scale: str, current: str | None, share: Fraction) -> _Option:
    labels = rules.ranked_labels(scale)
    values = rules.scales[scale]
    position = labels.index(current) if current is not None else len(labels) - 1
    now = Fraction(values[current]) if current is not None else ZERO
    moves = [
        Move(code, labels[position - k], k, share * (Fraction(values[labels[position - k]]) - now))
        for k in range(1, position + 1)
    ]
    return _Option(code, current, moves)


def knapsack(options: list[_Option]) -> tuple[list[Fraction], list[list[int]]]:
    """Best gain for every step budget (cost <= s), with the choice table to rebuild it."""
    budget = sum(len(o.moves) for o in options)
    best = [ZERO] * (budget + 1)
    choices: list[list[int]] = []
    for option in options:
        nxt = best[:]
        chosen = [0] * (budget + 1)
        for move in option.moves:
            for s in range(move.steps, budget + 1):
                candidate = best[s - move.steps] + move.gain
                if candidate > nxt[s]:
                    nxt[s], chosen[s] = candidate, move.steps
        choices.append(chosen)
        best = nxt
    return best, choices


def _rebuild(options: list[_Option], choices: list[list[int]], budget: int) -> list[Move]:
    moves: list[Move] = []
    for option, chosen in zip(reversed(options), reversed(choices), strict=True):
        k = chosen[budget]
        if k:
            moves.append(option.moves[k - 1])
            budget -= k
    return moves


@dataclass
class _Block:
    """Best gain per exact step budget for a group of area parts, with how to rebuild it."""

    gains: Table
    split: list[list[int]]  # per member, the budget it got for each total
    members: list[_Block | _Leaf]

    def moves(self, budget: int) -> list[Move]:
        found: list[Move] = []
        for member, split in zip(reversed(self.members), reversed(self.split), strict=True):
            share = split[budget]
            found.extend(member.moves(share))
            budget -= share
        return found


@dataclass
class _Leaf:
    options: list[_Option]
    gains: Table
    choices: list[list[int]]

    def moves(self, budget: int) -> list[Move]:
        return _rebuild(self.options, self.choices, budget)


def _leaf(options: list[_Option], base: Fraction, minimum: Decimal | None) -> _Leaf:
    best, choices = knapsack(options)
    gains: Table = [g if minimum is None or base + g >= Fraction(minimum) else None for g in best]
    return _Leaf(options, gains, choices)


def _combine(members: list[_Block | _Leaf], base: Fraction, minimum: Decimal | None) -> _Block:
    """Max-plus convolution of members' tables; entries below the minimum become None."""
    table: Table = [ZERO]
    splits: list[list[int]] = []
    for member in members:
        size = len(table) + len(member.gains) - 1
        nxt: Table = [None] * size
        split = [0] * size
        for s, have in enumerate(table):
            if have is None:
                continue
            for k, gain in enumerate(member.gains):
                if gain is None:
                    continue
                candidate = have + gain
                current = nxt[s + k]
                if current is None or candidate > current:
                    nxt[s + k], split[s + k] = candidate, k
        splits.append(split)
        table = nxt
    if minimum is not None:
        table = [g if g is not None and base + g >= Fraction(minimum) else None for g in table]
    return _Block(table, splits, members)


def _minimum(node_minimum: dict[str, Decimal] | None, predicate: str) -> Decimal | None:
    return None if node_minimum is None else node_minimum.get(predicate)


def _path(rules: RuleSet, ws: Worksheet, ev: Evaluation, predicate: str) -> PredicatePath:
    path = PredicatePath(predicate, reachable=False)
    if ev.status.get(predicate) == "met":
        path.reachable, path.steps = True, 0
        return path
    rule = rules.predicates.get(predicate)
    if rule is None or rule.total_minimum is None:
        path.reachable = None
        text = ev.undetermined.get(predicate) or f"{rules.id}: {predicate} ?"
        path.reasons.append(Reason(text, text))  # already bilingual (see scoring.judge)
        return path
    per_area, per_group = _options(rules, ws, ev)

    # Figures that answer changes cannot move: survey indices and percent inputs.
    for _group, ind in rules.hasil_indicators():
        minimum = _minimum(ind.minimum, predicate)
        if ind.scale is None and minimum is not None and ev.hasil_indicators[ind.code] < minimum:
            score = shown(ev.hasil_indicators[ind.code])
            path.reasons.append(
                Reason(
                    f"{ind.code} bernilai {score} < {minimum}: hasil survei tidak berubah dengan "
                    f"mengubah jawaban",
                    f"{ind.code} scores {score} < {minimum}: survey results are not answer changes",
                )
            )

    # Pengungkit: area parts -> parts -> pengungkit.
    parts: list[_Block | _Leaf] = []
    for part in rules.pengungkit.parts:
        leaves: list[_Block | _Leaf] = []
        for area in part.areas:
            minimum = _minimum(area.minimum, predicate)
            leaf = _leaf(per_area.get(area.code, []), ev.areas[area.code], minimum)
            if all(g is None for g in leaf.gains):
                best_gain = knapsack(per_area.get(area.code, []))[0][-1]
                formulas = [i.code for ind in area.indicators for i in ind.items if i.formula]
                listed = ", ".join(formulas)
                extra_id = (
                    (f"; butir rumusnya ({listed}) bergantung pada angka, bukan jawaban")
                    if formulas
                    else ""
                )
                extra_en = (
                    (f"; its formula items ({listed}) depend on figures, not answer changes")
                    if formulas
                    else ""
                )
                top = shown(ev.areas[area.code] + best_gain)
                path.reasons.append(
                    Reason(
                        f"{area.code} paling tinggi {top} < {minimum} walau semua pilihan "
                        f"terbaik{extra_id}",
                        f"{area.code} reaches at most {top} < {minimum} with every option at "
                        f"best{extra_en}",
                    )
                )
            leaves.append(leaf)
        parts.append(_combine(leaves, ev.parts[part.code], _minimum(part.minimum, predicate)))
    peng = _combine(parts, ev.pengungkit, _minimum(rules.pengungkit.minimum, predicate))

    # Hasil: enumerate option combinations (the LKE has at most one option indicator per group).
    hasil_options = [o for group in rules.hasil.groups for o in per_group.get(group.code, [])]
    hasil_choices: list[tuple[int, Fraction, list[Move]]] = []
    for combo in itertools.product(*[[None, *o.moves] for o in hasil_options]):
        moves = [m for m in combo if m is not None]
        if _hasil_holds(rules, ev, predicate, moves):
            hasil_choices.append(
                (sum(m.steps for m in moves), sum((m.gain for m in moves), ZERO), moves)
            )
    if not hasil_choices and not path.reasons:
        path.reasons.append(
            Reason(
                "nilai minimum hasil tidak terpenuhi walau jawaban pilihan hasil terbaik",
                "hasil minimums cannot be met even with the best hasil options",
            )
        )

    total_min = Fraction(rule.total_minimum)
    best: tuple[int, int, list[Move]] | None = None
    for steps_h, gain_h, moves_h in hasil_choices:
        for s, gain in enumerate(peng.gains):
            if gain is None:
                continue
            if ev.total + gain + gain_h >= total_min:
                if best is None or s + steps_h < best[0]:
                    best = (s + steps_h, s, moves_h)
                break
    if best is None:
        if not path.reasons:
            top = shown(_max_total(ev, peng, hasil_choices))
            path.reasons.append(
                Reason(
                    f"total paling tinggi {top} < {rule.total_minimum} walau semua pilihan terbaik",
                    f"total reaches at most {top} < {rule.total_minimum} with every option at best",
                )
            )
        return path
    total_steps, s, moves_h = best
    moves = peng.moves(s) + moves_h
    path.reachable, path.steps = True, total_steps
    current = {**ws.answers, **ws.hasil}
    path.changes = sorted(
        (
            Change(m.code, _as_label(current.get(m.code)), m.label, m.steps, to_decimal(m.gain))
            for m in moves
        ),
        key=lambda c: c.code,
    )
    return path


def _as_label(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _max_total(
    ev: Evaluation, peng: _Block, hasil_choices: list[tuple[int, Fraction, list[Move]]]
) -> Decimal:
    gains = [g for g in peng.gains if g is not None]
    top_h = max((g for _s, g, _m in hasil_choices), default=ZERO)
    return to_decimal(ev.total + (max(gains) if gains else ZERO) + top_h)


def _hasil_holds(rules: RuleSet, ev: Evaluation, predicate: str, moves: list[Move]) -> bool:
    gain = {m.code: m.gain for m in moves}
    for group in rules.hasil.groups:
        group_gain = sum((gain.get(i.code, ZERO) for i in group.indicators), ZERO)
        minimum = _minimum(group.minimum, predicate)
        if minimum is not None and ev.hasil_groups[group.code] + group_gain < minimum:
            return False
        for ind in group.indicators:
            minimum = _minimum(ind.minimum, predicate)
            score = ev.hasil_indicators[ind.code] + gain.get(ind.code, ZERO)
            if minimum is not None and score < minimum:
                return False
    return True


def item_gains(rules: RuleSet, ws: Worksheet, ev: Evaluation) -> list[ItemGain]:
    """Each item's gain if raised one option and if raised to the best, ranked."""
    per_area, per_group = _options(rules, ws, ev)
    found: list[ItemGain] = []
    for where, options in [*per_area.items(), *per_group.items()]:
        for o in options:
            if not o.moves:
                found.append(
                    ItemGain(
                        o.code, "option", where, o.current, None, None, o.current, Decimal(0), 0
                    )
                )
                continue
            found.append(
                ItemGain(
                    o.code,
                    "option",
                    where,
                    o.current,
                    o.moves[0].label,
                    to_decimal(o.moves[0].gain),
                    o.moves[-1].label,
                    to_decimal(o.moves[-1].gain),
                    o.moves[-1].steps,
                )
            )
    for area, indicator, item in rules.items():
        if item.formula is None:
            continue
        share = Fraction(indicator.weight) / len(indicator.items)
        found.append(
            ItemGain(
                item.code,
                "formula",
                area.code,
                None,
                None,
                None,
                None,
                to_decimal(share * (ONE - ev.items.get(item.code, ZERO))),
                None,
            )
        )
    for group, ind in rules.hasil_indicators():
        if ind.scale is None:
            found.append(
                ItemGain(
                    ind.code,
                    "survey",
                    group.code,
                    None,
                    None,
                    None,
                    None,
                    to_decimal(Fraction(ind.weight) - ev.hasil_indicators[ind.code]),
                    None,
                )
            )
    found.sort(key=lambda g: (-(g.gain_next or 0), -g.gain_best, g.code))
    return found


def analyse(rules: RuleSet, ws: Worksheet, ev: Evaluation) -> GapAnalysis:
    """Gains per item, distance to each predicate and the smallest path to it."""
    distance: dict[str, Decimal | None] = {}
    for name in PREDICATES:
        rule = rules.predicates.get(name)
        if rule is None or rule.total_minimum is None:
            distance[name] = None
        else:
            distance[name] = max(Decimal(0), rule.total_minimum - to_decimal(ev.total))
    return GapAnalysis(
        gains=item_gains(rules, ws, ev),
        distance=distance,
        paths={name: _path(rules, ws, ev, name) for name in PREDICATES},
    )


def gap_json(gap: GapAnalysis, ev: Evaluation, rules: RuleSet) -> dict[str, object]:
    """The gap analysis as JSON-ready data (Decimals stay Decimals)."""
    return {
        "distance": gap.distance,
        "shortfalls": {
            name: [
                {
                    "code": code,
                    "minimum": minimum,
                    "score": to_decimal(score),
                    "gap": max(Decimal(0), minimum - to_decimal(score)),
                }
                for code, minimum, score in constraints(rules, ev, name)
                if minimum is not None and score < Fraction(minimum)
            ]
            for name in PREDICATES
        },
        "gains": [g.__dict__ for g in gap.gains],
        "paths": {
            name: {
                "reachable": p.reachable,
                "steps": p.steps,
                "changes": [c.__dict__ for c in p.changes],
                "reasons": [{"id": r.id, "en": r.en} for r in p.reasons],
            }
            for name, p in gap.paths.items()
        },
    }
