"""A case row for engine tests: metadata only, the ciphertext fields hold placeholders."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from wbs.reporting.models import Message, Report, SenderRole
from wbs.units.models import CaseType, Channel, Unit


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
