"""ZI JSON API (/api/v1/zi/...): parse, call the service, answer with `schemas` models.

Answers carry exact numbers (`schemas.exact_json`); the HTML pages are in pages.py.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from wbs.core.bodylimit import body_limit
from wbs.core.db import DbSession, PathId
from wbs.core.errors import ValidationFailed
from wbs.staff.deps import CsrfChecked, CurrentAuditor, CurrentStaff
from wbs.zi import evidence as evidence_files
from wbs.zi import forms, proposals, repository, service
from wbs.zi.evidence import EvidenceCtx
from wbs.zi.gap import analyse, gap_json
from wbs.zi.models import Assessment, Evidence, Proposal
from wbs.zi.pengawasan import Links, links_for
from wbs.zi.ruleset import available, get_rules, load_all
from wbs.zi.schemas import (
    AnswerOut,
    AnswersSavedOut,
    AssessmentFullOut,
    AssessmentIn,
    AssessmentOut,
    AssessmentRowOut,
    CompareColumnOut,
    CompareOut,
    DifferenceOut,
    EvidenceFileOut,
    EvidenceIn,
    EvidenceOut,
    GapOut,
    HistoryEntryOut,
    OverrideIn,
    ProposalDecisionOut,
    ProposalOut,
    ProposeIn,
    ResultOut,
    RuleSetOut,
    TextOut,
    exact_json,
)
from wbs.zi.scoring import result, to_decimal
from wbs.zi.sources import PengawasanCtx

load_all()  # every packaged rule set is validated when the app is built: a broken file stops it

router = APIRouter(prefix="/api/v1/zi", tags=["zi"])


def _assessment_out(a: Assessment) -> AssessmentOut:
    return AssessmentOut(
        id=a.id,
        unit=a.unit.code,
        year=a.year,
        assessor=a.assessor,
        rules=a.rules_id,
        version=a.version,
        updated_at=a.updated_at.isoformat(),
    )


def _evidence_out(e: Evidence) -> EvidenceOut:
    file = None
    if e.is_file:
        file = EvidenceFileOut(
            name=e.file_name,
            content_type=e.content_type,
            size=e.size_bytes,
            sha256=e.sha256,
            url=f"/zi/evidence/{e.id}/file",
        )
    return EvidenceOut(
        id=e.id, code=e.item_code, link=e.link, file_ref=e.file_ref, note=e.note, file=file
    )


@router.get("/rules", response_model=list[RuleSetOut])
async def rules_api(staff: CurrentStaff) -> Response:
    body = []
    for rules_id in available():
        rules = get_rules(rules_id)
        body.append(
            RuleSetOut(
                id=rules.id,
                title=rules.title,
                items=sum(1 for _ in rules.items()),
                thresholds_known=all(
                    r.total_minimum is not None for r in rules.predicates.values()
                ),
            )
        )
    return exact_json(body)


@router.get("/units/{code}/assessments", response_model=list[AssessmentRowOut])
async def list_api(code: str, db: DbSession, staff: CurrentStaff) -> Response:
    unit = await service.readable_unit(db, staff, code)
    body = []
    for assessment in await service.list_assessments(db, staff, unit):
        ev = (await service.scored(db, assessment)).evaluation
        body.append(
            AssessmentRowOut(
                **_assessment_out(assessment).model_dump(),
                total=to_decimal(ev.total),
                predicate=ev.predicate,
                predicate_determined=ev.predicate_determined,
            )
        )
    return exact_json(body)


@router.post(
    "/units/{code}/assessments",
    response_model=AssessmentOut,
    status_code=201,
    dependencies=[CsrfChecked],
)
async def create_api(
    code: str, body: AssessmentIn, db: DbSession, staff: CurrentAuditor
) -> Response:
    unit = await service.readable_unit(db, staff, code)
    assessment = await service.create(
        db, staff, unit, year=body.year, assessor=body.assessor, rules_id=body.rules
    )
    return exact_json(_assessment_out(assessment), status_code=201)


async def _full(db: AsyncSession, assessment: Assessment) -> AssessmentFullOut:
    scored = await service.scored(db, assessment)
    return AssessmentFullOut(
        assessment=_assessment_out(assessment),
        answers={
            a.item_code: AnswerOut(value=a.value, source=a.source, computed_from=a.computed_from)
            for a in scored.answers
        },
        result=ResultOut.model_validate(result(scored.evaluation)),
        evidence=[_evidence_out(e) for e in scored.evidence],
        missing_evidence=service.missing_evidence(scored.rules, scored.worksheet, scored.evidence),
    )


@router.get("/assessments/{assessment_id}", response_model=AssessmentFullOut)
async def get_api(assessment_id: PathId, db: DbSession, staff: CurrentStaff) -> Response:
    return exact_json(await _full(db, await service.get(db, staff, assessment_id)))


@router.put(
    "/assessments/{assessment_id}/answers",
    response_model=AnswersSavedOut,
    dependencies=[CsrfChecked],
)
@body_limit(forms.ANSWERS_BODY_BYTES)
async def put_answers_api(
    assessment_id: PathId,
    db: DbSession,
    staff: CurrentAuditor,
    body: Annotated[dict[str, Any], Body()],
) -> Response:
    """Replace the answers: {"answers": {...}, "hasil": {...}} as in the answers contract."""
    assessment = await service.get(db, staff, assessment_id)
    unknown = set(body) - {"answers", "hasil", "version"}
    if unknown:
        raise ValidationFailed(details={"unknown": sorted(unknown)})
    version = body.get("version")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        raise ValidationFailed(details={"field": "version"})
    answers, hasil = body.get("answers") or {}, body.get("hasil") or {}
    if not isinstance(answers, dict) or not isinstance(hasil, dict):
        raise ValidationFailed(details={"field": "answers"})
    if isinstance(hasil, dict):
        hasil = {
            k: (format(Decimal(repr(v)), "f") if isinstance(v, float) else v)
            for k, v in hasil.items()
        }
    changes = await service.save_answers(
        db, staff, assessment, answers, hasil, replace=True, expected_version=version
    )
    full = await _full(db, assessment)
    return exact_json(AnswersSavedOut(**dict(full), changes=changes))


@router.post(
    "/assessments/{assessment_id}/evidence",
    response_model=EvidenceOut,
    status_code=201,
    dependencies=[CsrfChecked],
)
@body_limit(forms.EVIDENCE_BODY_BYTES)
async def evidence_api(
    assessment_id: PathId, body: EvidenceIn, db: DbSession, staff: CurrentAuditor
) -> Response:
    assessment = await service.get(db, staff, assessment_id)
    evidence = await service.add_evidence(
        db,
        staff,
        assessment,
        item_code=body.code,
        link=body.link,
        file_ref=body.file_ref,
        note=body.note,
    )
    return exact_json(_evidence_out(evidence), status_code=201)


@router.post(
    "/assessments/{assessment_id}/evidence/files", response_model=EvidenceOut, status_code=201
)
@body_limit(evidence_files.upload_body_limit)
async def evidence_file_api(
    assessment_id: PathId,
    request: Request,
    db: DbSession,
    staff: CurrentAuditor,
    files: EvidenceCtx,
) -> Response:
    """Upload a document for an item: multipart with `code`, `file` and optional `note`."""
    assessment = await service.get(db, staff, assessment_id)
    evidence = await forms.upload_evidence(request, db, staff, assessment, files)
    return exact_json(_evidence_out(evidence), status_code=201)


@router.get("/assessments/{assessment_id}/gap", response_model=GapOut)
async def gap_api(assessment_id: PathId, db: DbSession, staff: CurrentStaff) -> Response:
    scored = await service.scored(db, await service.get(db, staff, assessment_id))
    gap = analyse(scored.rules, scored.worksheet, scored.evaluation)
    return exact_json(GapOut.model_validate(gap_json(gap, scored.evaluation, scored.rules)))


@router.get("/assessments/{assessment_id}/history", response_model=list[HistoryEntryOut])
async def history_api(assessment_id: PathId, db: DbSession, staff: CurrentStaff) -> Response:
    assessment = await service.get(db, staff, assessment_id)
    return exact_json(
        [
            HistoryEntryOut(
                seq=e.seq, at=e.at.isoformat(), actor=e.actor, action=e.action, details=e.details
            )
            for e in await service.history(db, assessment)
        ]
    )


@router.get("/units/{code}/compare/{year}", response_model=CompareOut)
async def compare_api(code: str, year: int, db: DbSession, staff: CurrentStaff) -> Response:
    unit = await service.readable_unit(db, staff, code)
    comparison = await service.compare(db, staff, unit, year)
    columns = [
        CompareColumnOut(
            assessor=col.assessment.assessor,
            id=col.assessment.id,
            total=to_decimal(col.evaluation.total),
            predicate=col.evaluation.predicate,
            areas={k: to_decimal(v) for k, v in col.evaluation.areas.items()},
        )
        for col in comparison.columns
    ]
    differences = [
        DifferenceOut(
            code=code_,
            answers={
                col.assessment.assessor.value: _plain(service.answer_of(col.worksheet, code_))
                for col in comparison.columns
            },
            scores={
                col.assessment.assessor.value: to_decimal(
                    col.evaluation.item_scores.get(
                        code_, col.evaluation.hasil_indicators.get(code_, Fraction(0))
                    )
                )
                for col in comparison.columns
            },
        )
        for code_ in comparison.differing
    ]
    return exact_json(
        CompareOut(unit=unit.code, year=year, columns=columns, differences=differences)
    )


def _plain(value: object) -> object:
    return format(value, "f") if isinstance(value, Decimal) else value


# ------------------------------------------------------------------ proposals (the LKE link)


def _proposal_out(p: Proposal, links: Links | None, evidence: dict[int, Evidence]) -> ProposalOut:
    link = links.link(p.item_code) if links else None
    rule_text = link.rule_text() if link else None
    found = evidence.get(p.evidence_id) if p.evidence_id is not None else None
    return ProposalOut(
        id=p.id,
        code=p.item_code,
        rule=p.rule_id,
        rule_text=TextOut(id=rule_text.id, en=rule_text.en) if rule_text else None,
        period=p.period,
        value=p.value,
        figures=p.figures,
        reason=TextOut.model_validate(p.reason) if p.reason else None,
        status=p.status,
        answer=p.answer,
        created_at=p.created_at.isoformat(),
        decided_at=p.decided_at.isoformat() if p.decided_at else None,
        evidence=_evidence_out(found) if found else None,
    )


async def _proposals_out(
    db: AsyncSession, assessment: Assessment, only: list[Proposal] | None = None
) -> list[ProposalOut]:
    evidence = {e.id: e for e in await repository.evidence_of(db, assessment.id)}
    links = links_for(assessment.rules_id)
    found = only if only is not None else await repository.proposals_of(db, assessment.id)
    return [_proposal_out(p, links, evidence) for p in found]


@router.get("/assessments/{assessment_id}/proposals", response_model=list[ProposalOut])
async def proposals_api(assessment_id: PathId, db: DbSession, staff: CurrentStaff) -> Response:
    """Every proposal of the assessment, oldest first (superseded and decided ones included)."""
    assessment = await service.get(db, staff, assessment_id)
    return exact_json(await _proposals_out(db, assessment))


@router.post(
    "/assessments/{assessment_id}/proposals",
    response_model=list[ProposalOut],
    status_code=201,
    dependencies=[CsrfChecked],
)
async def propose_api(
    assessment_id: PathId,
    body: ProposeIn,
    db: DbSession,
    staff: CurrentAuditor,
    pengawasan: PengawasanCtx,
) -> Response:
    """Propose the linked Penguatan Pengawasan answers from the unit's indicators for a period."""
    assessment = await service.get(db, staff, assessment_id)
    made = await proposals.propose(db, staff, assessment, pengawasan.source, period=body.period)
    return exact_json(await _proposals_out(db, assessment, made), status_code=201)


async def _decision(db: AsyncSession, assessment: Assessment, proposal: Proposal) -> Response:
    full = await _full(db, assessment)
    (out,) = await _proposals_out(db, assessment, [proposal])
    return exact_json(ProposalDecisionOut(**dict(full), proposal=out))


@router.post(
    "/assessments/{assessment_id}/proposals/{proposal_id}/accept",
    response_model=ProposalDecisionOut,
    dependencies=[CsrfChecked],
)
async def accept_api(
    assessment_id: PathId,
    proposal_id: PathId,
    db: DbSession,
    staff: CurrentAuditor,
    pengawasan: PengawasanCtx,
    files: EvidenceCtx,
) -> Response:
    """The proposal becomes the answer (source `indicators`), with its data dukung attached."""
    assessment = await service.get(db, staff, assessment_id)
    proposal = await proposals.accept(
        db, staff, assessment, proposal_id, pengawasan.packager, files.store
    )
    return await _decision(db, assessment, proposal)


@router.post(
    "/assessments/{assessment_id}/proposals/{proposal_id}/override",
    response_model=ProposalDecisionOut,
    dependencies=[CsrfChecked],
)
async def override_api(
    assessment_id: PathId,
    proposal_id: PathId,
    body: OverrideIn,
    db: DbSession,
    staff: CurrentAuditor,
) -> Response:
    """The assessor's own answer (source `entered`); the proposal is kept for the record."""
    assessment = await service.get(db, staff, assessment_id)
    proposal = await proposals.override(db, staff, assessment, proposal_id, body.answer)
    return await _decision(db, assessment, proposal)
