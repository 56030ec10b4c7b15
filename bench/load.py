"""Browser-path requests on `wbs serve` against the framework ceiling (bench/ceiling.py),
side by side in one run: same machine, same PostgreSQL cluster, same load client, same bodies.

    .venv/bin/python bench/load.py --connections 1,32 --requests 1000
    .venv/bin/python bench/load.py --scenario mailbox --connections 1,32 --requests 1000
    .venv/bin/python bench/load.py --scenario inbox --cases 100000 --connections 1,32

Scenarios (--scenario):
- submit (the default, below): POST /api/v1/reports; the ceiling inserts one row.
- mailbox: --reports reports are submitted first; then, measured apart, receipt logins
  (POST /api/v1/mailbox/login with the lookup id and proof of work solved in advance for
  a fresh challenge, as wbs/client/flows.py does; the ceiling looks one row up by a 32-byte
  key) and mailbox reads (GET /api/v1/mailbox with each login's bearer token; the ceiling
  returns one row by id).
- inbox: --cases copies of a submitted report (wraps, workflow state and timers copied,
  later activity each) are written with INSERT ... SELECT; an officer whose key they are
  wrapped to lists the inbox (GET /api/v1/cases with the session cookie: the first page, as
  the officer page asks); the ceiling returns the first page (same size) of a table of as
  many rows in the order of an index.

What it does:
- starts a throwaway PostgreSQL cluster (tests/pg.py: fsync and synchronous_commit off, for
  both servers alike), `wbs serve --workers 2` (proof-of-work difficulty --difficulty, the
  global submission bucket lifted, the in-process worker off as in a deployment where
  `wbs worker` runs apart) and the ceiling app with as many workers, both on loopback;
- seals every envelope in advance with the client's code (wbs/client/flows.py:
  seal_submission, a 2 KB report to --officers officers + the reporter) and solves its
  proof of work in advance at that difficulty, so the load client only sends bytes;
- for each connection count, sends --requests fresh envelopes (each sent once) to the ceiling
  and then to wbs over that many keep-alive HTTP/1.1 connections (a minimal asyncio client,
  so the client costs little of the shared CPU), after --warmup requests to each;
- prints requests/s, p50/p99/max latency, failures (any other status than the expected one),
  distinct case numbers, server CPU per request, and wbs as a share of the ceiling.
  --profile FILE records the wbs workers with py-spy (when installed) during the last
  count's runs, as collapsed stacks (FILE, or FILE-login and FILE-read for the mailbox).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ceiling import PAGE_SIZE, TABLES  # noqa: E402
from submit_bench import PASS, REPORT, prepare  # noqa: E402

from tests.client.server import Served, free_port  # noqa: E402
from tests.pg import Cluster, start_cluster  # noqa: E402
from wbs.client import flows  # noqa: E402
from wbs.client.api import Api  # noqa: E402
from wbs.staff.deps import SESSION_COOKIE  # noqa: E402


@dataclass
class Run:
    server: str
    connections: int
    expect: int = 201
    what: str = "submit"
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int | str] = field(default_factory=Counter)
    payloads: list[bytes] = field(default_factory=list)  # of the expected answers
    cpu_seconds: float = 0.0  # the server's processes, user + system

    @property
    def ok(self) -> int:
        return self.statuses[self.expect]

    @property
    def failures(self) -> int:
        return sum(n for status, n in self.statuses.items() if status != self.expect)

    @property
    def numbers(self) -> list[str]:
        if self.what != "submit":
            return []
        answers = [json.loads(p) for p in self.payloads]
        return [f"{a.get('unit', '')}/{a['case_number']}" for a in answers]

    def quantile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000

    def row(self) -> dict[str, object]:
        return {
            "scenario": self.what,
            "server": self.server,
            "connections": self.connections,
            "requests": len(self.latencies),
            "per_second": round(len(self.latencies) / self.seconds, 1),
            "p50_ms": round(statistics.median(self.latencies) * 1000, 1),
            "p99_ms": round(self.quantile(0.99), 1),
            "max_ms": round(max(self.latencies) * 1000, 1),
            "failures": self.failures,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items(), key=str)},
            **({"distinct_case_numbers": len(set(self.numbers))} if self.what == "submit" else {}),
            "server_cpu_ms_per_request": round(1000 * self.cpu_seconds / len(self.latencies), 2),
        }


async def _response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    status = int((await reader.readline()).split(b" ", 2)[1])
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, await reader.readexactly(length)


def cpu_seconds(parent: int) -> float:
    """User + system CPU of a server process and its workers, from /proc (Linux)."""
    pids = [parent]
    for task in Path(f"/proc/{parent}/task").iterdir():
        pids += [int(p) for p in (task / "children").read_text().split()]
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / os.sysconf("SC_CLK_TCK")


def post(path: str, body: bytes, headers: str = "") -> bytes:
    """A raw HTTP/1.1 POST of a JSON body (the Host header is added when sent)."""
    return (
        (
            f"POST {path} HTTP/1.1\r\n{headers}"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        ).encode()
        + b"\r\n"
        + body
    )


def get(path: str, headers: str = "") -> bytes:
    return f"GET {path} HTTP/1.1\r\n{headers}".encode() + b"\r\n"


def submission(body: bytes) -> bytes:
    return post("/api/v1/reports", body)


@dataclass
class Phase:
    """What one measured run sends: raw requests, the expected status, a label."""

    what: str
    expect: int = 200


def measured(
    server: str, port: int, requests: list[bytes], connections: int, pid: int, phase: Phase
) -> Run:
    before = cpu_seconds(pid)
    run = asyncio.run(drive(server, port, requests, connections, phase))
    run.cpu_seconds = cpu_seconds(pid) - before
    return run


async def drive(
    server: str,
    port: int,
    requests: list[bytes],
    connections: int,
    phase: Phase = Phase("submit", 201),
) -> Run:
    """Send every request once over `connections` keep-alive connections; time each one."""
    run = Run(server, connections, phase.expect, phase.what)
    pending: Iterator[bytes] = iter(requests)
    host = f"Host: 127.0.0.1:{port}\r\n".encode()

    async def connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for request in pending:
            line, _, rest = request.partition(b"\r\n")
            started = time.perf_counter()
            try:
                writer.write(line + b"\r\n" + host + rest)
                status, payload = await _response(reader)
            except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
                run.latencies.append(time.perf_counter() - started)
                run.statuses[type(exc).__name__] += 1
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                continue
            run.latencies.append(time.perf_counter() - started)
            run.statuses[status] += 1
            if status == run.expect:
                run.payloads.append(payload)
        writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(connections)))
    run.seconds = time.perf_counter() - started
    return run


def _wait_up(url: str, process: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def clone_units(url: str, count: int, directory: dict[str, object]) -> list[dict[str, object]]:
    """Units BENCH2..BENCH<count> made by the unit service (channels, audit entry), each
    given a copy of BENCH's signed directory document with its own unit code: the server
    reads the stored document on submission, so the same officers' keys serve every unit
    (its signature, over BENCH's document, is not re-checked; bench set-up only)."""
    import asyncio as aio

    from sqlalchemy import select

    from wbs.core.db import make_engine, make_sessionmaker
    from wbs.directory.models import SignedDirectory
    from wbs.units.models import Unit
    from wbs.units.service import create_unit

    async def make() -> None:
        engine = make_engine(url)
        try:
            async with make_sessionmaker(engine)() as db:
                bench = await db.scalar(select(Unit).where(Unit.code == "BENCH"))
                assert bench is not None
                signed = await db.scalar(
                    select(SignedDirectory).where(SignedDirectory.unit_id == bench.id)
                )
                assert signed is not None
                for n in range(2, count + 1):
                    unit = await create_unit(db, code=f"BENCH{n}", name=f"Unit Bench {n}")
                    db.add(
                        SignedDirectory(
                            unit_id=unit.id,
                            version=signed.version,
                            document=signed.document.replace('"BENCH"', f'"BENCH{n}"'),
                            signature=signed.signature,
                            signed_at=signed.signed_at,
                        )
                    )
                await db.commit()
        finally:
            await engine.dispose()

    aio.run(make())
    return [directory] + [{**directory, "unit": f"BENCH{n}"} for n in range(2, count + 1)]


@dataclass
class Bench:
    """Both servers of one run, and how each measured pair is run and printed."""

    args: argparse.Namespace
    cluster: Cluster
    served: Served
    ceiling: subprocess.Popen[bytes]
    ceiling_port: int

    def warm(self, phase: Phase, bare: list[bytes], wbs: list[bytes]) -> tuple[Run, Run]:
        return (
            asyncio.run(drive("ceiling", self.ceiling_port, bare, 4, phase)),
            asyncio.run(drive("wbs", self.served.port, wbs, 4, phase)),
        )

    def pair(
        self, phase: Phase, count: int, bare: list[bytes], wbs: list[bytes], profile: Path | None
    ) -> tuple[Run, Run]:
        """The ceiling, then wbs (recorded by py-spy into `profile`), at `count` connections."""
        ceiling = measured("ceiling", self.ceiling_port, bare, count, self.ceiling.pid, phase)
        spy = None
        assert self.served.process is not None
        if profile is not None and shutil.which("py-spy"):
            spy = subprocess.Popen(
                [
                    *("py-spy", "record", "--format", "raw", "--subprocesses"),
                    *("-o", str(profile), "--rate", "200", "--nonblocking"),
                    *("--pid", str(self.served.process.pid)),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(1)
        run = measured("wbs", self.served.port, wbs, count, self.served.process.pid, phase)
        if spy is not None:
            spy.send_signal(2)
            spy.wait(timeout=60)
        for one in (ceiling, run):
            print(json.dumps(one.row()), flush=True)
        print(
            f"{phase.what}, connections {count}: wbs at {len(run.latencies) / run.seconds:.1f}/s"
            f" is {100 * ceiling.seconds / run.seconds:.1f}% of the ceiling's "
            f"{len(ceiling.latencies) / ceiling.seconds:.1f}/s",
            flush=True,
        )
        return ceiling, run

    def profile(self, index: int, counts: list[int], phase: str = "") -> Path | None:
        """Where py-spy writes during the last count's runs (FILE-phase for a second phase)."""
        path: Path | None = self.args.profile
        if path is None or index != len(counts) - 1:
            return None
        return path.with_name(f"{path.stem}-{phase}{path.suffix}") if phase else path

    def sealed(self, directories: list[dict[str, object]], total: int) -> list[dict[str, object]]:
        """`total` submissions sealed by the client's code, their work solved in advance."""
        challenge = httpx.get(f"{self.served.url}/api/v1/pow").json()
        started = time.perf_counter()
        out = []
        for i in range(total):
            sealed = flows.seal_submission(
                directories[i % len(directories)], "wbs", {"text": REPORT}
            )
            submission = dict(sealed.submission)
            submission["pow"] = flows.solve_pow(challenge, sealed.envelope["report_id"])
            out.append(submission)
        print(
            f"sealed {total} envelopes ({self.args.officers} officers + reporter, proof of "
            f"work difficulty {challenge['difficulty']}) in "
            f"{time.perf_counter() - started:.1f} s",
            flush=True,
        )
        return out

    def submitted(self, submissions: list[dict[str, object]]) -> None:
        """Set-up: send submissions to wbs, all of which must be taken."""
        done = asyncio.run(
            drive(
                "wbs",
                self.served.port,
                [submission(json.dumps(s).encode()) for s in submissions],
                4,
                Phase("setup", 201),
            )
        )
        assert done.failures == 0, done.statuses


def submit_scenario(bench: Bench, directories: list[dict[str, object]], counts: list[int]) -> None:
    args = bench.args
    total = args.warmup + args.requests * len(counts)
    bodies = [submission(json.dumps(s).encode()) for s in bench.sealed(directories, total)]
    print(f"average request {statistics.mean(map(len, bodies)):.0f} bytes", flush=True)
    phase = Phase("submit", 201)
    warm, rest = bodies[: args.warmup], bodies[args.warmup :]
    bench.warm(phase, warm, warm)
    runs: list[tuple[Run, Run]] = []
    for index, count in enumerate(counts):
        chunk = rest[index * args.requests : (index + 1) * args.requests]
        runs.append(bench.pair(phase, count, chunk, chunk, bench.profile(index, counts)))
    numbers = sorted(int(n.rsplit("-", 1)[1]) for _b, w in runs for n in w.numbers)
    if args.units == 1:
        gapless = numbers == list(range(numbers[0], numbers[0] + len(numbers)))
        print(f"wbs case numbers, all runs: {len(set(numbers))} distinct, gapless {gapless}")


def _tokens(run: Run) -> list[str]:
    return [str(json.loads(p)["token"]) for p in run.payloads]


def _bearer(tokens: list[str]) -> list[bytes]:
    return [get("/api/v1/mailbox", f"Authorization: Bearer {t}\r\n") for t in tokens]


def mailbox_scenario(bench: Bench, directory: dict[str, object], counts: list[int]) -> None:
    """Receipt logins and mailbox reads, measured apart (each read with a login's token)."""
    args = bench.args
    submissions = bench.sealed([directory], args.reports)
    bench.submitted(submissions)
    lookups = [str(s["lookup"]) for s in submissions]
    total = args.warmup + args.requests * len(counts)
    rounds = -(-total // len(lookups))  # each login needs fresh work: a challenge per round
    challenges = [httpx.get(f"{bench.served.url}/api/v1/pow").json() for _ in range(rounds)]
    logins = [
        post(
            "/api/v1/mailbox/login",
            json.dumps(
                {"lookup": lookup, "pow": flows.solve_pow(challenges[i // len(lookups)], lookup)}
            ).encode(),
        )
        for i in range(total)
        for lookup in [lookups[i % len(lookups)]]
    ]
    # the ceiling's rows: the same 32-byte keys, bodies as long as wbs's mailbox answer
    first = asyncio.run(drive("wbs", bench.served.port, logins[:1], 1, Phase("setup")))
    opened = asyncio.run(
        drive("wbs", bench.served.port, _bearer(_tokens(first)), 1, Phase("setup"))
    )
    size = len(opened.payloads[0])
    hexes = [flows.b64u_decode(lookup).hex() for lookup in lookups]
    for start in range(0, len(hexes), 500):
        values = ",".join(f"('\\x{h}'::bytea)" for h in hexes[start : start + 500])
        bench.cluster.psql(
            "INSERT INTO ceiling_mailbox (lookup, body) SELECT l, convert_to(repeat('x', "  # noqa: S608 - bench's own values
            f"{size}), 'UTF8') FROM (VALUES {values}) v(l)",
            database="ceiling",
        )
    print(f"{len(lookups)} reports; a mailbox answer is {size} bytes", flush=True)
    login, read = Phase("login"), Phase("read")
    warm = logins[1 : args.warmup]
    ceiling, wbs = bench.warm(login, warm, warm)
    bench.warm(read, _bearer(_tokens(ceiling)), _bearer(_tokens(wbs)))
    rest = logins[args.warmup :]
    for index, count in enumerate(counts):
        chunk = rest[index * args.requests : (index + 1) * args.requests]
        ceiling, wbs = bench.pair(login, count, chunk, chunk, bench.profile(index, counts, "login"))
        bench.pair(
            read,
            count,
            _bearer(_tokens(ceiling)),
            _bearer(_tokens(wbs)),
            bench.profile(index, counts, "read"),
        )


# Every case of the inbox is a copy of one submitted report, later activity each.
CLONED = {
    "public_id": "md5('bench' || g)::uuid::text",
    "seq": "t.seq + g",
    "case_number": "t.case_number || '-' || g",
    "submitted_at": "t.submitted_at + g * interval '1 second'",
    "last_activity_at": "t.submitted_at + g * interval '1 second'",
    "status_changed_at": "t.submitted_at + g * interval '1 second'",
    "lookup_hash": "md5(g::text) || md5((-g)::text)",
}
CASE_TABLES = ("report_wraps", "case_states", "case_timers", "case_milestones", "case_facts")


def _columns(cluster: Cluster, table: str) -> list[str]:
    found = cluster.psql(
        "SELECT column_name FROM information_schema.columns WHERE table_name = "  # noqa: S608 - bench's own values
        f"'{table}' AND column_name NOT IN ('id', 'report_id') ORDER BY ordinal_position",
        database="wbs_bench",
    )
    return found.split()


def seed_cases(cluster: Cluster, cases: int) -> None:
    """`cases` copies of the last report with its wraps, state, timers, milestones, facts."""
    started = time.perf_counter()
    template = int(cluster.psql("SELECT max(id) FROM reports", database="wbs_bench"))
    columns = _columns(cluster, "reports")
    chosen = ", ".join(CLONED.get(c, f"t.{c}") for c in columns)
    cluster.psql(
        f"INSERT INTO reports ({', '.join(columns)}) SELECT {chosen} FROM reports t, "  # noqa: S608 - bench's own values
        f"generate_series(1, {cases}) g WHERE t.id = {template} ORDER BY g",
        database="wbs_bench",
    )
    for table in CASE_TABLES:
        names = _columns(cluster, table)
        cluster.psql(
            f"INSERT INTO {table} (report_id, {', '.join(names)}) SELECT r.id, "  # noqa: S608 - bench's own values
            f"{', '.join('c.' + n for n in names)} FROM {table} c, reports r "
            f"WHERE c.report_id = {template} AND r.id > {template}",
            database="wbs_bench",
        )
    print(f"seeded {cases:,} cases in {time.perf_counter() - started:.0f} s", flush=True)


def inbox_scenario(bench: Bench, directory: dict[str, object], counts: list[int]) -> None:
    """An officer lists the inbox (first page) among --cases cases wrapped to their key."""
    args = bench.args
    bench.submitted(bench.sealed([directory], 1))
    seed_cases(bench.cluster, args.cases)
    assert bench.served.wbs("indicators", "rebuild").returncode == 0
    bench.cluster.psql(
        "INSERT INTO ceiling_cases (at, case_number, state) SELECT now() + g * interval "  # noqa: S608 - bench's own values
        f"'1 second', 'WBS-2026-' || g, 'diterima' FROM generate_series(1, {args.cases}) g",
        database="ceiling",
    )
    for database in ("wbs_bench", "ceiling"):
        bench.cluster.psql("VACUUM ANALYZE", database=database)
    with Api(bench.served.url) as api:
        flows.sign_in(api, "v0@bench.go.id", PASS)
        cookie = api.http.cookies[SESSION_COOKIE]
    wbs = get("/api/v1/cases", f"Cookie: {SESSION_COOKIE}={cookie}\r\n")
    bare = get("/api/v1/cases")
    page = json.loads(
        asyncio.run(drive("wbs", bench.served.port, [wbs], 1, Phase("setup"))).payloads[0]
    )
    print(f"wbs's first page: {len(page)} cases; the ceiling's: {PAGE_SIZE}", flush=True)
    phase = Phase("inbox")
    bench.warm(phase, [bare] * args.warmup, [wbs] * args.warmup)
    for index, count in enumerate(counts):
        n = args.requests
        bench.pair(phase, count, [bare] * n, [wbs] * n, bench.profile(index, counts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenario", choices=("submit", "mailbox", "inbox"), default="submit")
    parser.add_argument("--connections", default="1,32", help="comma-separated counts")
    parser.add_argument("--requests", type=int, default=1000, help="per server and count")
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--officers", type=int, default=3)
    parser.add_argument("--units", type=int, default=1, help="spread the reports over N units")
    parser.add_argument("--reports", type=int, default=200, help="mailbox: reports to log in to")
    parser.add_argument("--cases", type=int, default=100_000, help="inbox: cases in the unit")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--difficulty", type=int, default=8, help="proof of work, solved ahead")
    parser.add_argument("--profile", type=Path, help="py-spy collapsed stacks of wbs (last run)")
    parser.add_argument(
        "--stock-protocol", action="store_true", help="the ceiling on uvicorn's own h11 class"
    )
    parser.add_argument(
        "--stock-http", action="store_true", help="both servers on asyncio + h11 (no uvloop)"
    )
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE for wbs serve")
    args = parser.parse_args()
    counts = [int(c) for c in args.connections.split(",")]

    with tempfile.TemporaryDirectory(prefix="wbs-load-") as tmp:
        root = Path(tmp)
        cluster = start_cluster()
        ceiling: subprocess.Popen[bytes] | None = None
        served: Served | None = None
        try:
            cluster.psql("CREATE DATABASE wbs_bench")
            cluster.psql("CREATE DATABASE ceiling")
            for table in TABLES:
                cluster.psql(table, database="ceiling")
            served = Served(
                root,
                cluster.url("wbs_bench"),
                extra_env={
                    "WBS_POW_DIFFICULTY": str(args.difficulty),
                    "WBS_POW_TTL_SECONDS": "3600",
                    "WBS_SUBMIT_RATE_PER_MINUTE": "100000000",
                    "WBS_WORKER_IN_PROCESS": "0",
                    **dict(item.split("=", 1) for item in args.env),
                },
                workers=args.workers,
                serve_args=("--stock-http",) if args.stock_http else (),
            )
            assert served.wbs("db", "upgrade").returncode == 0
            directory = prepare(served, args.officers)
            directories = (
                clone_units(cluster.url("wbs_bench"), args.units, directory)
                if args.units > 1
                else [directory]
            )
            ceiling_port = free_port()
            ceiling = subprocess.Popen(
                [
                    *(sys.executable, str(ROOT / "bench" / "ceiling.py")),
                    *("--database-url", cluster.url("ceiling")),
                    *("--port", str(ceiling_port), "--workers", str(args.workers)),
                    *(("--stock-protocol",) if args.stock_protocol else ()),
                    *(("--stock-http",) if args.stock_http else ()),
                ]
            )
            _wait_up(f"http://127.0.0.1:{ceiling_port}", ceiling)
            bench = Bench(args, cluster, served, ceiling, ceiling_port)
            if args.scenario == "submit":
                submit_scenario(bench, directories, counts)
            elif args.scenario == "mailbox":
                mailbox_scenario(bench, directory, counts)
            else:
                inbox_scenario(bench, directory, counts)
        finally:
            if ceiling is not None:
                ceiling.terminate()
                ceiling.wait(timeout=30)
            if served is not None:
                served.stop()
            cluster.stop()


if __name__ == "__main__":
    main()
