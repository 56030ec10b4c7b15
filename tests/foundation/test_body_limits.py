"""Request bodies are limited per route before the application reads them (review #4).

An oversized `Content-Length` is refused with 413 before the app runs (authentication
included) and before a byte of the body is pulled; a body without a length (chunked) is
counted while it arrives and cut off at the limit. Every route has a limit.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.test_route_matrix import app_routes
from wbs.core.bodylimit import DEFAULT_BODY_LIMIT, KIB, MIB
from wbs.reporting.limits import ReportingLimits
from wbs.zi import evidence, files

CASE = "/api/v1/cases/00000000-0000-4000-8000-000000000000"
NGINX = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "wbs.conf"


class Source:
    """A request body that records how many chunks the server pulled from it."""

    def __init__(self, chunks: int, size: int = KIB) -> None:
        self.chunks = chunks
        self.size = size
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.chunks):
            self.pulled += 1
            yield b" " * self.size


def assert_too_large(response: httpx.Response) -> None:
    assert response.status_code == 413, response.text[:300]
    body = response.json()
    assert body["error"] == "payload_too_large"
    assert body["message_id"].startswith("Data yang dikirim terlalu besar")
    assert body["message_en"].startswith("The data sent is too large")


async def test_oversized_content_length_is_refused_before_anything_is_read(client):
    # The review's request: 256 MiB of JSON to a case route, without a session.
    source = Source(chunks=64, size=64 * KIB)
    response = await client.post(
        f"{CASE}/assignee",
        content=source,
        headers={"content-type": "application/json", "content-length": str(256 * MIB)},
    )
    assert_too_large(response)
    assert response.json()["details"] == {"max_bytes": DEFAULT_BODY_LIMIT}
    assert source.pulled == 0  # the app never asked for the body
    assert response.headers["x-frame-options"] == "DENY"  # still inside the security headers


async def test_oversized_chunked_body_is_cut_off_at_the_limit(client):
    source = Source(chunks=4096)  # 4 MiB in 1 KiB chunks, no Content-Length
    response = await client.post(
        f"{CASE}/notes", content=source, headers={"content-type": "application/json"}
    )
    assert_too_large(response)
    limit = ReportingLimits().note_body_bytes
    assert limit // KIB < source.pulled <= limit // KIB + 1  # stopped at the limit


async def test_a_sign_in_form_too_large_gets_the_page_in_both_languages(client):
    response = await client.post(
        "/staff/login",
        content=b"email=a",
        headers={
            "content-type": "application/x-www-form-urlencoded",
            "accept": "text/html",
            "content-length": str(DEFAULT_BODY_LIMIT + 1),
        },
    )
    assert response.status_code == 413
    assert "text/html" in response.headers["content-type"]
    assert "Data yang dikirim terlalu besar (paling besar 8 KiB)." in response.text
    english = await client.post(
        "/staff/login?lang=en",
        content=Source(chunks=64),
        headers={"content-type": "application/x-www-form-urlencoded", "accept": "text/html"},
    )
    assert english.status_code == 413
    assert "The data sent is too large (at most 8 KiB)." in english.text


async def test_larger_routes_get_their_own_limit_and_no_more(client):
    limits = ReportingLimits()
    # Over the default but within the submission limit: the route itself answers.
    response = await client.post(
        "/api/v1/reports",
        content=b"{" + b" " * (64 * KIB) + b"}",
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 422
    source = Source(chunks=4)
    response = await client.post(
        "/api/v1/reports",
        content=source,
        headers={
            "content-type": "application/json",
            "content-length": str(limits.upload_body_bytes + 1),
        },
    )
    assert_too_large(response)
    assert source.pulled == 0


async def test_normal_requests_are_unaffected(client):
    # Without a CSRF token the case route refuses as it always did (after reading the body).
    assert (await client.post(f"{CASE}/actions", json={"action": "x"})).status_code == 403
    # A body at the limit, streamed without a length, reaches the route whole (blank JSON).
    source = Source(chunks=DEFAULT_BODY_LIMIT // KIB)
    response = await client.post(
        f"{CASE}/actions", content=source, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422 and source.pulled == DEFAULT_BODY_LIMIT // KIB
    assert (await client.get("/healthz")).status_code == 200
    login = await client.post("/staff/login", data={"email": "a@example.go.id"})
    assert login.status_code != 413


# Routes whose bodies may be larger than DEFAULT_BODY_LIMIT, with where the number comes from.
def expected_large() -> dict[tuple[str, str], int]:
    r = ReportingLimits()
    evidence_bytes = evidence.body_bytes(evidence.DocumentSettings().max_bytes)
    return {
        ("POST", "/api/v1/reports"): r.upload_body_bytes,
        ("POST", "/api/v1/mailbox/messages"): r.upload_body_bytes,
        ("POST", "/api/v1/cases/{report_id}/messages"): r.upload_body_bytes,
        ("POST", "/lapor/{code}/{case_type}"): r.form_body_bytes,
        ("POST", "/kotak-surat/pesan"): r.form_body_bytes,
        ("POST", "/api/v1/cases/{report_id}/notes"): r.note_body_bytes,
        ("POST", "/api/v1/cases/{report_id}/recipients"): 16 * KIB,
        # a workflow action: facts and an encrypted message to the reporter
        ("POST", "/api/v1/cases/{report_id}/actions"): 256 * KIB,
        ("PUT", "/api/v1/staff/me/key"): 64 * KIB,
        ("PUT", "/api/v1/staff/me/passphrase"): 64 * KIB,
        ("PUT", "/api/v1/admin/units/{code}/directory"): 2 * MIB,
        ("POST", "/zi/assessments/{assessment_id}/answers"): 256 * KIB,
        ("PUT", "/api/v1/zi/assessments/{assessment_id}/answers"): 256 * KIB,
        ("POST", "/zi/assessments/{assessment_id}/evidence"): 64 * KIB,
        ("POST", "/api/v1/zi/assessments/{assessment_id}/evidence"): 64 * KIB,
        ("POST", "/zi/assessments/{assessment_id}/evidence/files"): evidence_bytes,
        ("POST", "/api/v1/zi/assessments/{assessment_id}/evidence/files"): evidence_bytes,
        ("POST", "/zi/assessments/{assessment_id}/import"): files.IMPORT_BODY_BYTES,
    }


def test_every_route_has_a_limit_and_only_the_listed_ones_are_large(app):
    limits = app.state.body_limits
    table = {(m, e.path): e.limit for e in limits.table() for m in e.methods if m != "HEAD"}
    assert set(table) == app_routes(app)  # nothing the router serves is left out
    assert all(0 < limit <= 128 * MIB for limit in table.values())
    large = {key: limit for key, limit in table.items() if limit > DEFAULT_BODY_LIMIT}
    assert large == expected_large()
    assert DEFAULT_BODY_LIMIT <= 16 * KIB  # sign-in, 2FA, status, most JSON: a few KiB


def _nginx_size(text: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([km]?)", text.strip().lower()).groups()  # type: ignore[union-attr]
    return int(number) * {"": 1, "k": KIB, "m": MIB}[unit]


def test_nginx_allows_what_the_app_allows_and_little_more():
    """deploy/nginx/wbs.conf: each location's client_max_body_size covers the app's limit
    for its routes (so the app, not nginx, answers with its bilingual 413)."""
    conf = NGINX.read_text()
    server_default = re.search(r"^    client_max_body_size (\S+);", conf, re.M)
    assert server_default and _nginx_size(server_default.group(1)) >= DEFAULT_BODY_LIMIT
    assert _nginx_size(server_default.group(1)) <= 16 * KIB
    locations = re.findall(r"location (=|~) (\S+) \{[^}]*?client_max_body_size (\S+);", conf, re.S)
    assert locations
    samples = {
        "/api/v1/reports": ("POST", "/api/v1/reports"),
        "/api/v1/mailbox/messages": ("POST", "/api/v1/mailbox/messages"),
        "/api/v1/cases/abc/messages": ("POST", "/api/v1/cases/{report_id}/messages"),
        "/api/v1/cases/abc/notes": ("POST", "/api/v1/cases/{report_id}/notes"),
        "/api/v1/cases/abc/recipients": ("POST", "/api/v1/cases/{report_id}/recipients"),
        "/lapor/KPPN/wbs": ("POST", "/lapor/{code}/{case_type}"),
        "/kotak-surat/pesan": ("POST", "/kotak-surat/pesan"),
        "/api/v1/staff/me/key": ("PUT", "/api/v1/staff/me/key"),
        "/api/v1/staff/me/passphrase": ("PUT", "/api/v1/staff/me/passphrase"),
        "/api/v1/admin/units/KPPN/directory": ("PUT", "/api/v1/admin/units/{code}/directory"),
        "/zi/assessments/7/answers": ("POST", "/zi/assessments/{assessment_id}/answers"),
        "/api/v1/zi/assessments/7/answers": (
            "PUT",
            "/api/v1/zi/assessments/{assessment_id}/answers",
        ),
        "/zi/assessments/7/evidence": ("POST", "/zi/assessments/{assessment_id}/evidence"),
        "/api/v1/zi/assessments/7/evidence": (
            "POST",
            "/api/v1/zi/assessments/{assessment_id}/evidence",
        ),
        "/zi/assessments/7/evidence/files": (
            "POST",
            "/zi/assessments/{assessment_id}/evidence/files",
        ),
        "/api/v1/zi/assessments/7/evidence/files": (
            "POST",
            "/api/v1/zi/assessments/{assessment_id}/evidence/files",
        ),
        "/zi/assessments/7/import": ("POST", "/zi/assessments/{assessment_id}/import"),
    }
    expected = expected_large()
    for uri, route in samples.items():
        chosen = None
        for kind, pattern, size in locations:
            if (kind == "=" and uri == pattern) or (kind == "~" and re.search(pattern, uri)):
                chosen = _nginx_size(size)
                break
        assert chosen is not None, f"no nginx location with a body size for {uri}"
        assert expected[route] <= chosen <= expected[route] + 2 * MIB, uri


@pytest.mark.parametrize("path", ["/api/v1/pow", "/static/css/app.css", "/nope"])
async def test_requests_without_a_body_still_work(client, path):
    response = await client.get(path)
    assert response.status_code in (200, 404)
