"""The shape of a workflow file and its validation.

A workflow file declares, for one case type: the reporter-visible statuses (the five a
reporter can see, with this workflow's labels), internal states mapped onto them, the
case facts officers record, transitions (action, from, to, roles, required facts, message
to the reporter, or a trigger: a reporter's message or a timer), and timers (what starts,
stops and pauses them, working or calendar days, the rule they come from, what happens
when they run out). A file that names an unknown state, leaves a state unreachable or a
transition pointing nowhere is refused with the file, the place and the problem named.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from wbs.calendar.workdays import MAX_DAYS, DayCount
from wbs.core.text import Text as Text  # re-exported: wbs.workflow.definition.Text

REPORTER_STATUSES = ("diterima", "diverifikasi", "ditindaklanjuti", "selesai", "ditolak")
ROLES = ("admin", "verifikator", "investigator", "upg", "atasan", "auditor", "custodian")
NAME = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
MAX_FILE_BYTES = 256 * 1024
MAX_TEXT_FACT = 500


class WorkflowError(ValueError):
    """A workflow file that cannot be used; the message names file, place and problem."""

    def __init__(self, file: str, where: str, problem: str) -> None:
        self.file, self.where, self.problem = file, where, problem
        super().__init__(f"{file}: {where}: {problem}")


class FactType(StrEnum):
    choice = "choice"
    text = "text"
    date = "date"
    boolean = "boolean"


class Trigger(StrEnum):
    officer = "officer"
    reporter_message = "reporter_message"
    timer = "timer"


class MessageRule(StrEnum):
    none = "none"
    optional = "optional"
    required = "required"


@dataclass(frozen=True)
class Option:
    code: str
    label: Text
    rules: tuple[str, ...] = ()  # rule versions this option belongs to (empty: all)


@dataclass(frozen=True)
class Fact:
    name: str
    type: FactType
    label: Text
    options: Mapping[str, Option] = field(default_factory=dict)
    max_length: int = 200
    # Free text a unit may not publish: never leaves staff pages, never in public exports.
    free_text: bool = False


class Milestone(StrEnum):
    """What reaching a state means for the indicators (recorded once per case)."""

    first_response = "first_response"  # recorded by itself when a case leaves its first state
    verified = "verified"
    followed_up = "followed_up"
    responded = "responded"
    forwarded = "forwarded"
    completed = "completed"


@dataclass(frozen=True)
class State:
    name: str
    status: str
    label: Text
    terminal: bool = False
    waiting_for_reporter: bool = False
    marks: tuple[Milestone, ...] = ()


@dataclass(frozen=True)
class Transition:
    action: str
    sources: tuple[str, ...]
    target: str
    label: Text
    roles: frozenset[str] = frozenset()
    trigger: Trigger = Trigger.officer
    requires: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    message: MessageRule = MessageRule.none
    assign_to_actor: bool = False
    # Only when these choice facts hold one of the listed options (after this step's facts).
    when: Mapping[str, frozenset[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Expiry:
    escalate: str | None = None
    action: str | None = None


@dataclass(frozen=True)
class Timer:
    name: str
    label: Text
    rule: str
    days: int
    count: DayCount
    starts: tuple[str, ...]
    stops: tuple[str, ...]
    pauses: tuple[str, ...] = ()
    start_fact: str | None = None  # count from this date fact instead of the day entered
    days_fact: str | None = None  # budget chosen by a choice fact (e.g. the follow-up tier)
    days_by_option: Mapping[str, int] = field(default_factory=dict)
    remind_before: int = 0
    restart_on_officer_message: bool = False
    on_expiry: Expiry = Expiry()


@dataclass(frozen=True)
class RuleVersion:
    code: str
    label: Text
    since: date


@dataclass(frozen=True)
class Workflow:
    id: str
    case_type: str
    version: int
    title: Text
    initial: str
    statuses: Mapping[str, Text]
    states: Mapping[str, State]
    transitions: Mapping[str, Transition]
    timers: Mapping[str, Timer]
    facts: Mapping[str, Fact]
    rule_fact: str | None = None
    rule_versions: tuple[RuleVersion, ...] = ()

    def actions_from(self, state: str) -> list[Transition]:
        return [t for t in self.transitions.values() if state in t.sources]

    def status_label(self, state: str) -> Text:
        return self.statuses[self.states[state].status]

    def rule_version(self, on: date) -> RuleVersion | None:
        """The rule version in force on a date (the latest whose start is not after it)."""
        found = None
        for version in self.rule_versions:
            if version.since <= on:
                found = version
        return found

    def rule_version_of(self, facts: Mapping[str, Any]) -> RuleVersion | None:
        """The rule version of a case, from its recorded rule fact (None before it is)."""
        recorded = facts.get(self.rule_fact) if self.rule_fact else None
        if not isinstance(recorded, str):
            return None
        try:
            return self.rule_version(date.fromisoformat(recorded))
        except ValueError:
            return None

    def shown(self, name: str, value: Any) -> Text:
        """A recorded fact value as people read it: an option's label, Ya/Tidak, the text."""
        fact = self.facts.get(name)
        if fact is not None and fact.type is FactType.choice and value in fact.options:
            return fact.options[value].label
        if isinstance(value, bool):
            return Text("Ya", "Yes") if value else Text("Tidak", "No")
        return Text(str(value), str(value))


class _Reader:
    """Reads one file's mapping with errors that name the file and the place."""

    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, where: str, problem: str) -> WorkflowError:
        return WorkflowError(self.file, where, problem)

    def mapping(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, "must be a mapping")
        return value

    def keys(self, data: dict[str, Any], where: str, required: set[str], allowed: set[str]) -> None:
        missing = required - set(data)
        if missing:
            raise self.fail(where, f"missing {', '.join(sorted(missing))}")
        unknown = set(data) - allowed - required
        if unknown:
            raise self.fail(where, f"unknown key {', '.join(sorted(map(str, unknown)))}")

    def name(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or not NAME.match(value):
            raise self.fail(where, f"{value!r} is not a name (a-z, 0-9, _)")
        return value

    def text(self, value: Any, where: str) -> Text:
        data = self.mapping(value, where)
        self.keys(data, where, {"id", "en"}, set())
        if not all(isinstance(data[k], str) and data[k].strip() for k in ("id", "en")):
            raise self.fail(where, "labels need non-empty 'id' and 'en' text")
        return Text(data["id"].strip(), data["en"].strip())

    def names(self, value: Any, where: str) -> tuple[str, ...]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise self.fail(where, "must be a name or a list of names")
        return tuple(self.name(v, where) for v in value)

    def integer(self, value: Any, where: str, low: int, high: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.fail(where, f"must be a whole number within {low}..{high}")
        return value


def _fact(r: _Reader, name: str, raw: Any) -> Fact:
    where = f"fact '{name}'"
    data = r.mapping(raw, where)
    r.keys(data, where, {"type", "label"}, {"options", "max_length"})
    try:
        kind = FactType(data["type"])
    except ValueError:
        raise r.fail(where, f"unknown type {data['type']!r}") from None
    options: dict[str, Option] = {}
    if kind is FactType.choice:
        raw_options = r.mapping(data.get("options"), f"{where} options")
        if not raw_options:
            raise r.fail(where, "a choice needs options")
        for code, option in raw_options.items():
            owhere = f"{where} option '{code}'"
            r.name(code, owhere)
            odata = r.mapping(option, owhere)
            rules = r.names(odata.pop("rules", []), f"{owhere} rules")
            options[code] = Option(code, r.text(odata, owhere), rules)
    elif "options" in data:
        raise r.fail(where, "only a choice has options")
    max_length = r.integer(data.get("max_length", 200), f"{where} max_length", 1, MAX_TEXT_FACT)
    return Fact(
        name,
        kind,
        r.text(data["label"], f"{where} label"),
        options,
        max_length,
        free_text=kind is FactType.text,
    )


def _state(r: _Reader, name: str, raw: Any, statuses: Mapping[str, Text]) -> State:
    where = f"state '{name}'"
    data = r.mapping(raw, where)
    r.keys(data, where, {"status", "label"}, {"terminal", "waiting_for_reporter", "marks"})
    if data["status"] not in statuses:
        raise r.fail(where, f"status {data['status']!r} is not one of {', '.join(statuses)}")
    try:
        marks = tuple(Milestone(m) for m in r.names(data.get("marks", []), f"{where} marks"))
    except ValueError as exc:
        raise r.fail(where, f"unknown milestone: {exc}") from None
    terminal = bool(data.get("terminal", False))
    if terminal and Milestone.completed not in marks:
        marks = (*marks, Milestone.completed)
    return State(
        name,
        data["status"],
        r.text(data["label"], f"{where} label"),
        terminal=terminal,
        waiting_for_reporter=bool(data.get("waiting_for_reporter", False)),
        marks=marks,
    )


def _transition(r: _Reader, raw: Any, index: int) -> Transition:
    data = r.mapping(raw, f"transition #{index + 1}")
    action = r.name(data.get("action"), f"transition #{index + 1} action")
    where = f"transition '{action}'"
    r.keys(
        data,
        where,
        {"action", "from", "to", "label"},
        {"roles", "trigger", "requires", "optional", "message", "assign_to_actor", "when"},
    )
    try:
        trigger = Trigger(data.get("trigger", "officer"))
        message = MessageRule(data.get("message", "none"))
    except ValueError as exc:
        raise r.fail(where, str(exc)) from None
    roles = frozenset(r.names(data.get("roles", []), f"{where} roles"))
    if unknown := roles - set(ROLES):
        raise r.fail(where, f"unknown role {', '.join(sorted(unknown))}")
    if trigger is Trigger.officer and not roles:
        raise r.fail(where, "an officer's action needs roles")
    if trigger is not Trigger.officer and roles:
        raise r.fail(where, f"a {trigger.value} transition is taken by the system, not roles")
    when = {
        r.name(k, f"{where} when"): frozenset(r.names(v, f"{where} when {k}"))
        for k, v in r.mapping(data.get("when", {}), f"{where} when").items()
    }
    return Transition(
        action=action,
        when=when,
        sources=r.names(data["from"], f"{where} from"),
        target=r.name(data["to"], f"{where} to"),
        label=r.text(data["label"], f"{where} label"),
        roles=roles,
        trigger=trigger,
        requires=r.names(data.get("requires", []), where),
        optional=r.names(data.get("optional", []), where),
        message=message,
        assign_to_actor=bool(data.get("assign_to_actor", False)),
    )


def _timer(r: _Reader, name: str, raw: Any) -> Timer:
    where = f"timer '{name}'"
    data = r.mapping(raw, where)
    r.keys(
        data,
        where,
        {"label", "rule", "count", "starts", "stops"},
        {
            "days",
            "pauses",
            "start_fact",
            "days_by",
            "remind_before",
            "restart_on_officer_message",
            "on_expiry",
        },
    )
    try:
        count = DayCount(data["count"])
    except ValueError:
        raise r.fail(where, f"count must be working or calendar, not {data['count']!r}") from None
    if not isinstance(data["rule"], str) or not data["rule"].strip():
        raise r.fail(where, "needs the rule it comes from")
    days, days_fact, by_option = 0, None, {}
    if "days_by" in data:
        spec = r.mapping(data["days_by"], f"{where} days_by")
        r.keys(spec, f"{where} days_by", {"fact", "days"}, set())
        days_fact = r.name(spec["fact"], f"{where} days_by fact")
        by_option = {
            r.name(k, f"{where} days_by"): r.integer(v, f"{where} days_by {k}", 1, MAX_DAYS)
            for k, v in r.mapping(spec["days"], f"{where} days_by days").items()
        }
        if "days" in data:
            raise r.fail(where, "give days or days_by, not both")
    else:
        days = r.integer(data.get("days"), f"{where} days", 1, MAX_DAYS)
    expiry_raw = r.mapping(data.get("on_expiry", {}), f"{where} on_expiry")
    r.keys(expiry_raw, f"{where} on_expiry", set(), {"escalate", "action"})
    expiry = Expiry(
        escalate=r.name(expiry_raw["escalate"], where) if "escalate" in expiry_raw else None,
        action=r.name(expiry_raw["action"], where) if "action" in expiry_raw else None,
    )
    if expiry.escalate and expiry.escalate not in ROLES:
        raise r.fail(where, f"escalates to unknown role {expiry.escalate!r}")
    return Timer(
        name=name,
        label=r.text(data["label"], f"{where} label"),
        rule=data["rule"].strip(),
        days=days,
        count=count,
        starts=r.names(data["starts"], f"{where} starts"),
        stops=r.names(data["stops"], f"{where} stops"),
        pauses=r.names(data.get("pauses", []), f"{where} pauses"),
        start_fact=r.name(data["start_fact"], where) if "start_fact" in data else None,
        days_fact=days_fact,
        days_by_option=by_option,
        remind_before=r.integer(data.get("remind_before", 0), f"{where} remind_before", 0, 60),
        restart_on_officer_message=bool(data.get("restart_on_officer_message", False)),
        on_expiry=expiry,
    )


def parse(raw: Any, file: str) -> Workflow:
    """Build and validate a workflow from a parsed YAML document."""
    r = _Reader(file)
    data = r.mapping(raw, "file")
    r.keys(
        data,
        "file",
        {"id", "case_type", "version", "title", "initial", "statuses", "states", "transitions"},
        {"timers", "facts", "rule_versions"},
    )
    statuses = {
        k: r.text(v, f"status '{k}'") for k, v in r.mapping(data["statuses"], "statuses").items()
    }
    if set(statuses) != set(REPORTER_STATUSES):
        raise r.fail("statuses", f"must label exactly {', '.join(REPORTER_STATUSES)}")
    facts = {
        r.name(k, "facts"): _fact(r, k, v)
        for k, v in r.mapping(data.get("facts", {}), "facts").items()
    }
    states = {
        r.name(k, "states"): _state(r, k, v, statuses)
        for k, v in r.mapping(data["states"], "states").items()
    }
    if not isinstance(data["transitions"], list):
        raise r.fail("transitions", "must be a list")
    transitions: dict[str, Transition] = {}
    for i, raw_t in enumerate(data["transitions"]):
        t = _transition(r, raw_t, i)
        if t.action in transitions:
            raise r.fail(f"transition '{t.action}'", "action named twice")
        transitions[t.action] = t
    timers = {
        r.name(k, "timers"): _timer(r, k, v)
        for k, v in r.mapping(data.get("timers", {}), "timers").items()
    }
    versions: list[RuleVersion] = []
    rule_fact = None
    if "rule_versions" in data:
        spec = r.mapping(data["rule_versions"], "rule_versions")
        r.keys(spec, "rule_versions", {"by_fact", "versions"}, set())
        rule_fact = r.name(spec["by_fact"], "rule_versions by_fact")
        for item in spec["versions"] if isinstance(spec["versions"], list) else []:
            v = r.mapping(item, "rule_versions")
            r.keys(v, "rule_versions", {"code", "label", "since"}, set())
            if not isinstance(v["since"], date):
                raise r.fail(f"rule version '{v['code']}'", "since must be a date")
            versions.append(
                RuleVersion(
                    r.name(v["code"], "rule_versions"),
                    r.text(v["label"], f"rule version '{v['code']}'"),
                    v["since"],
                )
            )
        if not versions or [v.since for v in versions] != sorted(v.since for v in versions):
            raise r.fail("rule_versions", "needs versions in the order they came into force")
    workflow = Workflow(
        id=r.name(data["id"], "id"),
        case_type=r.name(data["case_type"], "case_type"),
        version=r.integer(data["version"], "version", 1, 10_000),
        title=r.text(data["title"], "title"),
        initial=r.name(data["initial"], "initial"),
        statuses=statuses,
        states=states,
        transitions=transitions,
        timers=timers,
        facts=facts,
        rule_fact=rule_fact,
        rule_versions=tuple(versions),
    )
    _check_graph(r, workflow)
    return workflow


def facts_always_known(w: Workflow) -> dict[str, frozenset[str]]:
    """Per state, the facts recorded on every path that reaches it (required facts)."""
    everything = frozenset(w.facts)
    known = {name: everything for name in w.states}
    known[w.initial] = frozenset()
    changed = True
    while changed:
        changed = False
        for name in w.states:
            if name == w.initial:
                continue
            incoming = [
                known[s] | set(t.requires)
                for t in w.transitions.values()
                if t.target == name
                for s in t.sources
                if s in known
            ]
            new = frozenset.intersection(*incoming) if incoming else everything
            if new != known[name]:
                known[name], changed = new, True
    return known


def _check_graph(r: _Reader, w: Workflow) -> None:
    if w.initial not in w.states:
        raise r.fail("initial", f"unknown state '{w.initial}'")
    for t in w.transitions.values():
        where = f"transition '{t.action}'"
        for source in t.sources:
            if source not in w.states:
                raise r.fail(where, f"from unknown state '{source}'")
            if w.states[source].terminal:
                raise r.fail(where, f"leaves terminal state '{source}'")
        if t.target not in w.states:
            raise r.fail(where, f"goes to unknown state '{t.target}' (a transition to nowhere)")
        for fact in (*t.requires, *t.optional):
            if fact not in w.facts:
                raise r.fail(where, f"names unknown fact '{fact}'")
        for fact_name, codes in t.when.items():
            known = w.facts.get(fact_name)
            if known is None or known.type is not FactType.choice:
                raise r.fail(where, f"when names '{fact_name}', which is not a choice fact")
            if unknown := codes - set(known.options):
                raise r.fail(where, f"when names unknown option {', '.join(sorted(unknown))}")
    for timer in w.timers.values():
        where = f"timer '{timer.name}'"
        for state in (*timer.starts, *timer.stops, *timer.pauses):
            if state not in w.states:
                raise r.fail(where, f"names unknown state '{state}'")
        if timer.start_fact:
            if (
                timer.start_fact not in w.facts
                or w.facts[timer.start_fact].type is not FactType.date
            ):
                raise r.fail(where, f"start_fact '{timer.start_fact}' is not a date fact")
            recorded = facts_always_known(w)
            for state in timer.starts:
                if timer.start_fact not in recorded.get(state, frozenset()):
                    raise r.fail(
                        where,
                        f"state '{state}' can be reached without '{timer.start_fact}' recorded",
                    )
        if timer.days_fact:
            chooser = w.facts.get(timer.days_fact)
            if chooser is None or chooser.type is not FactType.choice:
                raise r.fail(where, f"days_by fact '{timer.days_fact}' is not a choice fact")
            if set(timer.days_by_option) != set(chooser.options):
                raise r.fail(
                    where, f"days_by must give days for every option of '{timer.days_fact}'"
                )
        if action := timer.on_expiry.action:
            taken = w.transitions.get(action)
            if taken is None or taken.trigger is not Trigger.timer:
                raise r.fail(where, f"on_expiry action '{action}' is not a timer transition")
    if w.rule_fact and (
        w.rule_fact not in w.facts or w.facts[w.rule_fact].type is not FactType.date
    ):
        raise r.fail("rule_versions", f"by_fact '{w.rule_fact}' is not a date fact")
    version_codes = {v.code for v in w.rule_versions}
    for declared in w.facts.values():
        for option in declared.options.values():
            if missing := set(option.rules) - version_codes:
                raise r.fail(
                    f"fact '{declared.name}' option '{option.code}'",
                    f"unknown rule version {', '.join(sorted(missing))}",
                )
    timer_actions = {t.on_expiry.action for t in w.timers.values()}
    for t in w.transitions.values():
        if t.trigger is Trigger.timer and t.action not in timer_actions:
            raise r.fail(f"transition '{t.action}'", "no timer takes this transition")
    seen, queue = {w.initial}, deque([w.initial])
    while queue:
        for t in w.actions_from(queue.popleft()):
            if t.target not in seen:
                seen.add(t.target)
                queue.append(t.target)
    for name, node in w.states.items():
        if name not in seen:
            raise r.fail(f"state '{name}'", f"is unreachable from '{w.initial}'")
        if not node.terminal and not w.actions_from(name):
            raise r.fail(f"state '{name}'", "has no way out and is not terminal")
        if node.terminal and node.status not in ("selesai", "ditolak"):
            raise r.fail(f"state '{name}'", "a terminal state shows selesai or ditolak")


def load_file(path: Path) -> Workflow:
    """Read and validate one workflow file (bounded in size)."""
    name = path.name
    if path.stat().st_size > MAX_FILE_BYTES:
        raise WorkflowError(name, "file", f"larger than {MAX_FILE_BYTES} bytes")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise WorkflowError(name, "file", f"not valid YAML: {exc}") from None
    workflow = parse(raw, name)
    if workflow.id != path.stem:
        raise WorkflowError(name, "id", f"must equal the file name '{path.stem}'")
    return workflow
