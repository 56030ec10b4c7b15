"""The admin's calendar page: holidays listed, cuti bersama switched, closures added."""

from __future__ import annotations

from datetime import date

from tests.conftest import CSRF_RE, login
from wbs.calendar import service


async def test_admin_sets_the_unit_calendar_on_the_page(client, db, make_unit, make_staff):
    unit = await make_unit()
    admin = await make_staff(unit, "admin")
    assert (await login(client, admin)).status_code == 303
    page = await client.get(f"/admin/units/{unit.code}/calendar?year=2026")
    assert page.status_code == 200
    assert "2026-03-21" in page.text and "2026-03-23" in page.text  # Idul Fitri, cuti bersama
    token = CSRF_RE.search(page.text).group(1)
    base = f"/admin/units/{unit.code}/calendar"
    assert (
        await client.post(f"{base}/cuti-bersama", data={"csrf_token": token, "libur": "tidak"})
    ).status_code == 303
    added = await client.post(
        f"{base}/closures",
        data={"csrf_token": token, "day": "2026-03-20", "reason": "Hari jadi kota"},
    )
    assert added.status_code == 303
    twice = await client.post(
        f"{base}/closures", data={"csrf_token": token, "day": "2026-03-20", "reason": "lagi"}
    )
    assert twice.status_code == 409 and "already closed" in twice.text
    bad = await client.post(
        f"{base}/closures", data={"csrf_token": token, "day": "kemarin", "reason": "x"}
    )
    assert bad.status_code == 422
    calendar = await service.calendar_for(db, unit)
    assert calendar.add(date(2026, 3, 17), 3) == date(2026, 3, 24)  # 18, 23, 24 work; 20 shut
    assert "Hari jadi kota" in (await client.get(base)).text
    removed = await client.post(f"{base}/closures/2026-03-20/delete", data={"csrf_token": token})
    assert removed.status_code == 303
    assert (await service.calendar_for(db, unit)).closures == frozenset()


async def test_outbox_page_shows_counts_not_content(client, make_unit, make_staff):
    unit = await make_unit()
    admin = await make_staff(unit, "admin")
    assert (await login(client, admin)).status_code == 303
    page = await client.get("/admin/outbox")
    assert page.status_code == 200 and "WBS_SMTP_HOST" in page.text
