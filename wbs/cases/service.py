"""Officer work on a case: inbox, reading, replies, internal notes, colleagues, status."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from crypto.encoding import b64u_decode
from crypto.envelope import wrap_key_id
from wbs.audit import service as audit
from wbs.cases import repository
from wbs.cases.models import Note
from wbs.core.db import utcnow
from wbs.core.errors import Conflict, DomainError, NotFound, ValidationFailed
from wbs.core.text import Text
from wbs.directory import service as directory
from wbs.reporting import repository as reports
from wbs.reporting import service as reporting
from wbs.reporting.context import Reporting
from wbs.reporting.models import (
    Attachment,
    Message,
    Report,
    ReportWrap,
    SenderRole,
)
from wbs.reporting.schemas import AttachmentIn
from wbs.staff.models import Staff
from wbs.units.models import Unit


@dataclass
class CaseSummary:
    report: Report
    unit_code: str
    messages: int
    attachments: int


@dataclass
class CaseView:
    report: Report
    unit: Unit
    envelope: dict[str, object]
    messages: list[tuple[Message, list[str]]]
    attachments: list[tuple[Attachment, str | None]]
    notes: list[tuple[Note, str]]
    recipients: list[tuple[ReportWrap, Staff | None]]


class NotInDirectory(DomainError):
    status, code = 403, "key_not_in_directory"
    message_id = (
        "Kunci Anda tidak tercantum dalam direktori unit yang berlaku, jadi Anda tidak dapat "
        "mengubah kasus ini. Hubungi admin unit."
    )
    message_en = (
        "Your key is not listed in the unit's current signed directory, so you cannot change "
        "this case. Contact the unit's admin."
    )


def current_key_id(actor: Staff) -> str | None:
    """The key id of the actor's current approved key, or None."""
    return repository.current_key_id(actor)


async def staff_member(db: AsyncSession, staff_id: int) -> Staff | None:
    return await repository.staff(db, staff_id)


async def readable(db: AsyncSession, actor: Staff, report_id: str) -> Report:
    found = await repository.readable_case(db, actor, report_id.lower())
    if found is None:
        raise NotFound()
    return found


async def writable(db: AsyncSession, actor: Staff, report_id: str) -> Report:
    """A readable case the actor may also change: the actor's current key must be listed in
    the case unit's current signed directory (an officer dropped from it keeps reading what
    was wrapped to them, but acts no more)."""
    report = await readable(db, actor, report_id)
    kid = repository.current_key_id(actor)
    signed = await directory.current(db, report.unit_id)
    if kid is None or signed is None or kid not in directory.key_ids_of(signed):
        raise NotInDirectory()
    return report


async def audit_case(
    db: AsyncSession, actor: Staff, report: Report, action: str, details: dict[str, Any]
) -> None:
    """Audit a staff member's action on a case, in the case's unit chain."""
    await audit.append(
        db,
        unit=await reports.unit_of(db, report),
        actor_id=actor.id,
        actor=actor.email,
        action=action,
        object_type="report",
        object_id=report.case_number,
        details=details,
    )


PAGE_SIZE = 50  # cases per inbox page
MAX_PAGE = 100_000  # bounds the offset a page asks of the database


async def inbox(
    db: AsyncSession,
    actor: Staff,
    *,
    page: int = 1,
    where: Sequence[ColumnElement[bool]] = (),
    first: Sequence[ColumnElement[Any]] = (),
) -> list[CaseSummary]:
    """Page `page` (from 1) of the cases the actor can open (see `repository.inbox`)."""
    cases = await repository.inbox(
        db, actor, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, where=where, first=first
    )
    ids = [c.id for c in cases]
    messages = await repository.counts_per_report(db, Message, ids)
    attachments = await repository.counts_per_report(db, Attachment, ids)
    codes = await repository.unit_codes(db, {c.unit_id for c in cases})
    return [
        CaseSummary(c, codes[c.unit_id], messages.get(c.id, 0), attachments.get(c.id, 0))
        for c in cases
    ]


async def unit_of_staff(db: AsyncSession, actor: Staff) -> Unit | None:
    """The actor's own unit."""
    return await repository.unit(db, actor.unit_id)


async def get_case(
    db: AsyncSession, actor: Staff, report_id: str, *, record: bool = True
) -> CaseView:
    """The case as the actor may see it; `record` audits the read (the API call that hands
    out the ciphertext; the HTML shell that then calls it does not)."""
    report = await readable(db, actor, report_id)
    if record:
        await audit_case(db, actor, report, "case.read", {})
    unit = await reports.unit_of(db, report)
    wraps = await reports.wraps_of(db, report.id)
    mine = [w for w in wraps if w.staff_id == actor.id and w.recipient == SenderRole.officer]
    # the identity is released only through a custodian (wbs.identity), never here
    envelope = reporting.envelope_for(report, unit, mine, identity=False)
    messages, attachments = await reporting.thread(db, report)
    notes = await repository.notes_with_authors(db, report.id)
    staff_ids = {w.staff_id for w in wraps if w.staff_id is not None}
    staff = await repository.staff_by_id(db, staff_ids)
    return CaseView(
        report=report,
        unit=unit,
        envelope=envelope,
        messages=messages,
        attachments=attachments,
        notes=notes,
        recipients=[
            (w, staff.get(w.staff_id) if w.staff_id else None)
            for w in wraps
            if w.recipient == SenderRole.officer
        ],
    )


async def colleagues(db: AsyncSession, view: CaseView) -> list[Staff]:
    """Staff of the case's unit with an approved key, not yet recipients, not excluded.

    The page script offers only those whose key is in the verified signed directory.
    """
    present = {w.staff_id for w, _s in view.recipients if w.staff_id is not None}
    return await repository.colleagues(db, view.report, present)


async def case_attachment(
    db: AsyncSession, actor: Staff, report_id: str, attachment_id: str
) -> Attachment:
    report = await readable(db, actor, report_id)
    found = await reporting.mailbox_attachment(db, report, attachment_id.lower())
    await audit_case(
        db, actor, report, "case.attachment_download", {"attachment_id": found.public_id}
    )
    return found


async def reply(
    db: AsyncSession,
    ctx: Reporting,
    actor: Staff,
    report_id: str,
    *,
    message_id: str,
    box: str,
    attachments: Sequence[AttachmentIn] = (),
    files: Sequence[reporting.IncomingAttachment] = (),
) -> Message:
    report = await writable(db, actor, report_id)
    return await reporting.add_message(
        db,
        ctx,
        report,
        sender=SenderRole.officer,
        staff=actor,
        message_id=message_id,
        box=box,
        attachments=attachments,
        files=files,
    )


async def add_note(
    db: AsyncSession, ctx: Reporting, actor: Staff, report_id: str, *, note_id: str, box: str
) -> Note:
    report = await writable(db, actor, report_id)
    kid = repository.current_key_id(actor)
    assert kid is not None  # noqa: S101 - readable implies an approved key
    reporting.check_box_size(box, ctx.limits.report_max_message_bytes, Text("Catatan", "The note"))
    if await repository.note_exists(db, note_id):
        raise Conflict("Catatan ini sudah tersimpan.", "This note was already saved.")
    note = Note(
        report_id=report.id,
        public_id=note_id,
        author_id=actor.id,
        author_key_id=kid,
        box=box,
        created_at=utcnow(),
    )
    repository.add_note(db, note)
    await db.flush()
    await audit_case(db, actor, report, "case.note", {"note_id": note_id})
    return note


async def add_recipient(
    db: AsyncSession, actor: Staff, report_id: str, *, staff_id: int, wrap: str
) -> ReportWrap:
    """Escalation: the actor's device wrapped the data key to a colleague's approved key."""
    report = await writable(db, actor, report_id)
    colleague = await repository.staff(db, staff_id)
    if (
        colleague is None
        or colleague.unit_id != report.unit_id
        or colleague.id in report.excluded_staff_ids
    ):
        raise NotFound("Petugas tidak ditemukan.", "Staff member not found.")
    kid = repository.current_key_id(colleague)
    if kid is None:
        raise ValidationFailed(
            "Kunci petugas itu belum disetujui.", "That staff member's key is not approved yet."
        )
    if kid in report.excluded_key_ids:
        raise NotFound("Petugas tidak ditemukan.", "Staff member not found.")
    try:
        wrap_kid = wrap_key_id(b64u_decode(wrap))
    except ValueError:
        wrap_kid = ""
    if wrap_kid != kid:
        raise ValidationFailed(
            "Bungkus kunci bukan untuk kunci petugas itu.",
            "The wrap is not for that staff member's key.",
        )
    if await repository.has_wrap(db, report.id, kid):
        raise Conflict("Petugas itu sudah penerima.", "That staff member is already a recipient.")
    row = ReportWrap(
        report_id=report.id,
        key_id=kid,
        recipient=SenderRole.officer,
        staff_id=colleague.id,
        wrap=wrap,
        added_by_id=actor.id,
        created_at=utcnow(),
    )
    repository.add_wrap(db, row)
    await db.flush()
    await audit_case(
        db, actor, report, "case.add_recipient", {"staff_id": colleague.id, "key_id": kid}
    )
    return row
