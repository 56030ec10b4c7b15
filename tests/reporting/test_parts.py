"""Proof-of-work, rate limit and case counter on real parts (no crypto needed)."""

from __future__ import annotations

import asyncio

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
from wbs.reporting.ratelimit import SharedBucket, adaptive_difficulty, load_of
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


class Clock:
    def __init__(self) -> None:
        self.now = 1_900_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_shared_bucket_is_shared_between_app_instances_and_refills(fresh_db_url):
    """Two app instances (each its own engine and buckets) on one database share one limit,
    also when their requests race."""
    clock = Clock()
    engines = [make_engine(fresh_db_url) for _ in range(2)]
    instances = [
        (make_sessionmaker(e), SharedBucket("submit", rate_per_minute=6, clock=clock))
        for e in engines
    ]

    async def take(index: int) -> bool:
        sessions, bucket = instances[index % 2]
        async with sessions() as db:
            try:
                await bucket.take(db)
            except TooManyRequests as exc:
                assert exc.headers["Retry-After"] == "60"
                assert "Terlalu banyak" in exc.text_id and "Too many" in exc.text_en
                return False
            await db.commit()
            return True

    try:
        taken = [await take(0)]
        taken += await asyncio.gather(*(take(i) for i in range(1, 12)))
        assert sum(taken) == 6 and taken[0]
        assert not await take(1) and not await take(0)
        clock.now += 20  # a third of a minute at 6 a minute: two back, for either instance
        assert [await take(1), await take(0), await take(1)] == [True, True, False]
        async with instances[0][0]() as db:
            assert await load_of(db, [instances[1][1]]) == 1.0
        clock.now += 60
        async with instances[1][0]() as db:
            assert await load_of(db, [instances[0][1]]) == 0.0
    finally:
        for engine in engines:
            await engine.dispose()


def test_adaptive_difficulty_rises_with_the_load_within_bounds():
    levels = [adaptive_difficulty(x / 10, 18, 4, 0.25) for x in range(11)]
    assert levels == [18, 18, 18, 19, 19, 20, 20, 21, 21, 22, 22]
    assert levels == sorted(levels)
    assert adaptive_difficulty(1.0, 18, 0, 0.25) == 18
    assert adaptive_difficulty(1.0, 30, 12, 0.25) == 32


def test_issued_difficulty_is_signed_and_checked():
    issuer = PowIssuer(b"k" * 32, difficulty=1, ttl_seconds=60)
    issued = issuer.issue(6)
    assert issued.difficulty == 6 and issued.challenge.split(".")[1] == "6"
    assert issuer.issue(0).difficulty == 1  # never below the minimum
    too_little = next(
        str(n)
        for n in range(100_000)
        if 1 <= leading_zero_bits(work_digest(issued.challenge, RID, str(n))) < 6
    )
    with pytest.raises(PowFailed):
        issuer.check(issued.challenge, RID, too_little, purpose="submit")
    enough = next(
        str(n)
        for n in range(1_000_000)
        if leading_zero_bits(work_digest(issued.challenge, RID, str(n))) >= 6
    )
    assert issuer.check(issued.challenge, RID, enough, purpose="submit").key


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
