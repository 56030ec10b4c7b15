"""Crypto library benchmark: report seal/open rate, attachment streaming throughput and peak
memory, passphrase derivation cost.

Run: .venv/bin/python bench/crypto_bench.py [--attachment-mib 1024] [--seconds 3]

The attachment phase runs in a fresh child interpreter so its peak RSS is its own. The 1 GiB
plaintext is generated on the fly; the ciphertext goes to a temporary file under /tmp that
is deleted at the end of the run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from crypto.attachment import decrypt_chunks, encrypt_stream  # noqa: E402
from crypto.boxes import DataKey, ReportContext  # noqa: E402
from crypto.envelope import open_report, seal_report  # noqa: E402
from crypto.keys import KeyPair, Suite  # noqa: E402
from crypto.staffkeys import KdfParams, derive_staff_secrets  # noqa: E402

MIB = 1024 * 1024


def rate(fn: Callable[[], object], seconds: float) -> tuple[float, int]:
    """Calls per second over about `seconds` (after one warm-up call)."""
    fn()
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        n += 1
    return n / (time.perf_counter() - start), n


def report_content(size: int = 2048) -> dict[str, str]:
    text = ("Laporan dugaan pungutan liar pada layanan perizinan. " * 64)[: size - 40]
    return {"judul": "Pungutan liar", "uraian": text}


def bench_reports(seconds: float) -> dict[str, Any]:
    content = report_content()
    size = len(json.dumps(content).encode())
    reporter = KeyPair.generate()
    out: dict[str, Any] = {"content_bytes": size}
    for label, recipients in (
        ("3 x X25519 officers + reporter", [KeyPair.generate() for _ in range(3)]),
        (
            "2 x X25519 + 1 x X-Wing officers + reporter",
            [KeyPair.generate(), KeyPair.generate(), KeyPair.generate(Suite(2))],
        ),
    ):
        publics = [r.public for r in recipients]

        def seal(publics: list[Any] = publics) -> Any:
            return seal_report(
                unit="DEMO",
                channel="wbs",
                report_id=str(uuid.uuid4()),
                content=content,
                recipients=publics,
                reporter_key=reporter.public,
            )

        envelope = seal().envelope
        last = recipients[-1]  # the worst case: its wrap is tried after the others
        seal_rate, _ = rate(seal, seconds)
        open_rate, _ = rate(lambda e=envelope, k=last: open_report(e, k), seconds)
        out[label] = {
            "seal_per_s": round(seal_rate, 1),
            "open_per_s": round(open_rate, 1),
            "envelope_json_bytes": len(envelope.dumps()),
        }
    return out


def bench_kdf(repeats: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for label, params in (
        ("pbkdf2-sha256 600000", KdfParams.pbkdf2()),
        ("argon2id m=65536 KiB t=3 p=1", KdfParams.argon2id()),
    ):
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            derive_staff_secrets("kata sandi staf yang panjang", params)
            times.append(time.perf_counter() - start)
        out[label] = {"mean_ms": round(1000 * sum(times) / len(times), 1), "runs": repeats}
    return out


def proc_status_kib(field: str) -> int:
    """VmRSS (now) or VmHWM (peak) of this process from /proc/self/status, in KiB.

    VmHWM starts afresh at exec, unlike getrusage's ru_maxrss, which Linux carries over from
    the parent (the Argon2id phase would otherwise show up as the child's peak).
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def attachment_child(mib: int) -> dict[str, Any]:
    """Encrypt `mib` MiB generated on the fly to /tmp, decrypt it back, report speed and RSS."""
    dk, ctx = DataKey.generate(), ReportContext("DEMO", "wbs", str(uuid.uuid4()))
    block = os.urandom(MIB)
    baseline = proc_status_kib("VmRSS")

    def source() -> Iterator[bytes]:
        for i in range(mib):
            yield block[i % 251 :] + block[: i % 251]  # not the same bytes every MiB

    digest_in = hashlib.sha256()

    def hashed() -> Iterator[bytes]:
        for piece in source():
            digest_in.update(piece)
            yield piece

    fd, name = tempfile.mkstemp(prefix="wbs-crypto-bench-", suffix=".bin", dir="/tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            start = time.perf_counter()
            written = encrypt_stream(dk, ctx, "bench", hashed(), out)
            out.flush()
            os.fsync(out.fileno())
            enc_s = time.perf_counter() - start
        digest_out = hashlib.sha256()
        with open(name, "rb") as src:
            start = time.perf_counter()
            total = 0
            for chunk in decrypt_chunks(dk, ctx, "bench", src):
                digest_out.update(chunk)
                total += len(chunk)
            dec_s = time.perf_counter() - start
    finally:
        os.unlink(name)
    assert total == mib * MIB and digest_in.digest() == digest_out.digest()
    peak = proc_status_kib("VmHWM")
    return {
        "plaintext_mib": mib,
        "ciphertext_bytes": written,
        "encrypt_mib_per_s": round(mib / enc_s, 1),
        "decrypt_mib_per_s": round(mib / dec_s, 1),
        "encrypt_s": round(enc_s, 2),
        "decrypt_s": round(dec_s, 2),
        "rss_before_kib": baseline,
        "peak_rss_kib": peak,
        "temp_file_removed": not Path(name).exists(),
        "note": "times include SHA-256 of the plaintext on both sides and file I/O",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--attachment-mib", type=int, default=1024)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--kdf-repeats", type=int, default=5)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(attachment_child(args.attachment_mib)))
        return
    import cryptography

    results: dict[str, Any] = {
        "machine": (
            f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        ),
        "cryptography": cryptography.__version__,
        "reports_2kb": bench_reports(args.seconds),
        "kdf": bench_kdf(args.kdf_repeats),
    }
    child = subprocess.run(
        [sys.executable, __file__, "--child", "--attachment-mib", str(args.attachment_mib)],
        check=True,
        capture_output=True,
        text=True,
    )
    results["attachment"] = json.loads(child.stdout)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
