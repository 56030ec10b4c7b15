"""A stateless proof-of-work: HMAC-signed challenges that cost the sender a little CPU.

Solution: a decimal `nonce` such that SHA-256(challenge ":" report_id ":" nonce) starts with
`difficulty` zero bits. Binding the report id (unique per report) makes a solution single-use.
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from hashlib import sha256

from wbs.core.errors import ValidationFailed

ALGORITHM = "sha256-leading-zero-bits"


class PowFailed(ValidationFailed):
    code = "pow_failed"
    message_id = "Pemeriksaan anti-spam gagal atau kedaluwarsa. Muat ulang halaman lalu kirim lagi."
    message_en = "The anti-spam check failed or expired. Reload the page and send again."


@dataclass(frozen=True)
class Challenge:
    challenge: str
    difficulty: int
    expires_at: datetime


def leading_zero_bits(digest: bytes) -> int:
    bits = 0
    for byte in digest:
        if byte == 0:
            bits += 8
            continue
        return bits + 8 - byte.bit_length()
    return bits


def work_digest(challenge: str, report_id: str, nonce: str) -> bytes:
    return sha256(f"{challenge}:{report_id}:{nonce}".encode()).digest()


def solve(challenge: str, report_id: str, difficulty: int) -> str:
    """Find a nonce (what the browser and `wbs client` do)."""
    nonce = 0
    while leading_zero_bits(work_digest(challenge, report_id, str(nonce))) < difficulty:
        nonce += 1
    return str(nonce)


class PowIssuer:
    def __init__(self, key: bytes, difficulty: int, ttl_seconds: int) -> None:
        self._key = key
        self.difficulty = difficulty
        self.ttl = ttl_seconds

    def __repr__(self) -> str:
        return f"PowIssuer(difficulty={self.difficulty}, key=***)"

    def _mac(self, body: str) -> str:
        return hmac.new(self._key, body.encode(), sha256).hexdigest()[:32]

    def issue(self) -> Challenge:
        expires = int(time.time()) + self.ttl
        body = f"{expires}.{self.difficulty}.{secrets.token_hex(8)}"
        return Challenge(
            challenge=f"{body}.{self._mac(body)}",
            difficulty=self.difficulty,
            expires_at=datetime.fromtimestamp(expires, UTC),
        )

    def check(self, challenge: str, report_id: str, nonce: str) -> None:
        parts = challenge.split(".")
        if len(parts) != 4 or len(challenge) > 128 or not nonce.isdigit() or len(nonce) > 20:
            raise PowFailed()
        body, mac = ".".join(parts[:3]), parts[3]
        if not hmac.compare_digest(mac, self._mac(body)):
            raise PowFailed()
        expires_text, difficulty_text = parts[0], parts[1]
        if not (expires_text.isdigit() and difficulty_text.isdigit()):
            raise PowFailed()
        if int(expires_text) < time.time():
            raise PowFailed()
        difficulty = max(int(difficulty_text), self.difficulty)
        if leading_zero_bits(work_digest(challenge, report_id, nonce)) < difficulty:
            raise PowFailed()
