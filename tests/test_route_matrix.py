"""Every route x every role (and no session): the expected status, from one table.

A route missing from MATRIX fails the test, so each new route states its access policy here.
Rows: (METHOD, route path template) -> Row(url, expectations). In `url`, `{unit}` becomes the
matrix unit's code. Expectations name a status for `anon` and for `staff` (every role), with
per-role overrides. Unsafe requests carry a valid CSRF token for their session, so the table
tests authorization, not CSRF (that has its own tests).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
import pytest
from fastapi.routing import iter_route_contexts
from starlette.routing import Mount

from tests.conftest import CSRF_RE, login

ROLES = ("admin", "verifikator", "investigator", "upg", "atasan", "auditor", "custodian")
ALL_WHO = ("anon", *ROLES)


@dataclass(frozen=True)
class Row:
    url: str
    anon: int
    staff: int
    roles: dict[str, int] = field(default_factory=dict)
    json: bool = False  # send an empty JSON body instead of an empty form

    def expected(self, who: str) -> int:
        if who == "anon":
            return self.anon
        return self.roles.get(who, self.staff)


ADMIN_ONLY = {"admin": 200}
EXPORTERS = {"admin": 200, "auditor": 200, "atasan": 200}
EXPORTERS_422 = {"admin": 422, "auditor": 422, "atasan": 422}

MATRIX: dict[tuple[str, str], Row] = {
    ("GET", "/healthz"): Row("/healthz", 200, 200),
    ("GET", "/readyz"): Row("/readyz", 200, 200),
    # Loopback without a proxy header (the test client): allowed; tests/ops covers refusals.
    ("GET", "/metrics"): Row("/metrics", 200, 200),
    ("GET", "/openapi.json"): Row("/openapi.json", 200, 200),
    ("GET", "/bahasa/{lang}"): Row("/bahasa/en", 303, 303),
    ("GET", "/staff/login"): Row("/staff/login", 200, 303),
    ("POST", "/staff/login"): Row("/staff/login", 401, 401),
    ("POST", "/staff/logout"): Row("/staff/logout", 401, 303),
    ("GET", "/staff"): Row("/staff", 303, 200),
    ("GET", "/staff/2fa"): Row("/staff/2fa", 303, 200),
    ("POST", "/staff/2fa"): Row("/staff/2fa", 401, 422),
    ("GET", "/admin"): Row("/admin", 303, 404, ADMIN_ONLY),
    ("GET", "/admin/units/{code}"): Row("/admin/units/{unit}", 303, 404, ADMIN_ONLY),
    ("GET", "/admin/outbox"): Row("/admin/outbox", 303, 404, ADMIN_ONLY),
    ("GET", "/admin/units/{code}/calendar"): Row(
        "/admin/units/{unit}/calendar", 303, 404, ADMIN_ONLY
    ),
    ("POST", "/admin/units/{code}/calendar/cuti-bersama"): Row(
        "/admin/units/{unit}/calendar/cuti-bersama", 401, 404, {"admin": 303}
    ),
    ("POST", "/admin/units/{code}/calendar/closures"): Row(
        "/admin/units/{unit}/calendar/closures", 401, 404, {"admin": 422}
    ),
    ("POST", "/admin/units/{code}/calendar/closures/{day}/delete"): Row(
        "/admin/units/{unit}/calendar/closures/2026-01-02/delete", 401, 404, {"admin": 404}
    ),
    ("POST", "/admin/staff/{staff_id}/deactivate"): Row(
        "/admin/staff/999999999/deactivate", 401, 404
    ),
    ("GET", "/api/v1/audit/{code}/export"): Row(
        "/api/v1/audit/{unit}/export", 401, 404, {"admin": 200, "auditor": 200}
    ),
    ("GET", "/api/v1/audit/{code}/head"): Row(
        "/api/v1/audit/{unit}/head", 401, 404, {"admin": 200, "auditor": 200}
    ),
    # No signed heads of those sizes: 404 once access is granted.
    ("GET", "/api/v1/audit/{code}/consistency"): Row(
        "/api/v1/audit/{unit}/consistency?first=999998&second=999999", 401, 404
    ),
    # Reporting API (reporter side: anonymous, no directory signed for the matrix unit).
    ("GET", "/api/v1/units/{code}"): Row("/api/v1/units/{unit}", 200, 200),
    ("GET", "/api/v1/units/{code}/directory"): Row("/api/v1/units/{unit}/directory", 404, 404),
    ("GET", "/api/v1/pow"): Row("/api/v1/pow", 200, 200),
    ("GET", "/api/v1/proof-key"): Row("/api/v1/proof-key", 200, 200),
    ("POST", "/api/v1/reports"): Row("/api/v1/reports", 422, 422, json=True),
    ("POST", "/api/v1/mailbox/login"): Row("/api/v1/mailbox/login", 422, 422, json=True),
    ("GET", "/api/v1/mailbox"): Row("/api/v1/mailbox", 401, 401),
    ("GET", "/api/v1/mailbox/audit-proof"): Row("/api/v1/mailbox/audit-proof", 401, 401),
    ("GET", "/api/v1/mailbox/attachments/{attachment_id}"): Row(
        "/api/v1/mailbox/attachments/00000000-0000-4000-8000-000000000000", 401, 401
    ),
    ("POST", "/api/v1/mailbox/messages"): Row("/api/v1/mailbox/messages", 401, 401, json=True),
    ("POST", "/api/v1/mailbox/logout"): Row("/api/v1/mailbox/logout", 204, 204),
    # Staff JSON API.
    ("GET", "/api/v1/staff/kdf"): Row("/api/v1/staff/kdf?email=x@example.go.id", 200, 200),
    ("POST", "/api/v1/staff/session"): Row("/api/v1/staff/session", 422, 422, json=True),
    ("DELETE", "/api/v1/staff/session"): Row("/api/v1/staff/session", 401, 204),
    ("GET", "/api/v1/staff/me"): Row("/api/v1/staff/me", 401, 200),
    ("PUT", "/api/v1/staff/me/key"): Row("/api/v1/staff/me/key", 401, 422, json=True),
    ("PUT", "/api/v1/staff/me/passphrase"): Row("/api/v1/staff/me/passphrase", 401, 422, json=True),
    # Unit key directory (admin).
    ("GET", "/api/v1/admin/units/{code}/directory"): Row(
        "/api/v1/admin/units/{unit}/directory", 401, 404, ADMIN_ONLY
    ),
    ("PUT", "/api/v1/admin/units/{code}/directory"): Row(
        "/api/v1/admin/units/{unit}/directory", 401, 404, {"admin": 422}, json=True
    ),
    ("PUT", "/api/v1/admin/units/{code}/channels/{case_type}/recipients"): Row(
        "/api/v1/admin/units/{unit}/channels/wbs/recipients", 401, 404, ADMIN_ONLY, json=True
    ),
    # Officer cases (the matrix staff hold no approved key: every case is 404 to them).
    ("GET", "/api/v1/cases"): Row("/api/v1/cases", 401, 200),
    ("GET", "/api/v1/cases/{report_id}"): Row(
        "/api/v1/cases/00000000-0000-4000-8000-000000000000", 401, 404
    ),
    ("GET", "/api/v1/cases/{report_id}/attachments/{attachment_id}"): Row(
        "/api/v1/cases/00000000-0000-4000-8000-000000000000/attachments/"
        "00000000-0000-4000-8000-000000000001",
        401,
        404,
    ),
    ("POST", "/api/v1/cases/{report_id}/messages"): Row(
        "/api/v1/cases/00000000-0000-4000-8000-000000000000/messages", 401, 422, json=True
    ),
    ("POST", "/api/v1/cases/{report_id}/notes"): Row(
        "/api/v1/cases/00000000-0000-4000-8000-000000000000/notes", 401, 422, json=True
    ),
    ("POST", "/api/v1/cases/{report_id}/recipients"): Row(
        "/api/v1/cases/00000000-0000-4000-8000-000000000000/recipients", 401, 422, json=True
    ),
    ("GET", "/api/v1/cases/{report_id}/workflow"): Row(
        "/api/v1/cases/00000000-0000-4000-8000-000000000000/workflow", 401, 404
    ),
    ("POST", "/api/v1/cases/{report_id}/actions"): Row(
        "/api/v1/cases/00000000-0000-4000-8000-000000000000/actions", 401, 422, json=True
    ),
    ("GET", "/api/v1/workflow/escalations"): Row("/api/v1/workflow/escalations", 401, 200),
    # Identity release (wbs/identity): requests by case readers, decisions by custodians.
    ("POST", "/api/v1/cases/{report_id}/identity-requests"): Row(
        "/api/v1/cases/00000000-0000-4000-8000-000000000000/identity-requests",
        401,
        422,
        json=True,
    ),
    ("GET", "/api/v1/cases/{report_id}/identity-requests"): Row(
        "/api/v1/cases/00000000-0000-4000-8000-000000000000/identity-requests", 401, 404
    ),
    ("GET", "/api/v1/cases/{report_id}/identity"): Row(
        "/api/v1/cases/00000000-0000-4000-8000-000000000000/identity", 401, 404
    ),
    ("GET", "/api/v1/identity/requests"): Row(
        "/api/v1/identity/requests", 401, 404, {"custodian": 200}
    ),
    ("POST", "/api/v1/identity/requests/{request_id}/approve"): Row(
        "/api/v1/identity/requests/00000000-0000-4000-8000-000000000000/approve",
        401,
        404,
        json=True,
    ),
    ("POST", "/api/v1/identity/requests/{request_id}/deny"): Row(
        "/api/v1/identity/requests/00000000-0000-4000-8000-000000000000/deny",
        401,
        422,
        json=True,
    ),
    ("GET", "/staff/identitas"): Row("/staff/identitas", 303, 404, {"custodian": 200}),
    ("POST", "/api/v1/cases/{report_id}/assignee"): Row(
        "/api/v1/cases/00000000-0000-4000-8000-000000000000/assignee", 401, 422, json=True
    ),
    # Zona Integritas (LKE): staff read their own unit (admins and auditors their subtree);
    # admins and auditors write. No assessment 999999 exists: 404 once access is granted.
    ("GET", "/zi"): Row("/zi", 303, 200),
    ("GET", "/zi/units/{code}"): Row("/zi/units/{unit}", 303, 200),
    ("POST", "/zi/units/{code}/assessments"): Row(
        "/zi/units/{unit}/assessments", 401, 404, {"admin": 422, "auditor": 422}
    ),
    ("GET", "/zi/units/{code}/compare/{year}"): Row("/zi/units/{unit}/compare/2026", 303, 404),
    ("GET", "/zi/assessments/{assessment_id}"): Row("/zi/assessments/999999", 303, 404),
    ("POST", "/zi/assessments/{assessment_id}/answers"): Row(
        "/zi/assessments/999999/answers", 401, 404
    ),
    ("POST", "/zi/assessments/{assessment_id}/evidence"): Row(
        "/zi/assessments/999999/evidence", 401, 404
    ),
    ("GET", "/zi/assessments/{assessment_id}/gap"): Row("/zi/assessments/999999/gap", 303, 404),
    ("GET", "/zi/assessments/{assessment_id}/export.xlsx"): Row(
        "/zi/assessments/999999/export.xlsx", 303, 404
    ),
    ("GET", "/api/v1/zi/rules"): Row("/api/v1/zi/rules", 401, 200),
    ("GET", "/api/v1/zi/units/{code}/assessments"): Row(
        "/api/v1/zi/units/{unit}/assessments", 401, 200
    ),
    ("POST", "/api/v1/zi/units/{code}/assessments"): Row(
        "/api/v1/zi/units/{unit}/assessments", 401, 404, {"admin": 422, "auditor": 422}, json=True
    ),
    ("GET", "/api/v1/zi/units/{code}/compare/{year}"): Row(
        "/api/v1/zi/units/{unit}/compare/2026", 401, 404
    ),
    ("GET", "/api/v1/zi/assessments/{assessment_id}"): Row(
        "/api/v1/zi/assessments/999999", 401, 404
    ),
    ("PUT", "/api/v1/zi/assessments/{assessment_id}/answers"): Row(
        "/api/v1/zi/assessments/999999/answers", 401, 404, json=True
    ),
    ("POST", "/api/v1/zi/assessments/{assessment_id}/evidence"): Row(
        "/api/v1/zi/assessments/999999/evidence",
        401,
        404,
        {"admin": 422, "auditor": 422},
        json=True,
    ),
    ("GET", "/api/v1/zi/assessments/{assessment_id}/gap"): Row(
        "/api/v1/zi/assessments/999999/gap", 401, 404
    ),
    ("GET", "/api/v1/zi/assessments/{assessment_id}/history"): Row(
        "/api/v1/zi/assessments/999999/history", 401, 404
    ),
    ("GET", "/zi/template/{rules_id}.xlsx"): Row("/zi/template/lke-2021.xlsx", 303, 200),
    ("POST", "/zi/assessments/{assessment_id}/import"): Row(
        "/zi/assessments/999999/import", 401, 404
    ),
    ("POST", "/zi/assessments/{assessment_id}/evidence/files"): Row(
        "/zi/assessments/999999/evidence/files", 401, 404
    ),
    ("POST", "/api/v1/zi/assessments/{assessment_id}/evidence/files"): Row(
        "/api/v1/zi/assessments/999999/evidence/files", 401, 404
    ),
    ("GET", "/zi/evidence/{evidence_id}/file"): Row("/zi/evidence/999999/file", 303, 404),
    # The LKE link: proposals from the case indicators (readers list, admin/auditor decide).
    ("GET", "/api/v1/zi/assessments/{assessment_id}/proposals"): Row(
        "/api/v1/zi/assessments/999999/proposals", 401, 404
    ),
    ("POST", "/api/v1/zi/assessments/{assessment_id}/proposals"): Row(
        "/api/v1/zi/assessments/999999/proposals", 401, 404, json=True
    ),
    ("POST", "/api/v1/zi/assessments/{assessment_id}/proposals/{proposal_id}/accept"): Row(
        "/api/v1/zi/assessments/999999/proposals/999999/accept", 401, 404
    ),
    ("POST", "/api/v1/zi/assessments/{assessment_id}/proposals/{proposal_id}/override"): Row(
        "/api/v1/zi/assessments/999999/proposals/999999/override",
        401,
        404,
        {"admin": 422, "auditor": 422},  # the body is checked before the assessment
        json=True,
    ),
    ("POST", "/zi/assessments/{assessment_id}/proposals"): Row(
        "/zi/assessments/999999/proposals", 401, 404
    ),
    ("POST", "/zi/assessments/{assessment_id}/proposals/{proposal_id}/accept"): Row(
        "/zi/assessments/999999/proposals/999999/accept", 401, 404
    ),
    ("POST", "/zi/assessments/{assessment_id}/proposals/{proposal_id}/override"): Row(
        "/zi/assessments/999999/proposals/999999/override", 401, 404
    ),
    # Reporter pages (public) and officer pages (wbs/reporting/pages.py, wbs/cases/pages.py).
    ("GET", "/"): Row("/", 200, 200),
    ("GET", "/lapor/{code}"): Row("/lapor/{unit}", 200, 200),
    ("GET", "/lapor/{code}/poster"): Row("/lapor/{unit}/poster", 200, 200),
    ("GET", "/lapor/{code}/poster.pdf"): Row("/lapor/{unit}/poster.pdf", 200, 200),
    ("GET", "/lapor/{code}/{case_type}"): Row("/lapor/{unit}/wbs", 200, 200),
    ("POST", "/lapor/{code}/{case_type}"): Row("/lapor/{unit}/wbs", 422, 422),
    ("GET", "/kotak-surat"): Row("/kotak-surat", 200, 200),
    ("POST", "/kotak-surat"): Row("/kotak-surat", 422, 422),
    ("POST", "/kotak-surat/pesan"): Row("/kotak-surat/pesan", 422, 422),
    ("GET", "/staff/key"): Row("/staff/key", 303, 200),
    ("GET", "/staff/cases"): Row("/staff/cases", 303, 200),
    ("GET", "/staff/cases/{report_id}"): Row(
        "/staff/cases/00000000-0000-4000-8000-000000000000", 303, 404
    ),
    ("GET", "/admin/units/{code}/keys"): Row("/admin/units/{unit}/keys", 303, 404, ADMIN_ONLY),
    # Indicator exports: admins, auditors and atasan of the unit (or above it); no export
    # 999999 exists. The export key is public (evaluators check packages with it).
    ("GET", "/admin/units/{code}/exports"): Row("/admin/units/{unit}/exports", 303, 404, EXPORTERS),
    ("POST", "/admin/units/{code}/exports"): Row(
        "/admin/units/{unit}/exports", 401, 404, EXPORTERS_422
    ),
    ("POST", "/api/v1/units/{code}/exports"): Row(
        "/api/v1/units/{unit}/exports", 401, 404, EXPORTERS_422, json=True
    ),
    ("GET", "/api/v1/exports/{export_id}"): Row("/api/v1/exports/999999", 401, 404),
    ("GET", "/api/v1/exports/{export_id}/file"): Row("/api/v1/exports/999999/file", 401, 404),
    ("GET", "/api/v1/units/{code}/export-key"): Row("/api/v1/units/{unit}/export-key", 200, 200),
    # Indicators: admins, auditors and atasan of the unit (or above); public figures for a
    # complete year, for anyone.
    ("GET", "/api/v1/units/{code}/indicators"): Row(
        "/api/v1/units/{unit}/indicators?period=2026",
        401,
        404,
        {"admin": 200, "auditor": 200, "atasan": 200},
    ),
    ("GET", "/api/v1/public/units/{code}/indicators"): Row(
        "/api/v1/public/units/{unit}/indicators?period=2025", 200, 200
    ),
    ("GET", "/admin/units/{code}/indicators"): Row(
        "/admin/units/{unit}/indicators?period=2026",
        303,
        404,
        {"admin": 200, "auditor": 200, "atasan": 200},
    ),
    ("GET", "/transparansi/{code}"): Row("/transparansi/{unit}?period=2025", 200, 200),
}


def app_routes(app) -> set[tuple[str, str]]:
    """(method, full path) of every route, including those of included routers."""
    found: set[tuple[str, str]] = set()
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, Mount):
            continue
        for method in getattr(context, "methods", None) or ():
            if method != "HEAD":
                found.add((method, context.path))
    return found


SIGN_OUT = {("POST", "/staff/logout"), ("DELETE", "/api/v1/staff/session")}


def test_every_route_has_a_row(app):
    routes = app_routes(app)
    missing = sorted(routes - MATRIX.keys())
    stale = sorted(MATRIX.keys() - routes)
    assert not missing, f"routes without an access-policy row in MATRIX: {missing}"
    assert not stale, f"MATRIX rows for routes that no longer exist: {stale}"


async def _csrf(client: httpx.AsyncClient, signed_in: bool) -> str:
    page = await client.get("/staff" if signed_in else "/staff/login")
    found = CSRF_RE.search(page.text)
    assert found, "no CSRF token to use"
    return found.group(1)


@pytest.mark.parametrize("who", ALL_WHO)
async def test_route_role_matrix(app, make_unit, make_staff, who):
    unit = await make_unit("MATRIX")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        if who != "anon":
            account = await make_staff(unit, who)
            assert (await login(client, account)).status_code == 303
        failures = []
        for (method, template), row in sorted(MATRIX.items()):
            url = row.url.replace("{unit}", unit.code)
            headers = {}
            if method not in ("GET", "HEAD", "OPTIONS"):
                headers["x-csrf-token"] = await _csrf(client, who != "anon")
            if method == "GET":
                response = await client.get(url, headers=headers)
            elif row.json:
                response = await client.request(method, url, headers=headers, json={})
            else:
                response = await client.request(method, url, headers=headers, data={})
            if response.status_code != row.expected(who):
                failures.append(
                    f"{method} {template} as {who}: {response.status_code}, "
                    f"expected {row.expected(who)}"
                )
            signed_out = (method, template) in SIGN_OUT and response.status_code in (204, 303)
            if who != "anon" and signed_out:
                # the session ended: sign in again so the rest of the table tests this role
                assert (await login(client, account)).status_code == 303
        assert not failures, "\n".join(failures)
