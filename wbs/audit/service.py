"""Append to and verify the per-unit audit hash chains."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from hashlib import sha256
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crypto.atrest import derive_signing_key
from wbs.audit.models import AuditCheckpoint, AuditEvent, AuditHead
from wbs.core.db import utcnow
from wbs.units.models import Unit

CHECKPOINT_KEY_LABEL = "audit-checkpoint"
FORBIDDEN_DETAIL_KEYS = frozenset(
    {
        "ip",
        "ip_address",
        "remote_addr",
        "user_agent",
        "referer",
        "referrer",
        "content",
        "text",
        "report",
        "body",
        "plaintext",
        "receipt",
        "password",
        "passphrase",
        "identity",
    }
)


def genesis_hash(unit_code: str) -> str:
    return sha256(f"wbs/audit/genesis/{unit_code}".encode()).hexdigest()


def _iso(at: datetime) -> str:
    return at.isoformat(timespec="microseconds")


def canonical(event: AuditEvent, unit_code: str) -> bytes:
    """The exact bytes an entry's hash covers (sorted keys, no spaces, UTF-8)."""
    doc = {
        "unit": unit_code,
        "seq": event.seq,
        "at": _iso(event.at),
        "actor_id": event.actor_id,
        "actor": event.actor,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "details": event.details,
        "prev": event.prev_hash,
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _check_details(details: dict[str, Any]) -> None:
    bad = FORBIDDEN_DETAIL_KEYS.intersection(k.lower() for k in details)
    if bad:
        raise ValueError(f"audit details must not carry {sorted(bad)}")


async def _locked_head(db: AsyncSession, unit: Unit) -> AuditHead:
    stmt = select(AuditHead).where(AuditHead.unit_id == unit.id).with_for_update()
    head = await db.scalar(stmt)
    if head is not None:
        return head
    dialect = db.get_bind().dialect.name
    values = {"unit_id": unit.id, "seq": 0, "hash": genesis_hash(unit.code)}
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        await db.execute(pg_insert(AuditHead).values(**values).on_conflict_do_nothing())
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        await db.execute(sqlite_insert(AuditHead).values(**values).on_conflict_do_nothing())
    head = await db.scalar(stmt.execution_options(populate_existing=True))
    assert head is not None  # noqa: S101 - just inserted or concurrently inserted
    return head


async def append(
    db: AsyncSession,
    *,
    unit: Unit,
    actor_id: int | None,
    actor: str,
    action: str,
    object_type: str,
    object_id: str | int,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one entry to the unit's chain inside the caller's transaction."""
    details = dict(details or {})
    _check_details(details)
    head = await _locked_head(db, unit)
    event = AuditEvent(
        unit_id=unit.id,
        seq=head.seq + 1,
        at=utcnow(),
        actor_id=actor_id,
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        details=details,
        prev_hash=head.hash,
        hash="",
    )
    event.hash = sha256(canonical(event, unit.code)).hexdigest()
    head.seq = event.seq
    head.hash = event.hash
    db.add(event)
    await db.flush()
    return event


def checkpoint_message(unit_code: str, seq: int, head_hash: str, at: datetime) -> bytes:
    return f"wbs/audit/checkpoint/v1\n{unit_code}\n{seq}\n{head_hash}\n{_iso(at)}".encode()


async def sign_checkpoint(db: AsyncSession, unit: Unit, master: bytes) -> AuditCheckpoint:
    """Sign the chain head now; the signature lets an auditor detect later truncation."""
    head = await _locked_head(db, unit)
    key = derive_signing_key(master, CHECKPOINT_KEY_LABEL)
    at = utcnow()
    public = key.public_key().public_bytes_raw().hex()
    signature = key.sign(checkpoint_message(unit.code, head.seq, head.hash, at)).hex()
    existing = await db.scalar(
        select(AuditCheckpoint).where(
            AuditCheckpoint.unit_id == unit.id, AuditCheckpoint.seq == head.seq
        )
    )
    if existing is not None:
        return existing
    cp = AuditCheckpoint(
        unit_id=unit.id, seq=head.seq, hash=head.hash, at=at, public_key=public, signature=signature
    )
    db.add(cp)
    await db.flush()
    return cp


@dataclass(frozen=True)
class ChainReport:
    unit_code: str
    checked: int
    problem: str | None = None
    bad_seq: int | None = None
    bad_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


async def verify_unit(db: AsyncSession, unit: Unit, master: bytes | None = None) -> ChainReport:
    """Walk a unit's chain: sequence, links, hashes, head and signed checkpoints."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    events = (
        await db.scalars(
            select(AuditEvent).where(AuditEvent.unit_id == unit.id).order_by(AuditEvent.seq)
        )
    ).all()
    prev = genesis_hash(unit.code)
    last_id: int | None = None
    hashes: dict[int, str] = {}
    for index, event in enumerate(events, start=1):
        if event.seq != index:
            return ChainReport(
                unit.code, index - 1, "sequence gap or insertion", event.seq, event.id
            )
        if event.prev_hash != prev:
            return ChainReport(unit.code, index - 1, "broken link", event.seq, event.id)
        if sha256(canonical(event, unit.code)).hexdigest() != event.hash:
            return ChainReport(unit.code, index - 1, "content altered", event.seq, event.id)
        if last_id is not None and event.id < last_id:
            return ChainReport(unit.code, index - 1, "rows reordered", event.seq, event.id)
        prev = event.hash
        last_id = event.id
        hashes[event.seq] = event.hash
    checked = len(events)
    head = await db.scalar(select(AuditHead).where(AuditHead.unit_id == unit.id))
    if head is not None and (head.seq != checked or head.hash != prev):
        return ChainReport(
            unit.code, checked, "chain end does not match head (rows deleted?)", head.seq, None
        )
    expected_key = (
        derive_signing_key(master, CHECKPOINT_KEY_LABEL).public_key().public_bytes_raw().hex()
        if master is not None
        else None
    )
    checkpoints = (
        await db.scalars(select(AuditCheckpoint).where(AuditCheckpoint.unit_id == unit.id))
    ).all()
    for cp in checkpoints:
        if expected_key is not None and cp.public_key != expected_key:
            return ChainReport(unit.code, checked, "checkpoint signed by an unknown key", cp.seq)
        try:
            Ed25519PublicKey.from_public_bytes(bytes.fromhex(cp.public_key)).verify(
                bytes.fromhex(cp.signature), checkpoint_message(unit.code, cp.seq, cp.hash, cp.at)
            )
        except (InvalidSignature, ValueError):
            return ChainReport(unit.code, checked, "checkpoint signature invalid", cp.seq)
        if cp.seq > 0 and hashes.get(cp.seq) != cp.hash:
            return ChainReport(unit.code, checked, "chain differs from signed checkpoint", cp.seq)
    return ChainReport(unit.code, checked)


async def export_chain(db: AsyncSession, unit: Unit) -> dict[str, Any]:
    """A unit's chain and signed checkpoints as JSON an auditor can check offline."""
    events = (
        await db.scalars(
            select(AuditEvent).where(AuditEvent.unit_id == unit.id).order_by(AuditEvent.seq)
        )
    ).all()
    checkpoints = (
        await db.scalars(
            select(AuditCheckpoint)
            .where(AuditCheckpoint.unit_id == unit.id)
            .order_by(AuditCheckpoint.seq)
        )
    ).all()
    return {
        "format": "wbs-audit-export/v1",
        "unit": unit.code,
        "genesis": genesis_hash(unit.code),
        "hash": "sha256 of the canonical JSON of each entry (sorted keys, no spaces, UTF-8)",
        "entries": [json.loads(canonical(e, unit.code)) | {"hash": e.hash} for e in events],
        "checkpoints": [
            {
                "seq": cp.seq,
                "hash": cp.hash,
                "at": _iso(cp.at),
                "public_key": cp.public_key,
                "signature": cp.signature,
                "message": checkpoint_message(unit.code, cp.seq, cp.hash, cp.at).decode(),
            }
            for cp in checkpoints
        ],
    }
