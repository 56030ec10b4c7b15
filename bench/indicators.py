"""Benchmark: indicators over N cases in a 200-unit tree on PostgreSQL, against a bare count.

Cases, states, milestones, timers, facts and mailbox messages are written with bulk
`INSERT ... SELECT generate_series` (no workflow engine), spread over 2024-2026 and the 200
units; the aggregates are then built with `wbs.indicators.aggregates.rebuild` (what the
migration and `wbs indicators rebuild` run), then `VACUUM ANALYZE`. Timed (median of
--runs, after one warm-up): a leaf unit's year, the root's year, the root with its children,
and a leaf's public figures (whole tree computed, its suppression pattern read from the
cache), each beside `SELECT count(*)` over the same reports; the public figures' first
request (pattern computed and stored) once. `--direct` also times the direct queries over
every case (the path before the aggregates).

Run: .venv/bin/python bench/indicators.py [--cases 1000000] [--runs 5] [--url URL] [--direct]
(without --url it starts a throwaway cluster like the tests do).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from wbs.core.db import make_engine, make_sessionmaker  # noqa: E402
from wbs.indicators import aggregates, service  # noqa: E402
from wbs.indicators.models import IndicatorPattern  # noqa: E402
from wbs.migrate import upgrade  # noqa: E402
from wbs.units.models import Unit  # noqa: E402

CHILDREN, GRANDCHILDREN = 10, 19  # 1 + 10 + 190 = 201 units

POPULATE = [
    # units: BENCH (root), BENCH-01..10, BENCH-01-01..10-19
    """INSERT INTO units (code, name, parent_id, created_at)
       VALUES ('BENCH', 'Bench root', NULL, now())""",
    """INSERT INTO units (code, name, parent_id, created_at)
       SELECT 'BENCH-' || lpad(c::text, 2, '0'), 'Bench ' || c,
              (SELECT id FROM units WHERE code = 'BENCH'), now()
       FROM generate_series(1, :children) c""",
    """INSERT INTO units (code, name, parent_id, created_at)
       SELECT p.code || '-' || lpad(g::text, 2, '0'), p.name || '.' || g, p.id, now()
       FROM units p, generate_series(1, :grandchildren) g WHERE p.code LIKE 'BENCH-__'""",
    """INSERT INTO channels (unit_id, case_type, name, enabled, created_at)
       SELECT u.id, t.t, t.t, true, now() FROM units u,
       (VALUES ('pengaduan'), ('wbs'), ('gratifikasi'), ('benturan_kepentingan')) t(t)
       WHERE u.code LIKE 'BENCH%'""",
    """CREATE TEMP TABLE bench_units AS
       SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM units WHERE code LIKE 'BENCH%'""",
    # reports: unit, channel and day at random; ids in submission order like a real system
    """INSERT INTO reports (public_id, unit_id, channel_id, case_type, year, seq, case_number,
         submitted_at, last_activity_at, server_sealed, status, status_changed_at, lookup_hash,
         envelope_version, content, identity, reporter_key, envelope_sha256, proof_signature,
         directory_version, excluded_key_ids, excluded_staff_ids, mailbox_messages,
         mailbox_bytes)
       SELECT md5(i::text)::uuid::text, bu.id, ch.id, ch.case_type,
              extract(year FROM s.at)::int, i, 'B' || i, s.at, s.at, random() < 0.2,
              'diterima', s.at, md5(i::text) || md5((-i)::text), 1, '-', NULL, '-',
              repeat('0', 64), '-', 1, '[]', '[]', 0, 0
       FROM (SELECT i, timestamptz '2024-01-01 00:00+07'
                       + (i::float / :n) * interval '1096 days' AS at,
                    floor(random() * (SELECT count(*) FROM bench_units))::int AS un,
                    (ARRAY['pengaduan','wbs','gratifikasi','benturan_kepentingan'])
                      [1 + floor(random() * 4)::int] AS ct
             FROM generate_series(1, :n) i) s
       JOIN bench_units bu ON bu.n = s.un
       JOIN channels ch ON ch.unit_id = bu.id AND ch.case_type = s.ct
       ORDER BY s.at""",
    """INSERT INTO case_states (report_id, workflow, workflow_version, state, entered_at)
       SELECT id, case_type, 1,
              CASE WHEN id % 2 = 0 THEN 'selesai' ELSE 'verifikasi' END, submitted_at
       FROM reports""",
    """INSERT INTO case_milestones (report_id, name, state, reached_at, working_days)
       SELECT r.id, m.name, 'x', r.submitted_at + (m.wd || ' days')::interval, m.wd
       FROM reports r CROSS JOIN LATERAL (VALUES
         ('first_response', (r.id % 7)::int, r.id % 10 <> 9),
         ('verified', (r.id % 11)::int + 2, r.id % 5 < 3),
         ('followed_up', (r.id % 13)::int + 5, r.id % 5 < 2),
         ('forwarded', (r.id % 13)::int + 5, r.id % 10 = 0),
         ('completed', (r.id % 61)::int + 7, r.id % 2 = 0)) m(name, wd, reached)
       WHERE m.reached""",
    """INSERT INTO case_timers (report_id, name, rule, count, days, base_on, due_on, pauses,
         paused_on, stopped_on)
       SELECT r.id, t.name, '-', 'working', 5, r.submitted_at::date,
              r.submitted_at::date + 7, '[]', NULL,
              CASE WHEN t.stopped THEN r.submitted_at::date + (r.id % 10)::int END
       FROM reports r CROSS JOIN LATERAL (VALUES
         ('verifikasi', r.id % 4 <> 3), ('tindak_lanjut', r.id % 2 = 0)) t(name, stopped)""",
    """INSERT INTO case_facts (report_id, name, value, action, recorded_at)
       SELECT r.id, f.name, to_json(f.value)::json, 'bench', r.submitted_at
       FROM reports r CROSS JOIN LATERAL (VALUES
         ('nilai_estimasi', (ARRAY['kurang_1jt','antara_1_10jt','antara_10_100jt',
            'lebih_100jt'])[1 + (r.id % 4)::int], r.case_type = 'gratifikasi'),
         ('jenis_laporan', (ARRAY['penerimaan','penolakan','penyaluran'])[1 + (r.id % 3)::int],
            r.case_type = 'gratifikasi'),
         ('jenis', (ARRAY['deklarasi','aduan'])[1 + (r.id % 2)::int],
            r.case_type = 'benturan_kepentingan'),
         ('bentuk_pengendalian', 'pembatasan', r.case_type = 'benturan_kepentingan'),
         ('tujuan_pelimpahan', 'kpk', r.case_type = 'wbs' AND r.id % 10 = 0)) f(name, value, on_)
       WHERE f.on_""",
    """INSERT INTO report_messages (report_id, public_id, sender_role, staff_id, box, created_at)
       SELECT r.id, md5('m' || r.id || m.role)::uuid::text, m.role, NULL, '-',
              r.submitted_at + interval '3 days'
       FROM reports r CROSS JOIN (VALUES ('reporter'), ('officer')) m(role)
       WHERE r.id % 3 = 0""",
]


async def _timed(runs: int, job: Callable[[], Awaitable[Any]]) -> float:
    await job()  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        await job()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


async def run(url: str, cases: int, runs: int, direct: bool) -> None:
    engine = make_engine(url)
    async with engine.begin() as conn:
        start = time.perf_counter()
        for sql in POPULATE:
            params = {"n": cases, "children": CHILDREN, "grandchildren": GRANDCHILDREN}
            await conn.execute(text(sql), {k: v for k, v in params.items() if f":{k}" in sql})
        print(f"populated {cases:,} cases in {time.perf_counter() - start:.0f} s")
    async with engine.begin() as conn:
        start = time.perf_counter()
        await conn.run_sync(aggregates.rebuild, "Asia/Jakarta")
        print(f"aggregates rebuilt in {time.perf_counter() - start:.0f} s")
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("VACUUM ANALYZE"))
    sessions = make_sessionmaker(engine)
    year = service.parse_period("2026")
    opts: dict[str, Any] = {"today": date(2027, 1, 4)}
    async with sessions() as db:
        leaf_unit = await db.scalar(select(Unit).where(Unit.code == "BENCH-03-07"))
        root_unit = await db.scalar(select(Unit).where(Unit.code == "BENCH"))
        assert leaf_unit is not None and root_unit is not None

        def bare(unit: Unit) -> Callable[[], Awaitable[Any]]:
            sql = text(
                """WITH RECURSIVE t(id) AS (SELECT id FROM units WHERE id = :u
                   UNION ALL SELECT units.id FROM units JOIN t ON units.parent_id = t.id)
                   SELECT count(*) FROM reports WHERE unit_id IN (SELECT id FROM t)
                   AND submitted_at >= :s AND submitted_at < :e"""
            )
            s, e = year.utc("Asia/Jakarta")
            return lambda: db.execute(sql, {"u": unit.id, "s": s, "e": e})

        in_year = (await bare(root_unit)()).scalar_one()
        jobs = [
            ("leaf unit, one year", leaf_unit, False, False),
            ("root (200 units), one year", root_unit, False, False),
            ("root with its 10 children side by side", root_unit, True, False),
            ("leaf, public (whole tree computed and suppressed)", leaf_unit, False, True),
        ]
        print(f"reports in 2026: {in_year:,} of {cases:,}")
        await db.execute(delete(IndicatorPattern))
        start = time.perf_counter()
        await service.compute(db, leaf_unit, year, public=True, **opts)
        first = time.perf_counter() - start
        print(f"public figures, first request (pattern computed and stored): {first * 1000:.0f} ms")
        print("| what | indicators | bare count(*) | ratio |" + (" direct |" if direct else ""))
        print("| --- | --- | --- | --- |" + (" --- |" if direct else ""))
        for label, unit, children, public in jobs:
            compute = service.compute_tree if children else service.compute

            async def job(
                unit: Unit = unit, compute: Any = compute, public: bool = public, old: bool = False
            ) -> Any:
                return await compute(db, unit, year, public=public, direct=old, **opts)

            took = await _timed(runs, job)
            base = await _timed(runs, bare(unit))
            row = f"| {label} | {took * 1000:.0f} ms | {base * 1000:.1f} ms | {took / base:.0f}x |"
            if direct:
                old = await _timed(1, lambda job=job: job(old=True))
                row += f" {old * 1000:.0f} ms |"
            print(row)
    await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--url", help="an empty PostgreSQL database (migrated here)")
    parser.add_argument("--direct", action="store_true", help="also time the direct queries")
    args = parser.parse_args()
    cluster = None
    url = args.url
    if url is None:
        from tests.pg import start_cluster

        cluster = start_cluster()
        cluster.psql("CREATE DATABASE wbs_bench")
        url = cluster.url("wbs_bench")
    try:
        upgrade(url)
        asyncio.run(run(url, args.cases, args.runs, args.direct))
    finally:
        if cluster is not None:
            cluster.stop()


if __name__ == "__main__":
    main()
