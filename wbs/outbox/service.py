"""Enqueue side effects; a worker (later issue) delivers them after commit."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from wbs.core.db import utcnow
from wbs.outbox.models import OutboxMessage


async def enqueue(db: AsyncSession, kind: str, **payload: Any) -> OutboxMessage:
    """Add an outbox row in the caller's transaction; it vanishes if that rolls back."""
    message = OutboxMessage(kind=kind, payload=payload, available_at=utcnow())
    db.add(message)
    await db.flush()
    return message
