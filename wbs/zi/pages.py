"""ZI pages (/zi/...): parse forms, call the service, render HTML (the JSON API is routes.py)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from pathlib import PurePath

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from wbs.core.blobs import blob_response
from wbs.core.bodylimit import body_limit
from wbs.core.db import DbSession, PathId
from wbs.core.errors import DomainError, NotFound, ValidationFailed
from wbs.core.i18n import request_language
from wbs.core.templating import render
from wbs.core.text import Text
from wbs.staff.deps import CsrfChecked, CurrentAuditor, CurrentStaff
from wbs.staff.models import Staff
from wbs.zi import (
    dashboard,
    documents,
    files,
    forms,
    pengawasan,
    proposals,
    repository,
    service,
    workbook,
)
from wbs.zi import evidence as evidence_files
from wbs.zi.chart import area_chart
from wbs.zi.errors import AnswerError
from wbs.zi.evidence import EvidenceCtx
from wbs.zi.gap import analyse
from wbs.zi.models import ASSESSOR_NAMES, AnswerSource, Assessment, Assessor, ProposalStatus
from wbs.zi.ruleset import PREDICATES, available, get_rules, load_all
from wbs.zi.scoring import shown
from wbs.zi.sources import PengawasanCtx

load_all()  # every packaged rule set is validated when the app is built: a broken file stops it
pengawasan.load_all()  # and every mapping of the LKE link against its rule set

router = APIRouter(prefix="/zi", tags=["zi"], include_in_schema=False)


def _f2(value: Fraction | Decimal | None) -> str:
    return shown(value)


def _assessor_name(assessor: Assessor, lang: str) -> str:
    return ASSESSOR_NAMES[assessor].get(lang)


STATUS_NAMES: dict[ProposalStatus, Text] = {
    ProposalStatus.proposed: Text("menunggu keputusan penilai", "awaiting the assessor"),
    ProposalStatus.accepted: Text("diterima", "accepted"),
    ProposalStatus.overridden: Text("diganti jawaban penilai", "overridden by the assessor"),
    ProposalStatus.superseded: Text("diganti usulan baru", "replaced by a newer proposal"),
    ProposalStatus.unsupported: Text("tidak diusulkan", "not proposed"),
}
SOURCE_NAMES: dict[AnswerSource, Text] = {
    AnswerSource.entered: Text("diisi penilai", "entered by the assessor"),
    AnswerSource.computed: Text("dihitung dari data kasus", "computed from case data"),
    AnswerSource.indicators: Text("usulan indikator yang diterima", "accepted indicator proposal"),
}

# ------------------------------------------------------------------------------------ pages


@router.get("", response_class=HTMLResponse)
async def home(request: Request, db: DbSession, staff: CurrentStaff) -> Response:
    units = list(await db.scalars(repository.readable_units(staff)))
    return render(request, "zi/index.html", {"units": units})


@router.get("/units/{code}", response_class=HTMLResponse)
async def unit_page(code: str, request: Request, db: DbSession, staff: CurrentStaff) -> Response:
    unit = await service.readable_unit(db, staff, code)
    rows = []
    for assessment in await service.list_assessments(db, staff, unit):
        scored = await service.scored(db, assessment)
        rows.append((assessment, scored.evaluation))
    years = sorted({a.year for a, _ev in rows}, reverse=True)
    lang = request_language(request)
    return render(
        request,
        "zi/unit.html",
        {
            "unit": unit,
            "rows": rows,
            "years": years,
            "can_write": service.can_write(staff),
            "rule_sets": available(),
            "assessors": [(a.value, _assessor_name(a, lang)) for a in Assessor],
            "f2": _f2,
            "assessor_name": lambda a: _assessor_name(a, lang),
        },
    )


@router.post("/units/{code}/assessments", dependencies=[CsrfChecked])
async def create_page(
    code: str, request: Request, db: DbSession, staff: CurrentAuditor
) -> Response:
    unit = await service.readable_unit(db, staff, code)
    form = await request.form(max_fields=10)
    year_text = str(form.get("year") or "")
    if not year_text.isdigit():
        raise ValidationFailed(
            "Tahun wajib diisi.", "The year is required.", details={"field": "year"}
        )
    try:
        assessor = Assessor(str(form.get("assessor") or ""))
    except ValueError:
        raise ValidationFailed(
            "Penilai tidak dikenal.", "Unknown assessor.", details={"field": "assessor"}
        ) from None
    assessment = await service.create(
        db,
        staff,
        unit,
        year=int(year_text),
        assessor=assessor,
        rules_id=str(form.get("rules") or "lke-2021"),
    )
    return RedirectResponse(f"/zi/assessments/{assessment.id}", status_code=303)


async def _assessment_page(
    request: Request,
    db: DbSession,
    staff: Staff,
    assessment: Assessment,
    *,
    error: DomainError | None = None,
    submitted: dict[str, str] | None = None,
) -> Response:
    scored = await service.scored(db, assessment)
    rules, ev, ws = scored.rules, scored.evaluation, scored.worksheet
    lang = request_language(request)
    current: dict[str, str] = {}
    for code, value in ws.answers.items():
        if isinstance(value, dict):
            current.update({k: str(v) for k, v in value.items()})
        else:
            current[code] = value
    current.update({code: str(v) for code, v in ws.hasil.items()})
    if submitted is not None:
        current = submitted
    title = (
        "Skor per area terhadap batas minimum WBK dan WBBM"
        if lang != "en"
        else "Score per area against the WBK and WBBM minimums"
    )
    sources = {a.item_code: a for a in scored.answers}
    links = pengawasan.links_for(rules.id)
    rows = await proposals.rows(db, assessment, scored)
    return render(
        request,
        "zi/assessment.html",
        {
            "a": assessment,
            "rules": rules,
            "ev": ev,
            "current": current,
            "f2": _f2,
            "chart": Markup(area_chart(rules, ev, title)),  # noqa: S704 (built with escaping)
            "predicates": PREDICATES,
            "can_write": service.can_write(staff),
            "missing": service.missing_evidence(rules, ws, scored.evidence),
            "evidence": scored.evidence,
            "history": await service.history(db, assessment),
            "accept": documents.ACCEPT,
            "max_size": documents.size_text(evidence_files.of_app(request.app).max_bytes),
            "size_text": documents.size_text,
            "sources": sources,
            "error": error,
            "assessor_name": _assessor_name(assessment.assessor, lang),
            "dash": dashboard.build(rules, ev),
            "proposal_rows": rows,
            "proposed_codes": {r.proposal.item_code for r in rows if r.proposal.value is not None},
            "has_links": links is not None,
            "unlinked": links.unlinked if links else (),
            "items": {item.code: item for _a, _i, item in rules.items()},
            "evidence_by_id": {e.id: e for e in scored.evidence},
            "status_name": lambda status: STATUS_NAMES[status].get(lang),
            "source_name": lambda source: SOURCE_NAMES[source].get(lang),
        },
        status_code=error.status if error else 200,
    )


@router.get("/assessments/{assessment_id}", response_class=HTMLResponse)
async def assessment_page(
    assessment_id: PathId, request: Request, db: DbSession, staff: CurrentStaff
) -> Response:
    assessment = await service.get(db, staff, assessment_id)
    return await _assessment_page(request, db, staff, assessment)


def _split_form(rules_id: str, fields: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    rules = get_rules(rules_id)
    hasil_codes = {h.code for _g, h in rules.hasil_indicators()}
    answers = {c: v for c, v in fields.items() if c not in hasil_codes}
    hasil = {c: v for c, v in fields.items() if c in hasil_codes}
    return answers, hasil


@router.post("/assessments/{assessment_id}/answers", dependencies=[CsrfChecked])
@body_limit(forms.ANSWERS_BODY_BYTES)
async def save_page(
    assessment_id: PathId, request: Request, db: DbSession, staff: CurrentAuditor
) -> Response:
    assessment = await service.get(db, staff, assessment_id)
    form = await request.form(max_fields=forms.MAX_FORM_FIELDS)
    fields = {
        str(k)[2:]: str(v).strip()
        for k, v in form.items()
        if str(k).startswith("a.") and isinstance(v, str) and v.strip()
    }
    answers, hasil = _split_form(assessment.rules_id, fields)
    version = str(form.get("version") or "")
    try:
        await service.save_answers(
            db,
            staff,
            assessment,
            answers,
            hasil,
            replace=True,
            expected_version=int(version) if version.isdigit() else None,
        )
    except (AnswerError, service.ChangedMeanwhile) as exc:
        # Raised before anything is written: show the form again with what was typed.
        return await _assessment_page(request, db, staff, assessment, error=exc, submitted=fields)
    return RedirectResponse(f"/zi/assessments/{assessment.id}#skor", status_code=303)


@router.post("/assessments/{assessment_id}/evidence", dependencies=[CsrfChecked])
@body_limit(forms.EVIDENCE_BODY_BYTES)
async def evidence_page(
    assessment_id: PathId, request: Request, db: DbSession, staff: CurrentAuditor
) -> Response:
    assessment = await service.get(db, staff, assessment_id)
    form = await request.form(max_fields=10)
    await service.add_evidence(
        db,
        staff,
        assessment,
        item_code=str(form.get("code") or ""),
        link=str(form.get("link") or "") or None,
        note=str(form.get("note") or ""),
    )
    return RedirectResponse(f"/zi/assessments/{assessment.id}#data-dukung", status_code=303)


@router.post("/assessments/{assessment_id}/evidence/files")
@body_limit(evidence_files.upload_body_limit)
async def evidence_file_page(
    assessment_id: PathId,
    request: Request,
    db: DbSession,
    staff: CurrentAuditor,
    files: EvidenceCtx,
) -> Response:
    """Upload a document for an item (multipart: csrf_token, code, file, note)."""
    assessment = await service.get(db, staff, assessment_id)
    try:
        await forms.upload_evidence(request, db, staff, assessment, files)
    except (AnswerError, documents.DocumentTooLarge, documents.DocumentRefused) as exc:
        # Raised before anything is written: show the page again with the reason.
        return await _assessment_page(request, db, staff, assessment, error=exc)
    return RedirectResponse(f"/zi/assessments/{assessment.id}#data-dukung", status_code=303)


@router.post("/assessments/{assessment_id}/proposals", dependencies=[CsrfChecked])
async def propose_page(
    assessment_id: PathId,
    request: Request,
    db: DbSession,
    staff: CurrentAuditor,
    links: PengawasanCtx,
) -> Response:
    """Propose the linked Penguatan Pengawasan answers from the indicators (form: period)."""
    assessment = await service.get(db, staff, assessment_id)
    form = await request.form(max_fields=10)
    try:
        await proposals.propose(
            db, staff, assessment, links.source, period=str(form.get("period") or "")
        )
    except ValidationFailed as exc:
        # Raised before anything is written: show the page again with the reason.
        return await _assessment_page(request, db, staff, assessment, error=exc)
    return RedirectResponse(f"/zi/assessments/{assessment.id}#usulan", status_code=303)


@router.post(
    "/assessments/{assessment_id}/proposals/{proposal_id}/accept", dependencies=[CsrfChecked]
)
async def accept_page(
    assessment_id: PathId,
    proposal_id: PathId,
    request: Request,
    db: DbSession,
    staff: CurrentAuditor,
    links: PengawasanCtx,
    files: EvidenceCtx,
) -> Response:
    assessment = await service.get(db, staff, assessment_id)
    try:
        await proposals.accept(db, staff, assessment, proposal_id, links.packager, files.store)
    except proposals.ProposalDecided as exc:
        return await _assessment_page(request, db, staff, assessment, error=exc)
    return RedirectResponse(f"/zi/assessments/{assessment.id}#usulan", status_code=303)


@router.post(
    "/assessments/{assessment_id}/proposals/{proposal_id}/override", dependencies=[CsrfChecked]
)
async def override_page(
    assessment_id: PathId,
    proposal_id: PathId,
    request: Request,
    db: DbSession,
    staff: CurrentAuditor,
) -> Response:
    """The assessor's own answer: `answer` (an option) or `a.<input>` counts (formula items)."""
    assessment = await service.get(db, staff, assessment_id)
    form = await request.form(max_fields=20)
    answer: str | dict[str, str] = str(form.get("answer") or "").strip()
    if not answer:
        answer = {
            str(k)[2:]: str(v).strip()
            for k, v in form.items()
            if str(k).startswith("a.") and isinstance(v, str) and v.strip()
        }
    try:
        await proposals.override(db, staff, assessment, proposal_id, answer)
    except (ValidationFailed, proposals.ProposalDecided) as exc:
        return await _assessment_page(request, db, staff, assessment, error=exc)
    return RedirectResponse(f"/zi/assessments/{assessment.id}#usulan", status_code=303)


@router.get("/evidence/{evidence_id}/file")
async def evidence_download(
    evidence_id: PathId, db: DbSession, staff: CurrentStaff, files: EvidenceCtx
) -> Response:
    """An uploaded evidence file, always as a download."""
    evidence = await service.evidence_file(db, staff, evidence_id)
    return await blob_response(
        files.store,
        evidence.sha256,
        missing=NotFound(
            "Berkas data dukung ini tidak lagi tersimpan.",
            "This evidence file is no longer stored.",
        ),
        headers=documents.download_headers(
            evidence.file_name or "data-dukung", evidence.content_type or "application/octet-stream"
        ),
    )


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/template/{rules_id}.xlsx")
async def template_page(rules_id: str, staff: CurrentStaff) -> Response:
    """A fillable LKE workbook (codes, texts, drop-downs, evidence sheet)."""
    if rules_id not in available():
        raise NotFound()
    data = workbook.to_bytes(workbook.template(get_rules(rules_id)))
    return Response(
        data,
        media_type=XLSX_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{rules_id}.xlsx"'},
    )


@router.post("/assessments/{assessment_id}/import", dependencies=[CsrfChecked])
@body_limit(files.IMPORT_BODY_BYTES)
async def import_page(
    assessment_id: PathId, request: Request, db: DbSession, staff: CurrentAuditor
) -> Response:
    """Replace the answers with a filled workbook (.xlsx) or answers file (.yaml, .json)."""
    assessment = await service.get(db, staff, assessment_id)
    form = await request.form(max_fields=10, max_files=1)
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise ValidationFailed(
            "Pilih berkas lembar kerja.", "Choose a worksheet file.", details={"field": "file"}
        )
    data = await upload.read(files.MAX_BYTES + 1)
    suffix = PurePath(upload.filename).suffix.lower()
    try:
        # Parsing a workbook is CPU work: off the event loop (bounded by the row cap).
        sheet = await run_in_threadpool(files.parse_bytes, data, suffix)
        if sheet.rules != assessment.rules_id:
            raise AnswerError(
                "rules",
                Text(
                    f"berkas memakai {sheet.rules}, penilaian ini {assessment.rules_id}",
                    f"the file uses {sheet.rules}, this assessment {assessment.rules_id}",
                ),
            )
        await service.import_worksheet(db, staff, assessment, sheet)
    except (AnswerError, service.ChangedMeanwhile) as exc:
        return await _assessment_page(request, db, staff, assessment, error=exc)
    return RedirectResponse(f"/zi/assessments/{assessment.id}#skor", status_code=303)


@router.get("/assessments/{assessment_id}/gap", response_class=HTMLResponse)
async def gap_page(
    assessment_id: PathId, request: Request, db: DbSession, staff: CurrentStaff
) -> Response:
    assessment = await service.get(db, staff, assessment_id)
    scored = await service.scored(db, assessment)
    gap = analyse(scored.rules, scored.worksheet, scored.evaluation)
    return render(
        request,
        "zi/gap.html",
        {"a": assessment, "ev": scored.evaluation, "gap": gap, "f2": _f2, "predicates": PREDICATES},
    )


@router.get("/assessments/{assessment_id}/export.xlsx")
async def export_page(assessment_id: PathId, db: DbSession, staff: CurrentStaff) -> Response:
    assessment = await service.get(db, staff, assessment_id)
    scored = await service.scored(db, assessment)
    data = workbook.to_bytes(workbook.export(scored.worksheet, scored.evaluation))
    name = f"lke-{assessment.unit.code}-{assessment.year}-{assessment.assessor.value}.xlsx"
    return Response(
        data,
        media_type=XLSX_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/units/{code}/compare/{year}", response_class=HTMLResponse)
async def compare_page(
    code: str, year: int, request: Request, db: DbSession, staff: CurrentStaff
) -> Response:
    unit = await service.readable_unit(db, staff, code)
    comparison = await service.compare(db, staff, unit, year)
    lang = request_language(request)
    rules = comparison.columns[0].rules
    return render(
        request,
        "zi/compare.html",
        {
            "c": comparison,
            "rules": rules,
            "f2": _f2,
            "names": [_assessor_name(col.assessment.assessor, lang) for col in comparison.columns],
            "answer_of": service.answer_of,
        },
    )
