"""The unit key directory: proposals for the admin's device, signed versions, key approval.

Only the admin's device holds the unit's directory signing key; the server proposes what to
sign, checks the signature and the content, stores the exact signed document and approves the
keys it lists.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from crypto.keys import fingerprint_of, key_id_of
from wbs.audit import service as audit
from wbs.core.db import utcnow
from wbs.core.errors import Conflict, NotFound, ValidationFailed
from wbs.directory import repository
from wbs.directory.document import (
    DirectoryDocument,
    Recipient,
    parse_directory,
    verify_directory,
)
from wbs.directory.models import DirectoryKey, SignedDirectory
from wbs.staff.models import Role, Staff
from wbs.units import repository as units
from wbs.units.models import CaseType, Unit

HANDLING_ROLE: dict[CaseType, Role] = {
    CaseType.pengaduan: Role.verifikator,
    CaseType.wbs: Role.verifikator,
    CaseType.gratifikasi: Role.upg,
    CaseType.benturan_kepentingan: Role.atasan,
}


class DirectoryInvalid(ValidationFailed):
    code = "directory_invalid"
    message_id = "Direktori yang ditandatangani tidak sesuai dengan usulan server."
    message_en = "The signed directory does not match the server's proposal."


class RepeatedKey(DirectoryInvalid):
    code = "directory_repeated_key"
    message_id = (
        "Satu kunci terdaftar pada lebih dari satu akun. Nonaktifkan akun yang salah sebelum "
        "menandatangani."
    )
    message_en = (
        "One key is enrolled by more than one account. Deactivate the wrong account before signing."
    )


# What a directory entry may carry: no e-mail address (it would hand phishers the list of
# key holders), a display name instead.
ENTRY_FIELDS = frozenset({"key_id", "public_key", "fingerprint", "name"})
CUSTODIANS = " custodians"  # the custodian list among the channel names (no channel has a space)


@dataclass
class StaffKey:
    staff: Staff
    key_id: str
    fingerprint: str
    approved: bool

    @property
    def display_name(self) -> str:
        return display_name(self.staff, self.key_id)


def display_name(staff: Staff, key_id: str) -> str:
    """The name a signed directory publishes: the account's name unless it is empty or an
    e-mail address, else its handling role and the first 8 hex digits of the key id."""
    name = " ".join(staff.name.split())[:100]
    if name and "@" not in name:
        return name
    roles = sorted(r.value for r in staff.roles if r != Role.admin) or ["petugas"]
    return f"{roles[0]} {key_id[:8]}"


@dataclass
class Proposal:
    unit: Unit
    version: int
    directory_key: DirectoryKey | None
    wrapped_private_key: str | None
    document: str | None
    keys: list[StaffKey]
    recipients: dict[CaseType, list[str]]
    # Key ids of the unit's identity custodians (active, enrolled): the document's
    # `custodians` list. Custodians get identity wraps (envelope v2), never the data key.
    custodians: list[str]


async def admin_unit(db: AsyncSession, admin: Staff, code: str) -> Unit:
    """A unit in the admin's subtree, else 404."""
    unit = await repository.unit_in_subtree(db, admin.unit_id, code.upper())
    if unit is None:
        raise NotFound()
    return unit


async def current(db: AsyncSession, unit_id: int) -> SignedDirectory | None:
    return await repository.current(db, unit_id)


def parsed(signed: SignedDirectory) -> DirectoryDocument:
    return parse_directory(signed.document)


def channel_recipients(signed: SignedDirectory, case_type: CaseType) -> list[Recipient]:
    return list(parsed(signed).channels.get(case_type.value, []))


def custodians_of(signed: SignedDirectory) -> list[Recipient]:
    """The unit's identity custodians as signed (none in documents without the list)."""
    return list(parsed(signed).custodians)


async def directory_key(db: AsyncSession, unit_id: int) -> DirectoryKey | None:
    return await repository.directory_key(db, unit_id)


async def staff_for_keys(
    db: AsyncSession, unit_id: int, recipients: Sequence[Recipient]
) -> dict[str, int | None]:
    """key id -> id of the unit's staff account that enrolled it (or None).

    A key id belongs to one account for good (`staff_key_ids`), so the answer is unique and
    still names the holder after a rotation to a new (pending) key."""
    kids = sorted({r.key_id for r in recipients})
    found: dict[str, int | None] = dict.fromkeys(kids)
    found.update(await repository.key_owners(db, unit_id, kids))
    return found


def repeated_key_ids(keys: Sequence[StaffKey]) -> set[str]:
    """Key ids that more than one account presents (only possible for keys enrolled before
    key ids were unique); a directory listing them cannot be signed."""
    counts = Counter(k.key_id for k in keys)
    return {kid for kid, n in counts.items() if n > 1}


def key_ids_of(signed: SignedDirectory) -> set[str]:
    """Every key id a signed directory lists, over all channels."""
    return {r.key_id for rs in parsed(signed).channels.values() for r in rs}


async def enrolled_keys(db: AsyncSession, unit_id: int) -> list[StaffKey]:
    keys = []
    for s in await repository.staff_with_keys(db, unit_id):
        assert s.public_key is not None  # noqa: S101 - filtered above
        keys.append(
            StaffKey(
                staff=s,
                key_id=key_id_of(s.public_key),
                fingerprint=fingerprint_of(s.public_key),
                approved=s.key_status == "approved",
            )
        )
    return keys


async def proposed_recipients(
    db: AsyncSession, unit: Unit, keys: Sequence[StaffKey]
) -> dict[CaseType, list[str]]:
    """Per channel: the admin's override if any, else every key whose holder has the role."""
    channels = await units.channels_of(db, unit.id)
    overrides = await repository.overrides(db, [c.id for c in channels])
    result: dict[CaseType, list[str]] = {}
    for channel in channels:
        if not channel.enabled:
            result[channel.case_type] = []
            continue
        chosen = overrides.get(channel.id)
        role = HANDLING_ROLE[channel.case_type]
        result[channel.case_type] = sorted(
            k.key_id
            for k in keys
            if (k.staff.id in chosen if chosen is not None else role in k.staff.roles)
        )
    return result


async def proposal(db: AsyncSession, admin: Staff, unit: Unit) -> Proposal:
    signed = await current(db, unit.id)
    key = await directory_key(db, unit.id)
    wrap = await repository.key_wrap(db, unit.id, admin.id)
    keys = await enrolled_keys(db, unit.id)
    return Proposal(
        unit=unit,
        version=signed.version if signed else 0,
        directory_key=key,
        wrapped_private_key=wrap,
        document=signed.document if signed else None,
        keys=keys,
        recipients=await proposed_recipients(db, unit, keys),
        custodians=sorted(k.key_id for k in keys if Role.custodian in k.staff.roles),
    )


async def sign(
    db: AsyncSession,
    admin: Staff,
    unit: Unit,
    *,
    public_key: str,
    wrapped_private_key: str,
    document: str,
    signature: str,
) -> tuple[SignedDirectory, list[StaffKey]]:
    """Store a directory signed on the admin's device and approve every key it lists."""
    existing_key = await directory_key(db, unit.id)
    if existing_key is not None and existing_key.public_key != public_key:
        raise DirectoryInvalid(
            "Direktori harus ditandatangani dengan kunci unit yang terdaftar.",
            "The directory must be signed with the unit's registered key.",
        )
    try:
        doc = verify_directory(public_key, document, signature)
    except ValueError:
        raise DirectoryInvalid(
            "Tanda tangan direktori tidak sah.", "The directory signature is not valid."
        ) from None
    plan = await proposal(db, admin, unit)
    if doc.unit != unit.code or doc.version != plan.version + 1:
        raise DirectoryInvalid()
    if repeated_key_ids(plan.keys):
        raise RepeatedKey()
    keys = {k.key_id: k for k in plan.keys}
    entries = _raw_entries(document)
    lists = [(doc.channels.get(c.value, []), e, c.value) for c, e in plan.recipients.items()]
    lists.append((doc.custodians, plan.custodians, CUSTODIANS))
    for listed, expected, name in lists:
        ids = [r.key_id for r in listed]
        if len(ids) != len(set(ids)):
            raise RepeatedKey()
        if sorted(ids) != expected:
            raise DirectoryInvalid()
        for r in listed:
            if keys[r.key_id].staff.public_key != r.public_key:
                raise DirectoryInvalid()
        for entry in entries.get(name, []):
            if (
                set(entry) - ENTRY_FIELDS
                or entry.get("name") != keys[str(entry.get("key_id"))].display_name
            ):
                raise DirectoryInvalid(
                    "Entri direktori hanya memuat id kunci, kunci publik, sidik jari dan nama "
                    "tampilan yang diusulkan (tanpa e-mail).",
                    "Directory entries carry only the key id, public key, fingerprint and "
                    "the proposed display name (no e-mail).",
                )
    if set(doc.channels) - {c.value for c in plan.recipients}:
        raise DirectoryInvalid()
    if existing_key is None:
        repository.add_directory_key(db, unit.id, public_key)
    await repository.replace_key_wrap(db, unit.id, admin.id, wrapped_private_key)
    signed = SignedDirectory(
        unit_id=unit.id,
        version=doc.version,
        document=document,
        signature=signature,
        signed_by_id=admin.id,
        signed_at=utcnow(),
    )
    repository.add_signed(db, signed)
    listed = [r for rs in doc.channels.values() for r in rs] + doc.custodians
    listed_ids = {r.key_id for r in listed}
    newly = [k for k in plan.keys if k.key_id in listed_ids and not k.approved]
    if newly:
        await repository.approve_keys(db, [k.staff.id for k in newly])
    owners = await staff_for_keys(db, unit.id, listed)
    for k in plan.keys:
        owner = owners.get(k.key_id)
        if k.key_id in listed_ids and owner is None:
            repository.add_key_id(db, k.key_id, k.staff.id)
        elif owner is not None and owner != k.staff.id:
            raise RepeatedKey()
    try:
        await db.flush()
    except IntegrityError as exc:  # a concurrent signature took this version
        raise Conflict() from exc
    await audit.append(
        db,
        unit=unit,
        actor_id=admin.id,
        actor=admin.email,
        action="directory.sign",
        object_type="unit",
        object_id=unit.code,
        details={
            "version": doc.version,
            "approved": [k.fingerprint for k in newly],
            "recipients": {c.value: len(v) for c, v in plan.recipients.items()},
            "custodians": len(plan.custodians),
        },
    )
    return signed, newly


def _raw_entries(document: str) -> dict[str, list[dict[str, object]]]:
    """The channel (and custodian) entries exactly as signed (the parsed document drops
    unknown fields); the custodians under the key `CUSTODIANS`."""
    raw = json.loads(document)
    channels = raw.get("channels", {}) if isinstance(raw, dict) else {}
    lists = {**channels, CUSTODIANS: raw.get("custodians", []) if isinstance(raw, dict) else []}
    return {
        str(c): [e for e in entries if isinstance(e, dict)]
        for c, entries in lists.items()
        if isinstance(entries, list)
    }


async def set_override(
    db: AsyncSession, admin: Staff, unit: Unit, case_type: CaseType, staff_ids: list[int] | None
) -> list[int]:
    channel = await repository.channel(db, unit.id, case_type)
    if channel is None:
        raise NotFound()
    await repository.clear_override(db, channel.id)
    chosen: list[int] = []
    if staff_ids is not None:
        chosen = sorted(set(staff_ids))
        found = await repository.active_staff_ids(db, unit.id, chosen)
        if found != set(chosen) or not chosen:
            raise ValidationFailed(
                "Penerima harus petugas aktif unit ini (minimal satu).",
                "Recipients must be active staff of this unit (at least one).",
            )
        repository.add_override(db, channel.id, chosen)
    await db.flush()
    await audit.append(
        db,
        unit=unit,
        actor_id=admin.id,
        actor=admin.email,
        action="directory.recipients",
        object_type="channel",
        object_id=f"{unit.code}/{case_type.value}",
        details={"staff_ids": chosen, "default": staff_ids is None},
    )
    return chosen
