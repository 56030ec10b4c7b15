"""Small-count suppression of indicator figures (pure functions, no database).

Rules (docs/indicators.md):

- Primary: a count cell of 1..k-1 cases shows `"<k"`; a message count from 1..k-1 cases
  too. Zero is shown: it describes no one, and hiding it would make every "<k" ambiguous
  between none and some, which readers need.
- The published linear relations are declared here (`_Builder`): parts of an entry path
  sum to `received`, every `by_*` table sums to its base, refusals + donations (+ the
  unpublished rest) to `received`, declarations + complaints (+ rest) likewise, `total` is
  the sum of the channels, and a parent unit is its own (unpublished) cases plus its
  children. Unpublished remainders (a parent's own cases, the rest of a kind table) are
  cells too: never shown, and protected like shown ones when they hold 1..k-1 cases.
- Complementary: the attacker is assumed to know these relations, that a `"<k"` cell holds
  1..k-1, that an `"x"` cell holds k or more (complements are chosen among cells of k or
  more) and that remainders are >= 0. Interval bounds are propagated through the relations
  to a fixed point; while a protected cell's interval is a single value, the smallest shown
  non-zero cell of a relation around it is withheld as `"x"`, and the bounds recomputed.
- Derived: a percentage shows only when its numerator and denominator both show; a median
  or P90 only over a shown base of k or more cases with at least k cases at or below and
  at or above the percentile's rank (so it is never one case's value among few).

Adjacent periods: public figures exist for complete calendar years only (service), so no
two public periods overlap and no difference of two public figures is a smaller period.
"""

from __future__ import annotations

import copy
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

WITHHELD = "x"
INF = 1 << 60

RATIOS = {
    "completed_on_time_pct": ("completed_on_time", "completed"),
    "feedback_3m_pct": ("feedback_3m", "feedback_3m_due"),
}
QUANTILES = {
    "first_response_wd_median": ("first_responded", 1, 2),
    "first_response_wd_p90": ("first_responded", 9, 10),
    "completion_wd_median": ("completed", 1, 2),
    "completion_wd_p90": ("completed", 9, 10),
}
MESSAGES = {
    "mailbox_questions": "mailbox_questions_cases",
    "mailbox_answers": "mailbox_answers_cases",
}
# A breakdown table sums to its base cell (a key of the same block, or a nested key).
BREAKDOWNS: dict[str, tuple[str, ...]] = {
    "by_value_band": ("received",),
    "by_state": ("received",),
    "by_control": ("received",),
    "by_kpk_decision": ("forwarded", "kpk"),
}
# Kinds that are part of `received`; the rest of it is an unpublished remainder.
KINDS = (("refusals", "donations"), ("declarations", "complaints"))
# Inequalities readers know: the first cell is at least the sum of the others (disjoint
# subsets). Each becomes an equality with an unpublished, unprotected slack cell.
AT_LEAST: tuple[tuple[Path, tuple[Path, ...]], ...] = (
    (("received",), (("completed",), ("overdue",))),
    (("completed",), (("completed_on_time",),)),
    (("received",), (("first_responded",),)),
    (("first_responded",), (("completed",),)),
    (("first_responded",), (("verified",),)),
    (("first_responded",), (("followed_up",),)),
    (("received",), tuple(("forwarded", t) for t in ("kpk", "apip", "aph", "other_unit"))),
    (("received",), (("mailbox_questions_cases",),)),
    (("received",), (("mailbox_answers_cases",),)),
    (("mailbox_questions",), (("mailbox_questions_cases",),)),
    (("mailbox_answers",), (("mailbox_answers_cases",),)),
    (("received",), (("feedback_3m_due",),)),
    (("feedback_3m_due",), (("feedback_3m",),)),
)

Path = tuple[str, ...]


def marker(k: int) -> str:
    return f"<{k}"


@dataclass
class _Cell:
    path: Path
    value: int
    kind: str  # "count", "message", "hidden" (a remainder) or "slack" (of an inequality)
    base: int | None = None  # message cells: the cell counting their cases


@dataclass
class _Builder:
    """The cells of a report tree and the linear relations published between them."""

    cells: list[_Cell] = field(default_factory=list)
    index: dict[Path, int] = field(default_factory=dict)
    relations: list[tuple[int, list[int]]] = field(default_factory=list)

    def add(self, path: Path, value: int, kind: str) -> int:
        self.index[path] = len(self.cells)
        self.cells.append(_Cell(path, value, kind))
        return self.index[path]

    def relate(self, total: int, parts: list[int]) -> None:
        if parts:
            self.relations.append((total, parts))

    def hidden(self, path: Path, total: int, parts: list[int], kind: str = "hidden") -> None:
        """`total` = the parts + an unpublished remainder (or slack) cell."""
        rest = self.cells[total].value - sum(self.cells[p].value for p in parts)
        self.relate(total, [*parts, self.add(path, rest, kind)])


def _blocks(node: dict[str, Any]) -> Iterator[tuple[Path, dict[str, Any]]]:
    for name, block in node.get("channels", {}).items():
        yield ("channels", name), block
    if isinstance(node.get("total"), dict):
        yield ("total",), node["total"]


def _block_cells(b: _Builder, prefix: Path, block: dict[str, Any]) -> None:
    for key, value in block.items():
        if isinstance(value, bool) or key in RATIOS or key in QUANTILES:
            continue
        if isinstance(value, int) and key not in MESSAGES:
            b.add((*prefix, key), value, "count")
        elif isinstance(value, dict):
            for sub, n in value.items():
                if isinstance(n, int) and not isinstance(n, bool):
                    b.add((*prefix, key, sub), n, "count")
    for key, base in MESSAGES.items():
        if isinstance(block.get(key), int):
            cell = b.add((*prefix, key), block[key], "message")
            b.cells[cell].base = b.index.get((*prefix, base))


def _block_relations(b: _Builder, prefix: Path, block: dict[str, Any]) -> None:
    at = b.index.get
    received = at((*prefix, "received"))
    parts = [at((*prefix, k)) for k in ("received_form", "received_e2e")]
    if received is not None and None not in parts:
        b.relate(received, [p for p in parts if p is not None])
    for table, base_key in BREAKDOWNS.items():
        base = at((*prefix, *base_key))
        if isinstance(block.get(table), dict) and base is not None:
            cells = [at((*prefix, table, sub)) for sub in block[table]]
            b.relate(base, [c for c in cells if c is not None])
    for n, (bigger, smaller) in enumerate(AT_LEAST):
        big = at((*prefix, *bigger))
        parts = [at((*prefix, *p)) for p in smaller]
        if big is not None and None not in parts:
            b.hidden((*prefix, "_slack", str(n)), big, [p for p in parts if p is not None], "slack")
    for kinds in KINDS:
        found = [at((*prefix, k)) for k in kinds]
        if received is not None and all(f is not None for f in found):
            b.hidden((*prefix, "_rest", *kinds), received, [f for f in found if f is not None])


def _build(node: dict[str, Any], prefix: Path, b: _Builder) -> None:
    first = len(b.cells)
    for path, block in _blocks(node):
        _block_cells(b, (*prefix, *path), block)
        _block_relations(b, (*prefix, *path), block)
    mine = [i for i in range(first, len(b.cells)) if b.cells[i].kind in ("count", "message")]
    depth = len(prefix)
    for cell in mine:
        path = b.cells[cell].path
        if path[depth] == "total":
            parts = [
                b.index.get((*prefix, "channels", c, *path[depth + 1 :])) for c in node["channels"]
            ]
            b.relate(cell, [p for p in parts if p is not None])
    children = node.get("children") or []
    for n, child in enumerate(children):
        _build(child, (*prefix, "children", str(n)), b)
    if not children:
        return
    for cell in mine:
        rest = b.cells[cell].path[depth:]
        parts = [b.index.get((*prefix, "children", str(n), *rest)) for n in range(len(children))]
        b.hidden((*prefix, "_own", *rest), cell, [p for p in parts if p is not None])
        base = b.cells[cell].base
        if base is not None:  # a message remainder counts the remainder's cases
            own_base = (*prefix, "_own", *b.cells[base].path[depth:])
            b.cells[b.index[(*prefix, "_own", *rest)]].base = b.index.get(own_base)


def _members(b: _Builder, relation: int) -> tuple[int, ...]:
    total, parts = b.relations[relation]
    return (total, *parts)


def _cap(high: int) -> int:
    """An upper bound near INF is no bound: keeps unbounded cells from descending forever."""
    return INF if high >= INF // 2 else high


def _bounds(
    b: _Builder, shown: list[bool], small: set[int], k: int, touching: list[list[int]]
) -> tuple[list[int], list[int]]:
    """What an attacker can bound every cell to from the published figures and relations:
    a "<k" count holds 1..k-1 (`small`), any other withheld cell at least 1."""
    lo, hi = [], []
    for i, cell in enumerate(b.cells):
        if shown[i]:
            lo.append(cell.value)
            hi.append(cell.value)
        elif cell.kind in ("hidden", "slack"):
            lo.append(0)
            hi.append(INF)
        else:
            lo.append(1)
            hi.append(k - 1 if i in small and cell.kind == "count" else INF)
    queue = deque(r for r, (t, ps) in enumerate(b.relations) if not all(shown[c] for c in (t, *ps)))
    queued = set(queue)
    while queue:
        r = queue.popleft()
        queued.discard(r)
        total, parts = b.relations[r]
        low = sum(lo[p] for p in parts)
        high = sum(hi[p] for p in parts)
        changed = []
        new = (max(lo[total], low), _cap(min(hi[total], high)))
        if new != (lo[total], hi[total]):
            lo[total], hi[total] = new
            changed.append(total)
        for p in parts:
            others_low = low - lo[p]
            others_high = high - hi[p]
            new = (max(lo[p], lo[total] - others_high), _cap(min(hi[p], hi[total] - others_low)))
            if new != (lo[p], hi[p]):
                low += new[0] - lo[p]
                high += new[1] - hi[p]
                lo[p], hi[p] = new
                changed.append(p)
        for moved in changed:
            for other in touching[moved]:
                if other != r and other not in queued:
                    queue.append(other)
                    queued.add(other)
    return lo, hi


def _complement(
    b: _Builder, cell: int, shown: list[bool], touching: list[list[int]], depth: int
) -> list[int]:
    """Shown non-zero cells in the relations nearest to `cell` (at most `depth` relations
    away), smallest first."""
    frontier, seen_cells, seen_relations = {cell}, {cell}, set()
    for _ in range(depth):
        candidates, nxt = [], set()
        for c in frontier:
            for r in touching[c]:
                if r in seen_relations:
                    continue
                seen_relations.add(r)
                total, parts = b.relations[r]
                for other in (total, *parts):
                    if shown[other] and b.cells[other].value > 0:
                        candidates.append((b.cells[other].value, other))
                    elif not shown[other] and other not in seen_cells:
                        nxt.add(other)
                        seen_cells.add(other)
        if candidates:
            return [c for _v, c in sorted(candidates)]
        if not nxt:
            return []
        frontier = nxt
    return []


@dataclass(frozen=True)
class Pattern:
    """Which cells a suppression withholds: primary (`"<k"`) and complementary (`"x"`)."""

    primary: frozenset[Path]
    complementary: frozenset[Path]
    paths: dict[Path, int]


def pattern(report: dict[str, Any], k: int) -> Pattern:
    """The suppression pattern of a report tree (for `suppress` and for tests)."""
    b = _Builder()
    _build(report, (), b)
    primary: set[int] = set()
    protected: set[int] = set()
    for i, cell in enumerate(b.cells):
        n = cell.value if cell.base is None else b.cells[cell.base].value
        few = 1 <= n < k
        if cell.kind == "hidden":
            if few:
                protected.add(i)
        elif few and cell.kind in ("count", "message"):
            primary.add(i)
            protected.add(i)
    shown = [c.kind in ("count", "message") and i not in primary for i, c in enumerate(b.cells)]
    touching: list[list[int]] = [[] for _ in b.cells]
    for r, (total, parts) in enumerate(b.relations):
        for c in (total, *parts):
            touching[c].append(r)
    small = set(primary)  # shown "<k"; a primary cell may be relabelled "x" below
    # A quick pass first: a relation whose only withheld cell is protected gives it away.
    for r in range(len(b.relations)):
        unknown = [c for c in _members(b, r) if not shown[c]]
        if len(unknown) == 1 and unknown[0] in protected:
            for near_cell in _complement(b, unknown[0], shown, touching, 1)[:1]:
                shown[near_cell] = False
    stuck: dict[int, int] = {}
    while True:
        lo, hi = _bounds(b, shown, small, k, touching)
        pinned = sorted(c for c in protected if lo[c] == hi[c])
        progress = False
        for c in pinned:
            # 1. withhold the smallest shown cell beside it; 2. if none, stop saying "<k"
            # around it (an "x" may hold any positive count); 3. withhold the smallest cell
            # further away, or all at that distance once a cell stays pinned (rare; keeps
            # the rounds few).
            extra = _complement(b, c, shown, touching, 1)[:1]
            if not extra:
                near = {c} if c in small else {o for r in touching[c] for o in _members(b, r)}
                loosen = {o for o in near if o in small and b.cells[o].kind == "count"}
                if loosen:
                    small -= loosen
                    progress = True
                    continue
                extra = _complement(b, c, shown, touching, len(b.cells))
                stuck[c] = stuck.get(c, 0) + 1
                extra = extra if stuck[c] > 2 else extra[:1]
            for other in extra:
                shown[other] = False
                progress = True
        if not progress:
            break
    withheld = {i for i, c in enumerate(b.cells) if c.kind in ("count", "message")}
    withheld -= {i for i in withheld if shown[i]} | small
    return Pattern(
        frozenset(b.cells[i].path for i in small),
        frozenset(b.cells[i].path for i in withheld),
        {c.path: c.value for c in b.cells},
    )


def _apply(node: dict[str, Any], prefix: Path, pat: Pattern, k: int) -> None:
    def hidden(path: Path) -> str | None:
        if path in pat.primary:
            return marker(k)
        if path in pat.complementary:
            return WITHHELD
        return None

    for path, block in _blocks(node):
        at = (*prefix, *path)
        original = dict(block)
        for key, value in original.items():
            if isinstance(value, dict):
                for sub in value:
                    mark = hidden((*at, key, sub))
                    if mark is not None:
                        value[sub] = mark
            elif (mark := hidden((*at, key))) is not None:
                block[key] = mark
        for key, (part, whole) in RATIOS.items():
            if key in block and original.get(whole):
                block[key] = _worst(hidden((*at, part)), hidden((*at, whole)), block[key])
        for key, (base, num, den) in QUANTILES.items():
            size = original.get(base)
            if key not in block or not isinstance(size, int) or size == 0:
                continue
            rank = -(-num * size // den)
            few = size < k or rank < k or size - rank + 1 < k
            block[key] = _worst(hidden((*at, base)), marker(k) if few else None, block[key])
    for index, child in enumerate(node.get("children") or []):
        _apply(child, (*prefix, "children", str(index)), pat, k)


def _worst(a: str | None, b: str | None, value: Any) -> Any:
    """A derived figure shows "x" when an input is withheld as "x" (saying "<k" would
    narrow that input), else "<k" when an input is small, else its value."""
    marks = {a, b} - {None}
    if WITHHELD in marks:
        return WITHHELD
    return marks.pop() if marks else value


def suppress(report: dict[str, Any], k: int) -> dict[str, Any]:
    """The report (with its `children`, recursively) as it may be published."""
    if k < 2:
        raise ValueError("k must be at least 2")
    return suppress_with(report, pattern(report, k), k)


def suppress_with(report: dict[str, Any], pat: Pattern, k: int) -> dict[str, Any]:
    """The report as published under an already computed pattern (a cached one)."""
    return suppress_at(report, (), pat, k)


def suppress_at(node: dict[str, Any], prefix: Path, pat: Pattern, k: int) -> dict[str, Any]:
    """A part of a report tree (the node at `prefix`, with the children it carries) as
    published under the tree's pattern."""
    out = copy.deepcopy(node)
    _apply(out, prefix, pat, k)
    return out
