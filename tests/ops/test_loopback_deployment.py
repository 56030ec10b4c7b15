"""The production shape on one machine: PostgreSQL, two `wbs serve` processes, a `wbs worker`
and Debian's nginx with the shipped site (deploy/nginx, TLS with a self-signed certificate)
in front, all on the loopback. Reporters submit through nginx, log into their mailboxes and
an officer reads cases while one app server is killed (SIGKILL) and started again.

What must hold: every submission the client saw accepted is stored once and readable by
the officer and in the reporter's mailbox; the only failures (502, or a connection nginx
closes when the server died mid-response) are requests in flight on the killed server;
retrying a failed submission (same envelope and report id, a new proof of work) never makes
a second case. Figures go to standard output (`-s`) and docs/benchmarks.md.

Slow and needs nginx: it runs under CI=true (.ci/run installs nginx) and locally with
WBS_TEST_DEPLOYMENT=1:

    WBS_TEST_DEPLOYMENT=1 .venv/bin/pytest tests/ops/test_loopback_deployment.py -s
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from crypto.encoding import b64u_encode
from tests.client.server import Served, free_port
from tests.conftest import IN_CI
from tests.ops.site import NGINX, Site
from wbs.client import e2e, flows
from wbs.client.api import Api

PASS = "kata-sandi-panjang-untuk-uji"
OFFICER = "v@loop.go.id"
REPORTS = 150  # submissions the reporters make in all
REPORTERS = 6  # concurrent reporters (each one request at a time)
MAX_TRIES = 8  # a reporter gives up on a report after this many attempts (never, here)
RUN = IN_CI or os.environ.get("WBS_TEST_DEPLOYMENT") == "1"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not RUN, reason="opt-in: WBS_TEST_DEPLOYMENT=1 (always under CI=true)"),
    pytest.mark.parametrize("backend", ["postgresql"]),
]


def start_app(served: Served, name: str) -> subprocess.Popen[bytes]:
    """`wbs serve` in a session of its own, so that killing it leaves no process behind."""
    log = (served.root / f"{name}.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "wbs", "serve", "--port", str(served.port)],
        env=served.env(),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    for _ in range(300):
        if process.poll() is not None:
            break
        try:
            if httpx.get(f"{served.url}/readyz", timeout=2).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.1)
    stop(process)
    raise RuntimeError(f"{name} did not come up:\n" + (served.root / f"{name}.log").read_text())


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        os.killpg(process.pid, sig)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


@dataclass
class Accepted:
    report_id: str
    receipt: str
    case_number: str
    text: str
    body: dict
    confirmed_by_retry: bool = False


@dataclass
class Tally:
    """What the clients saw, shared by their threads."""

    accepted: dict[str, Accepted] = field(default_factory=dict)
    statuses: Counter[str] = field(default_factory=Counter)
    failures: list[tuple[float, str, str]] = field(default_factory=list)  # time, what, status
    retries: int = 0
    requests: int = 0
    mailbox_reads: int = 0
    officer_reads: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def saw(self, what: str, status: int | str) -> None:
        with self.lock:
            self.requests += 1
            self.statuses[f"{what} {status}"] += 1
            if not isinstance(status, int) or status >= 500:
                self.failures.append((time.monotonic(), what, str(status)))


def _send(tally: Tally, what: str, call, *args, **kwargs) -> httpx.Response | None:
    try:
        response = call(*args, **kwargs)
    except httpx.TransportError as exc:
        tally.saw(what, type(exc).__name__)
        return None
    tally.saw(what, response.status_code)
    return response


def mailbox_view(http: httpx.Client, tally: Tally, receipt: str) -> dict | None:
    """Log into the mailbox with the receipt (a new proof of work each try) and read it;
    None when the receipt opens nothing."""
    lookup = b64u_encode(e2e.reporter_keys(receipt).lookup)
    for _ in range(MAX_TRIES):
        challenge = _send(tally, "pow", http.get, "/api/v1/pow")
        if challenge is None or challenge.status_code != 200:
            continue
        work = flows.solve_pow(challenge.json(), lookup)
        body = {"lookup": lookup, "pow": work}
        login = _send(tally, "mailbox-login", http.post, "/api/v1/mailbox/login", json=body)
        if login is None or login.status_code >= 500:
            continue
        if login.status_code != 200:
            return None
        token = login.json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        view = _send(tally, "mailbox", http.get, "/api/v1/mailbox", headers=headers)
        if view is not None and view.status_code == 200:
            with tally.lock:
                tally.mailbox_reads += 1
            return view.json()
    raise AssertionError("mailbox unreachable through nginx")


def submit_one(http: httpx.Client, tally: Tally, directory: dict, number: int) -> None:
    """One report, sealed once; after a 5xx or a broken connection the same envelope is
    sent again with a new proof of work until the answer says where it stands: 201 (stored
    now) or 409 (stored by an earlier try: the receipt then opens the mailbox)."""
    text = f"laporan uji {number} {uuid.uuid4().hex}"
    sealed = flows.seal_submission(directory, "pengaduan", {"text": text})
    report_id = sealed.envelope["report_id"]
    body = dict(sealed.submission)
    for attempt in range(MAX_TRIES):
        if attempt:
            with tally.lock:
                tally.retries += 1
            time.sleep(0.2)
        challenge = _send(tally, "pow", http.get, "/api/v1/pow")
        if challenge is None or challenge.status_code != 200:
            continue
        body["pow"] = flows.solve_pow(challenge.json(), report_id)
        sent = _send(tally, "submit", http.post, "/api/v1/reports", json=body)
        if sent is None or sent.status_code >= 500:
            continue
        if sent.status_code == 201:
            out = sent.json()
            e2e.verify_proof(out["proof"], sealed.envelope)
            accepted = Accepted(report_id, sealed.receipt, out["case_number"], text, body)
        else:
            assert sent.status_code == 409 and attempt > 0, sent.text
            view = mailbox_view(http, tally, sealed.receipt)
            assert view is not None, "409 on a retry, yet the receipt opens no mailbox"
            accepted = Accepted(report_id, sealed.receipt, view["case_number"], text, body, True)
        with tally.lock:
            tally.accepted[report_id] = accepted
        if number % 3 == 0:  # a third of the reporters come back to their mailbox
            view = mailbox_view(http, tally, sealed.receipt)
            assert view is not None and view["case_number"] == accepted.case_number
        return
    raise AssertionError(f"report {number} was never answered")


def officer_reads(url: str, tally: Tally, done: threading.Event) -> None:
    """The officer's inbox and one case at a time, through nginx, until the load ends."""
    with Api(url) as api:
        flows.sign_in(api, OFFICER, PASS)
        while not done.is_set():
            cases = _send(tally, "officer-inbox", api.http.get, "/api/v1/cases")
            if cases is not None and cases.status_code == 200 and cases.json():
                report_id = cases.json()[-1]["report_id"]
                path = f"/api/v1/cases/{report_id}"
                case = _send(tally, "officer-case", api.http.get, path)
                if case is not None and case.status_code == 200:
                    with tally.lock:
                        tally.officer_reads += 1
            time.sleep(0.05)


def test_submissions_survive_a_killed_app_server(
    tmp_path, fresh_db_url, pg_cluster, monkeypatch, capsys
):
    if NGINX is None:
        if IN_CI:
            pytest.fail("CI=true but nginx is missing (apt-get install nginx)")
        pytest.skip("nginx not installed (apt-get install nginx)")
    root = tmp_path / "app"
    ports = (free_port(), free_port())
    site = Site(tmp_path / "nginx", ports)
    site.write()
    monkeypatch.setenv("SSL_CERT_FILE", str(site.certificate))  # the reference client trusts it
    env = {
        "WBS_BASE_URL": site.url,
        "WBS_WORKER_IN_PROCESS": "0",
        "WBS_SUBMIT_RATE_PER_MINUTE": "100000",
        "WBS_MAILBOX_LOGIN_RATE_PER_MINUTE": "100000",
        "WBS_PG_BIN_DIR": str(pg_cluster.bin_dir),
        "SSL_CERT_FILE": str(site.certificate),
    }
    a = Served(root, fresh_db_url, extra_env=env, port=ports[0])
    b = Served(root, fresh_db_url, extra_env=env, port=ports[1])  # same data dir: one store
    assert a.wbs("db", "upgrade").returncode == 0
    a.create_unit("LOOP", {"admin@loop.go.id": "admin", OFFICER: "verifikator"}, PASS)
    processes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        processes["a"] = start_app(a, "app-a")
        processes["b"] = start_app(b, "app-b")
        worker_log = (root / "worker.log").open("ab")
        processes["worker"] = subprocess.Popen(
            [sys.executable, "-m", "wbs", "worker"],
            env=a.env(),
            stdout=worker_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        site.start()
        # Keys made and approved through nginx, with the reference client.
        for argv in (
            ("enroll", "--email", OFFICER),
            ("approve", "--email", "admin@loop.go.id"),
        ):
            made = a.wbs(
                "client",
                argv[0],
                "--url",
                site.url,
                *argv[1:],
                "--password-stdin",
                stdin=PASS + "\n",
            )
            assert made.returncode == 0, made.stderr
        with Api(site.url) as api:
            directory = e2e.verify_directory(api.get("/api/v1/units/LOOP/directory"), "LOOP")

        tally = Tally()
        next_number = iter(range(REPORTS))
        numbers_lock = threading.Lock()
        errors: list[BaseException] = []

        def reporter() -> None:
            with httpx.Client(base_url=site.url, timeout=60) as http:
                while True:
                    with numbers_lock:
                        number = next(next_number, None)
                    if number is None:
                        return
                    try:
                        submit_one(http, tally, directory, number)
                    except BaseException as exc:  # reported after the join
                        errors.append(exc)
                        return

        load_done = threading.Event()
        started = time.monotonic()
        threads = [threading.Thread(target=reporter) for _ in range(REPORTERS)]
        officer = threading.Thread(target=officer_reads, args=(site.url, tally, load_done))
        for thread in [*threads, officer]:
            thread.start()

        def wait_accepted(count: int) -> None:
            while len(tally.accepted) < count and any(t.is_alive() for t in threads):
                time.sleep(0.02)

        wait_accepted(REPORTS // 3)
        killed_at = time.monotonic()
        stop(processes.pop("a"), signal.SIGKILL)  # mid-load, without warning
        accepted_at_kill = len(tally.accepted)
        wait_accepted(2 * REPORTS // 3)
        restarted_at = time.monotonic()
        processes["a"] = start_app(a, "app-a")
        log_at_restart = site.access_log.stat().st_size
        for thread in threads:
            thread.join(timeout=600)
        load_done.set()
        officer.join(timeout=60)
        duration = time.monotonic() - started
        assert not errors, errors[0]
        assert not any(t.is_alive() for t in threads)

        # Everything the clients saw accepted is stored once: the officer opens each report
        # (decrypted with the officer's key) and there are no others; every receipt opens
        # its own case in the mailbox.
        assert len(tally.accepted) == REPORTS
        stored = flows.inbox(site.url, OFFICER, PASS)
        by_id = {c["report_id"]: c for c in stored}
        assert len(stored) == len(by_id) == REPORTS  # no duplicate case from a retry
        for report_id, sent in tally.accepted.items():
            assert by_id[report_id]["case_number"] == sent.case_number
            assert by_id[report_id]["report"]["text"] == sent.text
        database = fresh_db_url.rsplit("/", 1)[1]
        case_count = pg_cluster.psql("SELECT count(*) FROM reports", database)
        assert int(case_count) == REPORTS
        with httpx.Client(base_url=site.url, timeout=60) as http:
            for sent in tally.accepted.values():
                view = mailbox_view(http, tally, sent.receipt)
                assert view is not None and view["case_number"] == sent.case_number

            # A client's retry of an accepted report, as it is (the spent proof of work) or
            # with a new proof, is answered 409 and stores nothing.
            first = next(iter(tally.accepted.values()))
            replay = http.post("/api/v1/reports", json=first.body)
            assert replay.status_code == 409, replay.text
            challenge = http.get("/api/v1/pow").json()
            fresh = dict(first.body, pow=flows.solve_pow(challenge, first.report_id))
            again = http.post("/api/v1/reports", json=fresh)
            # Either unique index may answer first (docs/api.md): both mean "stored before".
            assert again.status_code == 409, again.text
            assert again.json()["error"] in {"report_already_sent", "receipt_in_use"}
            assert int(pg_cluster.psql("SELECT count(*) FROM reports", database)) == REPORTS

            # Static files come from nginx with the app's headers.
            css = http.get("/static/css/app.css")
            assert css.status_code == 200
            assert (
                css.content == (Path(__file__).parents[2] / "wbs/static/css/app.css").read_bytes()
            )
            assert css.headers["x-content-type-options"] == "nosniff"
            assert "script-src 'self'" in css.headers["content-security-policy"]
            assert http.get("/metrics").status_code == 404
        plain = httpx.get(f"http://127.0.0.1:{site.http_port}/lapor/LOOP", timeout=10)
        assert plain.status_code == 301 and plain.headers["location"].startswith("https://")
        onion = httpx.get(f"{site.onion_url}/lapor/LOOP", timeout=10)
        assert onion.status_code == 200
        assert httpx.get(f"{site.onion_url}/staff/login", timeout=10).status_code == 404

        # The only failures: requests in flight on the killed server, in the window between
        # the kill and the restart, never more than the clients had in flight. nginx answers
        # them 502, or closes the connection when the server had begun its response.
        failures = tally.failures
        statuses = Counter(status for _, _, status in failures)
        in_flight = {"502", "RemoteProtocolError", "ReadError"}
        assert set(statuses) <= in_flight, statuses
        assert len(failures) <= REPORTERS + 1, failures
        assert all(killed_at <= at <= restarted_at + 5 for at, _, _ in failures), failures
        assert processes["worker"].poll() is None  # the worker ran throughout

        # The restarted server is back in rotation (after fail_timeout at most).
        upstream_a = f"upstream=127.0.0.1:{ports[0]}"
        with httpx.Client(base_url=site.url, timeout=10) as http:
            for _ in range(150):
                with site.access_log.open() as f:
                    f.seek(log_at_restart)
                    if upstream_a in f.read():
                        break
                http.get("/healthz")
                time.sleep(0.2)
        with site.access_log.open() as f:
            f.seek(log_at_restart)
            served_by_a_after_restart = f.read().count(upstream_a)
        assert served_by_a_after_restart > 0

        # nginx's log: no address of a client, no id, no query string.
        log = site.access_log.read_text()
        assert log.count("\n") >= tally.requests - 5
        assert not any(report_id in log for report_id in tally.accepted)
        assert "?" not in log
        assert re.search(r'"GET /api/v1/cases/:id" 200', log)
        figures = {
            "reports": REPORTS,
            "reporters": REPORTERS,
            "accepted_before_kill": accepted_at_kill,
            "accepted": len(tally.accepted),
            "confirmed_by_retry_409": sum(s.confirmed_by_retry for s in tally.accepted.values()),
            "client_retries": tally.retries,
            "http_requests": tally.requests,
            "mailbox_reads": tally.mailbox_reads,
            "officer_reads": tally.officer_reads,
            "5xx_or_broken": len(failures),
            "failures": dict(Counter(f"{what} {status}" for _, what, status in failures)),
            "requests_via_a": log.count(upstream_a),
            "requests_via_a_after_restart": served_by_a_after_restart,
            "lost": REPORTS - int(case_count),
            "duplicates": int(case_count) - len(by_id),
            "seconds": round(duration, 1),
        }
        with capsys.disabled():
            print("\nloopback deployment:", json.dumps(figures))
        (tmp_path / "figures.json").write_text(json.dumps(figures))
    finally:
        site.stop()
        for process in processes.values():
            stop(process)
