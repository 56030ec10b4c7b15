"""Assessments: create, answer, attach evidence, score, compare assessors; audited, flush only."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from anyio import to_thread
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from wbs.audit import service as audit
from wbs.audit.models import AuditEvent
from wbs.core.db import utcnow
from wbs.core.errors import Conflict, NotFound, ValidationFailed
from wbs.core.text import Text
from wbs.staff.models import Staff
from wbs.staff.service import has_role
from wbs.units.models import Unit
from wbs.zi import documents, repository
from wbs.zi.errors import AnswerError
from wbs.zi.models import Answer, AnswerSource, Assessment, Assessor, Evidence
from wbs.zi.ruleset import RuleSet, available, get_rules
from wbs.zi.scoring import (
    AnswerValue,
    Evaluation,
    EvidenceLink,
    HasilValue,
    Worksheet,
    evaluate,
    parse_answers,
    parse_hasil,
)

MIN_YEAR, MAX_YEAR = 2010, 2100
MAX_LINK = 2000
MAX_NOTE = 2000


def can_write(actor: Staff) -> bool:
    """Admins and auditors fill worksheets of the units they read; others only read."""
    return has_role(actor, *repository.WRITERS)


def require_writer(actor: Staff) -> None:
    if not can_write(actor):
        raise NotFound()


async def readable_unit(db: AsyncSession, actor: Staff, code: str) -> Unit:
    unit = await db.scalar(repository.readable_units(actor).where(Unit.code == code.upper()))
    if unit is None:
        raise NotFound()
    return unit


async def list_assessments(db: AsyncSession, actor: Staff, unit: Unit) -> list[Assessment]:
    rows = await db.scalars(
        repository.readable_statement(actor).where(Assessment.unit_id == unit.id)
    )
    return list(rows)


async def get(db: AsyncSession, actor: Staff, assessment_id: int) -> Assessment:
    found = await db.scalar(
        repository.readable_statement(actor).where(Assessment.id == assessment_id)
    )
    if found is None:
        raise NotFound()
    return found


async def create(
    db: AsyncSession,
    actor: Staff,
    unit: Unit,
    *,
    year: int,
    assessor: Assessor,
    rules_id: str,
) -> Assessment:
    require_writer(actor)
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValidationFailed(
            f"Tahun {year} di luar {MIN_YEAR}..{MAX_YEAR}.",
            f"Year {year} outside {MIN_YEAR}..{MAX_YEAR}.",
            details={"field": "year"},
        )
    if rules_id not in available():
        raise ValidationFailed(
            f"Aturan '{rules_id}' tidak dikenal.",
            f"Unknown rule set '{rules_id}'.",
            details={"field": "rules"},
        )
    exists = await db.scalar(
        select(Assessment.id).where(
            Assessment.unit_id == unit.id, Assessment.year == year, Assessment.assessor == assessor
        )
    )
    if exists is not None:
        raise Conflict(
            f"Penilaian {assessor.value} tahun {year} untuk unit ini sudah ada.",
            f"A {assessor.value} assessment for {year} already exists for this unit.",
            details={"assessment": exists},
        )
    assessment = Assessment(
        unit_id=unit.id,
        year=year,
        rules_id=rules_id,
        assessor=assessor,
        created_by_id=actor.id,
        version=1,
    )
    assessment.unit = unit
    try:
        async with db.begin_nested():  # a concurrent twin hits the unique constraint
            db.add(assessment)
            await db.flush()
    except IntegrityError:
        raise Conflict(
            f"Penilaian {assessor.value} tahun {year} untuk unit ini sudah ada.",
            f"A {assessor.value} assessment for {year} already exists for this unit.",
        ) from None
    await audited(
        db,
        actor,
        assessment,
        "zi.assessment.create",
        {"year": year, "assessor": assessor.value, "rules": rules_id},
    )
    return assessment


def _stored(value: AnswerValue | HasilValue) -> Any:
    """An answer as JSON: labels and input counts as they are, numbers as exact text."""
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


def worksheet(
    assessment: Assessment, answers: list[Answer], evidence: list[Evidence] | None = None
) -> Worksheet:
    """The stored answers as a validated Worksheet."""
    rules = get_rules(assessment.rules_id)
    hasil_codes = {ind.code for _g, ind in rules.hasil_indicators()}
    raw_answers = {a.item_code: a.value for a in answers if a.item_code not in hasil_codes}
    raw_hasil = {a.item_code: a.value for a in answers if a.item_code in hasil_codes}
    links = tuple(
        EvidenceLink(e.item_code, e.link or e.file_ref or e.file_name or "", e.note)
        for e in evidence or []
    )
    return Worksheet(
        rules=rules.id,
        answers=parse_answers(rules, raw_answers),
        hasil=parse_hasil(rules, raw_hasil),
        unit=assessment.unit.code,
        year=assessment.year,
        evidence=links,
    )


@dataclass
class Scored:
    assessment: Assessment
    rules: RuleSet
    answers: list[Answer]
    evidence: list[Evidence]
    worksheet: Worksheet
    evaluation: Evaluation


async def scored(db: AsyncSession, assessment: Assessment) -> Scored:
    answers = await repository.answers_of(db, assessment.id)
    evidence = await repository.evidence_of(db, assessment.id)
    ws = worksheet(assessment, answers, evidence)
    rules = get_rules(assessment.rules_id)
    return Scored(assessment, rules, answers, evidence, ws, evaluate(rules, ws))


class ChangedMeanwhile(Conflict):
    code = "zi_changed_meanwhile"
    message_id = (
        "Lembar kerja ini telah diubah orang lain sejak Anda membukanya. Jawaban Anda "
        "belum disimpan: periksa perubahan terbaru lalu simpan lagi."
    )
    message_en = (
        "Someone else changed this worksheet since you opened it. Your answers were "
        "not saved: check the latest changes and save again."
    )


async def claim_version(db: AsyncSession, assessment: Assessment, expected: int | None) -> None:
    """Bump the version (row lock on PostgreSQL); refuse when it moved since `expected`."""
    stmt = update(Assessment).where(Assessment.id == assessment.id)
    if expected is not None:
        stmt = stmt.where(Assessment.version == expected)
    done = await db.execute(
        stmt.values(version=Assessment.version + 1, updated_at=utcnow()).execution_options(
            synchronize_session=False
        )
    )
    if getattr(done, "rowcount", 0) != 1:
        raise ChangedMeanwhile(details={"expected_version": expected})
    await db.refresh(assessment, ["version", "updated_at"])


async def save_answers(
    db: AsyncSession,
    actor: Staff,
    assessment: Assessment,
    answers: Mapping[str, Any],
    hasil: Mapping[str, Any],
    *,
    replace: bool,
    expected_version: int | None = None,
) -> list[dict[str, Any]]:
    """Validate and store answers (replace: codes left out are cleared); returns the changes.

    With `expected_version` the save is refused if anyone saved in between (no lost update).
    """
    require_writer(actor)
    rules = get_rules(assessment.rules_id)
    new: dict[str, Any] = {code: _stored(v) for code, v in parse_answers(rules, answers).items()}
    new.update({code: _stored(v) for code, v in parse_hasil(rules, hasil).items()})
    await claim_version(db, assessment, expected_version)
    existing = {a.item_code: a for a in await repository.answers_of(db, assessment.id)}
    changes: list[dict[str, Any]] = []
    now = utcnow()
    for code, value in new.items():
        row = existing.get(code)
        if row is None:
            db.add(
                Answer(
                    assessment_id=assessment.id,
                    item_code=code,
                    value=value,
                    source=AnswerSource.entered,
                    updated_at=now,
                    updated_by_id=actor.id,
                )
            )
            changes.append({"code": code, "from": None, "to": value})
        elif row.value != value:  # an unchanged answer keeps its source (computed, indicators)
            changes.append({"code": code, "from": row.value, "to": value})
            row.value, row.source, row.computed_from = value, AnswerSource.entered, None
            row.updated_at, row.updated_by_id = now, actor.id
    if replace:
        for code, row in existing.items():
            if code not in new:
                changes.append({"code": code, "from": row.value, "to": None})
                await db.delete(row)
    if changes:
        await db.flush()
        await audited(db, actor, assessment, "zi.answers.save", {"changes": changes})
    return changes


async def import_worksheet(
    db: AsyncSession, actor: Staff, assessment: Assessment, sheet: Worksheet
) -> list[dict[str, Any]]:
    """Replace the answers with an imported worksheet and add its evidence links."""
    answers: dict[str, Any] = dict(sheet.answers)
    hasil: dict[str, Any] = {k: _stored(v) for k, v in sheet.hasil.items()}
    changes = await save_answers(db, actor, assessment, answers, hasil, replace=True)
    known = {(e.item_code, e.link) for e in await repository.evidence_of(db, assessment.id)}
    for link in sheet.evidence:
        if (link.code, link.link) not in known:
            is_url = urlsplit(link.link).scheme in ("http", "https")
            await add_evidence(
                db,
                actor,
                assessment,
                item_code=link.code,
                link=link.link if is_url else None,
                file_ref=None if is_url else link.link,
                note=link.note,
            )
            known.add((link.code, link.link))
    return changes


async def record_computed(
    db: AsyncSession,
    assessment: Assessment,
    item_code: str,
    inputs: Mapping[str, int],
    figures: Mapping[str, Any],
    *,
    actor: str = "system",
) -> Answer:
    """Store a formula item computed from case data, with the figures it came from."""
    rules = get_rules(assessment.rules_id)
    parsed = parse_answers(rules, {item_code: dict(inputs)})
    value = parsed.get(item_code.upper())
    if not isinstance(value, dict):
        raise AnswerError(
            item_code,
            Text("hanya butir rumus dapat dihitung", "only formula items can be computed"),
        )
    await claim_version(db, assessment, None)
    row, before = await put_answer(
        db, assessment, item_code.upper(), value, AnswerSource.computed, dict(figures), None
    )
    await audit.append(
        db,
        unit=assessment.unit,
        actor_id=None,
        actor=actor,
        action="zi.answers.compute",
        object_type=repository.OBJECT_TYPE,
        object_id=assessment.id,
        details={
            "changes": [{"code": row.item_code, "from": before, "to": value}],
            "figures": dict(figures),
        },
    )
    return row


async def put_answer(
    db: AsyncSession,
    assessment: Assessment,
    code: str,
    value: Any,
    source: AnswerSource,
    computed_from: dict[str, Any] | None,
    actor_id: int | None,
) -> tuple[Answer, Any]:
    """Set one answer with its source (the caller claimed the version); returns it and the
    value it had before (None when new)."""
    row = await db.scalar(
        select(Answer).where(Answer.assessment_id == assessment.id, Answer.item_code == code)
    )
    before = None if row is None else row.value
    if row is None:
        row = Answer(assessment_id=assessment.id, item_code=code)
        db.add(row)
    row.value, row.source, row.computed_from = value, source, computed_from
    row.updated_at, row.updated_by_id = utcnow(), actor_id
    await db.flush()
    return row, before


async def audited(
    db: AsyncSession,
    actor: Staff,
    assessment: Assessment,
    action: str,
    details: dict[str, Any],
) -> None:
    """Append a change of an assessment, made by a person, to its unit's audit chain."""
    await audit.append(
        db,
        unit=assessment.unit,
        actor_id=actor.id,
        actor=actor.email,
        action=action,
        object_type=repository.OBJECT_TYPE,
        object_id=assessment.id,
        details=details,
    )


async def file_evidence(
    db: AsyncSession,
    actor: Staff,
    assessment: Assessment,
    code: str,
    note: str,
    *,
    name: str,
    content_type: str,
    size: int,
    sha256: str,
) -> Evidence:
    """Record a stored file (`<data dir>/evidence/<sha256>`) as evidence for an item."""
    evidence = Evidence(
        assessment_id=assessment.id,
        item_code=code,
        note=note.strip()[:MAX_NOTE],
        file_name=name,
        content_type=content_type,
        size_bytes=size,
        sha256=sha256,
        created_by_id=actor.id,
    )
    db.add(evidence)
    await db.flush()
    return evidence


def _check_link(link: str) -> str:
    link = link.strip()
    parts = urlsplit(link)
    if len(link) > MAX_LINK or parts.scheme not in ("https", "http") or not parts.netloc:
        raise ValidationFailed(
            "Tautan data dukung harus berupa alamat http(s) yang sah.",
            "The evidence link must be a valid http(s) address.",
            details={"field": "link"},
        )
    return link


def _item_code(assessment: Assessment, item_code: str) -> str:
    """An item or hasil indicator code of the assessment's rule set, upper case."""
    rules = get_rules(assessment.rules_id)
    code = item_code.strip().upper()
    known = {i.code for _a, _n, i in rules.items()} | {h.code for _g, h in rules.hasil_indicators()}
    if code not in known:
        raise AnswerError(code or "item", Text("kode butir tidak dikenal", "unknown item code"))
    return code


async def add_evidence(
    db: AsyncSession,
    actor: Staff,
    assessment: Assessment,
    *,
    item_code: str,
    link: str | None = None,
    file_ref: str | None = None,
    note: str = "",
) -> Evidence:
    require_writer(actor)
    code = _item_code(assessment, item_code)
    if not link and not file_ref:
        raise ValidationFailed(
            "Isi tautan atau berkas data dukung.",
            "Give a link or a file for the evidence.",
            details={"field": "link"},
        )
    evidence = Evidence(
        assessment_id=assessment.id,
        item_code=code,
        link=_check_link(link) if link else None,
        file_ref=file_ref[:200] if file_ref else None,
        note=note.strip()[:MAX_NOTE],
        created_by_id=actor.id,
    )
    db.add(evidence)
    await db.flush()
    await audited(
        db,
        actor,
        assessment,
        "zi.evidence.add",
        {"code": code, "evidence": evidence.id, "kind": "link" if link else "file"},
    )
    return evidence


async def add_evidence_file(
    db: AsyncSession,
    actor: Staff,
    assessment: Assessment,
    *,
    item_code: str,
    note: str,
    incoming: documents.IncomingDocument,
) -> Evidence:
    """Keep an uploaded document (type checked, stored by its sha256) as evidence for an item."""
    require_writer(actor)
    code = _item_code(assessment, item_code)
    stored = await to_thread.run_sync(documents.keep, incoming)
    evidence = await file_evidence(
        db,
        actor,
        assessment,
        code,
        note,
        name=stored.name,
        content_type=stored.content_type,
        size=stored.size,
        sha256=stored.sha256,
    )
    await audited(
        db,
        actor,
        assessment,
        "zi.evidence.upload",
        {
            "code": code,
            "evidence": evidence.id,
            "kind": "upload",
            "name": stored.name,
            "content_type": stored.content_type,
            "size": stored.size,
            "sha256": stored.sha256,
        },
    )
    return evidence


async def evidence_file(db: AsyncSession, actor: Staff, evidence_id: int) -> Evidence:
    """An uploaded evidence file of an assessment the actor may read; else NotFound."""
    found = await db.scalar(
        repository.readable_evidence(actor).where(
            Evidence.id == evidence_id, Evidence.sha256.is_not(None)
        )
    )
    if found is None:
        raise NotFound()
    return found


def missing_evidence(rules: RuleSet, ws: Worksheet, evidence: list[Evidence]) -> list[str]:
    """Completeness: codes answered without any evidence, in worksheet order."""
    supported = {e.item_code for e in evidence}
    answered = [i.code for _a, _n, i in rules.items() if i.code in ws.answers]
    answered += [h.code for _g, h in rules.hasil_indicators() if h.code in ws.hasil]
    return [code for code in answered if code not in supported]


async def history(db: AsyncSession, assessment: Assessment) -> list[AuditEvent]:
    return await repository.history_of(db, assessment)


@dataclass
class Comparison:
    """A unit's assessments of one year side by side, with per-item differences."""

    unit: Unit
    year: int
    columns: list[Scored] = field(default_factory=list)
    differing: list[str] = field(default_factory=list)  # item codes whose answers differ


async def compare(db: AsyncSession, actor: Staff, unit: Unit, year: int) -> Comparison:
    rows = await db.scalars(
        repository.readable_statement(actor).where(
            Assessment.unit_id == unit.id, Assessment.year == year
        )
    )
    found = sorted(rows, key=lambda a: list(Assessor).index(a.assessor))
    if not found:
        raise NotFound()
    comparison = Comparison(unit, year, [await scored(db, a) for a in found])
    rules = comparison.columns[0].rules
    codes = [i.code for _a, _n, i in rules.items()] + [h.code for _g, h in rules.hasil_indicators()]
    for code in codes:
        values = [answer_of(col.worksheet, code) for col in comparison.columns]
        if any(value != values[0] for value in values[1:]):
            comparison.differing.append(code)
    return comparison


def answer_of(ws: Worksheet, code: str) -> AnswerValue | HasilValue | None:
    return ws.answers.get(code, ws.hasil.get(code))
