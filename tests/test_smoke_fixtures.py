"""The fixtures give a migrated database on each backend and a working app."""

from sqlalchemy import select

from wbs.units.models import Channel


async def test_unit_gets_four_channels(db, make_unit):
    unit = await make_unit("FIXT")
    channels = (await db.scalars(select(Channel).where(Channel.unit_id == unit.id))).all()
    assert sorted(c.case_type.value for c in channels) == [
        "benturan_kepentingan",
        "gratifikasi",
        "pengaduan",
        "wbs",
    ]


async def test_healthz(client):
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
