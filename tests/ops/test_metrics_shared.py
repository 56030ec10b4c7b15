"""Request counts of several `wbs serve` workers: each writes a snapshot file, a scrape sums
the instance's files. Dead workers' files stay in the sum; bad files are left out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.client.server import Served
from tests.ops.test_health_metrics import _sample
from wbs.ops.metrics import (
    MAX_SNAPSHOT_BYTES,
    OVERFLOW,
    RequestStats,
    read_instance,
    reset_instance,
    write_snapshot,
)

KEY = ("GET", "/healthz", "2xx")


def _worker_that_exits(directory: Path, requests: int) -> int:
    """A real process that counts `requests`, flushes its snapshot and ends; its pid."""
    code = (
        "import sys; from pathlib import Path; from wbs.ops.metrics import RequestStats\n"
        "s = RequestStats(directory=Path(sys.argv[1]))\n"
        "for _ in range(int(sys.argv[2])): s.observe('GET', '/healthz', 200, 0.02)\n"
        "s.observe('POST', '/lapor', 303, 0.3)\n"
        "s.flush()\n"
        "print(__import__('os').getpid())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(directory), str(requests)],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout)


def test_snapshots_of_live_and_dead_workers_are_summed(tmp_path):
    directory = reset_instance(tmp_path / "run" / "metrics" / "8000")
    dead = _worker_that_exits(directory, 3)
    assert (directory / f"{dead}.json").stat().st_mode & 0o777 == 0o600
    own = RequestStats(directory=directory)
    for _ in range(2):
        own.observe("GET", "/healthz", 200, 0.004)
    other = RequestStats()
    other.observe("GET", "/healthz", 500, 7.0)
    write_snapshot(directory, 4242, other.snapshot())  # a third worker's file

    total = own.total()  # flushes its own first
    assert (directory / f"{os.getpid()}.json").is_file()
    assert total.series[KEY].count == 5  # 3 of the dead worker, 2 of this one
    assert total.series[("GET", "/healthz", "5xx")].count == 1
    assert total.series[("POST", "/lapor", "3xx")].count == 1
    assert total.series[KEY].buckets[0] == 2  # <= 5 ms: this process's two
    assert total.series[KEY].buckets[2] == 5  # <= 25 ms: all five
    text = "\n".join(total.lines())
    assert 'wbs_http_requests_total{method="GET",route="/healthz",status="2xx"} 5' in text
    assert 'wbs_http_request_duration_seconds_count{method="GET",route="/healthz"} 6' in text

    own.observe("GET", "/healthz", 200, 0.004)
    assert own.total().series[KEY].count == 6  # the dead worker's three stay counted


def test_a_new_start_clears_the_instance(tmp_path):
    directory = reset_instance(tmp_path / "m" / "x" / "8001")
    _worker_that_exits(directory, 2)
    assert read_instance(directory).series[KEY].count == 2
    reset_instance(directory)
    assert list(directory.iterdir()) == [] and directory.stat().st_mode & 0o777 == 0o700


def test_too_large_malformed_and_foreign_files_are_left_out(tmp_path):
    directory = reset_instance(tmp_path / "run" / "metrics" / "8000")
    good = RequestStats()
    good.observe("GET", "/healthz", 200, 0.01)
    write_snapshot(directory, 1, good.snapshot())
    snapshot = json.dumps(good.snapshot())
    # Valid but above the bound (padding), and the same below it.
    (directory / "2.json").write_text(snapshot + " " * MAX_SNAPSHOT_BYTES)
    (directory / "3.json").write_text(snapshot + " " * 100)
    (directory / "4.json").write_text("{not json")
    (directory / "5.json").write_text('{"version": 1, "buckets": [1], "series": []}')
    bad_count = good.snapshot()
    bad_count["series"][0][3] = -7
    (directory / "6.json").write_text(json.dumps(bad_count))
    (directory / "7.json").write_text(json.dumps({**good.snapshot(), "series": [["GET"]]}))
    (directory / "8.json").write_bytes(b"\xff\xfe")
    (directory / "9.json").symlink_to(directory / "1.json")
    (directory / "10.json").mkdir()
    (directory / ".11.tmp").write_text(snapshot)  # a write in progress
    (directory / "notes.json").write_text(snapshot)

    total = read_instance(directory)
    assert total.series[KEY].count == 2  # 1.json and 3.json only
    assert set(total.series) == {KEY}


def test_the_series_fence_holds_for_the_sum(tmp_path):
    directory = reset_instance(tmp_path / "run" / "metrics" / "8000")
    for pid in (1, 2):
        stats = RequestStats()
        for i in range(3):
            stats.observe("GET", f"/p{pid}/r{i}", 200, 0.01)
        write_snapshot(directory, pid, stats.snapshot())
    total = read_instance(directory, max_series=4)
    assert len(total.series) == 5  # four, and the overflow series
    assert total.series[OVERFLOW].count == 2


def test_a_flush_after_a_request_waits_for_the_interval(tmp_path):
    directory = reset_instance(tmp_path / "run" / "metrics" / "8000")
    stats = RequestStats(directory=directory, flush_seconds=3600)
    stats.observe("GET", "/healthz", 200, 0.01)
    stats.maybe_flush()  # the first one writes
    stats.observe("GET", "/healthz", 200, 0.01)
    stats.maybe_flush()  # within the interval: not yet
    assert read_instance(directory).series[KEY].count == 1
    assert stats.total().series[KEY].count == 2  # a scrape flushes its own process


def test_without_a_directory_counts_stay_in_memory(tmp_path):
    stats = RequestStats()
    stats.observe("GET", "/healthz", 200, 0.01)
    stats.flush()
    assert stats.total() is stats and stats.total().series[KEY].count == 1


def _readyz_total(url: str) -> float:
    """`wbs_http_requests_total` of GET /readyz 2xx in one scrape (loopback, no proxy header)."""
    answer = httpx.get(f"{url}/metrics", timeout=10)
    assert answer.status_code == 200
    value = _sample(answer.text, "wbs_http_requests_total", route="/readyz", status="2xx")
    return value or 0.0


def _per_worker(directory: Path) -> dict[str, int]:
    """GET /readyz 2xx counts in each worker's snapshot file."""
    found = {}
    for path in directory.glob("*.json"):
        rows = json.loads(path.read_text())["series"]
        found[path.stem] = sum(r[3] for r in rows if r[:3] == ["GET", "/readyz", "2xx"])
    return found


@pytest.mark.slow
def test_one_scrape_reports_the_sum_of_the_workers(tmp_path, fresh_db_url):
    served = Served(tmp_path, fresh_db_url, workers=2)
    served.start()
    try:
        directory = served.data_dir / "run" / "metrics" / str(served.port)
        sent = 0
        # Until both workers answered some (a new connection each; the kernel picks one).
        for _ in range(100):
            for _ in range(10):
                assert httpx.get(f"{served.url}/readyz", timeout=10).status_code == 200
                sent += 1
            busy = [n for n in _per_worker(directory).values() if n > 0]
            if len(busy) == 2:
                break
        assert len(busy) == 2, "one worker answered every request"
        seen: list[float] = []
        for _ in range(200):  # the workers flush about once a second
            seen.append(_readyz_total(served.url))
            if seen[-1] == sent:
                break
            time.sleep(0.1)
        seen += [_readyz_total(served.url) for _ in range(6)]
        assert seen[-1] == sent
        assert seen == sorted(seen), seen  # never goes down between scrapes

        # A second start on the same port refuses before it touches the instance's files.
        files = sorted(p.name for p in directory.glob("*.json"))
        second = served.wbs("serve", "--port", str(served.port), "--workers", "1")
        assert second.returncode == 2
        assert f"address 127.0.0.1:{served.port} is in use" in second.stderr
        assert sorted(p.name for p in directory.glob("*.json")) == files
        assert _readyz_total(served.url) == sent
    finally:
        served.stop()
