"""Engine tests: a case row (metadata only, placeholder ciphertext). API walks: frozen time,
an office of enrolled officers, reports sent and answered as a reporter's browser does."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crypto import envelope as lib_envelope
from crypto import receipt as lib_receipt
from crypto.encoding import b64u_encode
from crypto.keys import KeyPair
from tests.conftest import Account
from tests.reporting.helpers import enrol, mailbox_login, publish_directory, sign_in, submission
from wbs.core import db as core_db
from wbs.reporting.models import Message, Report, SenderRole
from wbs.units.models import CaseType, Channel, Unit
from wbs.worker import run_once
from wbs.workflow.service import Clock, TimerRun


async def make_report(
    db: AsyncSession, unit: Unit, case_type: str, seq: int = 1, submitted: date | None = None
) -> Report:
    kind = CaseType(case_type)
    channel = await db.scalar(
        select(Channel).where(Channel.unit_id == unit.id, Channel.case_type == kind)
    )
    assert channel is not None
    report = Report(
        public_id=str(uuid.uuid4()),
        unit_id=unit.id,
        channel_id=channel.id,
        case_type=kind,
        year=2026,
        seq=seq,
        case_number=f"{unit.code}-{case_type[:3].upper()}-2026-{seq:05d}",
        lookup_hash=uuid.uuid4().hex,
        envelope_version=1,
        content="-",
        identity=None,
        reporter_key="-",
        envelope_sha256="0" * 64,
        proof_signature="-",
        directory_version=1,
    )
    if submitted is not None:  # 09:00 WIB on that day
        at = datetime(submitted.year, submitted.month, submitted.day, 2, 0, tzinfo=UTC)
        report.submitted_at = report.status_changed_at = report.last_activity_at = at
    db.add(report)
    await db.flush()
    return report


async def mailbox_message(db: AsyncSession, report: Report, sender: str, on: date) -> Message:
    """A mailbox message (placeholder box) sent at 10:00 WIB on the given day."""
    message = Message(
        report_id=report.id,
        public_id=str(uuid.uuid4()),
        sender_role=SenderRole(sender),
        staff_id=None,
        box="-",
        created_at=datetime(on.year, on.month, on.day, 3, 0, tzinfo=UTC),
    )
    db.add(message)
    await db.flush()
    return message


# --------------------------------------------------------------------------- through the API


class FrozenTime:
    """The server's `utcnow()` (the API's clock, sessions, messages, the worker) fixed on a
    chosen local day at 09:00 WIB; each reading is a millisecond after the one before, so
    what happens within one day keeps its order."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.moment = datetime.now(UTC)
        frozen = self

        class _Datetime(datetime):
            @classmethod
            def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
                frozen.moment += timedelta(milliseconds=1)
                return frozen.moment.astimezone(tz)

        monkeypatch.setattr(core_db, "datetime", _Datetime)

    def on(self, day: date) -> None:
        self.moment = Clock.on(day).now


def officer_message(sealed: Any, text: str) -> dict[str, str]:
    """An officer's message to the reporter, sealed on the officer's device."""
    mid = str(uuid.uuid4())
    box = lib_envelope.seal_message(sealed.data_key, sealed.envelope.context, "officer", mid, text)
    return {"id": mid, "box": b64u_encode(box)}


@dataclass
class Desk:
    """One officer signed in on their own HTTP client."""

    http: httpx.AsyncClient
    account: Account
    csrf: str = ""

    async def sign_in(self) -> None:
        self.http.cookies.clear()
        self.csrf = await sign_in(self.http, self.account)

    async def act(
        self,
        case_id: str,
        action: str,
        expected: str,
        facts: dict[str, Any] | None = None,
        message: dict[str, str] | None = None,
    ) -> httpx.Response:
        payload: dict[str, Any] = {"action": action, "expected_state": expected}
        payload["facts"] = facts or {}
        if message:
            payload["message"] = message
        return await self.http.post(
            f"/api/v1/cases/{case_id}/actions", json=payload, headers={"x-csrf-token": self.csrf}
        )

    async def moved(self, case_id: str, action: str, expected: str, **kwargs: Any) -> dict:
        """Take an action that must succeed; the case's workflow afterwards."""
        out = await self.act(case_id, action, expected, **kwargs)
        assert out.status_code == 200, out.text
        return dict(out.json())

    async def flow(self, case_id: str) -> dict[str, Any]:
        """The case's workflow as this officer sees it (`GET /api/v1/cases/{id}`)."""
        out = await self.http.get(f"/api/v1/cases/{case_id}")
        assert out.status_code == 200, out.text
        return dict(out.json()["workflow"])

    async def due(self, case_id: str) -> dict[str, dict[str, Any]]:
        """Deadlines by name (`GET /api/v1/cases/{id}/workflow`)."""
        out = await self.http.get(f"/api/v1/cases/{case_id}/workflow")
        assert out.status_code == 200, out.text
        return {d["name"]: d for d in out.json()["deadlines"]}

    async def actions(self, case_id: str) -> list[str]:
        return [a["action"] for a in (await self.flow(case_id))["actions"]]


@dataclass
class Filed:
    """A report sent by a reporter's browser: its id, receipt and sealed envelope."""

    case_id: str
    number: str
    receipt: str
    sealed: Any

    def message(self, text: str) -> dict[str, str]:
        return officer_message(self.sealed, text)


@dataclass
class Office:
    """A unit with enrolled officers (one desk each), its channels' recipients chosen by the
    admin and a signed directory; time frozen by `frozen`."""

    app: Any
    unit: Unit
    desks: dict[str, Desk]
    keys: dict[str, KeyPair]
    channels: dict[str, list[str]]
    frozen: FrozenTime

    def __getitem__(self, name: str) -> Desk:
        return self.desks[name]

    async def close(self) -> None:
        for desk in self.desks.values():
            await desk.http.aclose()

    async def on(self, day: date) -> None:
        """Move the frozen clock to `day` and sign every officer in again."""
        self.frozen.on(day)
        for desk in self.desks.values():
            await desk.sign_in()

    async def file(self, channel: str) -> Filed:
        async with _http(self.app) as http:
            recipients = [self.keys[n] for n in self.channels[channel]]
            body, receipt, sealed = await submission(http, self.unit, recipients, channel=channel)
            out = await http.post("/api/v1/reports", json=body)
        assert out.status_code == 201, out.text
        return Filed(out.json()["report_id"], out.json()["case_number"], receipt, sealed)

    async def mailbox(self, filed: Filed, reply: str | None = None) -> dict[str, Any]:
        """The reporter's mailbox (after sending `reply`, sealed in the reporter's browser)."""
        async with _http(self.app) as http:
            keys = lib_receipt.derive_from_receipt(filed.receipt)
            login = await mailbox_login(http, keys.lookup_b64u)
            assert login.status_code == 200, login.text
            view = (await http.get("/api/v1/mailbox")).json()
            if reply is not None:
                opened = lib_envelope.open_report(view["envelope"], keys.key_pair)
                mid = str(uuid.uuid4())
                context = filed.sealed.envelope.context
                box = lib_envelope.seal_message(opened.data_key, context, "reporter", mid, reply)
                sent = await http.post(
                    "/api/v1/mailbox/messages",
                    json={"id": mid, "box": b64u_encode(box)},
                    headers={"x-csrf-token": login.json()["csrf_token"]},
                )
                assert sent.status_code == 201, sent.text
                view = (await http.get("/api/v1/mailbox")).json()
            return dict(view)

    async def worker(self, day: date) -> TimerRun:
        """The worker's pass (`wbs worker`) with the clock on `day`."""
        self.frozen.on(day)
        state = self.app.state
        run = await run_once(
            state.settings, state.sessionmaker, state.workflows, clock=Clock.on(day)
        )
        return run.timers


def _http(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def open_office(
    app: Any,
    make_unit: Any,
    make_staff: Any,
    frozen: FrozenTime,
    roles: dict[str, str],
    channels: dict[str, list[str]],
) -> Office:
    """`roles`: officer name -> role; `channels`: case type -> the officers its reports are
    sealed to (the admin's recipient choice, signed into the unit's directory)."""
    unit = await make_unit()
    admin = await make_staff(unit, "admin")
    accounts = {name: await make_staff(unit, role) for name, role in roles.items()}
    desks, keys = {}, {}
    for name, account in accounts.items():
        http = _http(app)
        made, _me = await enrol(http, account)
        keys[name] = made.key_pair
        desks[name] = Desk(http, account)
    async with _http(app) as http:
        csrf = await sign_in(http, admin)
        for channel, names in channels.items():
            chosen = await http.put(
                f"/api/v1/admin/units/{unit.code}/channels/{channel}/recipients",
                json={"staff_ids": [accounts[n].staff.id for n in names]},
                headers={"x-csrf-token": csrf},
            )
            assert chosen.status_code == 200, chosen.text
        await publish_directory(http, unit, csrf, KeyPair.generate().public)
    return Office(app, unit, desks, keys, channels, frozen)
