"""Identity release through the custodian, through the API on both databases.

A unit with two verifikator officers and two custodians in its signed directory: reports
with an identity are sealed v2 (the identity key wrapped to the custodians only). An officer
asks with a reason; a custodian approves on their device (the reference client's re-wrap)
or denies; only the approved requester receives the identity, and opens it with their key.
Every step is audited, the mail says nothing of the identity, and the reporter's mailbox
says (in both languages) that the identity was opened. Version 1 reports (no custodians
signed) are released by the server to the requester only.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from crypto import envelope as lib_envelope
from crypto import receipt as lib_receipt
from crypto.encoding import b64u_encode
from crypto.keys import KeyPair
from tests.conftest import Account, make_settings
from tests.reporting.helpers import (
    enrol,
    form_tokens,
    mailbox_login,
    publish_directory,
    sign_in,
)
from wbs.app import create_app
from wbs.audit import service as audit
from wbs.audit.models import AuditEvent
from wbs.client import e2e
from wbs.client.api import ClientError
from wbs.client.flows import solve_pow
from wbs.core.db import make_sessionmaker
from wbs.outbox.delivery import compose
from wbs.outbox.models import OutboxMessage
from wbs.reporting.context import Reporting
from wbs.reporting.limits import ReportingLimits
from wbs.reporting.models import IdentityWrap, Report
from wbs.staff import service as staff_service
from wbs.staff.credentials import new_credentials
from wbs.staff.models import Role
from wbs.units.models import Unit
from wbs.units.service import create_unit

CANARY_NAME = "KANARI-NAMA-PELAPOR-1d7e0c"
CANARY_NOTE = "KANARI-CATATAN-PEMINTA-93a1"
IDENTITY = {"nama": CANARY_NAME, "telepon": "0812-3456-7890"}
CONTENT = {"uraian": "Pungutan liar di loket 3"}


@dataclass
class World:
    app: Any
    unit: Unit
    transport: httpx.ASGITransport
    accounts: dict[str, Account] = field(default_factory=dict)
    keys: dict[str, KeyPair] = field(default_factory=dict)
    clients: dict[str, httpx.AsyncClient] = field(default_factory=dict)
    csrf: dict[str, str] = field(default_factory=dict)

    def client(self, name: str) -> httpx.AsyncClient:
        if name not in self.clients:
            self.clients[name] = httpx.AsyncClient(
                transport=self.transport, base_url="http://testserver"
            )
        return self.clients[name]

    async def login(self, name: str) -> tuple[httpx.AsyncClient, dict[str, str]]:
        """The actor's own client (cookie jar) and CSRF header, signed in once."""
        client = self.client(name)
        if name not in self.csrf:
            self.csrf[name] = await sign_in(client, self.accounts[name])
        return client, {"x-csrf-token": self.csrf[name]}

    async def db_rows(self, model: Any, *where: Any) -> list[Any]:
        async with make_sessionmaker(self.app.state.engine)() as db:
            return list(await db.scalars(select(model).where(*where).order_by(model.id)))


async def make_world(tmp_path: Path, url: str, *, custodian_keys: bool = True) -> World:
    settings = make_settings(tmp_path / "var", url)
    app = create_app(settings)
    app.state.reporting = Reporting.build(
        settings, app.state.security.master, ReportingLimits(pow_difficulty=2)
    )
    code = f"ID{uuid.uuid4().hex[:6].upper()}"
    people = {
        "v1": Role.verifikator,
        "v2": Role.verifikator,
        "c1": Role.custodian,
        "c2": Role.custodian,
        "admin": Role.admin,
    }
    async with make_sessionmaker(app.state.engine)() as db:
        unit = await create_unit(db, code=code, name="Unit Identitas", actor="test")
        accounts = {}
        for name, role in people.items():
            password = f"pw-{uuid.uuid4().hex}"
            secret, kdf = new_credentials(password, for_tests=True)
            staff, _seed = await staff_service.create_staff(
                db,
                app.state.security,
                email=f"{name}@{code.lower()}.go.id",
                name=name.upper(),
                unit_code=code,
                roles=[role],
                login_secret=secret,
                kdf_params=kdf,
                actor="test",
            )
            accounts[name] = Account(staff, password)
        await db.commit()
    world = World(app, unit, httpx.ASGITransport(app=app), accounts)
    enrolled = ["v1", "v2"] + (["c1", "c2"] if custodian_keys else [])
    for name in enrolled:
        made, _me = await enrol(world.client(name), accounts[name])
        world.keys[name] = made.key_pair
    client, _h = await world.login("admin")
    await publish_directory(client, unit, world.csrf["admin"], KeyPair.generate().public)
    return world


@pytest.fixture
async def world(tmp_path: Path, fresh_db_url: str) -> Any:
    made = await make_world(tmp_path, fresh_db_url)
    yield made
    for client in made.clients.values():
        await client.aclose()
    await made.app.state.engine.dispose()


async def submit(
    world: World,
    *,
    identity: dict[str, str] | None = IDENTITY,
    custodians: list[str] | None = None,
    mutate: Any = None,
) -> httpx.Response:
    """A browser-path report to both officers, its identity sealed to the custodians."""
    rk = lib_receipt.derive_from_receipt(receipt := lib_receipt.new_receipt())
    report_id = str(uuid.uuid4())
    if custodians is None:
        custodians = [k for k in ("c1", "c2") if k in world.keys]
    sealed = lib_envelope.seal_report(
        unit=world.unit.code,
        channel="wbs",
        report_id=report_id,
        content=CONTENT,
        recipients=[world.keys["v1"].public, world.keys["v2"].public],
        reporter_key=rk.reporter_public_key,
        identity=identity,
        identity_recipients=[world.keys[c].public for c in custodians] or None,
    )
    envelope = sealed.envelope.to_json()
    if mutate is not None:
        mutate(envelope)
    client = world.client("reporter")
    challenge = (await client.get("/api/v1/pow")).json()
    body = {
        "envelope": envelope,
        "lookup": rk.lookup_b64u,
        "excluded": [],
        "pow": solve_pow(challenge, report_id),
    }
    out = await client.post("/api/v1/reports", json=body)
    out.extensions["receipt"] = receipt
    return out


async def submitted(world: World) -> tuple[str, str]:
    out = await submit(world)
    assert out.status_code == 201, out.text
    return out.json()["report_id"], out.extensions["receipt"]


async def ask(world: World, who: str, report_id: str, **body: Any) -> httpx.Response:
    client, headers = await world.login(who)
    payload = {"reason": "klarifikasi", "note": CANARY_NOTE, **body}
    return await client.post(
        f"/api/v1/cases/{report_id}/identity-requests", json=payload, headers=headers
    )


async def pending_for(world: World, custodian: str) -> list[dict[str, Any]]:
    client, _h = await world.login(custodian)
    out = await client.get("/api/v1/identity/requests")
    assert out.status_code == 200, out.text
    return list(out.json())


def release_wrap(world: World, custodian: str, request: dict[str, Any]) -> str:
    """What the custodian's device sends: the reference client's re-wrap."""
    ctx = e2e.Context(request["unit"], request["channel"], request["report_id"])
    return e2e.release_identity(
        ctx, request, world.keys[custodian], request["requester_public_key"]
    )


async def decide(
    world: World, custodian: str, request_id: str, action: str, body: dict[str, Any]
) -> httpx.Response:
    client, headers = await world.login(custodian)
    return await client.post(
        f"/api/v1/identity/requests/{request_id}/{action}", json=body, headers=headers
    )


async def released(world: World, who: str, report_id: str) -> httpx.Response:
    client, _h = await world.login(who)
    return await client.get(f"/api/v1/cases/{report_id}/identity")


async def test_v2_report_is_stored_and_officers_get_no_identity(world: World) -> None:
    report_id, _receipt = await submitted(world)
    rows = await world.db_rows(IdentityWrap)
    assert sorted(r.key_id for r in rows) == sorted(
        world.keys[c].public.key_id_hex for c in ("c1", "c2")
    )
    assert {r.kind.value for r in rows} == {"original"}
    [report] = await world.db_rows(Report, Report.public_id == report_id)
    assert report.envelope_version == 2 and report.identity_commitment
    client, _h = await world.login("v1")
    case = (await client.get(f"/api/v1/cases/{report_id}")).json()
    env = case["envelope"]
    assert case["has_identity"] and env["identity"] is None and env["identity_wraps"] == []
    opened = lib_envelope.open_report(env, world.keys["v1"])  # the withheld v2 form opens
    assert opened.content == CONTENT and opened.identity is None
    assert (await released(world, "v1", report_id)).status_code == 404


def _drop(name: str) -> Any:
    return lambda env: env.pop(name)


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("no_identity_wraps", "envelope_malformed"),
        ("no_commitment", "envelope_malformed"),
        ("v1_with_commitment", "envelope_malformed"),
        ("one_custodian_missing", "identity_custodians_mismatch"),
        ("stranger_custodian", "identity_custodians_mismatch"),
        ("v1_identity_despite_custodians", "identity_custodians_mismatch"),
        ("bad_wrap", "envelope_malformed"),
        ("too_many_wraps", "validation_failed"),
    ],
)
async def test_malformed_v2_submissions_are_refused(world: World, case: str, code: str) -> None:
    kwargs: dict[str, Any] = {}
    if case == "no_identity_wraps":
        kwargs["mutate"] = _drop("identity_wraps")
    elif case == "no_commitment":
        kwargs["mutate"] = _drop("identity_commitment")
    elif case == "v1_with_commitment":
        kwargs["custodians"] = []
        kwargs["mutate"] = lambda env: env.update(identity_commitment=b64u_encode(bytes(32)))
    elif case == "one_custodian_missing":
        kwargs["custodians"] = ["c1"]
    elif case == "stranger_custodian":
        world.keys["x"] = KeyPair.generate()
        kwargs["custodians"] = ["c1", "c2", "x"]
    elif case == "v1_identity_despite_custodians":
        kwargs["custodians"] = []
    elif case == "bad_wrap":
        kwargs["mutate"] = lambda env: env["identity_wraps"].__setitem__(0, env["wraps"][0])
    elif case == "too_many_wraps":
        kwargs["mutate"] = lambda env: env.update(identity_wraps=env["identity_wraps"] * 9)
    out = await submit(world, **kwargs)
    assert out.status_code == 422, out.text
    assert out.json()["error"] == code
    assert out.json()["message_id"] and out.json()["message_en"]
    assert await world.db_rows(Report) == []


async def test_only_the_approved_requester_opens_the_identity(world: World) -> None:
    report_id, receipt = await submitted(world)
    asked = await ask(world, "v1", report_id)
    assert asked.status_code == 201, asked.text
    request_id = asked.json()["id"]
    assert asked.json()["state"] == "requested"
    assert (await ask(world, "v1", report_id)).status_code == 409  # one open request
    second = await ask(world, "v2", report_id, reason="pemeriksaan", note=None)
    assert second.status_code == 201, second.text

    # Nobody holds the identity before a decision; officers cannot see the pending list.
    for who in ("v1", "v2"):
        assert (await released(world, who, report_id)).status_code == 404
        client, _h = await world.login(who)
        assert (await client.get("/api/v1/identity/requests")).status_code == 404
    pending = {p["id"]: p for p in await pending_for(world, "c1")}
    mine = pending[request_id]
    assert mine["note"] == CANARY_NOTE and mine["envelope_version"] == 2
    assert mine["requester_public_key"] == world.keys["v1"].public.text
    assert mine["identity_wrap"] and mine["identity"] and mine["identity_commitment"]

    # A wrap for anyone but the requester's approved key is refused.
    stolen = dict(mine, requester_public_key=world.keys["v2"].public.text)
    wrong = await decide(
        world, "c1", request_id, "approve", {"wrap": release_wrap(world, "c1", stolen)}
    )
    assert wrong.status_code == 422 and wrong.json()["error"] == "identity_wrap_mismatch"
    # An officer is not a custodian: the request does not exist for them.
    assert (await decide(world, "v2", request_id, "approve", {"wrap": None})).status_code == 404

    wrap = release_wrap(world, "c1", mine)
    ok = await decide(world, "c1", request_id, "approve", {"wrap": wrap})
    assert ok.status_code == 200, ok.text
    assert ok.json()["state"] == "approved"
    late = await decide(world, "c2", request_id, "approve", {"wrap": wrap})
    assert late.status_code == 409 and late.json()["error"] == "identity_request_decided"

    # The requester opens it with their own key; the plaintext is the reporter's.
    got = await released(world, "v1", report_id)
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["wrap"] and body["envelope"]["identity"]
    assert e2e.open_released_identity(body["envelope"], body["wrap"], world.keys["v1"]) == IDENTITY
    with pytest.raises(ClientError):  # the released wrap is for v1's key only
        e2e.open_released_identity(body["envelope"], body["wrap"], world.keys["v2"])

    # The other officer (a second, unapproved requester) and the custodians get nothing.
    assert (await released(world, "v2", report_id)).status_code == 404
    v2_case = (await world.client("v2").get(f"/api/v1/cases/{report_id}")).json()
    assert v2_case["envelope"]["identity"] is None
    for custodian in ("c1", "c2"):
        client, _h = await world.login(custodian)
        assert (await client.get(f"/api/v1/cases/{report_id}")).status_code == 404
        assert (await client.get(f"/api/v1/cases/{report_id}/identity")).status_code == 404
    assert [p["id"] for p in await pending_for(world, "c1")] == [second.json()["id"]]

    # Audit: every step, with ids and codes, never the identity or the note.
    events = await world.db_rows(AuditEvent, AuditEvent.action.like("identity.%"))
    assert [e.action for e in events] == [
        "identity.request",
        "identity.request",
        "identity.approve",
        "identity.open",
    ]
    assert all(e.details.get("request_id") for e in events)
    for event in events:
        assert CANARY_NAME not in str(event.details) and CANARY_NOTE not in str(event.details)
    async with make_sessionmaker(world.app.state.engine)() as db:
        unit = await db.get(Unit, world.unit.id)
        assert unit is not None and (await audit.verify_unit(db, unit)).ok

    # Outbox: the custodians are told of each request, the requester of the decision; no
    # mail holds the identity or the note.
    rows = await world.db_rows(OutboxMessage, OutboxMessage.kind == "case_needs_you")
    reasons = [r.payload["reason"] for r in rows]
    assert reasons.count("identity_request") == 2 and reasons.count("identity_decided") == 1
    decided = next(r for r in rows if r.payload["reason"] == "identity_decided")
    assert decided.payload["staff_id"] == world.accounts["v1"].staff.id
    settings = world.app.state.settings
    for row in rows:
        mail = compose(settings, row.kind, row.payload, "someone@example.go.id")
        assert mail is not None
        text = mail.subject + mail.body
        assert CANARY_NAME not in text and CANARY_NOTE not in text
        if row.payload["reason"] == "identity_request":
            assert "/staff/identitas" in mail.body

    # The reporter's mailbox says so, in both languages; the reporter still opens the report.
    reporter = world.client("mailbox")
    keys = lib_receipt.derive_from_receipt(receipt)
    assert (await mailbox_login(reporter, keys.lookup_b64u)).status_code == 200
    view = (await reporter.get("/api/v1/mailbox")).json()
    [notice] = view["notices"]
    assert notice["text"]["id"].startswith("Identitas Anda telah dibuka untuk")
    assert notice["text"]["en"].startswith("Your identity was opened for")
    assert "klarifikasi" in notice["text"]["id"] and CANARY_NOTE not in str(notice)
    assert lib_envelope.open_report(view["envelope"], keys.key_pair).content == CONTENT


async def test_denied_request_releases_nothing_and_may_be_asked_again(world: World) -> None:
    report_id, _receipt = await submitted(world)
    request_id = (await ask(world, "v1", report_id)).json()["id"]
    refused = await decide(world, "c2", request_id, "deny", {"note": "Belum cukup alasan"})
    assert refused.status_code == 200 and refused.json()["state"] == "denied"
    assert (await decide(world, "c1", request_id, "approve", {"wrap": None})).status_code == 409
    assert (await released(world, "v1", report_id)).status_code == 404
    client, _h = await world.login("v1")
    mine = (await client.get(f"/api/v1/cases/{report_id}/identity-requests")).json()
    assert mine[0]["state"] == "denied" and mine[0]["decision_note"] == "Belum cukup alasan"
    assert (await ask(world, "v1", report_id)).status_code == 201  # may ask again
    actions = [
        e.action for e in await world.db_rows(AuditEvent, AuditEvent.action.like("identity.%"))
    ]
    assert actions == ["identity.request", "identity.deny", "identity.request"]
    assert await world.db_rows(IdentityWrap, IdentityWrap.kind == "released") == []


async def test_two_custodians_approving_at_once_one_wins(world: World) -> None:
    report_id, _receipt = await submitted(world)
    request_id = (await ask(world, "v1", report_id)).json()["id"]
    requests = {
        c: next(p for p in await pending_for(world, c) if p["id"] == request_id)
        for c in ("c1", "c2")
    }
    bodies = {c: {"wrap": release_wrap(world, c, requests[c])} for c in ("c1", "c2")}
    answers = await asyncio.gather(
        *(decide(world, c, request_id, "approve", bodies[c]) for c in ("c1", "c2"))
    )
    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    assert len(await world.db_rows(IdentityWrap, IdentityWrap.kind == "released")) == 1
    got = (await released(world, "v1", report_id)).json()
    assert e2e.open_released_identity(got["envelope"], got["wrap"], world.keys["v1"]) == IDENTITY


@pytest.fixture
async def world_v1(tmp_path: Path, fresh_db_url: str) -> Any:
    made = await make_world(tmp_path, fresh_db_url, custodian_keys=False)
    yield made
    for client in made.clients.values():
        await client.aclose()
    await made.app.state.engine.dispose()


async def test_v1_report_is_released_by_the_server_to_the_requester_only(world_v1: World) -> None:
    world = world_v1
    out = await submit(world)  # no custodian signed: the identity is sealed v1 (under DK)
    assert out.status_code == 201, out.text
    report_id = out.json()["report_id"]
    request_id = (await ask(world, "v2", report_id)).json()["id"]
    [pending] = await pending_for(world, "c1")
    assert pending["envelope_version"] == 1 and pending["identity"] is None
    needless = await decide(world, "c1", request_id, "approve", {"wrap": b64u_encode(bytes(60))})
    assert needless.status_code == 422
    assert (await decide(world, "c1", request_id, "approve", {"wrap": None})).status_code == 200
    got = (await released(world, "v2", report_id)).json()
    assert got["wrap"] is None and got["envelope"]["v"] == 1
    assert e2e.open_released_identity(got["envelope"], None, world.keys["v2"]) == IDENTITY
    assert (await released(world, "v1", report_id)).status_code == 404
    v1_case = (await world.client("v1").get(f"/api/v1/cases/{report_id}")).json()
    assert v1_case["envelope"]["identity"] is None


async def test_no_javascript_report_is_sealed_v2_to_the_custodians(world: World) -> None:
    """The server-sealed path seals an identity to the signed custodians too."""
    client = world.client("nojs")
    path = f"/lapor/{world.unit.code}/wbs"
    form = {
        **(await form_tokens(client, path)),
        "isi.apa": "Pungutan liar di loket",
        "isi.siapa": "Petugas loket",
        "isi.di_mana": "Loket 3",
        "isi.kapan": "Maret 2026",
        "isi.bagaimana": "Meminta uang tambahan",
        "identitas.nama": CANARY_NAME,
    }
    out = await client.post(path, data=form)
    assert out.status_code == 201, out.text[:2000]
    [report] = await world.db_rows(Report)
    assert report.server_sealed and report.envelope_version == 2
    kids = sorted(w.key_id for w in await world.db_rows(IdentityWrap))
    assert kids == sorted(world.keys[c].public.key_id_hex for c in ("c1", "c2"))
    request_id = (await ask(world, "v1", report.public_id)).json()["id"]
    [pending] = await pending_for(world, "c2")
    wrap = release_wrap(world, "c2", pending)
    assert (await decide(world, "c2", request_id, "approve", {"wrap": wrap})).status_code == 200
    got = (await released(world, "v1", report.public_id)).json()
    opened = e2e.open_released_identity(got["envelope"], got["wrap"], world.keys["v1"])
    assert opened["nama"] == CANARY_NAME
