"""Browser-path submissions on `wbs serve` against the framework ceiling (bench/ceiling.py),
side by side in one run: same machine, same PostgreSQL cluster, same load client, same bodies.

    .venv/bin/python bench/load.py --connections 1,32 --requests 1000

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
- prints requests/s, p50/p99/max latency, failures (anything but 201), distinct case numbers,
  and wbs as a share of the ceiling. --profile FILE records the wbs workers with py-spy
  (when installed) during the last run, as collapsed stacks.
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

from submit_bench import REPORT, prepare  # noqa: E402

from tests.client.server import Served, free_port  # noqa: E402
from tests.pg import start_cluster  # noqa: E402
from wbs.client import flows  # noqa: E402

CREATE = "CREATE TABLE ceiling (id BIGSERIAL PRIMARY KEY, body BYTEA NOT NULL)"


@dataclass
class Run:
    server: str
    connections: int
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int | str] = field(default_factory=Counter)
    numbers: list[str] = field(default_factory=list)
    cpu_seconds: float = 0.0  # the server's processes, user + system

    @property
    def ok(self) -> int:
        return self.statuses[201]

    @property
    def failures(self) -> int:
        return sum(n for status, n in self.statuses.items() if status != 201)

    def quantile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000

    def row(self) -> dict[str, object]:
        return {
            "server": self.server,
            "connections": self.connections,
            "requests": len(self.latencies),
            "per_second": round(len(self.latencies) / self.seconds, 1),
            "p50_ms": round(statistics.median(self.latencies) * 1000, 1),
            "p99_ms": round(self.quantile(0.99), 1),
            "max_ms": round(max(self.latencies) * 1000, 1),
            "failures": self.failures,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items(), key=str)},
            "distinct_case_numbers": len(set(self.numbers)),
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


def measured(server: str, port: int, bodies: list[bytes], connections: int, pid: int) -> Run:
    before = cpu_seconds(pid)
    run = asyncio.run(drive(server, port, bodies, connections))
    run.cpu_seconds = cpu_seconds(pid) - before
    return run


async def drive(server: str, port: int, bodies: list[bytes], connections: int) -> Run:
    """Send every body once over `connections` keep-alive connections; time each request."""
    run = Run(server, connections)
    pending: Iterator[bytes] = iter(bodies)
    head = (
        f"POST /api/v1/reports HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n"
    )

    async def connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for body in pending:
            started = time.perf_counter()
            try:
                writer.write(head.format(len(body)).encode() + body)
                status, payload = await _response(reader)
            except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
                run.latencies.append(time.perf_counter() - started)
                run.statuses[type(exc).__name__] += 1
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                continue
            run.latencies.append(time.perf_counter() - started)
            run.statuses[status] += 1
            if status == 201:
                answer = json.loads(payload)
                run.numbers.append(f"{answer.get('unit', '')}/{answer['case_number']}")
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--connections", default="1,32", help="comma-separated counts")
    parser.add_argument("--requests", type=int, default=1000, help="per server and count")
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--officers", type=int, default=3)
    parser.add_argument("--units", type=int, default=1, help="spread the reports over N units")
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
            cluster.psql(CREATE, database="ceiling")
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

            challenge = httpx.get(f"{served.url}/api/v1/pow").json()
            total = args.warmup + args.requests * len(counts)
            started = time.perf_counter()
            bodies = []
            for i in range(total):
                sealed = flows.seal_submission(
                    directories[i % len(directories)], "wbs", {"text": REPORT}
                )
                submission = dict(sealed.submission)
                submission["pow"] = flows.solve_pow(challenge, sealed.envelope["report_id"])
                bodies.append(json.dumps(submission).encode())
            print(
                f"sealed {total} envelopes (avg {statistics.mean(map(len, bodies)):.0f} bytes, "
                f"{args.officers} officers + reporter, proof of work difficulty "
                f"{challenge['difficulty']}) in {time.perf_counter() - started:.1f} s",
                flush=True,
            )
            warm, rest = bodies[: args.warmup], bodies[args.warmup :]
            asyncio.run(drive("ceiling", ceiling_port, warm, 4))
            asyncio.run(drive("wbs", served.port, warm, 4))

            runs: list[tuple[Run, Run]] = []
            for index, count in enumerate(counts):
                chunk = rest[index * args.requests : (index + 1) * args.requests]
                bare = measured("ceiling", ceiling_port, chunk, count, ceiling.pid)
                spy = None
                if args.profile and index == len(counts) - 1 and shutil.which("py-spy"):
                    assert served.process is not None
                    spy = subprocess.Popen(
                        [
                            *("py-spy", "record", "--format", "raw", "--subprocesses"),
                            *("-o", str(args.profile), "--rate", "200", "--nonblocking"),
                            *("--pid", str(served.process.pid)),
                        ],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                    time.sleep(1)
                assert served.process is not None
                wbs = measured("wbs", served.port, chunk, count, served.process.pid)
                if spy is not None:
                    spy.send_signal(2)
                    spy.wait(timeout=60)
                runs.append((bare, wbs))
                for one in (bare, wbs):
                    print(json.dumps(one.row()), flush=True)
                print(
                    f"connections {count}: wbs at {len(wbs.latencies) / wbs.seconds:.1f}/s is "
                    f"{100 * bare.seconds / wbs.seconds:.1f}% of the ceiling's "
                    f"{len(bare.latencies) / bare.seconds:.1f}/s",
                    flush=True,
                )
            numbers = sorted(int(n.rsplit("-", 1)[1]) for _b, w in runs for n in w.numbers)
            if args.units == 1:
                gapless = numbers == list(range(numbers[0], numbers[0] + len(numbers)))
                print(
                    f"wbs case numbers, all runs: {len(set(numbers))} distinct, gapless {gapless}"
                )
        finally:
            if ceiling is not None:
                ceiling.terminate()
                ceiling.wait(timeout=30)
            if served is not None:
                served.stop()
            cluster.stop()


if __name__ == "__main__":
    main()
