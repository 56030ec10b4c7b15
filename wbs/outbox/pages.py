"""Admin page: notification delivery (pending, sent, failures); never a message's content."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select

from wbs.core.db import DbSession, utcnow
from wbs.core.templating import render
from wbs.outbox import delivery
from wbs.outbox.models import OutboxMessage
from wbs.staff.deps import CurrentAdmin

router = APIRouter(prefix="/admin/outbox", tags=["admin"], include_in_schema=False)


@router.get("", response_class=HTMLResponse)
async def outbox_page(request: Request, db: DbSession, _admin: CurrentAdmin) -> Response:
    day_ago = utcnow() - timedelta(days=1)
    pending = await db.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.sent_at.is_(None), OutboxMessage.attempts < delivery.MAX_ATTEMPTS)
    )
    gave_up = await db.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.sent_at.is_(None), OutboxMessage.attempts >= delivery.MAX_ATTEMPTS)
    )
    sent = await db.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.sent_at >= day_ago)
    )
    smtp = request.app.state.settings.smtp_host
    return render(
        request,
        "admin/outbox.html",
        {
            "pending": pending or 0,
            "gave_up": gave_up or 0,
            "sent": sent or 0,
            "failures": await delivery.failures(db),
            "smtp_configured": bool(smtp),
            "max_attempts": delivery.MAX_ATTEMPTS,
        },
    )
