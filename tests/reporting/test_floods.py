"""Finding #5: proof of work on every path, work checked before any bucket, mailbox logins
that guesses cannot lock out, and per-report mailbox quotas.

Races run on PostgreSQL with real concurrency: an app on a fresh database of its own, whose
requests each take their own connection from the pool.
"""

from __future__ import annotations

import asyncio
import uuid
from hashlib import sha256
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from crypto import receipt as lib_receipt
from crypto.encoding import b64u_encode
from crypto.keys import KeyPair
from crypto.pow import leading_zero_bits, work_digest
from tests.conftest import CSRF_RE, make_settings
from tests.reporting.helpers import (
    enrol,
    form_tokens,
    form_tokens_in,
    mailbox_login,
    publish_directory,
    sign_in,
    submission,
)
from wbs.app import create_app
from wbs.client.flows import solve_pow
from wbs.core.db import utcnow
from wbs.reporting.context import Reporting
from wbs.reporting.limits import ReportingLimits
from wbs.reporting.models import MailboxSession, Message, Report
from wbs.units.models import CaseType, Channel
from wbs.units.service import create_unit

WBS_FIELDS = {
    "isi.apa": "Pungutan liar di loket",
    "isi.siapa": "Petugas loket",
    "isi.di_mana": "Loket 3",
    "isi.kapan": "Maret 2026",
    "isi.bagaimana": "Meminta uang tambahan",
}


class Clock:
    """An injected clock for the challenges (the real one never moves in these tests)."""

    def __init__(self) -> None:
        self.now = 1_900_000_000.0

    def __call__(self) -> float:
        return self.now


def use_limits(app: Any, settings: Any, clock: Clock | None = None, **limits: Any) -> Reporting:
    extra = {"clock": clock} if clock else {}
    ctx = Reporting.build(settings, app.state.security.master, ReportingLimits(**limits), **extra)
    app.state.reporting = ctx
    return ctx


@pytest.fixture
async def world(app, client, settings, make_unit, make_staff):
    """A unit with one approved verifikator key in a signed directory (version 1)."""
    unit = await make_unit()
    officer = await make_staff(unit, "verifikator")
    admin = await make_staff(unit, "admin")
    made, _me = await enrol(client, officer)
    csrf = await sign_in(client, admin)
    await publish_directory(client, unit, csrf, KeyPair.generate().public)
    client.cookies.clear()
    return {"unit": unit, "key": made.key_pair}


async def count_reports(db, unit) -> int:
    return int(await db.scalar(select(func.count()).where(Report.unit_id == unit.id)) or 0)


# --------------------------------------------------------------------------- no-JavaScript form


async def test_no_js_submission_without_a_valid_challenge_is_refused(app, client, db, world):
    unit = world["unit"]
    path = f"/lapor/{unit.code}/wbs"
    page = (await client.get(path)).text
    csrf = CSRF_RE.search(page)
    assert csrf
    bare = await client.post(path, data={"csrf_token": csrf.group(1), **WBS_FIELDS})
    assert bare.status_code in (403, 422), bare.status_code  # 201 before the fix
    assert await count_reports(db, unit) == 0
    tokens = form_tokens_in(page)
    issued, purpose, rand, mac = tokens["tantangan"].split(".")
    forged = f"{int(issued) - 3600}.{purpose}.{rand}.{mac}"  # backdated: the MAC fails
    backdated = await client.post(path, data={**tokens, "tantangan": forged, **WBS_FIELDS})
    for refused in (bare, backdated):
        assert refused.status_code in (403, 422), refused.status_code
    assert await count_reports(db, unit) == 0
    accepted = await client.post(path, data={**tokens, **WBS_FIELDS})
    assert accepted.status_code == 201
    assert await count_reports(db, unit) == 1


async def test_no_js_form_is_accepted_only_between_the_minimum_wait_and_expiry(
    app, client, db, settings, world
):
    clock = Clock()
    use_limits(app, settings, clock, report_form_min_seconds=20, report_form_max_seconds=600)
    unit = world["unit"]
    path = f"/lapor/{unit.code}/wbs"
    tokens = await form_tokens(client, path)
    clock.now += 5
    early = await client.post(path, data={**tokens, **WBS_FIELDS})
    assert early.status_code == 429 and early.headers["retry-after"] == "15"
    assert "Formulir dikirim terlalu cepat" in early.text
    assert "Meminta uang tambahan" in early.text  # the values come back with a new challenge
    clock.now += 30  # the page came back with a new challenge, issued at the early post
    retry = form_tokens_in(early.text)
    assert retry["tantangan"] != tokens["tantangan"]
    late_tokens = await form_tokens(client, path)
    assert (await client.post(path, data={**retry, **WBS_FIELDS})).status_code == 201
    clock.now += 601
    expired = await client.post(path, data={**late_tokens, **WBS_FIELDS})
    assert expired.status_code == 422 and "kedaluwarsa" in expired.text
    assert await count_reports(db, unit) == 1


async def test_a_replayed_form_challenge_or_proof_is_refused(app, client, db, settings, world):
    unit = world["unit"]
    path = f"/lapor/{unit.code}/wbs"
    tokens = await form_tokens(client, path)
    assert (await client.post(path, data={**tokens, **WBS_FIELDS})).status_code == 201
    replay = await client.post(path, data={**tokens, **WBS_FIELDS})
    assert replay.status_code == 422 and "sudah dipakai" in replay.text
    assert await count_reports(db, unit) == 1

    use_limits(app, settings, pow_difficulty=2)
    body, _receipt, _sealed = await submission(client, unit, [world["key"]])
    assert (await client.post("/api/v1/reports", json=body)).status_code == 201
    again = await client.post("/api/v1/reports", json=body)
    # Work is bound to the report id: sending the same report again is a duplicate (409).
    assert again.status_code == 409 and again.json()["error"] == "conflict"


async def test_anonymous_csrf_tokens_are_bound_to_their_form_challenge(client, world):
    path = f"/lapor/{world['unit'].code}/wbs"
    first = await form_tokens(client, path)
    second = await form_tokens(client, path)
    swapped = await client.post(
        path, data={"csrf_token": first["csrf_token"], "tantangan": second["tantangan"]}
    )
    assert swapped.status_code == 403


# --------------------------------------------------------------------------- buckets after work


async def test_forged_or_replayed_proofs_do_not_charge_the_submission_bucket(
    app, client, db, settings, world
):
    use_limits(app, settings, pow_difficulty=2, submit_rate_per_minute=2)
    unit, key = world["unit"], world["key"]
    first, _r, _s = await submission(client, unit, [key])
    assert (await client.post("/api/v1/reports", json=first)).status_code == 201
    for _ in range(10):
        junk, _r, _s = await submission(client, unit, [key])
        challenge = junk["pow"]["challenge"]
        junk["pow"]["challenge"] = challenge[:-1] + ("1" if challenge.endswith("0") else "0")
        assert (await client.post("/api/v1/reports", json=junk)).status_code == 422
        assert (await client.post("/api/v1/reports", json=first)).status_code == 409  # replay
    honest, _r, _s = await submission(client, unit, [key])
    assert (await client.post("/api/v1/reports", json=honest)).status_code == 201
    assert await count_reports(db, unit) == 2


async def test_a_flood_raises_the_difficulty_and_an_honest_reporter_still_succeeds(
    app, client, db, settings, world
):
    """One sender floods with work solved at the cheap difficulty it was first offered: the
    difficulty of new challenges rises with the shared bucket, an honest reporter solving
    the current challenge gets through, and the bucket refuses only when it is full."""
    use_limits(
        app,
        settings,
        Clock(),  # stands still: the bucket does not drain during the test
        pow_difficulty=1,
        pow_difficulty_rise=7,
        pow_load_start=0.25,
        submit_rate_per_minute=16,
    )
    unit, key = world["unit"], world["key"]
    cheap = (await client.get("/api/v1/pow")).json()
    assert cheap["difficulty"] == 1

    async def flood(challenge: dict[str, Any] | None = None) -> httpx.Response:
        challenge = challenge or (await client.get("/api/v1/pow")).json()
        body, _r, _s = await submission(client, unit, [key])
        body["pow"] = solve_pow(challenge, body["envelope"]["report_id"])
        return await client.post("/api/v1/reports", json=body)

    # A stock of one cheap challenge stops working once the load has risen past it ...
    answers = [await flood(cheap) for _ in range(8)]
    assert [a.status_code for a in answers] == [201] * 6 + [422] * 2
    assert "Beban server naik" in answers[-1].text and "load rose" in answers[-1].text
    # ... and each new challenge asks for more work as the shared bucket fills.
    issued = []
    for _ in range(7):
        current = (await client.get("/api/v1/pow")).json()
        issued.append(current["difficulty"])
        assert (await flood(current)).status_code == 201
    assert issued == [3, 3, 4, 4, 5, 6, 6], issued

    honest, _r, _s = await submission(client, unit, [key])  # solves the current challenge
    current = honest["pow"]["challenge"]
    assert current.split(".")[1] == "7"
    rid = honest["envelope"]["report_id"]
    short = next(
        str(n)
        for n in range(10**6)
        if 1 <= leading_zero_bits(work_digest(current, rid, str(n))) < 7
    )
    cheated = await client.post(
        "/api/v1/reports", json={**honest, "pow": {**honest["pow"], "nonce": short}}
    )
    assert cheated.status_code == 422  # the signed difficulty is what is checked
    assert (await client.post("/api/v1/reports", json=honest)).status_code == 201

    last = [(await flood()).status_code for _ in range(3)]
    assert last == [201, 201, 429]  # the last resort
    assert (await client.get("/api/v1/pow")).json()["difficulty"] == 8  # the bound
    assert await count_reports(db, unit) == 16


async def test_random_mailbox_logins_need_work_and_do_not_lock_out_the_reporter(
    app, client, settings, world
):
    use_limits(app, settings, pow_difficulty=2, mailbox_login_rate_per_minute=3)
    body, receipt, _sealed = await submission(client, world["unit"], [world["key"]])
    assert (await client.post("/api/v1/reports", json=body)).status_code == 201
    guesses = [lib_receipt.derive_from_receipt(lib_receipt.new_receipt()) for _ in range(20)]
    for guess in guesses[:10]:
        unpaid = await client.post("/api/v1/mailbox/login", json={"lookup": guess.lookup_b64u})
        assert unpaid.status_code == 422
    answers = [(await mailbox_login(client, g.lookup_b64u)).status_code for g in guesses[10:]]
    assert answers == [404] * 3 + [429] * 7  # the bucket is the last resort, for misses only
    real = lib_receipt.derive_from_receipt(receipt)
    assert (await mailbox_login(client, real.lookup_b64u)).status_code == 200
    client.cookies.clear()
    # Without JavaScript too: the real receipt opens the mailbox while guesses are throttled.
    tokens = await form_tokens(client, "/kotak-surat")
    opened = await client.post("/kotak-surat", data={**tokens, "tanda_terima": receipt})
    assert opened.status_code == 200 and "rahasia" in opened.text


# --------------------------------------------------------------------------- mailbox quota


async def _message(client, token: str, size: int = 64) -> httpx.Response:
    body = {"id": str(uuid.uuid4()), "box": b64u_encode(b"\x01" * size)}
    return await client.post(
        "/api/v1/mailbox/messages", json=body, headers={"authorization": f"Bearer {token}"}
    )


async def test_mailbox_messages_and_bytes_are_metered_per_report(app, client, settings, world):
    use_limits(
        app,
        settings,
        pow_difficulty=2,
        mailbox_max_messages_per_report=3,
        mailbox_max_bytes_per_report=4096,
    )
    tokens = []
    for _ in range(2):
        body, receipt, _sealed = await submission(client, world["unit"], [world["key"]])
        assert (await client.post("/api/v1/reports", json=body)).status_code == 201
        login = await mailbox_login(client, lib_receipt.derive_from_receipt(receipt).lookup_b64u)
        tokens.append(login.json()["token"])
        client.cookies.clear()
    first, second = tokens
    assert [(await _message(client, first)).status_code for _ in range(3)] == [201] * 3
    full = await _message(client, first)
    assert full.status_code == 429 and full.json()["error"] == "mailbox_full"
    assert "Batas pesan" in full.json()["message_id"] and "limit" in full.json()["message_en"]
    assert (await _message(client, second, 3000)).status_code == 201  # its own quota
    big = await _message(client, second, 3000)
    assert big.status_code == 413 and big.json()["error"] == "mailbox_too_large"


# --------------------------------------------------------------------------- PostgreSQL races


@pytest.fixture
async def fresh_app(tmp_path, fresh_db_url, backend):
    """An app on a database of its own: each request gets its own pooled connection."""
    if backend != "postgresql":
        pytest.skip("a race: PostgreSQL only")
    application = create_app(make_settings(tmp_path / "var", fresh_db_url))
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield application, c


async def test_a_challenge_sent_concurrently_is_accepted_once(fresh_app):
    app, client = fresh_app
    tokens = await form_tokens(client, "/kotak-surat")
    unknown = lib_receipt.new_receipt()
    answers = await asyncio.gather(
        *(client.post("/kotak-surat", data={**tokens, "tanda_terima": unknown}) for _ in range(12))
    )
    winners = [a for a in answers if a.status_code == 404]  # spent it, then: unknown receipt
    replays = [a for a in answers if a.status_code == 422 and "sudah dipakai" in a.text]
    assert len(winners) == 1 and len(replays) == 11, [a.status_code for a in answers]

    app.state.reporting = Reporting.build(
        app.state.settings, app.state.security.master, ReportingLimits(pow_difficulty=2)
    )
    lookup = lib_receipt.derive_from_receipt(unknown).lookup_b64u
    challenge = (await client.get("/api/v1/pow")).json()
    from wbs.client.flows import solve_pow

    body = {"lookup": lookup, "pow": solve_pow(challenge, lookup)}
    answers = await asyncio.gather(
        *(client.post("/api/v1/mailbox/login", json=body) for _ in range(12))
    )
    codes = sorted(a.status_code for a in answers)
    assert codes == [404] + [422] * 11, codes


async def test_concurrent_mailbox_messages_never_pass_the_quota(fresh_app):
    app, client = fresh_app
    app.state.reporting = Reporting.build(
        app.state.settings,
        app.state.security.master,
        ReportingLimits(mailbox_max_messages_per_report=5),
    )
    token = "t" * 43
    async with app.state.sessionmaker() as db:
        unit = await create_unit(db, code="KUOTA", name="Kuota", parent_code=None, actor="test")
        await db.flush()
        channel = await db.scalar(
            select(Channel).where(Channel.unit_id == unit.id, Channel.case_type == CaseType.wbs)
        )
        now = utcnow()
        report = Report(
            public_id=str(uuid.uuid4()),
            unit_id=unit.id,
            channel_id=channel.id,
            case_type=CaseType.wbs,
            year=2026,
            seq=1,
            case_number="WBS-2026-000001",
            submitted_at=now,
            last_activity_at=now,
            status_changed_at=now,
            lookup_hash="0" * 64,
            envelope_version=1,
            content="x",
            identity=None,
            reporter_key="x",
            envelope_sha256="0" * 64,
            proof_signature="x",
            directory_version=1,
            excluded_key_ids=[],
            excluded_staff_ids=[],
        )
        db.add(report)
        await db.flush()
        db.add(
            MailboxSession(
                id=sha256(token.encode()).hexdigest(),
                report_id=report.id,
                expires_at=datetime_in(3600),
            )
        )
        await db.commit()
        report_pk = report.id
    answers = await asyncio.gather(*(_message(client, token) for _ in range(20)))
    codes = sorted(a.status_code for a in answers)
    assert codes == [201] * 5 + [429] * 15, codes
    async with app.state.sessionmaker() as db:
        stored = await db.scalar(select(func.count()).where(Message.report_id == report_pk))
        used = await db.scalar(select(Report.mailbox_messages).where(Report.id == report_pk))
    assert stored == 5 and used == 5


def datetime_in(seconds: int):
    from datetime import timedelta

    return utcnow() + timedelta(seconds=seconds)
