"""Response models of the ZI JSON API (/api/v1/zi/...).

Scores are exact: a `Number` is a Decimal written as a plain JSON number at full precision
(`scoring.dumps`), never rounded through a float or quoted as a string. `exact_json` renders
a model that way; the models also give the API its schemas in OpenAPI.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from wbs.zi.models import AnswerSource, Assessor, ProposalStatus
from wbs.zi.scoring import dumps

Number = Annotated[Decimal, WithJsonSchema({"type": "number"})]


def exact_json(body: BaseModel | list[Any], status_code: int = 200) -> Response:
    """A model (or a list of models) as JSON with Decimals as exact plain numbers."""
    data = (
        [item.model_dump(mode="python") for item in body]
        if isinstance(body, list)
        else body.model_dump(mode="python")
    )
    return Response(
        dumps(data, indent=None), status_code=status_code, media_type="application/json"
    )


# ------------------------------------------------------------------------------------ input


class AssessmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    year: int
    assessor: Assessor
    rules: str = Field(default="lke-2021", max_length=32)


class EvidenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(max_length=16)
    link: str | None = Field(default=None, max_length=2000)
    file_ref: str | None = Field(default=None, max_length=200)
    note: str = Field(default="", max_length=2000)


class ProposeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    period: str | None = Field(
        default=None, max_length=32, description="e.g. 2026, 2026-Q1; default the assessment year"
    )


class OverrideIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer: str | dict[str, int] = Field(
        description="the assessor's own answer: an option label, or {input code: count}"
    )


# ----------------------------------------------------------------------------------- output


class RuleSetOut(BaseModel):
    id: str
    title: str
    items: int
    thresholds_known: bool


class AssessmentOut(BaseModel):
    id: int
    unit: str
    year: int
    assessor: Assessor
    rules: str
    version: int
    updated_at: str  # ISO 8601, as stored (no offset on SQLite)


class AssessmentRowOut(AssessmentOut):
    total: Number
    predicate: str | None
    predicate_determined: bool


class EvidenceFileOut(BaseModel):
    name: str | None
    content_type: str | None
    size: int | None
    sha256: str | None
    url: str


class EvidenceOut(BaseModel):
    id: int
    code: str
    link: str | None
    file_ref: str | None
    note: str
    file: EvidenceFileOut | None


class AnswerOut(BaseModel):
    value: Any
    source: AnswerSource
    computed_from: dict[str, Any] | None


class ShortfallOut(BaseModel):
    code: str
    minimum: Number
    score: Number
    gap: Number


class ResultOut(BaseModel):
    """The result contract (`scoring.result`)."""

    rules: str
    unit: str | None
    year: int | None
    total: Number
    pengungkit: Number
    hasil: Number
    parts: dict[str, Number]
    areas: dict[str, Number]
    area_totals: dict[str, Number]
    indicators: dict[str, Number]
    items: dict[str, Number]
    item_scores: dict[str, Number]
    hasil_indicators: dict[str, Number]
    hasil_groups: dict[str, Number]
    predicate: str | None
    predicate_determined: bool
    predicate_status: dict[str, str]
    undetermined: dict[str, str]
    shortfalls: dict[str, list[ShortfallOut]]
    unanswered: list[str]
    warnings: list[str]


class AssessmentFullOut(BaseModel):
    assessment: AssessmentOut
    answers: dict[str, AnswerOut]
    result: ResultOut
    evidence: list[EvidenceOut]
    missing_evidence: list[str]


class AnswersSavedOut(AssessmentFullOut):
    changes: list[dict[str, Any]]


class ItemGainOut(BaseModel):
    code: str
    kind: str
    where: str
    current: str | None
    next_label: str | None
    gain_next: Number | None
    best_label: str | None
    gain_best: Number
    steps_to_best: int | None


class ChangeOut(BaseModel):
    code: str
    current: str | None
    target: str
    steps: int
    gain: Number


class ReasonOut(BaseModel):
    id: str
    en: str


class PathOut(BaseModel):
    reachable: bool | None
    steps: int | None
    changes: list[ChangeOut]
    reasons: list[ReasonOut]


class GapOut(BaseModel):
    """The gap analysis (`gap.gap_json`)."""

    distance: dict[str, Number | None]
    shortfalls: dict[str, list[ShortfallOut]]
    gains: list[ItemGainOut]
    paths: dict[str, PathOut]


class HistoryEntryOut(BaseModel):
    seq: int | None  # the entry's leaf index in the unit's audit log; None until sequenced
    at: str
    actor: str
    action: str
    details: dict[str, Any]


class CompareColumnOut(BaseModel):
    assessor: Assessor
    id: int
    total: Number
    predicate: str | None
    areas: dict[str, Number]


class DifferenceOut(BaseModel):
    code: str
    answers: dict[str, Any]
    scores: dict[str, Number]


class CompareOut(BaseModel):
    unit: str
    year: int
    columns: list[CompareColumnOut]
    differences: list[DifferenceOut]


class TextOut(BaseModel):
    id: str
    en: str


class ProposalOut(BaseModel):
    """An answer proposed from the case indicators and what the assessor did with it."""

    id: int
    code: str
    rule: str = Field(description="rule id in wbs/zi/links/<mapping>.yaml")
    rule_text: TextOut | None
    period: str
    value: str | dict[str, int] | None = Field(description="null: the figures support no answer")
    figures: dict[str, Any] = Field(description="the figures the rule read or shows")
    reason: TextOut | None = Field(description="why there is no proposed value")
    status: ProposalStatus
    answer: str | dict[str, int] | None = Field(description="the assessor's answer if overridden")
    created_at: str
    decided_at: str | None
    evidence: EvidenceOut | None


class ProposalDecisionOut(AssessmentFullOut):
    proposal: ProposalOut
