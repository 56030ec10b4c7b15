"""Anti-spam work, hash path: the puzzle the browser, `wbs client` and the server share.

A decimal `nonce` such that SHA-256(challenge ":" subject ":" nonce) starts with `difficulty`
zero bits. Issuing and checking signed challenges is the service's (`wbs/reporting/pow.py`).
"""

from __future__ import annotations

from hashlib import sha256

ALGORITHM = "sha256-leading-zero-bits"


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
