"""A unit's calendar in the database and through `wbs calendar`."""

from __future__ import annotations

from datetime import date

import pytest

from tests.foundation.test_cli import wbs
from wbs.audit import service as audit
from wbs.calendar import service
from wbs.core.errors import Conflict, NotFound, ValidationFailed


async def test_unit_policy_and_closures_change_due_dates(db, make_unit):
    unit = await make_unit("KALENDER")
    start = date(2026, 3, 17)
    assert (await service.calendar_for(db, unit)).add(start, 3) == date(2026, 3, 27)

    await service.set_cuti_bersama(db, unit, libur=False, actor_id=None, actor="test")
    assert (await service.calendar_for(db, unit)).add(start, 3) == date(2026, 3, 23)

    await service.add_closure(
        db, unit, date(2026, 3, 23), "Hari jadi kota", actor_id=None, actor="test"
    )
    assert (await service.calendar_for(db, unit)).add(start, 3) == date(2026, 3, 24)

    with pytest.raises(Conflict):
        await service.add_closure(db, unit, date(2026, 3, 23), "lagi", actor_id=None, actor="test")
    with pytest.raises(ValidationFailed):
        await service.add_closure(db, unit, date(2026, 3, 30), " ", actor_id=None, actor="t")
    await service.remove_closure(db, unit, date(2026, 3, 23), actor_id=None, actor="test")
    with pytest.raises(NotFound):
        await service.remove_closure(db, unit, date(2026, 3, 23), actor_id=None, actor="test")
    assert (await service.calendar_for(db, unit)).add(start, 3) == date(2026, 3, 23)

    report = await audit.verify_unit(db, unit)
    assert report.ok


def test_cli_due_dates(tmp_path):
    def due(*args: str) -> str:
        result = wbs(tmp_path, "calendar", "due", *args)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    assert due("2026-03-17", "3") == "2026-03-27"
    assert due("2026-03-17", "3", "--no-cuti-bersama") == "2026-03-23"
    assert due("2026-03-17", "3", "--calendar-days") == "2026-03-20"
    refused = wbs(tmp_path, "calendar", "due", "2026-02-30", "3")
    assert refused.returncode != 0
    assert "YYYY-MM-DD" in refused.stderr


def test_cli_unit_calendar(tmp_path):
    assert wbs(tmp_path, "db", "upgrade").returncode == 0
    assert wbs(tmp_path, "unit", "create", "KLT", "--name", "Kantor Klaten").returncode == 0
    closed = wbs(tmp_path, "calendar", "closure", "add", "KLT", "2026-03-25", "--reason", "Banjir")
    assert closed.returncode == 0, closed.stderr
    due = wbs(tmp_path, "calendar", "due", "2026-03-17", "3", "--unit", "KLT")
    assert due.stdout.strip() == "2026-03-30", due.stderr
    assert wbs(tmp_path, "calendar", "cuti-bersama", "KLT", "--kerja").returncode == 0
    due = wbs(tmp_path, "calendar", "due", "2026-03-17", "3", "--unit", "KLT")
    assert due.stdout.strip() == "2026-03-23"
    listed = wbs(tmp_path, "calendar", "closure", "list", "KLT")
    assert "2026-03-25  Banjir" in listed.stdout
    missing = wbs(tmp_path, "calendar", "due", "2026-03-17", "3", "--unit", "NOPE")
    assert missing.returncode == 1
    assert "not found" in missing.stderr
