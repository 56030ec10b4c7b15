"""The daily digest: one per officer per day, counts only, for assigned cases near a deadline."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from tests.workflow.helpers import make_report
from wbs.calendar.workdays import WorkCalendar
from wbs.outbox.models import OutboxMessage
from wbs.worker import queue_digests
from wbs.workflow import service as engine
from wbs.workflow.registry import load_all
from wbs.workflow.service import Clock

WORKFLOWS = load_all()


async def test_one_digest_per_officer_per_day(db, make_unit, make_staff):
    unit = await make_unit()
    officer = (await make_staff(unit, "verifikator")).staff
    idle = (await make_staff(unit, "verifikator")).staff
    for seq, start in ((1, date(2026, 5, 4)), (2, date(2026, 5, 12))):
        report = await make_report(db, unit, "wbs", seq=seq)
        await engine.begin(db, WORKFLOWS, WorkCalendar(), report, Clock.on(start))
        await engine.act(
            db,
            WORKFLOWS,
            WorkCalendar(),
            report=report,
            unit=unit,
            actor=officer,
            action="konfirmasi_penerimaan",
            expected_state="diterima",
            facts={},
            with_message=False,
            clock=Clock.on(start),
        )
    # verifikasi: 7 WD from 4 May -> 13 May; from 12 May -> 25 May (14-15 May Ascension).
    assert await queue_digests(db, date(2026, 5, 19)) == 1
    assert await queue_digests(db, date(2026, 5, 19)) == 0
    rows = [
        m for m in await db.scalars(select(OutboxMessage).where(OutboxMessage.kind == "digest"))
    ]
    assert [(m.payload["staff_id"], m.payload["overdue"], m.payload["due_soon"]) for m in rows] == [
        (officer.id, 1, 0)
    ]
    assert idle.id not in {m.payload["staff_id"] for m in rows}
