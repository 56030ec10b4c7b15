"""The language switch."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from wbs.core.i18n import LANG_COOKIE, LANGUAGES
from wbs.core.security import safe_next

router = APIRouter(tags=["core"])


@router.get("/bahasa/{lang}", include_in_schema=False)
async def switch_language(lang: str, request: Request) -> Response:
    """Staff pages remember the language in a cookie; public pages carry ?lang= instead."""
    target = safe_next(request.query_params.get("next"))
    response = RedirectResponse(target, status_code=303)
    if lang in LANGUAGES:
        response.set_cookie(
            LANG_COOKIE,
            lang,
            httponly=True,
            samesite="strict",
            secure=request.app.state.settings.is_production,
            max_age=31536000,
        )
    return response
