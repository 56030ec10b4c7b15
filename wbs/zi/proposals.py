"""Answers proposed from the case indicators: propose, accept, override; audited, flush only.

`propose` reads the unit's figures for a period and stores one proposal per linked item (with the
figures it used, the period and the rule) next to the answers, never over them. `accept` makes a
proposal the answer (source `indicators`) and attaches its data dukung package as evidence;
`override` stores the assessor's own answer (source `entered`) and keeps the proposal. Writers of
one assessment are serialised by a row lock taken first; a decision is guarded by
`UPDATE ... WHERE status = 'proposed'`, so a second decision is a clean 409.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from anyio import to_thread
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from wbs.core.blobs import BlobStore
from wbs.core.db import utcnow
from wbs.core.errors import Conflict, NotFound, ValidationFailed
from wbs.core.text import Text
from wbs.staff.models import Staff
from wbs.zi import documents, repository, service
from wbs.zi.models import (
    AnswerSource,
    Assessment,
    Proposal,
    ProposalRun,
    ProposalStatus,
)
from wbs.zi.pengawasan import Link, Links, decide, links_for
from wbs.zi.ruleset import get_rules
from wbs.zi.scoring import parse_answers
from wbs.zi.sources import EvidencePackager, IndicatorSource, RuleNote

PERIOD = re.compile(r"^[0-9A-Za-z][0-9A-Za-z-]{0,31}$")
OPEN = (ProposalStatus.proposed, ProposalStatus.unsupported)
PACKAGE_TYPES = {".zip": "application/zip", ".json": "application/json", ".pdf": "application/pdf"}
MAX_PACKAGE_BYTES = 64 * 1024 * 1024


class ProposalDecided(Conflict):
    code = "zi_proposal_decided"
    message_id = "Usulan ini sudah diputuskan atau diganti usulan yang lebih baru."
    message_en = "This proposal was already decided or replaced by a newer one."


def _links(assessment: Assessment) -> Links:
    links = links_for(assessment.rules_id)
    if links is None:
        raise ValidationFailed(
            f"Aturan {assessment.rules_id} tidak memiliki tautan ke indikator kasus.",
            f"Rule set {assessment.rules_id} has no link to the case indicators.",
            details={"rules": assessment.rules_id},
        )
    return links


def _period(assessment: Assessment, period: str | None) -> str:
    label = (period or "").strip() or str(assessment.year)
    if not PERIOD.match(label):
        raise ValidationFailed(
            "Periode tidak sah (mis. 2026, 2026-Q1, 2026-03).",
            "Not a valid period (e.g. 2026, 2026-Q1, 2026-03).",
            details={"field": "period"},
        )
    return label


def _day(value: Any) -> str | None:
    return str(value)[:10] if value else None


def current(proposals: Iterable[Proposal]) -> dict[str, Proposal]:
    """The latest proposal per item that was not superseded, in worksheet-independent order."""
    found: dict[str, Proposal] = {}
    for proposal in sorted(proposals, key=lambda p: p.id):
        if proposal.status != ProposalStatus.superseded:
            found[proposal.item_code] = proposal
    return found


async def propose(
    db: AsyncSession,
    actor: Staff,
    assessment: Assessment,
    source: IndicatorSource,
    *,
    period: str | None = None,
) -> list[Proposal]:
    """Read the figures and store a proposal per linked item; answers are not touched.

    An item whose latest proposal has the same value, figures and period gets no new one; an
    open (undecided) older proposal is superseded by a new one."""
    service.require_writer(actor)
    links = _links(assessment)
    label = _period(assessment, period)
    figures = await source.figures(db, assessment.unit, label)
    await repository.lock_assessment(db, assessment.id)
    run = ProposalRun(
        assessment_id=assessment.id,
        period=label,
        period_start=_day(figures.get("period_start")),
        period_end=_day(figures.get("period_end")),
        figures=figures,
        created_by_id=actor.id,
    )
    db.add(run)
    await db.flush()
    latest = current(await repository.proposals_of(db, assessment.id))
    made: list[Proposal] = []
    for link in links.links:
        outcome = decide(link, figures)
        before = latest.get(link.code)
        if (
            before is not None
            and before.value == outcome.value
            and before.figures == outcome.figures
            and before.period == label
        ):
            continue
        if before is not None and before.status in OPEN:
            await db.execute(
                update(Proposal)
                .where(Proposal.id == before.id, Proposal.status.in_(OPEN))
                .values(status=ProposalStatus.superseded)
                .execution_options(synchronize_session=False)
            )
        proposal = Proposal(
            assessment_id=assessment.id,
            run_id=run.id,
            item_code=link.code,
            rule_id=link.id,
            period=label,
            value=outcome.value,
            figures=outcome.figures,
            reason=None
            if outcome.reason is None
            else {"id": outcome.reason.id, "en": outcome.reason.en},
            status=ProposalStatus.proposed
            if outcome.value is not None
            else ProposalStatus.unsupported,
        )
        db.add(proposal)
        made.append(proposal)
    await db.flush()
    await service.audited(
        db,
        actor,
        assessment,
        "zi.proposals.propose",
        {
            "period": label,
            "run": run.id,
            "proposed": [
                {"code": p.item_code, "value": p.value} for p in made if p.value is not None
            ],
            "unsupported": [p.item_code for p in made if p.value is None],
        },
    )
    return made


async def _proposal(db: AsyncSession, assessment: Assessment, proposal_id: int) -> Proposal:
    found = await repository.proposal_in(db, assessment.id, proposal_id)
    if found is None:
        raise NotFound()
    return found


async def _decide(
    db: AsyncSession,
    actor: Staff,
    proposal: Proposal,
    status: ProposalStatus,
    answer: Any = None,
) -> None:
    """proposed -> accepted | overridden, once (a concurrent second decision is a 409)."""
    values: dict[str, Any] = {"status": status, "decided_at": utcnow(), "decided_by_id": actor.id}
    if answer is not None:
        values["answer"] = answer
    done = await db.execute(
        update(Proposal)
        .where(Proposal.id == proposal.id, Proposal.status == ProposalStatus.proposed)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if getattr(done, "rowcount", 0) != 1:
        raise ProposalDecided(details={"proposal": proposal.id})
    await db.refresh(proposal)


def _note(link: Link | None, proposal: Proposal) -> RuleNote:
    rule = link.rule_text() if link else Text(proposal.rule_id, proposal.rule_id)
    why = link.why if link else Text("", "")
    return RuleNote(
        proposal.item_code, proposal.rule_id, rule, why, proposal.value, proposal.figures
    )


async def accept(
    db: AsyncSession,
    actor: Staff,
    assessment: Assessment,
    proposal_id: int,
    packager: EvidencePackager,
    store: BlobStore,
) -> Proposal:
    """The proposal becomes the answer (source `indicators`); its data dukung is attached."""
    service.require_writer(actor)
    proposal = await _proposal(db, assessment, proposal_id)
    await repository.lock_assessment(db, assessment.id)
    await _decide(db, actor, proposal, ProposalStatus.accepted)
    await service.claim_version(db, assessment, None)
    run = await repository.run_of(db, proposal)
    link = _links(assessment).link(proposal.item_code)
    computed_from = {
        "proposal": proposal.id,
        "rule": proposal.rule_id,
        "period": proposal.period,
        "figures": proposal.figures,
    }
    _row, before = await service.put_answer(
        db,
        assessment,
        proposal.item_code,
        proposal.value,
        AnswerSource.indicators,
        computed_from,
        actor.id,
    )
    note = _note(link, proposal)
    name, data = await packager.package(db, assessment.unit, run.period, run.figures, note)
    stored = await to_thread.run_sync(store.put, data, MAX_PACKAGE_BYTES)
    file_name = documents.clean_name(name)
    evidence = await service.file_evidence(
        db,
        actor,
        assessment,
        proposal.item_code,
        f"Data dukung indikator {run.period} ({proposal.rule_id})",
        name=file_name,
        content_type=PACKAGE_TYPES.get(
            PurePath(file_name).suffix.lower(), "application/octet-stream"
        ),
        size=stored.size,
        sha256=stored.name,
    )
    proposal.evidence_id = evidence.id
    await db.flush()
    await service.audited(
        db,
        actor,
        assessment,
        "zi.proposal.accept",
        {
            "code": proposal.item_code,
            "proposal": proposal.id,
            "rule": proposal.rule_id,
            "period": proposal.period,
            "changes": [{"code": proposal.item_code, "from": before, "to": proposal.value}],
            "evidence": evidence.id,
            "name": file_name,
            "size": stored.size,
            "sha256": stored.name,
        },
    )
    return proposal


async def override(
    db: AsyncSession, actor: Staff, assessment: Assessment, proposal_id: int, answer: Any
) -> Proposal:
    """The assessor's own answer (source `entered`) in place of the proposal, which is kept."""
    service.require_writer(actor)
    proposal = await _proposal(db, assessment, proposal_id)
    code = proposal.item_code
    value = parse_answers(get_rules(assessment.rules_id), {code: answer}).get(code)
    if not value:
        raise ValidationFailed(
            f"{code}: isi jawaban Anda sendiri.",
            f"{code}: give your own answer.",
            details={"code": code},
        )
    await repository.lock_assessment(db, assessment.id)
    await _decide(db, actor, proposal, ProposalStatus.overridden, answer=value)
    await service.save_answers(db, actor, assessment, {code: value}, {}, replace=False)
    await service.audited(
        db,
        actor,
        assessment,
        "zi.proposal.override",
        {
            "code": code,
            "proposal": proposal.id,
            "rule": proposal.rule_id,
            "period": proposal.period,
            "proposed": proposal.value,
            "answer": value,
        },
    )
    return proposal


@dataclass
class ProposalRow:
    """A current proposal as the assessment page and the API show it."""

    proposal: Proposal
    link: Link | None
    text: str  # the item's text
    option: str | None  # the proposed option's text (option items)
    answer: Any  # the item's answer now
    answer_source: AnswerSource | None


async def rows(
    db: AsyncSession, assessment: Assessment, scored: service.Scored
) -> list[ProposalRow]:
    """The current proposals in worksheet order, with the item text and the answer now."""
    links = links_for(assessment.rules_id)
    latest = current(await repository.proposals_of(db, assessment.id))
    answers = {a.item_code: a for a in scored.answers}
    found: list[ProposalRow] = []
    for _area, _ind, item in scored.rules.items():
        proposal = latest.get(item.code)
        if proposal is None:
            continue
        answer = answers.get(item.code)
        option = None
        if isinstance(proposal.value, str) and item.options:
            option = item.options.get(proposal.value)
        found.append(
            ProposalRow(
                proposal,
                links.link(item.code) if links else None,
                item.text,
                option,
                None if answer is None else answer.value,
                None if answer is None else answer.source,
            )
        )
    return found
