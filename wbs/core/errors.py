"""Domain errors: each carries its HTTP status and a message in Indonesian and English."""

from __future__ import annotations

from typing import Any, ClassVar

from wbs.core.text import Text


class DomainError(Exception):
    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    message_id: ClassVar[str] = "Permintaan tidak dapat diproses."
    message_en: ClassVar[str] = "The request cannot be processed."

    def __init__(
        self,
        message_id: str | None = None,
        message_en: str | None = None,
        *,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.text_id = message_id or self.message_id
        self.text_en = message_en or self.message_en
        self.details = details or {}
        self.headers = headers or {}
        super().__init__(self.text_en)

    @property
    def text(self) -> Text:
        """This error's message in both languages."""
        return Text(self.text_id, self.text_en)

    def message(self, lang: str) -> str:
        return self.text.get(lang)

    def as_json(self, lang: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "error": self.code,
            "message": self.message(lang),
            "message_id": self.text_id,
            "message_en": self.text_en,
        }
        if self.details:
            body["details"] = self.details
        return body


class NotFound(DomainError):
    status, code = 404, "not_found"
    message_id = "Tidak ditemukan."
    message_en = "Not found."


class NotAuthenticated(DomainError):
    status, code = 401, "not_authenticated"
    message_id = "Silakan masuk terlebih dahulu."
    message_en = "Please sign in first."


class Forbidden(DomainError):
    status, code = 403, "forbidden"
    message_id = "Anda tidak berwenang melakukan tindakan ini."
    message_en = "You are not allowed to do this."


class CsrfFailed(DomainError):
    status, code = 403, "csrf_failed"
    message_id = "Formulir kedaluwarsa atau tidak sah. Muat ulang halaman lalu coba lagi."
    message_en = "The form expired or is not valid. Reload the page and try again."


class ValidationFailed(DomainError):
    status, code = 422, "validation_failed"
    message_id = "Data yang dikirim tidak valid."
    message_en = "The data sent is not valid."


class Conflict(DomainError):
    status, code = 409, "conflict"
    message_id = "Data telah berubah atau sudah ada."
    message_en = "The data changed meanwhile or already exists."


class TooManyRequests(DomainError):
    status, code = 429, "too_many_requests"
    message_id = "Terlalu banyak percobaan. Tunggu sebentar lalu coba lagi."
    message_en = "Too many attempts. Wait a while and try again."


class Busy(DomainError):
    """Every database connection stayed taken for the pool's whole waiting time."""

    status, code = 503, "busy"
    message_id = "Server sedang sibuk. Tidak ada yang tersimpan; coba lagi sebentar lagi."
    message_en = "The server is busy. Nothing was saved; try again in a moment."


class PayloadTooLarge(DomainError):
    status, code = 413, "payload_too_large"
    message_id = "Data yang dikirim terlalu besar."
    message_en = "The data sent is too large."
