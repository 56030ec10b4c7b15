"""Request limits and the evidence upload, shared by the ZI pages and the JSON API."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from wbs.core.bodylimit import KIB
from wbs.core.files import Upload
from wbs.core.security import CSRF_FIELD, CSRF_HEADER, check_csrf_token, check_origin
from wbs.staff.models import Staff
from wbs.zi import documents, service
from wbs.zi import evidence as evidence_files
from wbs.zi.models import Assessment, Evidence

MAX_FORM_FIELDS = 400
ANSWERS_BODY_BYTES = 256 * KIB  # every answer of a rule set, as a form or JSON
EVIDENCE_BODY_BYTES = 64 * KIB  # a link and a note of 2000 characters, encoded


def _csrf_header(request: Request) -> bool:
    """Same origin, and the header token when there is one (checked before the body is read)."""
    check_origin(request)
    token = request.headers.get(CSRF_HEADER)
    if token is None:
        return False
    check_csrf_token(request, token)
    return True


def _csrf_form(request: Request, checked: bool, upload: Upload) -> None:
    if not checked:
        check_csrf_token(request, upload.text(CSRF_FIELD) or None)


async def upload_evidence(
    request: Request,
    db: AsyncSession,
    staff: Staff,
    assessment: Assessment,
    files: evidence_files.Evidence,
) -> Evidence:
    """Stream the multipart upload (code, note, file) into the store and record it."""
    checked = _csrf_header(request)
    async with evidence_files.receive(request, files) as upload:
        _csrf_form(request, checked, upload)
        return await service.add_evidence_file(
            db,
            staff,
            assessment,
            item_code=upload.text("code"),
            note=upload.text("note"),
            incoming=documents.chosen(upload),
        )
