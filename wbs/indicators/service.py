"""Penguatan Pengawasan indicators of a unit (rolled up over its subtree) for a period.

Counts come from a handful of aggregate queries grouped by unit and channel
(`repository`); this module only adds those per-unit rows up the unit tree (per unit, not
per case), adds ratios and the nearest-rank percentiles the database computed, and for
public figures runs the small-count suppression over the whole tree at once, so that every
unit's public figures hide the same cells (`suppression`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from wbs.core.db import utcnow
from wbs.core.errors import NotFound, ValidationFailed
from wbs.indicators import aggregates, repository
from wbs.indicators.definitions import CHANNELS
from wbs.indicators.repository import Scope, UnitRow
from wbs.indicators.suppression import Pattern, pattern, suppress_at
from wbs.staff.models import Role, Staff
from wbs.staff.service import has_role
from wbs.units.models import CaseType, Unit
from wbs.workflow.registry import Workflows, load_all

DEFAULT_TZ = "Asia/Jakarta"
READERS = (Role.admin, Role.auditor, Role.atasan)
TARGETS = ("kpk", "apip", "aph", "other_unit")
# Where a forwarded case went: by channel, from the referral fact when there is one.
REFERRAL_FACT = "tujuan_pelimpahan"
REFERRAL_TARGETS = {"kpk": "kpk", "aph": "aph", "apip": "apip", "itjen": "apip"}
FORWARDED_TO = {
    "gratifikasi": "kpk",
    "pengaduan": "other_unit",
    "benturan_kepentingan": "other_unit",
}
COUNTS = (
    "received",
    "received_form",
    "received_e2e",
    "verified",
    "followed_up",
    "completed",
    "completed_on_time",
    "overdue",
    "first_responded",
    "mailbox_questions",
    "mailbox_answers",
    "mailbox_questions_cases",
    "mailbox_answers_cases",
)
MILESTONE_FIELDS = aggregates.MILESTONES
PERCENTILE_FIELDS = {
    "first_response": ("first_response_wd_median", "first_response_wd_p90"),
    "completed": ("completion_wd_median", "completion_wd_p90"),
}
NOT_RECORDED = "belum_dicatat"
AWAITING = "menunggu_penetapan"
# (channel, breakdown) -> the choice fact it counts.
BREAKDOWN_FACTS = {
    ("gratifikasi", "by_value_band"): "nilai_estimasi",
    ("benturan_kepentingan", "by_control"): "bentuk_pengendalian",
}
KIND_FIELDS = {
    ("gratifikasi", "jenis_laporan"): {"penolakan": "refusals", "penyaluran": "donations"},
    ("benturan_kepentingan", "jenis"): {
        "deklarasi": "declarations",
        "deklarasi_berkala": "declarations",
        "aduan": "complaints",
    },
}

Figures = dict[str, Any]


class PeriodInvalid(ValidationFailed):
    code = "period_invalid"
    message_id = "Periode tidak valid: gunakan 2026, 2026-Q1 atau 2026-03 (tahun 2004-2100)."
    message_en = "Invalid period: use 2026, 2026-Q1 or 2026-03 (years 2004-2100)."


class PublicPeriodOnly(ValidationFailed):
    code = "public_period"
    message_id = "Angka publik hanya tersedia per tahun yang sudah berakhir (mis. 2025)."
    message_en = "Public figures are only available for complete years (e.g. 2025)."


@dataclass(frozen=True)
class Period:
    """A year, quarter or month: local days [start, end)."""

    label: str
    start: date
    end: date

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def is_year(self) -> bool:
        return len(self.label) == 4

    def utc(self, tz: str) -> tuple[datetime, datetime]:
        """The period's first and end local midnights as UTC instants."""
        return _midnight(self.start, tz), _midnight(self.end, tz)

    def months(self) -> list[date]:
        """First day of every month in the period."""
        found, day = [], self.start
        while day < self.end:
            found.append(day)
            day = _next_month(day)
        return found


PERIOD = re.compile(r"^(\d{4})(?:-Q([1-4])|-(0[1-9]|1[0-2]))?$")


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _midnight(day: date, tz: str) -> datetime:
    return datetime.combine(day, time(0), ZoneInfo(tz)).astimezone(UTC)


def parse_period(text: str) -> Period:
    """`2026`, `2026-Q1` or `2026-03`; anything else is a bilingual 422."""
    found = PERIOD.match(text.strip()) if isinstance(text, str) and len(text) <= 16 else None
    if found is None:
        raise PeriodInvalid()
    year = int(found.group(1))
    if not 2004 <= year <= 2100:
        raise PeriodInvalid()
    if found.group(2):
        first = 3 * (int(found.group(2)) - 1) + 1
        start = date(year, first, 1)
        end = _next_month(_next_month(_next_month(start)))
    elif found.group(3):
        start = date(year, int(found.group(3)), 1)
        end = _next_month(start)
    else:
        start, end = date(year, 1, 1), date(year + 1, 1, 1)
    return Period(found.group(0), start, end)


def public_periods(today: date, first_year: int) -> list[Period]:
    """The complete years with public figures, newest first."""
    return [parse_period(str(y)) for y in range(today.year - 1, max(first_year, 2004) - 1, -1)]


# ------------------------------------------------------------------------------ who reads


async def readable_unit(db: AsyncSession, actor: Staff, code: str) -> Unit:
    """A unit in the actor's subtree, for admins, auditors and atasan; otherwise 404."""
    if not has_role(actor, *READERS):
        raise NotFound()
    found = await repository.readable_unit(db, actor.unit_id, code.strip().upper()[:32])
    if found is None:
        raise NotFound()
    return found


async def public_unit(db: AsyncSession, code: str) -> Unit:
    found = await repository.unit_by_code(db, code.strip().upper()[:32])
    if found is None:
        raise NotFound()
    return found


# ------------------------------------------------------------------------------ figures


def _empty_channel(channel: str, flows: Workflows) -> Figures:
    fig: Figures = dict.fromkeys(COUNTS, 0)
    fig["forwarded"] = dict.fromkeys(TARGETS, 0)
    flow = flows.of(channel)
    if channel == "wbs":
        fig.update(feedback_3m_due=0, feedback_3m=0)
    if channel == "gratifikasi":
        fig["by_value_band"] = {**dict.fromkeys(flow.facts["nilai_estimasi"].options, 0)}
        fig["by_value_band"][NOT_RECORDED] = 0
        fig["by_state"] = dict.fromkeys(flow.states, 0)
        fig["by_kpk_decision"] = {**dict.fromkeys(flow.facts["keputusan_kpk"].options, 0)}
        fig["by_kpk_decision"][AWAITING] = 0
        fig.update(refusals=0, donations=0)
    if channel == "benturan_kepentingan":
        fig.update(declarations=0, complaints=0)
        fig["by_control"] = {**dict.fromkeys(flow.facts["bentuk_pengendalian"].options, 0)}
        fig["by_control"][NOT_RECORDED] = 0
    return fig


def _empty(flows: Workflows) -> Figures:
    return {"channels": {c: _empty_channel(c, flows) for c in CHANNELS}}


def _value(raw: Any) -> str | None:
    try:
        found = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return None
    return found if isinstance(found, str) else None


def _channel_name(case_type: Any) -> str:
    return case_type.value if isinstance(case_type, CaseType) else str(case_type)


async def _own(
    db: AsyncSession, scope: Scope, unit_ids: Iterable[int], today: date, tz: str, flows: Workflows
) -> dict[int, Figures]:
    """Each unit's own figures (cases received by the unit itself), counts only."""
    own = {uid: _empty(flows) for uid in unit_ids}

    def at(uid: int, case_type: Any) -> Figures:
        if uid not in own:
            own[uid] = _empty(flows)
        return own[uid]["channels"][_channel_name(case_type)]  # type: ignore[no-any-return]

    for uid, ct, received, form in await repository.cases(db, scope):
        ch = at(uid, ct)
        ch.update(received=received, received_form=form, received_e2e=received - form)
    for uid, ct, name, n in await repository.milestones(db, scope):
        if name in MILESTONE_FIELDS:
            at(uid, ct)[MILESTONE_FIELDS[name]] = n
    for uid, ct, on_time, overdue in await repository.deadlines(db, scope, today):
        at(uid, ct).update(completed_on_time=on_time, overdue=overdue)
    for uid, ct, name, raw, n in await repository.facts(db, scope):
        channel, value = _channel_name(ct), _value(raw)
        ch = at(uid, ct)
        for (where, breakdown), fact in BREAKDOWN_FACTS.items():
            if where == channel and fact == name and value in ch[breakdown]:
                ch[breakdown][value] += n
        kinds = KIND_FIELDS.get((channel, name), {})
        if value in kinds:
            ch[kinds[value]] += n
    for uid, ct, target_raw, decision_raw, n in await repository.forwarded(db, scope):
        channel = _channel_name(ct)
        ch = at(uid, ct)
        target = FORWARDED_TO.get(channel)
        if target is None:
            target = REFERRAL_TARGETS.get(_value(target_raw) or "", "other_unit")
        ch["forwarded"][target] += n
        if channel == "gratifikasi":
            decision = _value(decision_raw)
            key = decision if decision in ch["by_kpk_decision"] else AWAITING
            ch["by_kpk_decision"][key] += n
    initial = flows.of("gratifikasi").initial
    for uid, state, n in await repository.states(db, scope, CaseType.gratifikasi):
        states = at(uid, CaseType.gratifikasi)["by_state"]
        key = state or initial
        states[key] = states.get(key, 0) + n
    for uid, ct, role, messages, cases in await repository.mailbox(db, scope):
        side = "questions" if str(getattr(role, "value", role)) == "reporter" else "answers"
        at(uid, ct).update({f"mailbox_{side}": messages, f"mailbox_{side}_cases": cases})
    due_before = _midnight(today, tz) - timedelta(days=aggregates.FEEDBACK_DAYS)
    for uid, due, given in await repository.feedback(db, scope, due_before):
        at(uid, CaseType.wbs).update(feedback_3m_due=due, feedback_3m=given)
    for fig in own.values():
        for (channel, breakdown), _fact in BREAKDOWN_FACTS.items():
            ch = fig["channels"][channel]
            ch[breakdown][NOT_RECORDED] = ch["received"] - sum(
                v for key, v in ch[breakdown].items() if key != NOT_RECORDED
            )
    return own


PLAIN_COUNTS = frozenset(
    {
        "received",
        "received_form",
        "verified",
        "followed_up",
        "completed",
        "completed_on_time",
        "first_responded",
        "mailbox_questions",
        "mailbox_answers",
        "mailbox_questions_cases",
        "mailbox_answers_cases",
    }
)


def _count_into(ch: Figures, channel: str, name: str, key: str, n: int, initial: str) -> None:
    """One summed counter row into a channel's figures (the rules of `_own`)."""
    if name in PLAIN_COUNTS:
        ch[name] += n
    elif name.startswith("fact."):
        fact = name.removeprefix("fact.")
        for (where, breakdown), read in BREAKDOWN_FACTS.items():
            if where == channel and read == fact and key in ch[breakdown]:
                ch[breakdown][key] += n
        kinds = KIND_FIELDS.get((channel, fact), {})
        if key in kinds:
            ch[kinds[key]] += n
    elif name == "forwarded":
        target = FORWARDED_TO.get(channel) or REFERRAL_TARGETS.get(key, "other_unit")
        ch["forwarded"][target] += n
    elif name == "kpk_decision":
        ch["by_kpk_decision"][key if key in ch["by_kpk_decision"] else AWAITING] += n
    elif name == "state":
        state = key or initial
        ch["by_state"][state] = ch["by_state"].get(state, 0) + n


async def _counted(db: AsyncSession, ctx: Context, units: list[UnitRow]) -> dict[int, Figures]:
    """Each unit's own figures from the counters; "overdue now" and the part of WBS
    feedback that depends on the as-of day from the summary rows."""
    flows, period = ctx.flows, ctx.period
    ids = tuple(u.id for u in units)
    own = {uid: _empty(flows) for uid in ids}
    initial = flows.of("gratifikasi").initial

    def at(uid: int, channel: str) -> Figures:
        if uid not in own:
            own[uid] = _empty(flows)
        return own[uid]["channels"][channel]  # type: ignore[no-any-return]

    rows = await repository.counted(db, ids, period.start, period.end, period.is_year)
    for uid, ct, name, key, total in rows:
        channel = _channel_name(ct)
        _count_into(at(uid, channel), channel, name, key, int(total), initial)
    for uid, ct, n in await repository.summary_overdue(db, ctx.scope(units), ctx.today):
        at(uid, _channel_name(ct))["overdue"] = int(n)
    due_before = _midnight(ctx.today, ctx.tz) - timedelta(days=aggregates.FEEDBACK_DAYS)
    months = period.months()
    whole = [m for m in months if _midnight(_next_month(m), ctx.tz) <= due_before]
    rest = _midnight(months[len(whole)], ctx.tz) if len(whole) < len(months) else None
    found = await repository.counted_feedback(db, ids, whole)
    if rest is not None:
        end = _midnight(period.end, ctx.tz)
        found += await repository.summary_feedback(db, ids, rest, end, due_before)
    for uid, due, given in found:
        ch = at(uid, CaseType.wbs.value)
        ch["feedback_3m_due"] += int(due or 0)
        ch["feedback_3m"] += int(given or 0)
    for fig in own.values():
        for ch in fig["channels"].values():
            ch["received_e2e"] = ch["received"] - ch["received_form"]
        for (channel, breakdown), _fact in BREAKDOWN_FACTS.items():
            ch = fig["channels"][channel]
            ch[breakdown][NOT_RECORDED] = ch["received"] - sum(
                v for key, v in ch[breakdown].items() if key != NOT_RECORDED
            )
    return own


def _add(into: Figures, other: Mapping[str, Any]) -> None:
    for key, value in other.items():
        if isinstance(value, Mapping):
            _add(into.setdefault(key, {}), value)
        elif isinstance(value, int):
            into[key] = into.get(key, 0) + value


def _rollup(units: list[UnitRow], own: dict[int, Figures], flows: Workflows) -> dict[int, Figures]:
    """Every unit's figures over its subtree, summed bottom-up (per unit, not per case)."""
    children: dict[int | None, list[int]] = {}
    for u in units:
        children.setdefault(u.parent_id, []).append(u.id)
    ids = {u.id for u in units}
    done: dict[int, Figures] = {}

    def visit(uid: int) -> Figures:
        fig = _empty(flows)
        _add(fig, own.get(uid, {}))
        for child in children.get(uid, []):
            _add(fig, visit(child))
        done[uid] = fig
        return fig

    for u in units:
        if u.parent_id not in ids:
            visit(u.id)
    return done


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _finish(fig: Figures, percentiles: Mapping[str, Mapping[str, tuple[int, int]]]) -> Figures:
    """Add the total, ratios and percentiles to summed counts."""
    total: Figures = dict.fromkeys(COUNTS, 0)
    total["forwarded"] = dict.fromkeys(TARGETS, 0)
    for channel in CHANNELS:
        ch = fig["channels"][channel]
        _add(total, {k: ch[k] for k in (*COUNTS, "forwarded")})
    fig["total"] = total
    for block in (*fig["channels"].values(), total):
        block["completed_on_time_pct"] = _pct(block["completed_on_time"], block["completed"])
        if "feedback_3m_due" in block:
            block["feedback_3m_pct"] = _pct(block["feedback_3m"], block["feedback_3m_due"])
    _set_percentiles(fig, percentiles)
    return fig


def _set_percentiles(
    fig: Figures, percentiles: Mapping[str, Mapping[str, tuple[int, int]]]
) -> None:
    for name, block in (*fig["channels"].items(), ("total", fig["total"])):
        for milestone, (median_key, p90_key) in PERCENTILE_FIELDS.items():
            median, p90 = percentiles.get(name, {}).get(milestone, (None, None))
            block[median_key], block[p90_key] = median, p90


def _percentile_map(
    rows: Iterable[tuple[Any, ...]],
) -> dict[int, dict[str, dict[str, tuple[int, int]]]]:
    found: dict[int, dict[str, dict[str, tuple[int, int]]]] = {}
    for branch, channel, milestone, _n, median, p90 in rows:
        found.setdefault(branch, {}).setdefault(channel, {})[milestone] = (median, p90)
    return found


@dataclass(frozen=True)
class Context:
    period: Period
    today: date
    tz: str
    flows: Workflows
    direct: bool = False  # the direct queries over every case instead of the aggregates

    def scope(self, units: Iterable[UnitRow]) -> Scope:
        start, end = self.period.utc(self.tz)
        return Scope(tuple(u.id for u in units), start, end)


async def _context(
    db: AsyncSession,
    period: Period,
    today: date | None,
    tz: str,
    flows: Workflows | None,
    public: bool,
    direct: bool,
) -> Context:
    today = today or datetime.now(ZoneInfo(tz)).date()
    if public and (not period.is_year or period.end > today):
        raise PublicPeriodOnly()
    if not direct:
        await aggregates.settle_now(db)
        # Counters are by local month in the zone they were built in; another zone (until
        # `wbs indicators rebuild`) reads the cases directly.
        direct = (await repository.stored_tz(db) or aggregates.DEFAULT_TZ) != tz
    return Context(period, today, tz, flows or _default_flows(), direct)


_flows: list[Workflows] = []


def _default_flows() -> Workflows:
    if not _flows:
        _flows.append(load_all())
    return _flows[0]


def _header(unit: UnitRow | Unit, ctx: Context, k: int | None) -> Figures:
    return {
        "unit": unit.code,
        "unit_name": unit.name,
        "period": ctx.period.label,
        "period_start": ctx.period.start.isoformat(),
        "period_end": ctx.period.last_day.isoformat(),
        "suppressed_below": k,
        "generated_at": utcnow().isoformat(timespec="seconds"),
        "as_of": ctx.today.isoformat(),
    }


async def _monthly(db: AsyncSession, ctx: Context, scope: Scope) -> Figures:
    months = ctx.period.months()
    counts = {c: [0] * len(months) for c in CHANNELS}
    if ctx.direct:
        bounds = [_midnight(m, ctx.tz) for m in months[1:]]
        for ct, index, n in await repository.monthly(db, scope, bounds):
            counts[_channel_name(ct)][int(index)] = n
    else:
        place = {m: i for i, m in enumerate(months)}
        rows = await repository.counted_by_month(
            db, scope.unit_ids, ctx.period.start, ctx.period.end, "received"
        )
        for ct, month, n in rows:
            counts[_channel_name(ct)][place[month]] = int(n)
    return {"months": [m.strftime("%Y-%m") for m in months], "received": counts}


def _below(units: list[UnitRow], unit_id: int) -> list[UnitRow]:
    """`unit_id` and the units under it, from a list holding a whole subtree."""
    kids: dict[int | None, list[UnitRow]] = {}
    for u in units:
        kids.setdefault(u.parent_id, []).append(u)
    found = [u for u in units if u.id == unit_id]
    for u in found:
        found.extend(kids.get(u.id, []))
    return found


def _branch_map(units: list[UnitRow], unit_id: int, split: bool) -> dict[int, int]:
    """Each unit of `unit_id`'s subtree -> the figure set it counts in: `unit_id`, or
    (split) the child of `unit_id` it lies under (`unit_id`'s own cases: itself)."""
    found: dict[int, int] = {}
    for u in _below(units, unit_id):  # parents come before their children
        if u.id == unit_id or not split:
            found[u.id] = unit_id
        elif u.parent_id == unit_id:
            found[u.id] = u.id
        elif u.parent_id is not None:
            found[u.id] = found[u.parent_id]
    return found


@dataclass
class _Tree:
    units: list[UnitRow]
    rolled: dict[int, Figures]


def _nearest_rank(hist: Mapping[int, int], num: int, den: int) -> int:
    n = sum(hist.values())
    rank, seen = -(-num * n // den), 0
    for value in sorted(hist):
        seen += hist[value]
        if seen >= rank:
            return value
    raise ValueError("empty histogram")  # pragma: no cover - callers pass non-empty ones


async def _percentiles(
    db: AsyncSession, ctx: Context, tree: _Tree, unit_id: int, split: bool
) -> dict[int, dict[str, dict[str, tuple[int, int]]]]:
    branches = _branch_map(tree.units, unit_id, split)
    if ctx.direct:
        rows = await repository.percentiles(db, ctx.scope(_below(tree.units, unit_id)), branches)
        return _percentile_map(rows)
    period = ctx.period
    merged: dict[int, dict[str, dict[str, Counter[int]]]] = {}
    found = await repository.histograms(db, branches, period.start, period.end, period.is_year)
    for branch, ct, name, key, n in found:
        milestone = name.removeprefix("wd.")
        for block in (_channel_name(ct), "total"):
            hist = merged.setdefault(branch, {}).setdefault(block, {})
            hist.setdefault(milestone, Counter())[int(key)] += int(n)
    return {
        branch: {
            block: {m: (_nearest_rank(h, 1, 2), _nearest_rank(h, 9, 10)) for m, h in ms.items()}
            for block, ms in blocks.items()
        }
        for branch, blocks in merged.items()
    }


async def _tree_figures(db: AsyncSession, ctx: Context, root_id: int) -> _Tree:
    units = await repository.units_below(db, root_id)
    if ctx.direct:
        own = await _own(db, ctx.scope(units), (u.id for u in units), ctx.today, ctx.tz, ctx.flows)
    else:
        own = await _counted(db, ctx, units)
    return _Tree(units, _rollup(units, own, ctx.flows))


async def _staff(db: AsyncSession, unit: Unit, ctx: Context, with_children: bool) -> Figures:
    tree = await _tree_figures(db, ctx, unit.id)
    units, rolled = tree.units, tree.rolled
    whole = await _percentiles(db, ctx, tree, unit.id, split=False)
    body = _header(unit, ctx, None)
    body.update(_finish(rolled[unit.id], whole.get(unit.id, {})))
    body["monthly"] = await _monthly(db, ctx, ctx.scope(units))
    if with_children:
        split = await _percentiles(db, ctx, tree, unit.id, split=True)
        body["children"] = [
            {**_header(u, ctx, None), **_finish(rolled[u.id], split.get(u.id, {}))}
            for u in units
            if u.parent_id == unit.id
        ]
    return body


def _nested(
    uid: int, units: dict[int, UnitRow], kids: dict[int, list[int]], rolled: dict[int, Figures]
) -> Figures:
    node: Figures = {"unit": units[uid].code, "unit_name": units[uid].name, **rolled[uid]}
    below = kids.get(uid, [])
    if below:
        node["children"] = [_nested(c, units, kids, rolled) for c in below]
    return node


def _find(
    node: Figures, code: str, prefix: tuple[str, ...] = ()
) -> tuple[Figures, tuple[str, ...]] | None:
    """The node of unit `code` and its path in the tree (as the suppression names cells)."""
    if node["unit"] == code:
        return node, prefix
    for index, child in enumerate(node.get("children", [])):
        found = _find(child, code, (*prefix, "children", str(index)))
        if found is not None:
            return found
    return None


def _strip(node: Figures) -> Figures:
    return {k: v for k, v in node.items() if k != "children"}


async def _pattern(
    db: AsyncSession, root_id: int, period: Period, nested: Figures, k: int
) -> Pattern:
    """The tree's suppression pattern, from the cache when the figures it was computed for
    (their digest) are unchanged; else computed and stored (shared by every app server)."""
    key = json.dumps(nested, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(key.encode()).hexdigest()
    cached = await repository.cached_pattern(db, root_id, period.label, k)
    if cached is not None and cached.digest == digest:
        return Pattern(
            frozenset(tuple(p) for p in cached.primary),
            frozenset(tuple(p) for p in cached.complementary),
            {},
        )
    found = pattern(nested, k)
    await repository.store_pattern(
        db,
        root_id,
        period.label,
        k,
        digest,
        sorted(list(p) for p in found.primary),
        sorted(list(p) for p in found.complementary),
    )
    return found


async def _public(
    db: AsyncSession, unit: Unit, ctx: Context, k: int, with_children: bool
) -> Figures:
    """Suppressed figures: the whole tree `unit` belongs to is suppressed at once, so no
    unit's public figures can be differenced against its parent's or siblings'."""
    root_id = await repository.root_of(db, unit.id)
    tree = await _tree_figures(db, ctx, root_id)
    units, rolled = tree.units, tree.rolled
    whole = await _percentiles(db, ctx, tree, unit.id, split=False)
    split = await _percentiles(db, ctx, tree, unit.id, split=True)
    by_id = {u.id: u for u in units}
    kids: dict[int, list[int]] = {}
    for u in units:
        if u.parent_id is not None and u.parent_id in by_id:
            kids.setdefault(u.parent_id, []).append(u.id)
    for fig in rolled.values():
        _finish(fig, {})
    nested = _nested(root_id, by_id, kids, rolled)
    pat = await _pattern(db, root_id, ctx.period, nested, k)  # percentiles play no part
    _set_percentiles(rolled[unit.id], whole.get(unit.id, {}))
    for kid in kids.get(unit.id, []):
        _set_percentiles(rolled[kid], split.get(kid, {}))
    found = _find(nested, unit.code)
    if found is None:  # pragma: no cover - the unit is in its own tree
        raise NotFound()
    node, prefix = found
    # Only the unit and its children are published here: suppress that part of the tree.
    part = {**node, "children": [_strip(c) for c in node.get("children", [])]}
    node = suppress_at(part, prefix, pat, k)
    body = {**_header(unit, ctx, k), **_strip(node)}
    if with_children:
        body["children"] = [
            {**_header(by_id[kid], ctx, k), **_strip(child)}
            for kid, child in zip(kids.get(unit.id, []), node.get("children", []), strict=True)
        ]
    return body


async def compute(
    db: AsyncSession,
    unit: Unit,
    period: Period,
    *,
    public: bool,
    k: int = 5,
    today: date | None = None,
    tz: str = DEFAULT_TZ,
    workflows: Workflows | None = None,
    children: bool = False,
    direct: bool = False,
) -> dict[str, Any]:
    """The unit's indicators over its subtree (see docs/indicators.md); with `children`,
    also each unit directly below, rolled up over its own subtree. They are read from the
    aggregates (`aggregates`), or with `direct` from every case (the same figures)."""
    ctx = await _context(db, period, today, tz, workflows, public, direct)
    if public:
        return await _public(db, unit, ctx, k, with_children=children)
    return await _staff(db, unit, ctx, with_children=children)


async def compute_tree(
    db: AsyncSession, unit: Unit, period: Period, **options: Any
) -> dict[str, Any]:
    """`compute` plus `children` (same keyword arguments)."""
    return await compute(db, unit, period, **options, children=True)


async def rebuild(db: AsyncSession, tz: str) -> int:
    """Every aggregate computed again from the cases, months in `tz`; the number of cases."""
    from zoneinfo import available_timezones

    if tz not in available_timezones():
        raise ValidationFailed(
            f"Zona waktu tidak dikenal: {tz[:64]}", f"Unknown time zone: {tz[:64]}"
        )
    return await db.run_sync(lambda s: aggregates.rebuild(s.connection(), tz))


# ------------------------------------------------------------------------------ entry points


@dataclass(frozen=True)
class Options:
    """Deployment settings the figures depend on."""

    k: int
    tz: str
    flows: Workflows
    fixed_today: date | None = None  # tests and tools: the as-of day

    def today(self) -> date:
        return self.fixed_today or datetime.now(ZoneInfo(self.tz)).date()


def period_or_default(text: str | None, today: date, *, public: bool) -> Period:
    """The period asked for; by default the current year (staff) or the last complete one."""
    if text:
        return parse_period(text)
    return parse_period(str(today.year - 1 if public else today.year))


async def for_staff(
    db: AsyncSession,
    actor: Staff,
    code: str,
    period: str | None,
    opts: Options,
    *,
    public: bool = False,
    children: bool = False,
) -> dict[str, Any]:
    unit = await readable_unit(db, actor, code)
    today = opts.today()
    chosen = period_or_default(period, today, public=public)
    return await compute(
        db,
        unit,
        chosen,
        public=public,
        k=opts.k,
        today=today,
        tz=opts.tz,
        workflows=opts.flows,
        children=children,
    )


async def for_public(
    db: AsyncSession, code: str, period: str | None, opts: Options
) -> dict[str, Any]:
    unit = await public_unit(db, code)
    today = opts.today()
    chosen = period_or_default(period, today, public=True)
    return await compute_tree(
        db, unit, chosen, public=True, k=opts.k, today=today, tz=opts.tz, workflows=opts.flows
    )
