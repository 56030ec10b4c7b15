"""One text in the two languages of the service: Bahasa Indonesia and English."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Text:
    """A label in Bahasa Indonesia and English."""

    id: str
    en: str

    def get(self, lang: str) -> str:
        """The English text for "en", the Indonesian text for any other language."""
        return self.en if lang == "en" else self.id
