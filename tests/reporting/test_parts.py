"""Proof-of-work, rate limit and case counter on real parts (no crypto needed)."""

from __future__ import annotations

import asyncio
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from crypto.pow import leading_zero_bits, solve, work_digest
from wbs.core.db import make_engine, make_sessionmaker
from wbs.core.errors import TooManyRequests
from wbs.reporting import repository
from wbs.reporting.models import CaseCounter
from wbs.reporting.pow import PowFailed, PowIssuer
from wbs.reporting.ratelimit import TokenBucket
from wbs.reporting.service import case_number
from wbs.units.models import CaseType, Unit
from wbs.units.service import create_unit

RID = "5b7c3f7e-8d7a-4e55-9a53-3f4f8c1b2a10"


def test_pow_solution_verifies_and_binds_the_report_id():
    issuer = PowIssuer(b"k" * 32, difficulty=8, ttl_seconds=60)
    challenge = issuer.issue()
    nonce = solve(challenge.challenge, RID, challenge.difficulty)
    assert leading_zero_bits(work_digest(challenge.challenge, RID, nonce)) >= 8
    issuer.check(challenge.challenge, RID, nonce, purpose="submit")
    other = "5b7c3f7e-8d7a-4e55-9a53-3f4f8c1b2a11"
    other_nonce_fails = leading_zero_bits(work_digest(challenge.challenge, other, nonce)) < 8
    if other_nonce_fails:
        with pytest.raises(PowFailed):
            issuer.check(challenge.challenge, other, nonce, purpose="submit")


def test_pow_refuses_forged_expired_and_lowered_challenges():
    issuer = PowIssuer(b"k" * 32, difficulty=4, ttl_seconds=60)
    text = issuer.issue().challenge
    expires, difficulty, rand, mac = text.split(".")
    forged = f"{expires}.{difficulty}.{rand}.{'0' * len(mac)}"
    with pytest.raises(PowFailed):
        issuer.check(forged, RID, solve(forged, RID, 4), purpose="submit")
    other_key = PowIssuer(b"x" * 32, difficulty=4, ttl_seconds=60).issue().challenge
    with pytest.raises(PowFailed):
        issuer.check(other_key, RID, solve(other_key, RID, 4), purpose="submit")
    stale = PowIssuer(b"k" * 32, difficulty=4, ttl_seconds=-120).issue().challenge
    with pytest.raises(PowFailed):
        issuer.check(stale, RID, solve(stale, RID, 4), purpose="submit")
    # A challenge issued at difficulty 0 does not pass a server now asking for 12 bits.
    easy = PowIssuer(b"k" * 32, difficulty=0, ttl_seconds=60).issue().challenge
    strict = PowIssuer(b"k" * 32, difficulty=12, ttl_seconds=60)
    nonce = "0"
    if leading_zero_bits(work_digest(easy, RID, nonce)) < 12:
        with pytest.raises(PowFailed):
            strict.check(easy, RID, nonce, purpose="submit")
    for junk in ("", "a.b.c", "1.2.3.4.5", "x" * 200):
        with pytest.raises(PowFailed):
            issuer.check(junk, RID, "1", purpose="submit")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200), st.text(max_size=30))
def test_pow_check_never_crashes_on_junk(challenge, nonce):
    issuer = PowIssuer(b"k" * 32, difficulty=4, ttl_seconds=60)
    with pytest.raises(PowFailed):
        issuer.check(challenge, RID, nonce, purpose="submit")


def test_token_bucket_is_global_and_refills():
    bucket = TokenBucket(3)
    for _ in range(3):
        bucket.take()
    with pytest.raises(TooManyRequests) as info:
        bucket.take()
    assert info.value.headers["Retry-After"] == "60"
    bucket.updated = time.monotonic() - 20  # a third of a minute: one token back
    bucket.take()


def test_case_number_format():
    assert case_number(CaseType.wbs, 2026, 123) == "WBS-2026-000123"
    assert case_number(CaseType.gratifikasi, 2027, 1) == "GRT-2027-000001"


async def test_counter_gives_distinct_numbers_under_200_concurrent_transactions(fresh_db_url):
    engine = (
        make_engine(fresh_db_url, pool_size=20, max_overflow=0)
        if "postgresql" in fresh_db_url
        else make_engine(fresh_db_url)
    )
    sessions = make_sessionmaker(engine)
    try:
        async with sessions() as db:
            unit = await create_unit(db, code="KONKUREN", name="Uji", actor="test")
            await db.commit()
            unit_id = unit.id

        async def one() -> int:
            async with sessions() as db:
                seq = await repository.next_case_seq(db, unit_id, CaseType.wbs, 2026)
                await db.commit()
                return seq

        numbers = await asyncio.gather(*(one() for _ in range(200)))
        assert sorted(numbers) == list(range(1, 201))
        async with sessions() as db:
            row = await db.scalar(select(CaseCounter).where(CaseCounter.unit_id == unit_id))
            assert row is not None and row.last == 200
            assert await db.get(Unit, unit_id) is not None
    finally:
        await engine.dispose()
