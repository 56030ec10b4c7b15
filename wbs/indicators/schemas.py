"""API shapes of the indicators; every field is described from `definitions.DEFINITIONS`.

A count is an integer, or in public figures `"<k"` (built from 1..k-1 cases) or `"x"`
(withheld so that a small cell cannot be computed from the others).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from wbs.indicators.definitions import DEFINITIONS

Count = int | str
Derived = float | int | str | None


def about(key: str) -> Any:
    """A pydantic Field described in both languages."""
    text = DEFINITIONS[key]
    return Field(description=f"{text.id} / {text.en}")


class ForwardedOut(BaseModel):
    kpk: Count = about("forwarded.kpk")
    apip: Count = about("forwarded.apip")
    aph: Count = about("forwarded.aph")
    other_unit: Count = about("forwarded.other_unit")


class FiguresOut(BaseModel):
    """The figures every channel (and the total) has."""

    received: Count = about("received")
    received_form: Count = about("received_form")
    received_e2e: Count = about("received_e2e")
    verified: Count = about("verified")
    followed_up: Count = about("followed_up")
    completed: Count = about("completed")
    completed_on_time: Count = about("completed_on_time")
    completed_on_time_pct: Derived = about("completed_on_time_pct")
    overdue: Count = about("overdue")
    first_responded: Count = about("first_responded")
    first_response_wd_median: Derived = about("first_response_wd_median")
    first_response_wd_p90: Derived = about("first_response_wd_p90")
    completion_wd_median: Derived = about("completion_wd_median")
    completion_wd_p90: Derived = about("completion_wd_p90")
    forwarded: ForwardedOut = about("forwarded")
    mailbox_questions: Count = about("mailbox_questions")
    mailbox_answers: Count = about("mailbox_answers")
    mailbox_questions_cases: Count = about("mailbox_questions_cases")
    mailbox_answers_cases: Count = about("mailbox_answers_cases")


class WbsOut(FiguresOut):
    feedback_3m_due: Count = about("feedback_3m_due")
    feedback_3m: Count = about("feedback_3m")
    feedback_3m_pct: Derived = about("feedback_3m_pct")


class GratifikasiOut(FiguresOut):
    by_value_band: dict[str, Count] = about("by_value_band")
    by_state: dict[str, Count] = about("by_state")
    by_kpk_decision: dict[str, Count] = about("by_kpk_decision")
    refusals: Count = about("refusals")
    donations: Count = about("donations")


class BenturanOut(FiguresOut):
    declarations: Count = about("declarations")
    complaints: Count = about("complaints")
    by_control: dict[str, Count] = about("by_control")


class ChannelsOut(BaseModel):
    pengaduan: FiguresOut
    wbs: WbsOut
    gratifikasi: GratifikasiOut
    benturan_kepentingan: BenturanOut


class MonthlyOut(BaseModel):
    months: list[str]
    received: dict[str, list[int]]


class UnitIndicatorsOut(BaseModel):
    unit: str = about("unit")
    unit_name: str = about("unit_name")
    period: str = about("period")
    period_start: str = about("period_start")
    period_end: str = about("period_end")
    suppressed_below: int | None = about("suppressed_below")
    generated_at: str = about("generated_at")
    as_of: str = about("as_of")
    channels: ChannelsOut = about("channels")
    total: FiguresOut = about("total")


class IndicatorsOut(UnitIndicatorsOut):
    monthly: MonthlyOut | None = Field(default=None, description=about("monthly").description)
    children: list[UnitIndicatorsOut] | None = Field(
        default=None, description=about("children").description
    )
