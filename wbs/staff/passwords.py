"""Argon2id hashing of staff login secrets with explicit parameters and rehash-on-change."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import TypeVar

import anyio.to_thread
from anyio import CapacityLimiter
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from crypto.staffkeys import MAX_PASSPHRASE_CHARS, MIN_PASSPHRASE_CHARS
from wbs.core.errors import ValidationFailed

MIN_SECRET_CHARS = MIN_PASSPHRASE_CHARS
MAX_SECRET_CHARS = MAX_PASSPHRASE_CHARS


class PasswordPolicyError(ValidationFailed):
    message_id = "Kata sandi harus 12 sampai 256 karakter."
    message_en = "The password must be 12 to 256 characters long."


T = TypeVar("T")


class Hasher:
    """Wraps argon2-cffi; a dummy hash gives unknown accounts the same work.

    Request handlers use `verify_async` / `hash_async`: the work runs in worker threads, at
    most `workers` at a time for the whole process, so a sign-in flood queues there instead
    of stalling the event loop (and never while the caller holds a database transaction).
    """

    def __init__(
        self, *, time_cost: int, memory_kib: int, parallelism: int, workers: int = 2
    ) -> None:
        self.workers = workers
        self._limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, CapacityLimiter]
        self._limiters = weakref.WeakKeyDictionary()
        self._ph = PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_kib,
            parallelism=parallelism,
            hash_len=32,
            salt_len=16,
            type=Type.ID,
        )
        self._dummy = self._ph.hash("wbs-dummy-secret-for-unknown-accounts")

    def hash(self, secret: str) -> str:
        check_length(secret)
        return self._ph.hash(secret)

    def verify(self, stored: str | None, secret: str) -> bool:
        """Constant work whether or not the account exists; False on any mismatch."""
        if len(secret) > MAX_SECRET_CHARS:
            secret = secret[:MAX_SECRET_CHARS]
        try:
            return self._ph.verify(stored or self._dummy, secret) and stored is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        return self._ph.check_needs_rehash(stored)

    async def verify_async(self, stored: str | None, secret: str) -> bool:
        """`verify` in the bounded worker pool."""
        return await self._in_pool(lambda: self.verify(stored, secret))

    async def hash_async(self, secret: str) -> str:
        """`hash` in the bounded worker pool (the length policy is checked first, here)."""
        check_length(secret)
        return await self._in_pool(lambda: self.hash(secret))

    async def _in_pool(self, work: Callable[[], T]) -> T:
        # One limiter per event loop (test suites may run several loops in one process).
        loop = asyncio.get_running_loop()
        limiter = self._limiters.get(loop)
        if limiter is None:
            limiter = self._limiters[loop] = CapacityLimiter(self.workers)
        return await anyio.to_thread.run_sync(work, limiter=limiter)


def check_length(secret: str) -> None:
    if not MIN_SECRET_CHARS <= len(secret) <= MAX_SECRET_CHARS:
        raise PasswordPolicyError()
