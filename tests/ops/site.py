"""The shipped nginx site (deploy/nginx) on the loopback: the same files with only the
machine-specific parts replaced (ports, certificate, log and install paths), a self-signed
certificate for 127.0.0.1, and Debian's nginx started on them."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.client.server import end, free_port

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
SITE_FILES = ("wbs.conf", "wbs-onion.conf", "wbs-proxy.conf", "wbs-static.conf")


def make_certificate(directory: Path) -> Path:
    """A self-signed certificate for 127.0.0.1 (fullchain.pem, privkey.pem); returns the
    certificate's path, which a client can trust for this run."""
    directory.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"),
            *("-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"),
            *("-keyout", str(directory / "privkey.pem"), "-out", str(directory / "fullchain.pem")),
        ],
        check=True,
        capture_output=True,
    )
    return directory / "fullchain.pem"


@dataclass
class Site:
    """deploy/nginx/*.conf rewritten for this machine's loopback under `root`."""

    root: Path
    upstreams: tuple[int, int]
    https_port: int = field(default_factory=free_port)
    http_port: int = field(default_factory=free_port)
    onion_port: int = field(default_factory=free_port)
    # Further shipped text -> text for one run (e.g. a larger body limit in a benchmark).
    extra: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    @property
    def onion_url(self) -> str:
        return f"http://127.0.0.1:{self.onion_port}"

    @property
    def certificate(self) -> Path:
        return self.root / "ssl" / "fullchain.pem"

    @property
    def access_log(self) -> Path:
        return self.root / "log" / "wbs.access.log"

    def replacements(self) -> dict[str, str]:
        """Shipped text -> loopback text; each must occur in the shipped files."""
        a, b = self.upstreams
        return {
            "/etc/ssl/wbs/": f"{self.root}/ssl/",
            "/etc/nginx/wbs-proxy.conf": f"{self.root}/wbs-proxy.conf",
            "/etc/nginx/wbs-static.conf": f"{self.root}/wbs-static.conf",
            "/var/log/nginx/": f"{self.root}/log/",
            "/opt/wbs/": f"{REPO}/",
            "listen 443 ssl http2;": f"listen 127.0.0.1:{self.https_port} ssl http2;",
            "listen [::]:443 ssl http2;": "",
            "listen 80;": f"listen 127.0.0.1:{self.http_port};",
            "listen [::]:80;": "",
            "listen 127.0.0.1:8080;": f"listen 127.0.0.1:{self.onion_port};",
            "server 127.0.0.1:8000 ": f"server 127.0.0.1:{a} ",
            "server 127.0.0.1:8001 ": f"server 127.0.0.1:{b} ",
            **self.extra,
        }

    def write(self) -> Path:
        """The rewritten site and a main nginx.conf that includes it; returns the latter."""
        for sub in ("log", "tmp"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        if not self.certificate.exists():
            make_certificate(self.root / "ssl")
        texts = {name: (DEPLOY / "nginx" / name).read_text() for name in SITE_FILES}
        for old, new in self.replacements().items():
            assert any(old in t for t in texts.values()), f"deploy/nginx no longer has {old!r}"
            texts = {name: t.replace(old, new) for name, t in texts.items()}
        for name, text in texts.items():
            (self.root / name).write_text(text)
        tmp = self.root / "tmp"
        temp_paths = "\n".join(
            f"    {kind}_temp_path {tmp}/{kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        main = self.root / "nginx.conf"
        main.write_text(
            f"""{"user root root;" if os.geteuid() == 0 else ""}
worker_processes 1;
daemon off;
pid {self.root}/nginx.pid;
error_log {self.root}/log/main-error.log;
events {{ worker_connections 512; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
{temp_paths}
    include {self.root}/wbs.conf;
    include {self.root}/wbs-onion.conf;
}}
"""
        )
        return main

    def command(self, *extra: str) -> list[str]:
        assert NGINX, "nginx is not installed"
        main = self.root / "nginx.conf"
        return [NGINX, "-e", str(self.root / "log" / "startup.log"), "-c", str(main), *extra]

    def check(self) -> subprocess.CompletedProcess[str]:
        """`nginx -t` on the written configuration."""
        self.write()
        return subprocess.run(self.command("-t"), capture_output=True, text=True, check=False)

    def start(self) -> None:
        self.write()
        log = (self.root / "log" / "nginx-output.log").open("ab")
        self.process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT)
        for _ in range(100):
            try:
                httpx.get(f"http://127.0.0.1:{self.http_port}/", timeout=2)
                return
            except httpx.TransportError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(
            "nginx did not start:\n" + (self.root / "log" / "startup.log").read_text()
        )

    def stop(self) -> None:
        if self.process is not None:
            end(self.process, signal.SIGQUIT)  # graceful: finish what is in flight
            self.process = None
