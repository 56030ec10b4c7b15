"""A case's workflow as the officer pages show it, in the page's language."""

from __future__ import annotations

from dataclasses import dataclass

from wbs.workflow.handling import Situation


@dataclass(frozen=True)
class FieldView:
    name: str
    type: str
    label: str
    required: bool
    options: list[tuple[str, str]]
    max_length: int
    value: str | None


@dataclass(frozen=True)
class ActionView:
    action: str
    label: str
    message: str
    fields: list[FieldView]


@dataclass(frozen=True)
class DeadlineView:
    label: str
    rule: str
    days: int
    count: str
    due: str
    paused: bool
    overdue: bool
    due_soon: bool
    escalated_to: str | None


@dataclass(frozen=True)
class PanelView:
    state: str
    state_label: str
    status_label: str
    assignee: str | None
    deadlines: list[DeadlineView]
    facts: list[tuple[str, str]]
    actions: list[ActionView]


def panel(seen: Situation, lang: str) -> PanelView:
    flow = seen.flow
    workflow = flow.workflow
    facts = flow.facts

    def field(name: str, required: bool) -> FieldView:
        fact = workflow.facts[name]
        value = facts.get(name)
        return FieldView(
            name=name,
            type=fact.type.value,
            label=fact.label.get(lang),
            required=required,
            options=[(o.code, o.label.get(lang)) for o in fact.options.values()],
            max_length=fact.max_length,
            value=value if isinstance(value, str) else None,
        )

    return PanelView(
        state=flow.state.state,
        state_label=flow.state_label.get(lang),
        status_label=flow.status_label.get(lang),
        assignee=seen.assignee.name if seen.assignee else None,
        deadlines=[
            DeadlineView(
                d.label.get(lang),
                d.rule,
                d.days,
                d.count,
                d.due.isoformat(),
                d.paused,
                d.overdue,
                d.due_soon,
                d.escalated_to,
            )
            for d in flow.deadlines
        ],
        facts=[
            (workflow.facts[k].label.get(lang), workflow.shown(k, v).get(lang))
            for k, v in facts.items()
            if k in workflow.facts
        ],
        actions=[
            ActionView(
                t.action,
                t.label.get(lang),
                t.message.value,
                [field(n, True) for n in t.requires] + [field(n, False) for n in t.optional],
            )
            for t in seen.actions
        ],
    )
