"""Submissions per second and latency of POST /api/v1/reports against a real `wbs serve`.

Browser-path-like load: every envelope is sealed beforehand on the load client (as a
browser would, with the unit's signed directory and a receipt-derived reporter key), so the
figures measure the server: validation, recipient check, case number, proof, audit, commit.
The proof-of-work difficulty is set to 0 and the global rate limit lifted for the run.

    .venv/bin/python bench/submit_bench.py --backend sqlite --requests 1000 --concurrency 32
    .venv/bin/python bench/submit_bench.py --backend postgresql --requests 1000 --concurrency 32
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.client.server import Served  # noqa: E402
from wbs.client import e2e, flows  # noqa: E402
from wbs.client.api import Api  # noqa: E402

PASS = "kata-sandi-panjang-untuk-bench"  # noqa: S105 - a throwaway bench account
REPORT = "x" * 2000  # a 2 KB report text


def prepare(served: Served, officers: int) -> dict[str, object]:
    assert served.wbs("unit", "create", "BENCH", "--name", "Unit Bench").returncode == 0
    emails = [f"v{i}@bench.go.id" for i in range(officers)]
    for email, role in [("admin@bench.go.id", "admin"), *((e, "verifikator") for e in emails)]:
        made = served.wbs(
            "staff",
            "create",
            email,
            "--unit",
            "BENCH",
            "--role",
            role,
            "--password-stdin",
            stdin=PASS + "\n",
        )
        assert made.returncode == 0, made.stderr
    served.start()
    for email in emails:
        flows.enroll(served.url, email, PASS)
    flows.approve(served.url, "admin@bench.go.id", PASS)
    with Api(served.url) as api:
        signed = api.get("/api/v1/units/BENCH/directory")
    return e2e.verify_directory(signed, "BENCH")


async def load(url: str, bodies: list[bytes], concurrency: int) -> tuple[list[float], list[str]]:
    latencies: list[float] = []
    numbers: list[str] = []
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:

        async def worker() -> None:
            while not queue.empty():
                body = queue.get_nowait()
                started = time.perf_counter()
                response = await client.post(
                    "/api/v1/reports", content=body, headers={"content-type": "application/json"}
                )
                latencies.append(time.perf_counter() - started)
                if response.status_code != 201:
                    raise RuntimeError(f"{response.status_code}: {response.text[:300]}")
                numbers.append(response.json()["case_number"])

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, numbers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--officers", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="wbs-bench-") as tmp:
        root = Path(tmp)
        cluster = None
        if args.backend == "postgresql":
            from tests.pg import start_cluster

            cluster = start_cluster()
            cluster.psql("CREATE DATABASE wbs_bench")
            url = cluster.url("wbs_bench")
        else:
            url = f"sqlite+aiosqlite:///{root / 'bench.sqlite3'}"
        served = Served(
            root,
            url,
            extra_env={"WBS_POW_DIFFICULTY": "0", "WBS_SUBMIT_RATE_PER_MINUTE": "100000000"},
        )
        try:
            assert served.wbs("db", "upgrade").returncode == 0
            directory = prepare(served, args.officers)
            challenge = httpx.get(f"{served.url}/api/v1/pow").json()
            started = time.perf_counter()
            bodies = []
            for _ in range(args.requests):
                sealed = flows.seal_submission(directory, "wbs", {"text": REPORT})
                submission = dict(sealed.submission)
                submission["pow"] = flows.solve_pow(challenge, sealed.envelope["report_id"])
                bodies.append(json.dumps(submission).encode())
            sealing = time.perf_counter() - started
            started = time.perf_counter()
            latencies, numbers = asyncio.run(load(served.url, bodies, args.concurrency))
            elapsed = time.perf_counter() - started
        finally:
            served.stop()
            if cluster is not None:
                cluster.stop()
    assert len(set(numbers)) == args.requests, "duplicate case numbers"
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(
        json.dumps(
            {
                "backend": args.backend,
                "requests": args.requests,
                "concurrency": args.concurrency,
                "recipients_per_report": args.officers + 1,
                "envelope_bytes_avg": int(statistics.mean(len(b) for b in bodies)),
                "client_sealing_seconds": round(sealing, 2),
                "seconds": round(elapsed, 2),
                "submissions_per_second": round(args.requests / elapsed, 1),
                "p50_ms": round(statistics.median(latencies) * 1000, 1),
                "p99_ms": round(p99 * 1000, 1),
                "distinct_case_numbers": len(set(numbers)),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
