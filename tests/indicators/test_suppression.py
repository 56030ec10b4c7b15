"""Small-count suppression against an attacker who knows every published relation.

Reports are generated (hypothesis) as unit trees whose figures add up the way real ones do;
after `suppress`, no shown count lies in 1..k-1, and an exact solver written here (not the
module's interval propagation) finds, for every cell built from 1..k-1 cases (shown "<k")
and every unpublished remainder of 1..k-1 cases (a parent's own cases), a second value
consistent with everything published: none is recoverable.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from wbs.indicators.suppression import WITHHELD, marker, suppress

CHANNELS = ("pengaduan", "wbs")
BUDGET = 20_000  # search nodes per report for the exact attacker
FIELDS = ("received", "received_form", "received_e2e", "completed", "completed_on_time", "overdue")
BANDS = ("kecil", "besar")


@st.composite
def own_figures(draw: Any) -> dict[str, Any]:
    """One unit's own cases, consistent: form + browser = received, disjoint stages."""
    channels = {}
    for c in CHANNELS:
        form, e2e = draw(st.integers(0, 5)), draw(st.integers(0, 5))
        received = form + e2e
        completed = draw(st.integers(0, received))
        on_time = draw(st.integers(0, completed))
        overdue = draw(st.integers(0, received - completed))
        small = draw(st.integers(0, received))
        channels[c] = {
            "received": received,
            "received_form": form,
            "received_e2e": e2e,
            "completed": completed,
            "completed_on_time": on_time,
            "overdue": overdue,
            "by_value_band": {"kecil": small, "besar": received - small},
        }
    return channels


def _add_children(channels: dict[str, Any], children: list[dict[str, Any]]) -> None:
    """Add the children's figures (their subtrees) into a unit's channels, as the roll-up does."""
    for child in children:
        for c in CHANNELS:
            for key in FIELDS:
                channels[c][key] += child["channels"][c][key]
            for band in BANDS:
                channels[c]["by_value_band"][band] += child["channels"][c]["by_value_band"][band]


@st.composite
def unit_trees(draw: Any, depth: int = 1) -> dict[str, Any]:
    own = draw(own_figures())
    children = draw(st.lists(unit_trees(depth - 1), max_size=2)) if depth else []
    channels = {
        c: {k: (dict(v) if isinstance(v, dict) else v) for k, v in own[c].items()} for c in CHANNELS
    }
    _add_children(channels, children)
    node: dict[str, Any] = {
        "unit": f"U{draw(st.integers(0, 10**9))}",
        "channels": channels,
        "total": {key: sum(channels[c][key] for c in CHANNELS) for key in FIELDS},
    }
    if children:
        node["children"] = children
    return node


# ------------------------------------------------------------------------------ the attacker


def _cells(node: dict[str, Any], prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    found = {}
    for c in CHANNELS:
        for key in FIELDS:
            found[(*prefix, c, key)] = node["channels"][c][key]
        for band in BANDS:
            found[(*prefix, c, "band", band)] = node["channels"][c]["by_value_band"][band]
    for key in FIELDS:
        found[(*prefix, "total", key)] = node["total"][key]
    for n, child in enumerate(node.get("children", [])):
        found.update(_cells(child, (*prefix, str(n))))
    return found


def _relations(node: dict[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[Any, list[Any]]]:
    """What a reader knows holds (big = sum of parts), restated from the report's meaning.

    Inequalities become equalities with a slack variable ("slack", ...)."""
    rel: list[tuple[Any, list[Any]]] = []
    for block in (*CHANNELS, "total"):
        b = (*prefix, block)
        rel.append(((*b, "received"), [(*b, "received_form"), (*b, "received_e2e")]))
        rel.append(((*b, "received"), [(*b, "completed"), (*b, "overdue"), ("slack", *b, 1)]))
        rel.append(((*b, "completed"), [(*b, "completed_on_time"), ("slack", *b, 2)]))
    for c in CHANNELS:
        rel.append(((*prefix, c, "received"), [(*prefix, c, "band", band) for band in BANDS]))
    for key in FIELDS:
        rel.append(((*prefix, "total", key), [(*prefix, c, key) for c in CHANNELS]))
    children = node.get("children", [])
    if children:
        for cell in _cells({**node, "children": []}, prefix):
            rest = cell[len(prefix) :]
            parts = [(*prefix, str(n), *rest) for n in range(len(children))]
            rel.append((cell, [*parts, ("own", *prefix, *rest)]))
    for n, child in enumerate(children):
        rel.extend(_relations(child, (*prefix, str(n))))
    return rel


def _published(original: dict[str, Any], shown: dict[str, Any]) -> dict[Any, Any]:
    return {
        path: value for path, value in zip(_cells(original), _cells(shown).values(), strict=True)
    }


class Attacker:
    """Integer feasibility over the relations: bounds propagation plus branching, exact."""

    def __init__(self, published: dict[Any, Any], relations: list[Any], k: int, cap: int) -> None:
        self.relations = relations
        self.nodes = 0
        self.domain: dict[Any, tuple[int, int]] = {}
        for path, value in published.items():
            if isinstance(value, int):
                self.domain[path] = (value, value)
            elif value == marker(k):
                self.domain[path] = (1, k - 1)
            else:
                assert value == WITHHELD
                self.domain[path] = (1, cap)  # withheld: any positive count
        for _total, parts in relations:
            for p in parts:
                if p[0] in ("slack", "own"):
                    self.domain.setdefault(p, (0, cap))

    def _propagate(self, dom: dict[Any, tuple[int, int]]) -> bool:
        changed = True
        while changed:
            changed = False
            for total, parts in self.relations:
                lo_p = sum(dom[p][0] for p in parts)
                hi_p = sum(dom[p][1] for p in parts)
                lo_t, hi_t = max(dom[total][0], lo_p), min(dom[total][1], hi_p)
                if lo_t > hi_t:
                    return False
                if (lo_t, hi_t) != dom[total]:
                    dom[total], changed = (lo_t, hi_t), True
                for p in parts:
                    lo = max(dom[p][0], lo_t - (hi_p - dom[p][1]))
                    hi = min(dom[p][1], hi_t - (lo_p - dom[p][0]))
                    if lo > hi:
                        return False
                    if (lo, hi) != dom[p]:
                        lo_p += lo - dom[p][0]
                        hi_p += hi - dom[p][1]
                        dom[p], changed = (lo, hi), True
        return True

    def feasible(self, dom: dict[Any, tuple[int, int]]) -> bool:
        self.nodes += 1
        if self.nodes > BUDGET:
            reject()  # too big for an exhaustive search: hypothesis draws another report
        dom = dict(dom)
        if not self._propagate(dom):
            return False
        open_ = [(hi - lo, v) for v, (lo, hi) in dom.items() if hi > lo]
        if not open_:
            return True
        _, var = min(open_, key=lambda x: x[0])
        lo, hi = dom[var]
        mid = (lo + hi) // 2
        return self.feasible({**dom, var: (lo, mid)}) or self.feasible({**dom, var: (mid + 1, hi)})

    def alternative(self, cell: Any, value: int) -> bool:
        """Is a value other than `value` consistent with everything published?"""
        lo, hi = self.domain[cell]
        below = value > lo and self.feasible({**self.domain, cell: (lo, value - 1)})
        return below or (value < hi and self.feasible({**self.domain, cell: (value + 1, hi)}))


def _own_values(node: dict[str, Any], prefix: tuple[str, ...] = ()) -> dict[Any, int]:
    found = {}
    children = node.get("children", [])
    if children:
        mine = _cells({**node, "children": []}, prefix)
        for cell, value in mine.items():
            rest = cell[len(prefix) :]
            below = sum(
                _cells(ch, (*prefix, str(n)))[(*prefix, str(n), *rest)]
                for n, ch in enumerate(children)
            )
            found[("own", *prefix, *rest)] = value - below
    for n, child in enumerate(children):
        found.update(_own_values(child, (*prefix, str(n))))
    return found


def check(report: dict[str, Any], k: int) -> dict[str, Any]:
    shown = suppress(report, k)
    published = _published(report, shown)
    truth = _cells(report)
    for path, value in published.items():
        if isinstance(value, int):
            assert not 1 <= value < k, f"{path} shows {value}"
        elif value == marker(k):
            assert 1 <= truth[path] < k, f"{path} marked {value} but holds {truth[path]}"
    cap = 4 * max(truth.values(), default=0) + 2 * k
    attacker = Attacker(published, _relations(report), k, cap)
    assert attacker.feasible(attacker.domain), "the published figures contradict themselves"
    protected = {p: truth[p] for p, v in published.items() if v == marker(k)}
    protected.update({p: v for p, v in _own_values(report).items() if 1 <= v < k})
    for path, value in protected.items():
        assert attacker.alternative(path, value), f"{path} = {value} is recoverable"
    return shown


SLOW = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@SLOW
@given(unit_trees(), st.sampled_from([3, 5]))
def test_no_small_cell_shows_or_can_be_recovered(report, k):
    check(report, k)


def _unit(
    own: dict[str, dict[str, int]], children: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    channels = {}
    for c in CHANNELS:
        fig = {key: 0 for key in FIELDS}
        fig.update(own.get(c, {}))
        fig["received"] = fig["received_form"] + fig["received_e2e"]
        fig["by_value_band"] = {"kecil": 0, "besar": fig["received"]}
        channels[c] = fig
    _add_children(channels, children or [])
    node: dict[str, Any] = {
        "unit": "X",
        "channels": channels,
        "total": {key: sum(channels[c][key] for c in CHANNELS) for key in FIELDS},
    }
    if children:
        node["children"] = children
    return node


def test_units_with_one_two_and_three_cases():
    for n in (1, 2, 3):
        alone = _unit({"wbs": {"received_e2e": n, "completed": n, "completed_on_time": n}})
        shown = check(alone, 5)
        assert shown["channels"]["wbs"]["received"] == "<5"
        assert (
            shown["total"]["received"] == "<5" and shown["channels"]["pengaduan"]["received"] == 0
        )


def test_a_sibling_cannot_be_differenced_from_its_parent():
    """A parent of 40 with children of 38 and 2: the small child stays ambiguous."""
    big = _unit({"pengaduan": {"received_e2e": 38}})
    small = _unit({"pengaduan": {"received_e2e": 2}})
    parent = _unit({}, [big, small])
    shown = check(parent, 5)
    kids = shown["children"]
    assert kids[1]["channels"]["pengaduan"]["received"] == "<5"
    # 40 and 38 may both show: the parent's own cases (unpublished, >= 0) leave the small
    # child at 1 or 2; `check` proved no single value is left.
    assert kids[0]["channels"]["pengaduan"]["received"] in (38, WITHHELD)


def test_a_parents_own_few_cases_are_protected_too():
    """A parent with 3 cases of its own and children of 10 and 12."""
    parent = _unit(
        {"wbs": {"received_e2e": 3}},
        [_unit({"wbs": {"received_e2e": 10}}), _unit({"wbs": {"received_e2e": 12}})],
    )
    shown = check(parent, 5)
    published = [
        shown["channels"]["wbs"]["received"],
        *(c["channels"]["wbs"]["received"] for c in shown["children"]),
    ]
    assert WITHHELD in published


def test_an_inequality_does_not_give_a_small_cell_away():
    """Received 6 with 5 overdue: completed (1) <= 6 - 5 would pin it without a complement."""
    unit = _unit({"pengaduan": {"received_e2e": 6, "completed": 1, "overdue": 5}})
    shown = check(unit, 5)
    block = shown["channels"]["pengaduan"]
    assert block["completed"] == "<5" and WITHHELD in (block["received"], block["overdue"])


def test_ratios_and_percentiles_follow_their_cells():
    figures = {
        "unit": "X",
        "channels": {
            "pengaduan": {
                "received": 30,
                "received_form": 0,
                "received_e2e": 30,
                "completed": 20,
                "completed_on_time": 3,
                "completed_on_time_pct": 15.0,
                "first_responded": 30,
                "first_response_wd_median": 2,
                "first_response_wd_p90": 9,
                "completion_wd_median": 4,
                "completion_wd_p90": 11,
            }
        },
    }
    block = suppress(figures, 5)["channels"]["pengaduan"]
    assert block["completed_on_time"] == "<5" and block["completed_on_time_pct"] == "<5"
    # median of 30: rank 15, 15 cases at or below and 16 at or above -> shown; P90 rank 27
    # leaves 4 cases at or above it -> withheld as "<5".
    assert block["first_response_wd_median"] == 2 and block["first_response_wd_p90"] == "<5"
    assert block["completion_wd_median"] == 4 and block["completion_wd_p90"] == "<5"
