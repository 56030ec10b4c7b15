"""A global token bucket: spam resistance that never looks at who is asking."""

from __future__ import annotations

import time

from wbs.core.errors import TooManyRequests


class TokenBucket:
    """`rate` tokens per minute, bursts up to `rate`; one process's share of the limit."""

    def __init__(self, rate_per_minute: int) -> None:
        self.capacity = float(rate_per_minute)
        self.tokens = float(rate_per_minute)
        self.per_second = rate_per_minute / 60.0
        self.updated = time.monotonic()

    def take(self) -> None:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.per_second)
        self.updated = now
        if self.tokens < 1.0:
            raise TooManyRequests(
                "Terlalu banyak laporan dikirim saat ini. Tunggu satu menit lalu kirim lagi; "
                "laporan Anda belum tersimpan.",
                "Too many reports are being sent right now. Wait a minute and send again; "
                "your report has not been saved yet.",
                headers={"Retry-After": "60"},
            )
        self.tokens -= 1.0
