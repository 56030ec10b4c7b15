"""The shipped deploy files: systemd units pass `systemd-analyze verify` (with the wbs
command where this checkout has it) and name real commands; nginx keeps the operators'
endpoints off the public site."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.client.server import free_port
from tests.conftest import IN_CI

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("wbs*.*"))
INSTALLED_WBS = "/opt/wbs/.venv/bin/wbs"


def test_units_verify(tmp_path):
    tool = shutil.which("systemd-analyze")
    if tool is None:
        if IN_CI:
            pytest.fail("CI=true but systemd-analyze is missing (Debian package systemd)")
        pytest.skip("systemd-analyze not installed (apt-get install systemd)")
    here = str(Path(sys.executable).parent / "wbs")
    copies = []
    for unit in UNITS:
        copy = tmp_path / unit.name
        copy.write_text(unit.read_text().replace(INSTALLED_WBS, here))
        copies.append(str(copy))
    done = subprocess.run(
        [tool, "verify", "--man=no", *copies], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr


def test_units_run_real_commands():
    names = {u.name for u in UNITS}
    assert {
        "wbs.service",
        "wbs-worker.service",
        "wbs-backup.service",
        "wbs-backup.timer",
        "wbs-blobs-gc.service",
        "wbs-blobs-gc.timer",
    } <= names
    for unit in UNITS:
        for line in re.findall(r"^ExecStart(?:Pre)?=(.+)$", unit.read_text(), re.M):
            found = re.search(re.escape(INSTALLED_WBS) + r" (\w+)(?: (\w+))?", line)
            assert found, f"{unit.name}: {line}"
            args = [found.group(1)]
            if found.group(1) in ("db", "blobs"):
                args.append(found.group(2))
            helped = subprocess.run(
                [sys.executable, "-m", "wbs", *args, "--help"],
                capture_output=True,
                text=True,
                check=False,
            )
            assert helped.returncode == 0, f"{unit.name}: wbs {' '.join(args)}: {helped.stderr}"
            for option in re.findall(r" (--[a-z-]+)", line):
                assert option in helped.stdout, f"{unit.name}: no {option} in wbs {args[0]}"


HARDENING = (
    "User=wbs",
    "UMask=0077",
    "NoNewPrivileges=true",
    "PrivateTmp=true",
    "ProtectSystem=strict",
    "ProtectHome=true",
    "ProtectKernelTunables=true",
    "ProtectControlGroups=true",
    "RestrictSUIDSGID=true",
    "LockPersonality=true",
)


def test_every_service_is_hardened_and_every_timer_has_its_service():
    for unit in UNITS:
        lines = unit.read_text().splitlines()
        if unit.suffix == ".service":
            assert [h for h in HARDENING if h not in lines] == [], unit.name
        if unit.suffix == ".timer":
            assert (unit.parent / f"{unit.stem}.service").exists(), unit.name
            assert "Persistent=true" in lines, unit.name


def test_nginx_keeps_operator_endpoints_local():
    conf = (DEPLOY / "nginx" / "wbs.conf").read_text()
    for path in ("/metrics", "/readyz"):
        assert re.search(r"location = " + path + r" \{\s*return 404;\s*\}", conf), path
    proxy = (DEPLOY / "nginx" / "wbs-proxy.conf").read_text()
    assert re.search(r"^proxy_set_header X-Forwarded-Proto \$scheme;", proxy, re.M)


# --------------------------------------------------------------------------- nginx and Tor


def _require(tool: str | None, package: str) -> str:
    if tool is None:
        if IN_CI:
            pytest.fail(f"CI=true but {package} is missing (apt-get install {package})")
        pytest.skip(f"{package} not installed (apt-get install {package})")
    return tool


def test_nginx_site_passes_nginx_t(tmp_path):
    """The shipped site (TLS, two upstreams, static files, the onion site) as nginx reads
    it, with a self-signed certificate for the loopback; a broken copy is refused."""
    from tests.ops.site import NGINX, Site

    _require(NGINX, "nginx")
    site = Site(tmp_path, (free_port(), free_port()))
    done = site.check()
    assert done.returncode == 0, done.stderr
    assert "test is successful" in done.stderr
    broken = tmp_path / "wbs.conf"
    broken.write_text(broken.read_text().replace("proxy_pass", "proxy_passs", 1))
    (tmp_path / "wbs-proxy.conf").write_text("proxy_passs http://wbs_app;\n")
    refused = subprocess.run(site.command("-t"), capture_output=True, text=True, check=False)
    assert refused.returncode != 0 and "proxy_passs" in refused.stderr


def _server_blocks(conf: str) -> list[str]:
    return re.split(r"^server \{", conf, flags=re.M)[1:]


def test_nginx_site_shape():
    conf = (DEPLOY / "nginx" / "wbs.conf").read_text()
    proxy = (DEPLOY / "nginx" / "wbs-proxy.conf").read_text()
    # Two app servers with passive health checks; the systemd units listen on these ports.
    upstream = re.search(r"upstream wbs_app \{(.*?)\}", conf, re.S)
    assert upstream
    servers = re.findall(r"server 127\.0\.0\.1:(\d+) max_fails=\d+ fail_timeout=\d+s;", upstream[1])
    assert servers == ["8000", "8001"]
    assert "--port 8000" in (DEPLOY / "systemd" / "wbs.service").read_text()
    assert "--port %i" in (DEPLOY / "systemd" / "wbs@.service").read_text()
    # Retried on the other server: never a POST nginx already sent (no `non_idempotent`).
    retry = re.search(r"^proxy_next_upstream ([^;]+);", proxy, re.M)
    assert retry and "non_idempotent" not in retry[1] and "error" in retry[1].split()
    assert re.search(r"^proxy_pass http://wbs_app;", proxy, re.M)
    # TLS only: the plain-HTTP server redirects and logs nothing.
    tls, plain = _server_blocks(conf)
    assert re.search(r"listen 443 ssl", tls) and "ssl_certificate_key" in tls
    assert "return 301 https://" in plain and "access_log off;" in plain
    # Private log format: no address, agent, referrer, query string or raw path.
    log_format = re.search(r"log_format wbs_private (.*?);", conf, re.S)
    assert log_format
    for variable in (
        "$remote_addr", "$http_x_forwarded_for", "$http_user_agent", "$http_referer",
        "$request ", "$request_uri", "$args", "$query_string", "$uri",
    ):  # fmt: skip
        assert variable not in log_format[1] + " ", variable
    assert "$wbs_log_path" in log_format[1]
    for line in re.findall(r"access_log ([^;]+);", conf):
        assert line == "off" or line.endswith(" wbs_private"), line
    # Static files from the checkout, with the app's headers.
    assert "alias /opt/wbs/wbs/static/;" in conf and "alias /opt/wbs/crypto/js/;" in conf
    static = (DEPLOY / "nginx" / "wbs-static.conf").read_text()
    from wbs.core.security import CSP

    assert f'Content-Security-Policy "{CSP}" always;' in static


def _sizes(conf: str) -> list[tuple[str, str, str]]:
    return re.findall(r"location (=|~) (\S+) \{[^}]*?client_max_body_size (\S+);", conf, re.S)


def _choose(locations: list[tuple[str, str, str]], uri: str) -> str | None:
    for kind, pattern, size in locations:
        if (kind == "=" and uri == pattern) or (kind == "~" and re.search(pattern, uri)):
            return size
    return None


def test_onion_site_serves_reporting_only_with_the_same_limits():
    onion = (DEPLOY / "nginx" / "wbs-onion.conf").read_text()
    site = (DEPLOY / "nginx" / "wbs.conf").read_text()
    torrc = (DEPLOY / "tor" / "torrc").read_text()
    listen = re.search(r"^\s*listen (127\.0\.0\.1:\d+);", onion, re.M)
    assert listen
    assert re.search(rf"^HiddenServicePort 80 {re.escape(listen[1])}$", torrc, re.M)
    for uri in (
        "/api/v1/reports",
        "/api/v1/mailbox/messages",
        "/lapor/KPPN/wbs",
        "/kotak-surat/pesan",
    ):
        assert _choose(_sizes(onion), uri) == _choose(_sizes(site), uri), uri
    assert re.search(r"^    client_max_body_size 8k;", onion, re.M)
    # Which paths reach the app: every reporter route, and nothing of the staff side.
    passes = re.findall(
        r"location (=|~) (\S+) \{\s*(?:client_max_body_size \S+;\s*)?include", onion
    )
    reached = [
        "/lapor/KPPN", "/lapor/KPPN/wbs", "/lapor/KPPN/poster", "/kotak-surat",
        "/kotak-surat/pesan", "/bahasa/en", "/api/v1/units/KPPN",
        "/api/v1/units/KPPN/directory", "/api/v1/pow",
        "/api/v1/proof-key", "/api/v1/reports", "/api/v1/mailbox", "/api/v1/mailbox/login",
        "/api/v1/mailbox/attachments/abc",
    ]  # fmt: skip
    refused = [
        "/staff/login", "/api/v1/cases", "/api/v1/cases/abc", "/api/v1/admin/units/KPPN/directory",
        "/api/v1/staff/me", "/metrics", "/readyz", "/zi/assessments/1", "/api/v1/identity/requests",
        "/api/v1/units/KPPN/exports", "/openapi.json", "/",
    ]  # fmt: skip
    for uri in reached:
        assert _choose([(k, p, "") for k, p in passes], uri) is not None, uri
    for uri in refused:
        assert _choose([(k, p, "") for k, p in passes], uri) is None, uri
    assert re.search(r"location / \{\s*return 404;\s*\}", onion)


def test_torrc_passes_tor_verify_config(tmp_path):
    tor = _require(shutil.which("tor") or shutil.which("/usr/sbin/tor"), "tor")
    text = (DEPLOY / "tor" / "torrc").read_text()
    assert "/var/lib/tor" in text
    local = tmp_path / "torrc"
    local.write_text(text.replace("/var/lib/tor", str(tmp_path / "tor")))
    done = subprocess.run(
        [tor, "--verify-config", "-f", str(local)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0 and "Configuration was valid" in done.stdout, done.stdout
    # Only the onion service: no SOCKS port for local programs, no relay.
    for line in ("SocksPort 0", "ORPort 0", "ExitRelay 0", "HiddenServiceVersion 3"):
        assert re.search(rf"^{line}$", text, re.M), line
    local.write_text(local.read_text().replace("HiddenServicePort 80", "HiddenServicePort x"))
    refused = subprocess.run(
        [tor, "--verify-config", "-f", str(local)], capture_output=True, text=True, check=False
    )
    assert refused.returncode != 0


# --------------------------------------------------------------------------- containers


def _settings_names() -> set[str]:
    from pydantic_settings import BaseSettings

    from wbs.core.settings import Settings
    from wbs.reporting.limits import ReportingLimits
    from wbs.zi.evidence import DocumentSettings

    classes: list[type[BaseSettings]] = [Settings, ReportingLimits, DocumentSettings]
    return {
        f"{cls.model_config.get('env_prefix', '')}{name}".upper()
        for cls in classes
        for name in cls.model_fields
    }


def _compose() -> dict:
    import yaml

    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def _wbs_args(command: list[str]) -> list[str]:
    assert command[0] == INSTALLED_WBS, command
    return command[1:]


def test_compose_services_match_the_settings_and_the_units():
    compose = _compose()
    services = compose["services"]
    assert {"postgres", "migrate", "app1", "app2", "worker", "nginx"} <= set(services)
    names = _settings_names()
    unit_env = set(re.findall(r"WBS_[A-Z_]+", (DEPLOY / "systemd" / "wbs.service").read_text()))
    for name, service in services.items():
        for dep in service.get("depends_on", {}):
            assert dep in services, f"{name} depends on unknown {dep}"
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            assert source.startswith(".") or source in compose["volumes"], (name, volume)
        if service.get("image") != "wbs-app":
            continue
        env = service["environment"]
        assert set(env) <= names, f"{name}: not a wbs setting: {set(env) - names}"
        assert unit_env <= set(env), f"{name}: the units' settings {unit_env - set(env)}"
        assert env["WBS_ENV"] == "production" and env["WBS_DATA_DIR"] == "/var/lib/wbs"
        assert env["WBS_DATABASE_URL"].startswith("postgresql+psycopg://wbs:")
        assert "@postgres:5432/wbs" in env["WBS_DATABASE_URL"]
        assert "wbs-data:/var/lib/wbs" in service["volumes"]  # one store for every process
        assert service["build"] == {
            "context": "..",
            "dockerfile": "deploy/Dockerfile",
            "target": "app",
        }
    # The app servers run what the units run, on the site's upstream ports, inside nginx's
    # network namespace (the shipped wbs.conf unchanged); migrations go first, once.
    serve_unit = re.search(
        r"^ExecStart=(.+)$", (DEPLOY / "systemd" / "wbs.service").read_text(), re.M
    )
    assert serve_unit
    unit_args = serve_unit[1].split()[1:]
    for name, port in (("app1", "8000"), ("app2", "8001")):
        app = services[name]
        args = _wbs_args(app["command"])
        assert args == [a if a != "8000" else port for a in unit_args], (name, args)
        assert app["network_mode"] == "service:nginx"
        assert app["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert f"127.0.0.1:{port}/readyz" in " ".join(app["healthcheck"]["test"])
    assert _wbs_args(services["migrate"]["command"]) == ["db", "upgrade"]
    assert _wbs_args(services["worker"]["command"]) == ["worker"]
    assert services["migrate"]["restart"] == "no"
    pg_user = services["postgres"]["environment"]
    assert pg_user["POSTGRES_USER"] == "wbs" and pg_user["POSTGRES_DB"] == "wbs"
    # The same secret variable feeds the server and the app's URL.
    assert "${WBS_DB_PASSWORD" in pg_user["POSTGRES_PASSWORD"]
    assert services["nginx"]["build"]["target"] == "nginx"
    assert "./ssl:/etc/ssl/wbs:ro" in services["nginx"]["volumes"]
    assert (
        services["tor"]["profiles"] == ["onion"]
        and services["tor"]["network_mode"] == "service:nginx"
    )
    example = (DEPLOY / "compose.env.example").read_text()
    for variable in set(re.findall(r"\$\{(\w+):\?", (DEPLOY / "compose.yaml").read_text())):
        assert re.search(rf"^{variable}=", example, re.M), variable


def test_dockerfile_copies_what_exists_and_runs_the_wbs_command():
    text = (DEPLOY / "Dockerfile").read_text()
    root = DEPLOY.parent
    stages = re.findall(r"^FROM \S+ AS (\w+)$", text, re.M)
    assert stages == ["app", "nginx", "tor"]
    assert {s["build"]["target"] for s in _compose()["services"].values() if "build" in s} <= set(
        stages
    )
    for line in re.findall(r"^COPY (.+)$", text, re.M):
        *sources, _dest = line.split()
        for source in sources:
            assert (root / source).exists(), source
    # The app image: the locked dependencies with hashes, the systemd paths, not as root.
    assert "--require-hashes -r requirements.lock" in text
    assert f'CMD ["{INSTALLED_WBS}", "serve"' in text
    assert re.search(r"^USER wbs$", text, re.M)
    python = re.search(r"^FROM python:(\d+)\.(\d+)", text, re.M)
    assert python and (int(python[1]), int(python[2])) >= (3, 11)
    ignored = (root / ".dockerignore").read_text().split()
    assert {".venv", "var", ".git"} <= set(ignored)
