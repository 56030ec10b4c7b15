"""Reading a JSON or multipart (JSON part + encrypted file parts) request body, within limits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError
from starlette.datastructures import UploadFile

from wbs.core.errors import PayloadTooLarge, ValidationFailed
from wbs.reporting.context import Reporting
from wbs.reporting.service import IncomingAttachment

M = TypeVar("M", bound=BaseModel)
FILE_PART = "attachment"


def _invalid(exc: ValidationError) -> ValidationFailed:
    fields = [
        {"field": ".".join(str(p) for p in e.get("loc", ())), "problem": e.get("type")}
        for e in exc.errors(include_input=False, include_url=False)
    ]
    return ValidationFailed(details={"fields": fields})


def _check_length(request: Request, ctx: Reporting) -> None:
    limit = ctx.limits.upload_body_bytes
    length = request.headers.get("content-length")
    if length is None or not length.isdigit():
        raise ValidationFailed(
            "Panjang data (Content-Length) wajib.", "A Content-Length header is required."
        )
    if int(length) > limit:
        raise PayloadTooLarge(
            f"Kiriman terlalu besar (maks. {limit // 2**20} MiB termasuk lampiran).",
            f"The submission is too large (at most {limit // 2**20} MiB with attachments).",
        )


@asynccontextmanager
async def read_body(
    request: Request, ctx: Reporting, model: type[M], part: str
) -> AsyncIterator[tuple[M, list[IncomingAttachment]]]:
    """The validated JSON (whole body, or the multipart part `part`) and the file parts."""
    _check_length(request, ctx)
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form(
            max_files=ctx.limits.report_max_files + 1,
            max_fields=4,
            max_part_size=ctx.limits.report_max_content_bytes * 2
            + ctx.limits.report_max_identity_bytes * 2,
        )
        try:
            text = form.get(part)
            if not isinstance(text, str):
                raise ValidationFailed(
                    f"Bagian '{part}' wajib ada.", f"The part '{part}' is required."
                )
            try:
                body = model.model_validate_json(text)
            except ValidationError as exc:
                raise _invalid(exc) from None
            files = []
            for upload in form.getlist(FILE_PART):
                if not isinstance(upload, UploadFile) or not upload.filename:
                    raise ValidationFailed(
                        "Lampiran tanpa nama berkas (id).",
                        "An attachment without a file name (id).",
                    )
                files.append(IncomingAttachment(id=upload.filename.lower(), source=upload.file))
            yield body, files
        finally:
            await form.close()
        return
    if not content_type.startswith("application/json"):
        raise ValidationFailed(
            "Kirim JSON atau multipart/form-data.", "Send JSON or multipart/form-data."
        )
    raw = await request.body()
    try:
        body = model.model_validate_json(raw)
    except ValidationError as exc:
        raise _invalid(exc) from None
    yield body, []
