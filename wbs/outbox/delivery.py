"""Deliver outbox rows as mail: leased in short transactions, retried with backoff.

Several workers may run at once: a batch is claimed by moving its rows' `available_at`
forward (a lease) under `FOR UPDATE SKIP LOCKED` on PostgreSQL (SQLite has one writer), then
sent, then marked sent. A worker that dies after sending and before marking sends that row
again when the lease runs out: delivery is at least once, and every message carries a
Message-ID made from the row id so a mail server or client can drop the repeat.

Mail never holds report content, identity or case facts: only that a case needs the
officer, with a link.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

import aiosmtplib
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from wbs.core.db import utcnow
from wbs.core.settings import Settings
from wbs.outbox.models import OutboxMessage
from wbs.staff.models import Role, Staff, StaffRole

log = logging.getLogger("wbs.outbox")

LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 12
BATCH = 50
MAX_ERROR = 500


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min ... capped at 1 h."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


REASONS = {
    "transition": ("Kasus Anda berpindah tahap", "Your case moved to a new step"),
    "reporter_message": ("Pelapor mengirim pesan", "The reporter sent a message"),
    "escalated": ("Tenggat kasus terlewati", "A case deadline was missed"),
    "due_soon": ("Tenggat kasus segera tiba", "A case deadline is near"),
    "assigned": ("Kasus ditugaskan kepada Anda", "A case was assigned to you"),
    "identity_request": ("Permintaan pembukaan identitas", "Identity release requested"),
    "identity_decided": ("Permintaan identitas diputuskan", "Identity request decided"),
}


def _link(settings: Settings, path: str) -> str:
    base = (settings.base_url or f"http://{settings.host}:{settings.port}").rstrip("/")
    return f"{base}{path}"


def compose(settings: Settings, kind: str, payload: dict[str, object], to: str) -> Mail | None:
    """The mail for one outbox row and recipient; content-free by construction."""
    if kind == "case_needs_you":
        reason = str(payload.get("reason", ""))
        id_, en = REASONS.get(reason, ("Ada kasus yang memerlukan Anda", "A case needs you"))
        # a custodian need not read the case: the request waits on the custodian's page
        path = (
            "/staff/identitas"
            if reason == "identity_request"
            else f"/staff/cases/{payload.get('case')}"
        )
        link = _link(settings, path)
        body = (
            f"{id_}.\nBuka tautan ini setelah masuk untuk melihatnya:\n{link}\n\n"
            f"{en}.\nOpen this link after signing in to see it:\n{link}\n"
        )
        return Mail(to, f"[wbs] {id_} / {en}", body)
    if kind == "digest":
        soon, overdue = int(str(payload.get("due_soon", 0))), int(str(payload.get("overdue", 0)))
        link = _link(settings, "/staff/cases?sort=due")
        body = (
            f"Ringkasan harian: {overdue} kasus lewat tenggat, {soon} kasus segera jatuh "
            f"tempo.\n{link}\n\nDaily summary: {overdue} cases overdue, {soon} due soon.\n"
            f"{link}\n"
        )
        return Mail(to, "[wbs] Ringkasan tenggat / Deadline summary", body)
    return None


async def recipients(db: AsyncSession, payload: dict[str, object]) -> list[str]:
    """Active officers the row is for: one by id, or holders of a role in the case's unit."""
    staff_id, role, unit_id = payload.get("staff_id"), payload.get("role"), payload.get("unit_id")
    if isinstance(staff_id, int):
        found = await db.get(Staff, staff_id)
        return [found.email] if found is not None and found.active else []
    if isinstance(role, str) and isinstance(unit_id, int) and role in Role.__members__:
        rows = await db.scalars(
            select(Staff.email)
            .join(StaffRole, StaffRole.staff_id == Staff.id)
            .where(Staff.unit_id == unit_id, Staff.active.is_(True), StaffRole.role == Role(role))
            .order_by(Staff.id)
        )
        return list(rows)
    return []


Clock = Callable[[], datetime]


async def claim(
    sessions: async_sessionmaker[AsyncSession], limit: int = BATCH, clock: Clock = utcnow
) -> list[int]:
    """Lease up to `limit` due rows to this worker; returns their ids."""
    async with sessions() as db:
        now = clock()
        stmt = (
            select(OutboxMessage.id)
            .where(
                OutboxMessage.sent_at.is_(None),
                OutboxMessage.available_at <= now,
                OutboxMessage.attempts < MAX_ATTEMPTS,
            )
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
        if db.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        ids = list(await db.scalars(stmt))
        if ids:
            await db.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids))
                .values(available_at=now + LEASE)
                .execution_options(synchronize_session=False)
            )
        await db.commit()
        return ids


@dataclass
class DeliveryRun:
    sent: int = 0
    failed: int = 0
    dropped: int = 0


async def _send(settings: Settings, message: EmailMessage) -> None:
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    await aiosmtplib.send(
        message,
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_user,
        password=password,
        start_tls=settings.smtp_starttls,
        timeout=30,
    )


async def deliver(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    limit: int = BATCH,
    clock: Clock = utcnow,
) -> DeliveryRun:
    """Send what is due; a failure is recorded on the row and retried later."""
    run = DeliveryRun()
    if not settings.smtp_host:
        return run
    for row_id in await claim(sessions, limit, clock):
        async with sessions() as db:
            row = await db.get(OutboxMessage, row_id)
            if row is None or row.sent_at is not None:
                continue
            mails = [
                m
                for to in await recipients(db, row.payload)
                if (m := compose(settings, row.kind, row.payload, to)) is not None
            ]
            try:
                for mail in mails:
                    await _send(settings, _message(settings, row.id, mail))
            except (aiosmtplib.SMTPException, OSError) as exc:
                row.attempts += 1
                row.available_at = clock() + backoff(row.attempts)
                row.last_error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR]
                run.failed += 1
                log.warning("outbox %s: delivery failed (attempt %s)", row.id, row.attempts)
            else:
                row.attempts += 1
                row.sent_at = clock()
                row.last_error = None
                if mails:
                    run.sent += 1
                else:
                    run.dropped += 1
            await db.commit()
    return run


def _message(settings: Settings, row_id: int, mail: Mail) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = mail.to
    message["Subject"] = mail.subject
    domain = settings.mail_from.rpartition("@")[2] or "localhost"
    message["Message-ID"] = f"<outbox-{row_id}@{domain}>"  # the same on every retry
    message.set_content(mail.body)
    return message


async def failures(db: AsyncSession, limit: int = 100) -> Sequence[OutboxMessage]:
    """Rows not delivered yet that have failed at least once, newest first (admin page)."""
    rows = await db.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.sent_at.is_(None), OutboxMessage.attempts > 0)
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
    )
    return list(rows)


@dataclass(frozen=True)
class QueueCounts:
    """Rows not sent yet: still to try (`pending`, of which `retrying` failed before) and
    given up after MAX_ATTEMPTS (`failed`); what /metrics reports."""

    pending: int
    retrying: int
    failed: int


async def queue_counts(db: AsyncSession) -> QueueCounts:
    unsent = OutboxMessage.sent_at.is_(None)
    live = OutboxMessage.attempts < MAX_ATTEMPTS
    row = (
        await db.execute(
            select(
                func.count().filter(unsent, live),
                func.count().filter(unsent, live, OutboxMessage.attempts > 0),
                func.count().filter(unsent, OutboxMessage.attempts >= MAX_ATTEMPTS),
            )
        )
    ).one()
    return QueueCounts(int(row[0]), int(row[1]), int(row[2]))
