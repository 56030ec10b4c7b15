"""Anti-spam work: HMAC-signed challenges that cost the sender CPU, or time without JavaScript.

Hash path (browser, API clients): a decimal `nonce` such that
SHA-256(challenge ":" subject ":" nonce) starts with `difficulty` zero bits, where the subject
is the report id (submission) or the b64u lookup id (mailbox login).

Form path (pages without JavaScript, which cannot hash): the page carries a signed challenge
with its issue time; it is accepted only `min_seconds` to `max_seconds` after issue.

Either way the check returns a `Spent` key: the caller records it (unique, until it expires)
before anything else, so no solution or form challenge is ever accepted twice.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from hashlib import sha256

from crypto.pow import leading_zero_bits, work_digest
from wbs.core.errors import TooManyRequests, ValidationFailed


class PowFailed(ValidationFailed):
    code = "pow_failed"
    message_id = "Pemeriksaan anti-spam gagal atau kedaluwarsa. Muat ulang halaman lalu kirim lagi."
    message_en = "The anti-spam check failed or expired. Reload the page and send again."


class WorkTooEasy(PowFailed):
    code = "pow_too_easy"
    message_id = (
        "Beban server naik sejak halaman dimuat, sehingga bukti anti-spam ini tidak lagi "
        "cukup. Muat ulang halaman lalu kirim lagi; laporan Anda belum tersimpan."
    )
    message_en = (
        "The server's load rose since the page was loaded, so this anti-spam proof is no "
        "longer enough. Reload the page and send again; your report has not been saved yet."
    )


class FormTooEarly(TooManyRequests):
    code = "form_too_early"

    def __init__(self, wait: int) -> None:
        super().__init__(
            f"Formulir dikirim terlalu cepat. Tunggu {wait} detik lalu kirim lagi; "
            "isian Anda belum tersimpan.",
            f"The form was sent too quickly. Wait {wait} seconds and send again; "
            "nothing has been saved yet.",
            headers={"Retry-After": str(wait)},
        )


Clock = Callable[[], float]


@dataclass(frozen=True)
class Spent:
    """What to record as used: a key (sha256 hex) and when the challenge expires anyway."""

    key: str
    expires_at: datetime
    difficulty: int = 0  # the bits the challenge asked for (hash path)


def _spent(kind: str, *parts: str, expires: int, difficulty: int = 0) -> Spent:
    key = sha256(":".join((kind, *parts)).encode()).hexdigest()
    return Spent(key=key, expires_at=datetime.fromtimestamp(expires, UTC), difficulty=difficulty)


@dataclass(frozen=True)
class Challenge:
    challenge: str
    difficulty: int
    expires_at: datetime


class PowIssuer:
    def __init__(
        self, key: bytes, difficulty: int, ttl_seconds: int, clock: Clock = time.time
    ) -> None:
        self._key = key
        self.difficulty = difficulty
        self.ttl = ttl_seconds
        self.clock = clock

    def __repr__(self) -> str:
        return f"PowIssuer(difficulty={self.difficulty}, key=***)"

    def _mac(self, body: str) -> str:
        return hmac.new(self._key, body.encode(), sha256).hexdigest()[:32]

    def issue(self, difficulty: int | None = None) -> Challenge:
        """A challenge asking for `difficulty` bits (never fewer than the minimum); the
        difficulty is part of the signed text, so `check` holds a solution to it."""
        bits = max(self.difficulty, difficulty or 0)
        expires = int(self.clock()) + self.ttl
        body = f"{expires}.{bits}.{secrets.token_hex(8)}"
        return Challenge(
            challenge=f"{body}.{self._mac(body)}",
            difficulty=bits,
            expires_at=datetime.fromtimestamp(expires, UTC),
        )

    def check(self, challenge: str, subject: str, nonce: str, *, purpose: str) -> Spent:
        """Verify the work for `subject`; the spent key covers (purpose, challenge, subject)."""
        parts = challenge.split(".")
        if len(parts) != 4 or len(challenge) > 128 or not nonce.isdigit() or len(nonce) > 20:
            raise PowFailed()
        body, mac = ".".join(parts[:3]), parts[3]
        if not hmac.compare_digest(mac, self._mac(body)):
            raise PowFailed()
        expires_text, difficulty_text = parts[0], parts[1]
        if not (expires_text.isdigit() and difficulty_text.isdigit()):
            raise PowFailed()
        if int(expires_text) < self.clock():
            raise PowFailed()
        difficulty = max(int(difficulty_text), self.difficulty)
        if leading_zero_bits(work_digest(challenge, subject, nonce)) < difficulty:
            raise PowFailed()
        return _spent(
            "pow", purpose, challenge, subject, expires=int(expires_text), difficulty=difficulty
        )


FORM_PURPOSES = ("report", "mailbox")


class FormChallenges:
    """Signed, timed challenges for forms posted without JavaScript.

    A token is `issued.purpose.random.mac`; it is valid from `min_seconds` to `max_seconds`
    after `issued` (the server's clock), for its purpose only, and once (the caller records
    the returned `Spent`). The wait is the cost a reporter without JavaScript pays.
    """

    def __init__(
        self, key: bytes, min_seconds: int, max_seconds: int, clock: Clock = time.time
    ) -> None:
        self._key = key
        self.min_seconds = min_seconds
        self.max_seconds = max_seconds
        self.clock = clock

    def __repr__(self) -> str:
        return f"FormChallenges(min={self.min_seconds}, max={self.max_seconds}, key=***)"

    def _mac(self, body: str) -> str:
        return hmac.new(self._key, f"wbs/form/{body}".encode(), sha256).hexdigest()[:32]

    def issue(self, purpose: str) -> str:
        if purpose not in FORM_PURPOSES:
            raise ValueError(purpose)
        body = f"{int(self.clock())}.{purpose}.{secrets.token_hex(8)}"
        return f"{body}.{self._mac(body)}"

    def check(self, token: str, purpose: str) -> Spent:
        parts = token.split(".")
        if len(token) > 96 or len(parts) != 4 or not parts[0].isdigit():
            raise PowFailed()
        body, mac = ".".join(parts[:3]), parts[3]
        if not hmac.compare_digest(mac, self._mac(body)) or parts[1] != purpose:
            raise PowFailed()
        issued = int(parts[0])
        age = self.clock() - issued
        if age > self.max_seconds or age < -60:
            raise PowFailed()
        if age < self.min_seconds:
            raise FormTooEarly(max(1, int(self.min_seconds - age + 0.999)))
        return _spent("form", purpose, token, expires=issued + self.max_seconds)
