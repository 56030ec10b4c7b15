"""A real S3-compatible server for tests: moto in server mode, in a child process on loopback.

A child process, so that what the server holds (whole objects) is not counted in the test
process's memory figures. moto is a dev dependency: when it is missing the import fails and
the tests fail with it (never skipped).
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import moto.server  # noqa: F401 - fail here, loudly, when moto[s3] or flask is missing
import pytest

from wbs.core.settings import Settings

SERVER = """
import sys
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()
server.stop()
"""

KEY_ID = "wbs-test-key"
SECRET = "wbs-test-secret-0123456789"


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """http://127.0.0.1:<random port> of a moto server that lives for the session."""
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdin is not None
    line = proc.stdout.readline()
    if not line.strip().isdigit():
        proc.kill()
        raise RuntimeError(f"moto server did not start: {line!r}")
    try:
        yield f"http://127.0.0.1:{int(line)}"
    finally:
        proc.stdin.close()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def s3_overrides(endpoint: str, prefix: str = "wbs") -> dict[str, Any]:
    """Settings of a new, empty bucket on the test server."""
    bucket = f"wbs-{uuid.uuid4().hex[:16]}"
    client(endpoint).create_bucket(Bucket=bucket)
    return {
        "blob_url": f"s3://{bucket}/{prefix}",
        "s3_endpoint_url": endpoint,
        "s3_access_key_id": KEY_ID,
        "s3_secret_access_key": SECRET,
        "s3_part_mib": 5,
    }


def client(endpoint: str) -> Any:
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
    )


def s3_settings(data_dir: Path, endpoint: str, **more: Any) -> Settings:
    return Settings(data_dir=data_dir, **s3_overrides(endpoint), **more)
