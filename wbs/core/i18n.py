"""Gettext catalogs (Bahasa Indonesia first, English second), read from .po files at start."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from fastapi import Request

LANGUAGES = ("id", "en")
DEFAULT_LANGUAGE = "id"
LANG_COOKIE = "wbs_lang"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


@cache
def translations(lang: str) -> NullTranslations:
    """Catalog for a language; source strings are Indonesian, so `id` needs no catalog."""
    po = LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
    if lang == DEFAULT_LANGUAGE or not po.exists():
        return NullTranslations()
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    trans = Translations()
    for message in catalog:
        text = message.string
        if isinstance(message.id, str) and isinstance(text, str) and text and not message.fuzzy:
            trans._catalog[message.id] = text
    return trans


def request_language(request: Request) -> str:
    """`?lang=` wins, then the staff language cookie, then Indonesian."""
    for candidate in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if candidate in LANGUAGES:
            return candidate
    return DEFAULT_LANGUAGE


def gettext(lang: str, message: str) -> str:
    return translations(lang).gettext(message)
