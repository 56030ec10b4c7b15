"""One 1 GiB attachment through the shipped nginx site into `wbs serve` and back, with the
serving process's peak memory (VmHWM in /proc/PID/status).

    .venv/bin/python bench/big_attachment.py --mib 1024

What it does:
- starts a throwaway PostgreSQL cluster (tests/pg.py), one `wbs serve` (one process) with
  WBS_REPORT_MAX_FILE_BYTES and WBS_REPORT_MAX_TOTAL_BYTES raised to the attachment's
  encrypted size, and Debian's nginx with deploy/nginx (tests/ops/site.py: TLS on the
  loopback, a self-signed certificate) whose /api/v1/reports body limit is raised to match;
- a unit, an officer key and a signed directory (the reference client);
- streams one report with a --mib MiB attachment (pseudo-random plaintext, encrypted in
  64 KiB chunks as it is sent: the client holds a few chunks, not the file) to
  POST /api/v1/reports through nginx as multipart with a Content-Length;
- the officer downloads it through nginx and decrypts it as a stream; the plaintext's
  SHA-256 must match;
- prints seconds, MiB/s and the server's VmHWM (peak resident set) after start-up, after
  the upload and after the download, and VmRSS at the end.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crypto import attachment  # noqa: E402
from crypto.encoding import b64u_encode  # noqa: E402
from tests.client.server import Served, free_port  # noqa: E402
from tests.ops.site import Site  # noqa: E402
from tests.pg import start_cluster  # noqa: E402
from wbs.client import e2e, flows  # noqa: E402
from wbs.client.api import Api  # noqa: E402

PASS = "kata-sandi-panjang-untuk-bench"  # noqa: S105 - a throwaway bench account
OFFICER = "v@besar.go.id"
MIB = 1024 * 1024
PIECE = 4 * MIB  # plaintext generated (and hashed) in pieces of this size


def memory(pid: int) -> dict[str, int]:
    """VmHWM (peak) and VmRSS of a process, in KiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmHWM", "VmRSS"):
            fields[name] = int(value.split()[0])
    return fields


def plaintext(size: int, digest: hashlib._Hash) -> Iterator[bytes]:
    """`size` pseudo-random bytes (SHAKE-256 of a fixed seed), hashed as they go."""
    stream = hashlib.shake_256(b"wbs big attachment")
    block = stream.digest(PIECE)
    sent = 0
    counter = 0
    while sent < size:
        piece = block[: min(PIECE, size - sent)]
        piece = counter.to_bytes(8, "big") + piece[8:] if len(piece) > 8 else piece
        digest.update(piece)
        sent += len(piece)
        counter += 1
        yield piece


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mib", type=int, default=1024, help="attachment size in MiB")
    args = parser.parse_args()
    size = args.mib * MIB
    cipher_size = attachment.ciphertext_size(size)

    with tempfile.TemporaryDirectory(prefix="wbs-big-") as tmp:
        root = Path(tmp)
        cluster = start_cluster()
        port = free_port()
        limit_mib = cipher_size // MIB + 4  # nginx: the app's body limit, rounded up
        site = Site(
            root / "nginx",
            (port, port),
            extra={
                "location = /api/v1/reports {\n        client_max_body_size 102m;": (
                    f"location = /api/v1/reports {{\n        client_max_body_size {limit_mib}m;"
                )
            },
        )
        site.write()
        os.environ["SSL_CERT_FILE"] = str(site.certificate)  # the reference client trusts it
        served = Served(
            root / "app",
            cluster.url("wbs_big"),
            port=port,
            extra_env={
                "WBS_REPORT_MAX_FILE_BYTES": str(cipher_size),
                "WBS_REPORT_MAX_TOTAL_BYTES": str(cipher_size),
                "WBS_WORKER_IN_PROCESS": "0",
                "WBS_BASE_URL": site.url,
                "SSL_CERT_FILE": str(site.certificate),
            },
        )
        try:
            cluster.psql("CREATE DATABASE wbs_big")
            assert served.wbs("db", "upgrade").returncode == 0
            served.create_unit(
                "BESAR", {"admin@besar.go.id": "admin", OFFICER: "verifikator"}, PASS
            )
            served.start()
            assert served.process is not None
            pid = served.process.pid
            site.start()
            flows.enroll(served.url, OFFICER, PASS)
            flows.approve(served.url, "admin@besar.go.id", PASS)
            with Api(served.url) as api:
                directory = e2e.verify_directory(api.get("/api/v1/units/BESAR/directory"), "BESAR")
            at_start = memory(pid)

            # Seal the report; the attachment is encrypted while it is sent.
            receipt = e2e.new_receipt()
            reporter = e2e.reporter_keys(receipt)
            report_id = str(uuid.uuid4())
            envelope, data_key = e2e.seal_report(
                unit="BESAR",
                channel="pengaduan",
                report_id=report_id,
                content={"text": "laporan dengan lampiran besar"},
                recipients=[r["public_key"] for r in directory["channels"]["pengaduan"]],
                reporter_public=reporter.public,
            )
            ctx = e2e.Context("BESAR", "pengaduan", report_id)
            attachment_id = str(uuid.uuid4())
            meta = e2e.seal_attachment_metadata(
                data_key, ctx, attachment_id, "besar.bin", "application/octet-stream"
            )
            http = httpx.Client(base_url=site.url, verify=str(site.certificate), timeout=600)
            challenge = http.get("/api/v1/pow").json()
            submission = {
                "envelope": envelope,
                "lookup": b64u_encode(reporter.lookup),
                "excluded": [],
                "attachments": [
                    {"id": attachment_id, "metadata": b64u_encode(meta), "size": cipher_size}
                ],
                "directory_version": directory["version"],
                "pow": flows.solve_pow(challenge, report_id),
            }
            boundary = uuid.uuid4().hex
            head = (
                f'--{boundary}\r\nContent-Disposition: form-data; name="submission"\r\n\r\n'
                f"{json.dumps(submission)}\r\n--{boundary}\r\nContent-Disposition: form-data; "
                f'name="attachment"; filename="{attachment_id}"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n"
            ).encode()
            tail = f"\r\n--{boundary}--\r\n".encode()
            sent_digest = hashlib.sha256()

            def body() -> Iterator[bytes]:
                yield head
                yield from attachment.encrypt_chunks(
                    data_key, ctx.lib, attachment_id, plaintext(size, sent_digest)
                )
                yield tail

            started = time.perf_counter()
            response = http.post(
                "/api/v1/reports",
                content=body(),
                headers={
                    "Content-Type": f"multipart/form-data; boundary={boundary}",
                    "Content-Length": str(len(head) + cipher_size + len(tail)),
                },
            )
            upload_seconds = time.perf_counter() - started
            if response.status_code != 201:
                raise SystemExit(f"upload: {response.status_code} {response.text[:500]}")
            after_upload = memory(pid)
            stored = sum(p.stat().st_size for p in (served.data_dir / "blobs").iterdir())

            # The officer downloads and decrypts it as a stream, through nginx.
            with Api(site.url) as api:
                officer = flows.officer(api, OFFICER, PASS)
                case = api.get(f"/api/v1/cases/{report_id}")
                assert officer.private is not None
                key = e2e.staff_data_key(case["envelope"], officer.private)
                got = hashlib.sha256()
                started = time.perf_counter()
                path = f"/api/v1/cases/{report_id}/attachments/{attachment_id}"
                with api.http.stream("GET", path) as streamed:
                    assert streamed.status_code == 200, streamed.status_code
                    for chunk in attachment.decrypt_chunks(
                        key, ctx.lib, attachment_id, streamed.iter_bytes(1024 * 1024)
                    ):
                        got.update(chunk)
                download_seconds = time.perf_counter() - started
            assert got.hexdigest() == sent_digest.hexdigest(), "the attachment came back changed"
            after_download = memory(pid)
            print(
                json.dumps(
                    {
                        "attachment_mib": args.mib,
                        "encrypted_bytes": cipher_size,
                        "stored_bytes": stored,
                        "upload_seconds": round(upload_seconds, 1),
                        "upload_mib_per_s": round(args.mib / upload_seconds, 1),
                        "download_seconds": round(download_seconds, 1),
                        "download_mib_per_s": round(args.mib / download_seconds, 1),
                        "server_vmhwm_kib_after_start": at_start["VmHWM"],
                        "server_vmhwm_kib_after_upload": after_upload["VmHWM"],
                        "server_vmhwm_kib_after_download": after_download["VmHWM"],
                        "server_vmrss_kib_end": after_download["VmRSS"],
                        "sha256_match": True,
                    },
                    indent=2,
                )
            )
        finally:
            site.stop()
            served.stop()
            cluster.stop()


if __name__ == "__main__":
    main()
