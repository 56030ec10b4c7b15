"""A case row for engine tests: metadata only, the ciphertext fields hold placeholders."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from wbs.reporting.models import Report
from wbs.units.models import CaseType, Channel, Unit


async def make_report(db: AsyncSession, unit: Unit, case_type: str, seq: int = 1) -> Report:
    kind = CaseType(case_type)
    channel = await db.scalar(
        select(Channel).where(Channel.unit_id == unit.id, Channel.case_type == kind))
    assert channel is not None
    report = Report(
        public_id=str(uuid.uuid4()), unit_id=unit.id, channel_id=channel.id, case_type=kind,
        year=2026, seq=seq, case_number=f"{unit.code}-{case_type[:3].upper()}-2026-{seq:05d}",
        lookup_hash=uuid.uuid4().hex, envelope_version=1, content="-", identity=None,
        reporter_key="-", envelope_sha256="0" * 64, proof_signature="-", directory_version=1,
    )
    db.add(report)
    await db.flush()
    return report
