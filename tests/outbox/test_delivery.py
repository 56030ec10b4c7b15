"""Notifications through a real SMTP server: none lost while it is down, each sent once."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests.conftest import make_settings
from tests.outbox.smtp import SmtpServer
from tests.workflow.helpers import make_report
from wbs.calendar.workdays import WorkCalendar
from wbs.core.db import make_engine, make_sessionmaker, utcnow
from wbs.outbox import delivery
from wbs.outbox import service as outbox
from wbs.outbox.models import OutboxMessage
from wbs.staff.models import Role
from wbs.staff.service import Security, create_staff
from wbs.units.service import create_unit
from wbs.workflow import service as engine
from wbs.workflow.registry import load_all
from wbs.workflow.service import Clock

CANARY = "KANARI-ISI-LAPORAN-7f3a"


@pytest.fixture
def smtp():
    server = SmtpServer()
    yield server
    server.stop()


async def test_outage_then_each_notification_once(tmp_path, fresh_db_url, smtp):
    settings = make_settings(
        tmp_path,
        fresh_db_url,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_starttls=False,
        mail_from="wbs@unit.go.id",
        base_url="https://wbs.unit.go.id",
    )
    engine = make_engine(fresh_db_url)
    sessions = make_sessionmaker(engine)
    try:
        async with sessions() as db:
            await create_unit(db, code="SURAT", name="Unit", actor="test")
            security = Security.from_settings(settings)
            people = []
            for email, role in (
                ("v@unit.go.id", Role.verifikator),
                ("a1@unit.go.id", Role.atasan),
                ("a2@unit.go.id", Role.atasan),
            ):
                staff, _ = await create_staff(
                    db,
                    security,
                    email=email,
                    name="X",
                    unit_code="SURAT",
                    roles=[role],
                    login_secret="x" * 43,
                    actor="test",
                )
                people.append(staff)
            await db.commit()
            unit_id = people[0].unit_id
            await outbox.enqueue(
                db,
                "case_needs_you",
                case="c-1",
                unit_id=unit_id,
                reason="transition",
                staff_id=people[0].id,
                role=None,
            )
            await outbox.enqueue(
                db,
                "case_needs_you",
                case="c-2",
                unit_id=unit_id,
                reason="escalated",
                staff_id=None,
                role="atasan",
            )
            await db.commit()

        t0 = utcnow()
        # The SMTP server is down: nothing is lost, each row records the failure.
        run = await delivery.deliver(settings, sessions, clock=lambda: t0)
        assert (run.sent, run.failed) == (0, 2)
        async with sessions() as db:
            rows = list(await db.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
            assert all(r.sent_at is None and r.attempts == 1 and r.last_error for r in rows)
            assert [r.id for r in await delivery.failures(db)] == [r.id for r in rows][::-1]
        # Not due yet (backoff): a second run sends nothing even with the server back.
        smtp.start()
        assert (await delivery.deliver(settings, sessions, clock=lambda: t0)).sent == 0
        later = t0 + timedelta(seconds=31)
        run = await delivery.deliver(settings, sessions, clock=lambda: later)
        assert (run.sent, run.failed) == (2, 0)
        assert (
            await delivery.deliver(settings, sessions, clock=lambda: later + timedelta(hours=2))
        ).sent == 0
    finally:
        await engine.dispose()
    to = sorted(m["To"] for m in smtp.collector.messages)
    assert to == ["a1@unit.go.id", "a2@unit.go.id", "v@unit.go.id"]
    ids = [m["Message-ID"] for m in smtp.collector.messages]
    assert len(ids) == 3 and all(i.startswith("<outbox-") for i in ids)
    for raw in smtp.collector.raw:
        assert b"https://wbs.unit.go.id/staff/cases/c-" in raw
        assert CANARY.encode() not in raw


def test_compose_never_carries_payload_text(tmp_path):
    settings = make_settings(tmp_path, "sqlite+aiosqlite://")
    payload = {"case": "c-9", "unit_id": 1, "reason": CANARY, "staff_id": 1, "role": None}
    mail = delivery.compose(settings, "case_needs_you", payload, "x@unit.go.id")
    assert mail is not None and CANARY not in mail.body and CANARY not in mail.subject
    assert delivery.compose(settings, "unknown", payload, "x@unit.go.id") is None


async def test_free_text_fact_never_reaches_mail(tmp_path, fresh_db_url, smtp):
    """A canary in a free-text case fact (recorded at a transition) is in no mail sent."""
    settings = make_settings(
        tmp_path,
        fresh_db_url,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_starttls=False,
        mail_from="wbs@unit.go.id",
        base_url="https://wbs.unit.go.id",
    )
    smtp.start()
    workflows, calendar = load_all(), WorkCalendar()
    engine_ = make_engine(fresh_db_url)
    sessions = make_sessionmaker(engine_)
    try:
        async with sessions() as db:
            unit = await create_unit(db, code="FAKTA", name="Unit", actor="test")
            security = Security.from_settings(settings)
            verifikator, _ = await create_staff(
                db,
                security,
                email="v@unit.go.id",
                name="X",
                unit_code="FAKTA",
                roles=[Role.verifikator],
                login_secret="x" * 43,
                actor="test",
            )
            report = await make_report(db, unit, "pengaduan")
            await engine.begin(db, workflows, calendar, report, Clock.on(date(2026, 3, 17)))
            for action, expected, facts in (
                ("mulai_verifikasi", "diterima", {}),
                ("teruskan_bukan_wewenang", "verifikasi", {"instansi_tujuan": CANARY}),
            ):
                await engine.act(
                    db,
                    workflows,
                    calendar,
                    report=report,
                    unit=unit,
                    actor=verifikator,
                    action=action,
                    expected_state=expected,
                    facts=facts,
                    with_message=bool(facts),
                    clock=Clock.on(date(2026, 3, 25)),
                )
            await outbox.enqueue(
                db,
                "case_needs_you",
                case=report.public_id,
                unit_id=unit.id,
                reason="transition",
                staff_id=verifikator.id,
                role=None,
            )
            await db.commit()
            queued = list(await db.scalars(select(OutboxMessage)))
            assert queued and all(CANARY not in str(row.payload) for row in queued)
        run = await delivery.deliver(settings, sessions, clock=utcnow)
        assert run.sent == len(queued) and run.failed == 0
    finally:
        await engine_.dispose()
    assert smtp.collector.raw
    for raw in smtp.collector.raw:
        assert CANARY.encode() not in raw
