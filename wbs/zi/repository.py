"""Assessment queries; what an actor may read is decided inside the query."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from wbs.audit.models import AuditEvent
from wbs.staff.models import Role, Staff
from wbs.staff.service import has_role
from wbs.units.models import Unit
from wbs.units.repository import subtree_ids
from wbs.zi.models import Answer, Assessment, Evidence, Proposal, ProposalRun

OBJECT_TYPE = "zi_assessment"
WRITERS = (Role.admin, Role.auditor)


def readable_unit_ids(actor: Staff) -> Select[int]:
    """Admins and auditors read their unit's subtree; other staff only their own unit."""
    if has_role(actor, *WRITERS):
        return subtree_ids(actor.unit_id)
    return select(Unit.id).where(Unit.id == actor.unit_id)


def readable_units(actor: Staff) -> Select[Unit]:
    return select(Unit).where(Unit.id.in_(readable_unit_ids(actor))).order_by(Unit.code)


def readable_statement(actor: Staff) -> Select[Assessment]:
    """One statement for list and get: assessments of the units the actor may read."""
    return (
        select(Assessment)
        .where(Assessment.unit_id.in_(readable_unit_ids(actor)))
        .options(selectinload(Assessment.unit))
        .order_by(Assessment.year.desc(), Assessment.assessor)
    )


def readable_evidence(actor: Staff) -> Select[Evidence]:
    """Evidence of the assessments the actor may read."""
    return (
        select(Evidence)
        .join(Assessment, Evidence.assessment_id == Assessment.id)
        .where(Assessment.unit_id.in_(readable_unit_ids(actor)))
    )


async def answers_of(db: AsyncSession, assessment_id: int) -> list[Answer]:
    rows = await db.scalars(
        select(Answer).where(Answer.assessment_id == assessment_id).order_by(Answer.id)
    )
    return list(rows)


async def evidence_of(db: AsyncSession, assessment_id: int) -> list[Evidence]:
    rows = await db.scalars(
        select(Evidence).where(Evidence.assessment_id == assessment_id).order_by(Evidence.id)
    )
    return list(rows)


async def history_of(db: AsyncSession, assessment: Assessment) -> list[AuditEvent]:
    rows = await db.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.unit_id == assessment.unit_id,
            AuditEvent.object_type == OBJECT_TYPE,
            AuditEvent.object_id == str(assessment.id),
        )
        .order_by(AuditEvent.id)
    )
    return list(rows)


async def lock_assessment(db: AsyncSession, assessment_id: int) -> None:
    """Serialise writers of one assessment (row lock on PostgreSQL; SQLite writers already are)."""
    await db.execute(select(Assessment.id).where(Assessment.id == assessment_id).with_for_update())


async def proposals_of(db: AsyncSession, assessment_id: int) -> list[Proposal]:
    rows = await db.scalars(
        select(Proposal).where(Proposal.assessment_id == assessment_id).order_by(Proposal.id)
    )
    return list(rows)


async def proposal_in(db: AsyncSession, assessment_id: int, proposal_id: int) -> Proposal | None:
    found: Proposal | None = await db.scalar(
        select(Proposal).where(Proposal.assessment_id == assessment_id, Proposal.id == proposal_id)
    )
    return found


async def run_of(db: AsyncSession, proposal: Proposal) -> ProposalRun:
    run = await db.get(ProposalRun, proposal.run_id)
    assert run is not None  # noqa: S101 (foreign key)
    return run
