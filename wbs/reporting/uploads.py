"""Reading a JSON or multipart (JSON part + encrypted file parts) request body, within limits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from wbs.core.errors import DomainError, ValidationFailed
from wbs.core.files import FormDamaged, check_length, parse_multipart
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


@asynccontextmanager
async def read_body(
    request: Request, ctx: Reporting, model: type[M], part: str
) -> AsyncIterator[tuple[M, list[IncomingAttachment]]]:
    """The validated JSON (whole body, or the multipart part `part`) and the file parts.

    File parts go straight into the blob store as they arrive; the service keeps those it
    accepts and the rest are gone when the block ends.
    """
    limits = ctx.limits.api_upload
    check_length(request, limits, required=True)
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        try:
            upload = await parse_multipart(request, limits, store=ctx.blobs)
        except FormDamaged:
            raise DomainError() from None  # 400, as for any unreadable request
        try:
            text = upload.form.get(part)
            if not isinstance(text, str):
                raise ValidationFailed(
                    f"Bagian '{part}' wajib ada.", f"The part '{part}' is required."
                )
            try:
                body = model.model_validate_json(text)
            except ValidationError as exc:
                raise _invalid(exc) from None
            files = []
            for item in upload.files(FILE_PART):
                writer = upload.writer(item)
                if not item.filename or writer is None:
                    raise ValidationFailed(
                        "Lampiran tanpa nama berkas (id).",
                        "An attachment without a file name (id).",
                    )
                files.append(IncomingAttachment(id=item.filename.lower(), source=writer))
            yield body, files
        finally:
            await upload.close()
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
