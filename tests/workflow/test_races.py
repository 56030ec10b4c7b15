"""Officers racing the same transition: one wins, the others get a clear conflict."""

from __future__ import annotations

import asyncio
from datetime import date

from sqlalchemy import func, select

from tests.workflow.helpers import make_report
from wbs.audit.models import AuditEvent
from wbs.calendar.workdays import WorkCalendar
from wbs.core.db import make_engine, make_sessionmaker
from wbs.core.errors import DomainError
from wbs.reporting.models import Report
from wbs.staff.models import Role, Staff
from wbs.staff.service import Security, create_staff
from wbs.units.models import Unit
from wbs.units.service import create_unit
from wbs.workflow import service as engine
from wbs.workflow.registry import load_all
from wbs.workflow.service import Clock

WORKFLOWS = load_all()
N = 8


async def test_concurrent_transitions_one_wins(fresh_db_url, settings):
    db_engine = make_engine(fresh_db_url)
    sessions = make_sessionmaker(db_engine)
    try:
        async with sessions() as db:
            unit = await create_unit(db, code="BALAPAN", name="Unit", actor="test")
            security = Security.from_settings(settings)
            ids = []
            for i in range(N):
                staff, _ = await create_staff(
                    db,
                    security,
                    email=f"v{i}@balapan.go.id",
                    name="V",
                    unit_code="BALAPAN",
                    roles=[Role.verifikator],
                    login_secret="x" * 43,
                    kdf_params=None,
                    actor="test",
                )
                ids.append(staff.id)
            report = await make_report(db, unit, "wbs")
            await engine.begin(db, WORKFLOWS, WorkCalendar(), report, Clock.on(date(2026, 5, 4)))
            await db.commit()
            report_id, unit_id = report.id, unit.id

        async def attempt(staff_id: int) -> str:
            async with sessions() as db:
                actor = await db.get(Staff, staff_id)
                case = await db.get(Report, report_id)
                owner = await db.get(Unit, unit_id)
                assert actor and case and owner
                await engine.state_of(db, WORKFLOWS, case)
                try:
                    await engine.act(
                        db,
                        WORKFLOWS,
                        WorkCalendar(),
                        report=case,
                        unit=owner,
                        actor=actor,
                        action="konfirmasi_penerimaan",
                        expected_state="diterima",
                        facts={},
                        with_message=False,
                        clock=Clock.on(date(2026, 5, 5)),
                    )
                    await db.commit()
                    return "ok"
                except DomainError as exc:
                    await db.rollback()
                    return exc.code

        results = await asyncio.gather(*(attempt(i) for i in ids))
        assert results.count("ok") == 1, results
        assert set(results) == {"ok", "state_changed"}, results
        async with sessions() as db:
            case = await db.get(Report, report_id)
            assert case is not None
            assert (await engine.state_of(db, WORKFLOWS, case)).state == "verifikasi"
            moves = await db.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "case.transition")
            )
            assert moves == 1
    finally:
        await db_engine.dispose()
