"""Exports JSON API: ask for an export, follow it, download it; a unit's export key."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, Response

from wbs.core.blobs import blob_response
from wbs.core.db import DbSession, PathId
from wbs.exports import service
from wbs.exports.schemas import ExportIn, ExportJobOut, ExportKeyOut
from wbs.staff.deps import CsrfChecked, require_role
from wbs.staff.models import Staff

router = APIRouter(prefix="/api/v1", tags=["exports"])

CurrentExporter = Annotated[Staff, Depends(require_role(*service.EXPORTERS))]


async def package_response(request: Request, blob: str, name: str) -> Response:
    """A finished package, always as a download (streamed from the blob store)."""
    return await blob_response(
        service.export_store(request.app.state.settings),
        blob,
        missing=service.export_missing(),
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@router.post(
    "/units/{code}/exports",
    response_model=ExportJobOut,
    status_code=201,
    dependencies=[CsrfChecked],
)
async def request_api(
    code: str, body: ExportIn, db: DbSession, staff: CurrentExporter
) -> ExportJobOut:
    """Queue an export of the unit's indicators; the worker makes it (see `state`)."""
    unit = await service.readable_unit(db, staff, code)
    job = await service.request_export(
        db, staff, unit, fmt=body.format, period=body.period, public=body.public
    )
    return ExportJobOut.of(job, unit.code)


@router.get("/exports/{export_id}", response_model=ExportJobOut)
async def job_api(export_id: PathId, db: DbSession, staff: CurrentExporter) -> ExportJobOut:
    job = await service.get_job(db, staff, export_id)
    return ExportJobOut.of(job, job.unit.code)


@router.get(
    "/exports/{export_id}/file",
    response_class=FileResponse,
    responses={200: {"content": {"application/zip": {}}, "description": "The signed package."}},
)
async def file_api(
    export_id: PathId, request: Request, db: DbSession, staff: CurrentExporter
) -> Response:
    job, blob = await service.job_file(db, staff, export_id)
    return await package_response(request, blob, job.file_name or "indikator.zip")


@router.get("/units/{code}/export-key", response_model=ExportKeyOut)
async def key_api(code: str, request: Request, db: DbSession) -> ExportKeyOut:
    """The public key the unit's exports are signed with (for `wbs export verify`)."""
    unit, key = await service.public_key_of(db, request.app.state.security.master, code)
    return ExportKeyOut(
        unit=unit.code,
        public_key=key.public_text,
        key_id=key.fingerprint,
        public_key_pem=key.public_pem,
    )
