import json, time
from tests.indicators.dataset import build, AS_OF
from wbs.indicators import service
from wbs.indicators.service import compute_tree, parse_period, compute

async def test_probe(db, make_unit, make_staff, backend, monkeypatch):
    t = await build(db, make_unit, make_staff)
    def cap(tree, k):
        json.dump(tree, open("/tmp/nested.json","w"))
        raise SystemError("captured")
    monkeypatch.setattr(service, "suppress", cap)
    try:
        await compute_tree(db, t.p, parse_period("2026"), public=True, today=AS_OF)
    except SystemError:
        pass
