"""Global buckets shared through the database: spam resistance that never looks at who asks.

Each bucket is a row (`rate_buckets`) filling by one per accepted request and draining at
its rate; every app process and server charges the same row with one race-safe statement.
How full the buckets are also sets the proof-of-work difficulty a challenge asks for
(`adaptive_difficulty`), so under a flood the work rises first and the bucket refuses last.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from wbs.core.errors import TooManyRequests
from wbs.reporting import repository
from wbs.reporting.pow import Clock


class BucketFull(TooManyRequests):
    message_id = (
        "Terlalu banyak permintaan dikirim saat ini. Tunggu satu menit lalu coba lagi; "
        "laporan Anda belum tersimpan."
    )
    message_en = (
        "Too many requests are being sent right now. Wait a minute and try again; "
        "your report has not been saved yet."
    )

    def __init__(self) -> None:
        super().__init__(headers={"Retry-After": "60"})


@dataclass(frozen=True)
class SharedBucket:
    """`rate_per_minute` requests a minute over all processes, in bursts up to that many."""

    name: str
    rate_per_minute: int
    clock: Clock

    @property
    def capacity(self) -> float:
        return float(self.rate_per_minute)

    async def take(self, db: AsyncSession) -> float:
        """Count one request (in the caller's transaction): how full the bucket was just
        before it (0 to 1), the load a challenge issued now would see; BucketFull when it is
        full."""
        level = await repository.take_token(
            db,
            self.name,
            capacity=self.capacity,
            per_second=self.rate_per_minute / 60.0,
            now=self.clock(),
        )
        return self._before(level)

    def _before(self, level: float | None) -> float:
        """How full the bucket was before a charge that left it at `level` (0 to 1);
        BucketFull when the charge found it full (`level` None)."""
        if level is None:
            raise BucketFull()
        return min(1.0, max(0.0, level - 1.0) / self.capacity)

    async def take_spending(self, db: AsyncSession, key: str, expires_at: datetime) -> float | None:
        """Record the spent work `key` and then, only when it was not spent before, count one
        request (`take`), in one statement where the database allows; None when the key
        was spent already (a replay: nothing is counted)."""
        spent, level = await repository.spend_and_take(
            db,
            key,
            expires_at,
            self.name,
            capacity=self.capacity,
            per_second=self.rate_per_minute / 60.0,
            now=self.clock(),
        )
        return self._before(level) if spent else None

    def load(self, level: float, updated: float) -> float:
        """How full the bucket is now (0 to 1), from a row's level and time."""
        drained = level - max(0.0, self.clock() - updated) * self.rate_per_minute / 60.0
        return min(1.0, max(0.0, drained) / self.capacity)


async def load_of(db: AsyncSession, buckets: Sequence[SharedBucket]) -> float:
    """The fullest of these buckets (0 to 1), in one query."""
    rows = await repository.bucket_levels(db, [b.name for b in buckets])
    return max((b.load(*rows[b.name]) for b in buckets if b.name in rows), default=0.0)


def adaptive_difficulty(load: float, minimum: int, rise: int, start: float) -> int:
    """`minimum` bits until the load passes `start`, then up to `minimum + rise` bits
    (at most 32) as the load reaches 1."""
    if load <= start or rise <= 0:
        return minimum
    share = min(1.0, (load - start) / (1.0 - start))
    return min(32, minimum + math.ceil(share * rise))
