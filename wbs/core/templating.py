"""Jinja2 environment (autoescape, gettext) and the render helper."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from wbs.core.i18n import LANGUAGES, request_language, translations

TEMPLATE_DIR = Path(__file__).resolve().parent.parent.parent / "templates"


def make_environment(template_dir: Path = TEMPLATE_DIR) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(template_dir)),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["LANGUAGES"] = LANGUAGES
    return env


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Render a template in the request's language with the common context."""
    from wbs.core.security import csrf_token  # late import: security imports templating types

    env: Environment = request.app.state.templates
    lang = request_language(request)
    trans = translations(lang)
    ctx: dict[str, Any] = {
        "request": request,
        "lang": lang,
        "csrf_token": csrf_token(request),
        "staff": getattr(request.state, "staff", None),
        "path": request.url.path,
        "_": trans.gettext,
        "gettext": trans.gettext,
        "ngettext": trans.ngettext,
    }
    ctx.update(context or {})
    html = env.get_template(template).render(ctx)
    return HTMLResponse(html, status_code=status_code, headers=headers)
