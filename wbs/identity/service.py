"""Identity release through the unit's custodian (issue 9, item 4).

An officer who can read a case asks for the reporter's identity with a reason code; a
custodian of the case's unit approves or denies. Envelope v2: the custodian's device unwraps
the identity key from its own identity wrap and wraps it again to the requester's approved
key only; the server stores that one wrap and hands it to the requester alone, so the
separation rests on cryptography. Envelope v1 (identity under the data key, which every
officer of the case holds): approval makes the server hand the identity box to the requester
only; there the separation rests on the server. Every step is audited (codes and ids, never
the identity or a note); mail says only that something needs the recipient.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from crypto.encoding import b64u_decode
from crypto.errors import CryptoError
from crypto.identity import identity_wrap_header
from wbs.cases import service as cases
from wbs.core.db import utcnow
from wbs.core.errors import Conflict, NotFound, ValidationFailed
from wbs.core.text import Text
from wbs.identity import repository
from wbs.identity.models import REASONS, Alasan, IdentityRequest, State
from wbs.reporting import repository as reports
from wbs.reporting import service as reporting
from wbs.reporting.models import IdentityWrap, IdentityWrapKind, Report, SenderRole
from wbs.staff.models import Role, Staff
from wbs.units.models import Unit
from wbs.workflow.service import notify

NOTICE_KIND = "identity_opened"


class NoIdentity(ValidationFailed):
    code = "identity_absent"
    message_id = "Laporan ini tidak memuat identitas pelapor."
    message_en = "This report carries no identity of the reporter."


class RequestOpen(Conflict):
    code = "identity_request_open"
    message_id = "Permintaan Anda untuk kasus ini masih menunggu keputusan penjaga identitas."
    message_en = "Your request for this case is still waiting for the custodian's decision."


class AlreadyReleased(Conflict):
    code = "identity_released"
    message_id = "Identitas pelapor kasus ini sudah dibuka untuk Anda."
    message_en = "The reporter's identity of this case was already released to you."


class AlreadyDecided(Conflict):
    code = "identity_request_decided"
    message_id = "Permintaan ini sudah diputuskan (mungkin oleh penjaga identitas lain)."
    message_en = "This request was already decided (perhaps by another custodian)."


class RequesterKeyChanged(Conflict):
    code = "identity_requester_key_changed"
    message_id = (
        "Kunci peminta telah berubah atau tidak lagi disetujui; peminta harus meminta ulang."
    )
    message_en = "The requester's key changed or is no longer approved; they must ask again."


class NoCustodianWrap(Conflict):
    code = "identity_no_custodian_wrap"
    message_id = (
        "Kunci perangkat Anda tidak menerima kunci identitas laporan ini; penjaga identitas lain "
        "yang tercantum saat laporan dikirim harus memutuskan."
    )
    message_en = (
        "Your device key did not receive this report's identity key; another custodian listed "
        "when the report was sent must decide."
    )


class WrapMismatch(ValidationFailed):
    code = "identity_wrap_mismatch"
    message_id = "Bungkus kunci identitas harus untuk kunci peminta yang disetujui."
    message_en = "The identity-key wrap must be for the requester's approved key."


@dataclass
class Pending:
    """An open request as a custodian's device needs it."""

    request: IdentityRequest
    report: Report
    unit: Unit
    requester: Staff
    requester_public_key: str | None  # None: the key asked with is no longer approved
    custodian_wrap: IdentityWrap | None  # v2: this custodian's identity wrap


@dataclass
class Released:
    """What the approved requester receives: the envelope with the identity box (and, v2,
    the custodians' identity wraps) and, v2, the identity wrap made for the requester."""

    request: IdentityRequest
    report: Report
    envelope: dict[str, object]
    wrap: str | None


def reason_label(reason: Alasan) -> Text:
    return REASONS[reason]


def notice_for(reason: Alasan) -> Text:
    """The reporter's mailbox notice (fixed words and the reason's label, nothing else)."""
    label = REASONS[reason]
    return Text(
        "Identitas Anda telah dibuka untuk petugas yang menangani laporan ini, atas persetujuan "
        f"penjaga identitas unit. Alasan: {label.id}.",
        "Your identity was opened for an officer handling this report, with the approval of "
        f"the unit's identity custodian. Reason: {label.en}.",
    )


async def request_identity(
    db: AsyncSession, actor: Staff, report_id: str, *, reason: Alasan, note: str | None
) -> tuple[IdentityRequest, Report]:
    """An officer who can read the case asks for its reporter's identity."""
    report = await cases.readable(db, actor, report_id)
    kid = cases.current_key_id(actor)
    assert kid is not None  # noqa: S101 - readable implies an approved key
    if report.identity is None:
        raise NoIdentity()
    note = (note or "").strip() or None
    if reason == Alasan.lainnya and note is None:
        raise ValidationFailed(
            "Untuk alasan lain, tuliskan catatan singkat.",
            "For another reason, write a short note.",
        )
    if await repository.approved_for(db, report.id, actor.id) is not None:
        raise AlreadyReleased()
    if any(
        r.state == State.requested for r in await repository.of_requester(db, report.id, actor.id)
    ):
        raise RequestOpen()
    row = IdentityRequest(
        public_id=str(uuid.uuid4()),
        report_id=report.id,
        unit_id=report.unit_id,
        requester_id=actor.id,
        requester_key_id=kid,
        reason=reason,
        note=note,
        state=State.requested,
        created_at=utcnow(),
    )
    with reporting.duplicates_as_conflicts(
        {
            "uq_identity_requests_open": RequestOpen(),
            "uq_identity_requests_report_id_requester_id": RequestOpen(),
        }
    ):
        repository.add(db, row)
        await db.flush()
    await cases.audit_case(
        db,
        actor,
        report,
        "identity.request",
        {"request_id": row.public_id, "reason": reason.value, "key_id": kid},
    )
    await notify(db, report, "identity_request", role=Role.custodian.value)
    return row, report


async def requests_for_case(
    db: AsyncSession, actor: Staff, report_id: str
) -> tuple[Report, list[IdentityRequest]]:
    """The actor's own requests for a case they can read, newest first."""
    report = await cases.readable(db, actor, report_id)
    return report, await repository.of_requester(db, report.id, actor.id)


def _custodian(actor: Staff) -> None:
    if Role.custodian not in actor.roles:
        raise NotFound()


async def pending(db: AsyncSession, custodian: Staff) -> list[Pending]:
    """Open requests for cases of the custodian's unit (never the custodian's own)."""
    _custodian(custodian)
    kid = cases.current_key_id(custodian)
    found = []
    for request, report in await repository.pending_in_unit(db, custodian.unit_id):
        if request.requester_id == custodian.id:
            continue
        requester = await cases.staff_member(db, request.requester_id)
        if requester is None:
            continue
        public_key = requester.approved_public_key
        if cases.current_key_id(requester) != request.requester_key_id:
            public_key = None
        own = None
        if kid is not None and report.envelope_version == 2:
            own = await repository.identity_wrap(db, report.id, kid, IdentityWrapKind.original)
        found.append(
            Pending(
                request=request,
                report=report,
                unit=await reports.unit_of(db, report),
                requester=requester,
                requester_public_key=public_key,
                custodian_wrap=own,
            )
        )
    return found


async def _decidable(
    db: AsyncSession, custodian: Staff, request_id: str
) -> tuple[IdentityRequest, Report, Staff]:
    """A request of the custodian's unit by someone else; 404 otherwise, 409 when decided."""
    _custodian(custodian)
    try:
        public_id = str(uuid.UUID(request_id))
    except ValueError:
        raise NotFound() from None
    request = await repository.by_public_id(db, public_id)
    if (
        request is None
        or request.unit_id != custodian.unit_id
        or request.requester_id == custodian.id
    ):
        raise NotFound()
    if request.state != State.requested:
        raise AlreadyDecided()
    report = await repository.report(db, request.report_id)
    requester = await cases.staff_member(db, request.requester_id)
    if report is None or requester is None:
        raise NotFound()
    return request, report, requester


def _wrap_key_id(wrap: str) -> str:
    try:
        return identity_wrap_header(b64u_decode(wrap))[1]
    except (CryptoError, ValueError):
        raise WrapMismatch() from None


async def approve(
    db: AsyncSession, custodian: Staff, request_id: str, *, wrap: str | None
) -> tuple[IdentityRequest, Report]:
    """Approve: v2 with the identity wrap the custodian's device made for the requester's
    approved key (`rewrap_identity_key`); v1 without one (the server releases the box)."""
    request, report, requester = await _decidable(db, custodian, request_id)
    if cases.current_key_id(requester) != request.requester_key_id:
        raise RequesterKeyChanged()
    if report.envelope_version == 2:
        kid = cases.current_key_id(custodian)
        held = None
        if kid is not None:
            held = await repository.identity_wrap(db, report.id, kid, IdentityWrapKind.original)
        if held is None:
            raise NoCustodianWrap()
        if wrap is None or _wrap_key_id(wrap) != request.requester_key_id:
            raise WrapMismatch()
    elif wrap is not None:
        raise ValidationFailed(
            "Laporan versi 1 dibuka oleh server tanpa bungkus kunci.",
            "A version 1 report is released by the server without a wrap.",
        )
    if not await repository.decide(db, request, State.approved, custodian.id, None):
        raise AlreadyDecided()
    request.state = State.approved
    if wrap is not None:
        with reporting.duplicates_as_conflicts(
            {"uq_identity_wraps_report_id_key_id_kind": AlreadyDecided()}
        ):
            repository.add(
                db,
                IdentityWrap(
                    report_id=report.id,
                    key_id=request.requester_key_id,
                    staff_id=requester.id,
                    kind=IdentityWrapKind.released,
                    wrap=wrap,
                    request_id=request.id,
                    created_at=utcnow(),
                ),
            )
            await db.flush()
    reporting.add_notice(db, report, NOTICE_KIND, notice_for(request.reason))
    await _decided(db, custodian, report, request, "identity.approve")
    return request, report


async def deny(
    db: AsyncSession, custodian: Staff, request_id: str, *, note: str
) -> tuple[IdentityRequest, Report]:
    """Deny with a note for the requester (free text: never audited or mailed)."""
    request, report, _requester = await _decidable(db, custodian, request_id)
    if not await repository.decide(db, request, State.denied, custodian.id, note.strip()):
        raise AlreadyDecided()
    request.state = State.denied
    await _decided(db, custodian, report, request, "identity.deny")
    return request, report


async def _decided(
    db: AsyncSession, custodian: Staff, report: Report, request: IdentityRequest, action: str
) -> None:
    await db.flush()
    await cases.audit_case(
        db,
        custodian,
        report,
        action,
        {
            "request_id": request.public_id,
            "requester_id": request.requester_id,
            "key_id": request.requester_key_id,
            "envelope_version": report.envelope_version,
        },
    )
    await notify(db, report, "identity_decided", staff_id=request.requester_id)


async def released(db: AsyncSession, actor: Staff, report_id: str) -> Released:
    """The identity for its approved requester only (404 for anyone else); audited."""
    report = await cases.readable(db, actor, report_id)
    request = await repository.approved_for(db, report.id, actor.id)
    if request is None:
        raise NotFound()
    wrap = None
    originals: list[IdentityWrap] = []
    if report.envelope_version == 2:
        row = await repository.released_wrap(db, request.id)
        if row is None or row.key_id != cases.current_key_id(actor):
            raise NotFound()  # released to a key the requester no longer holds: ask again
        wrap = row.wrap
        originals = await reports.identity_wraps_of(db, report.id)
    unit = await reports.unit_of(db, report)
    mine = [
        w
        for w in await reports.wraps_of(db, report.id)
        if w.staff_id == actor.id and w.recipient == SenderRole.officer
    ]
    envelope = reporting.envelope_for(report, unit, mine, identity=True, identity_wraps=originals)
    await cases.audit_case(db, actor, report, "identity.open", {"request_id": request.public_id})
    return Released(request=request, report=report, envelope=envelope, wrap=wrap)
