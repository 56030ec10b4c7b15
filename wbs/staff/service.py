"""Staff accounts, sign-in with throttle and TOTP, and server-side sessions."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from hashlib import sha256
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from crypto.atrest import SecretBox, keyed_digest
from wbs.audit import service as audit
from wbs.core.db import utcnow
from wbs.core.errors import Conflict, DomainError, NotFound, TooManyRequests, ValidationFailed
from wbs.core.settings import Settings
from wbs.reporting import formats
from wbs.staff import repository, totp
from wbs.staff.credentials import checked_kdf, checked_wrap
from wbs.staff.models import (
    LoginThrottle,
    Role,
    Staff,
    StaffKeyId,
    StaffRole,
    StaffSession,
)
from wbs.staff.passwords import Hasher
from wbs.units import repository as units
from wbs.units.models import Unit

EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,189}\.[^@\s]{2,63}$")


class LoginFailed(DomainError):
    status, code = 401, "login_failed"
    message_id = "E-mail, kata sandi, atau kode verifikasi salah."
    message_en = "Wrong e-mail, password or verification code."


class CurrentPassphraseWrong(DomainError):
    status, code = 401, "current_passphrase_wrong"
    message_id = "Kata sandi saat ini salah."
    message_en = "The current passphrase is wrong."


class KeyTaken(Conflict):
    code = "key_taken"
    message_id = (
        "Kunci publik ini sudah terdaftar pada akun lain. Buat kunci baru di perangkat Anda."
    )
    message_en = (
        "This public key is already enrolled by another account. Make a new key on your device."
    )


class TotpRequired(DomainError):
    status, code = 401, "totp_required"
    message_id = "Masukkan kode verifikasi dari aplikasi autentikator Anda."
    message_en = "Enter the verification code from your authenticator app."


class TotpNotEnrolled(DomainError):
    status, code = 403, "totp_not_enrolled"
    message_id = (
        "Verifikasi dua langkah wajib di produksi. Minta admin mendaftarkan autentikator Anda."
    )
    message_en = "Two-step verification is mandatory in production. Ask an admin to enrol it."


@dataclass
class Security:
    """What the staff service needs from the app: settings, hasher and the master secret."""

    settings: Settings
    hasher: Hasher
    master: bytes

    @classmethod
    def from_settings(cls, settings: Settings, master: bytes | None = None) -> Security:
        """The hasher with the configured Argon2id parameters and the master secret."""
        hasher = Hasher(
            time_cost=settings.argon2_time_cost,
            memory_kib=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
        )
        if master is None:
            master = settings.secret_bytes()
        return cls(settings=settings, hasher=hasher, master=master)

    @property
    def totp_box(self) -> SecretBox:
        return SecretBox(self.master, totp.TOTP_LABEL)


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    if not EMAIL.match(email):
        raise ValidationFailed("Alamat e-mail tidak valid.", "The e-mail address is not valid.")
    return email


async def create_staff(
    db: AsyncSession,
    sec: Security,
    *,
    email: str,
    name: str,
    unit_code: str,
    roles: list[Role],
    login_secret: str,
    kdf_params: dict[str, object] | None = None,
    with_totp: bool = False,
    actor_id: int | None = None,
    actor: str = "system",
) -> tuple[Staff, str | None]:
    """Create an account; returns it and, when asked for, the new TOTP seed (shown once)."""
    email = normalise_email(email)
    if not roles:
        raise ValidationFailed("Minimal satu peran.", "At least one role is required.")
    unit = await units.by_code(db, unit_code.strip().upper())
    if unit is None:
        raise NotFound(f"Unit {unit_code} tidak ditemukan.", f"Unit {unit_code} not found.")
    if await repository.by_email(db, email) is not None:
        raise Conflict("Akun dengan e-mail itu sudah ada.", "An account with that e-mail exists.")
    staff = Staff(
        email=email,
        name=name.strip() or email,
        unit_id=unit.id,
        password_hash=sec.hasher.hash(login_secret),
        kdf_params=kdf_params,
        role_rows=[StaffRole(role=r) for r in sorted(set(roles))],
    )
    seed = None
    if with_totp:
        seed = totp.new_secret()
        staff.totp_secret_enc = totp.seal_secret(sec.totp_box, email, seed)
    db.add(staff)
    await db.flush()
    await audit.append(
        db,
        unit=unit,
        actor_id=actor_id,
        actor=actor,
        action="staff.create",
        object_type="staff",
        object_id=staff.id,
        details={"email": email, "roles": sorted(r.value for r in set(roles)), "totp": with_totp},
    )
    return staff, seed


async def _unit_of(db: AsyncSession, staff: Staff) -> Unit:
    unit = await db.get(Unit, staff.unit_id)
    assert unit is not None  # noqa: S101 - foreign key
    return unit


async def _audit_own(
    db: AsyncSession, staff: Staff, action: str, details: dict[str, Any] | None = None
) -> None:
    """Audit what a staff member did to their own account, in their unit's chain."""
    await audit.append(
        db,
        unit=await _unit_of(db, staff),
        actor_id=staff.id,
        actor=staff.email,
        action=action,
        object_type="staff",
        object_id=staff.id,
        details=details,
    )


async def _throttle_row(db: AsyncSession, sec: Security, email: str) -> LoginThrottle:
    key = keyed_digest(sec.master, "login-throttle", email.encode())
    row = await db.scalar(select(LoginThrottle).where(LoginThrottle.account_key == key))
    now = utcnow()
    if row is None:
        row = LoginThrottle(account_key=key, failures=0, window_started_at=now)
        db.add(row)
        await db.flush()
    elif now - row.window_started_at > timedelta(seconds=sec.settings.login_window_seconds):
        row.failures = 0
        row.window_started_at = now
    return row


async def authenticate(
    db: AsyncSession, sec: Security, *, email: str, login_secret: str, code: str | None
) -> Staff:
    """Check secret and TOTP. Raises LoginFailed/TotpRequired/TooManyRequests.

    The caller must still commit when this raises LoginFailed, so the failure is counted.
    """
    email = email.strip().lower()[:254]
    throttle = await _throttle_row(db, sec, email)
    if throttle.failures >= sec.settings.login_max_failures:
        raise TooManyRequests()
    staff = await repository.by_email(db, email)
    ok = sec.hasher.verify(staff.password_hash if staff else None, login_secret)
    if not ok or staff is None or not staff.active:
        throttle.failures += 1
        await db.flush()
        raise LoginFailed()
    if staff.totp_secret_enc is not None:
        if not code:
            raise TotpRequired()
        seed = totp.open_secret(sec.totp_box, staff.email, staff.totp_secret_enc)
        step = totp.matching_step(seed, code)
        if step is None or (staff.totp_last_step is not None and step <= staff.totp_last_step):
            throttle.failures += 1
            await db.flush()
            raise LoginFailed()
        staff.totp_last_step = step
    elif sec.settings.is_production:
        raise TotpNotEnrolled()
    throttle.failures = 0
    if sec.hasher.needs_rehash(staff.password_hash):
        staff.password_hash = sec.hasher.hash(login_secret)
    await db.flush()
    return staff


async def start_session(db: AsyncSession, sec: Security, staff: Staff) -> tuple[str, StaffSession]:
    """A new random session; returns the cookie token (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session = StaffSession(
        id=sha256(token.encode()).hexdigest(),
        staff_id=staff.id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(seconds=sec.settings.session_max_seconds),
    )
    db.add(session)
    await _audit_own(db, staff, "staff.login")
    await db.flush()
    return token, session


async def resume_session(
    db: AsyncSession, sec: Security, token: str
) -> tuple[StaffSession, Staff] | None:
    """The session and staff for a cookie token, or None if unknown, idle or expired."""
    found = await repository.session_with_staff(db, sha256(token.encode()).hexdigest())
    if found is None:
        return None
    session, staff = found
    now = utcnow()
    idle = timedelta(seconds=sec.settings.session_idle_seconds)
    if now >= session.expires_at or now - session.last_seen_at > idle:
        await db.execute(delete(StaffSession).where(StaffSession.id == session.id))
        return None
    if now - session.last_seen_at > timedelta(seconds=60):
        session.last_seen_at = now
    return session, staff


async def end_session(db: AsyncSession, session_id: str, staff: Staff) -> None:
    await db.execute(delete(StaffSession).where(StaffSession.id == session_id))
    await _audit_own(db, staff, "staff.logout")


async def enrol_totp(db: AsyncSession, sec: Security, staff: Staff, seed: str, code: str) -> None:
    """Turn on TOTP once the staff member proved the authenticator shows the right code."""
    step = totp.matching_step(seed, code)
    if step is None:
        raise ValidationFailed("Kode verifikasi salah.", "Wrong verification code.")
    staff.totp_secret_enc = totp.seal_secret(sec.totp_box, staff.email, seed)
    staff.totp_last_step = step
    await _audit_own(db, staff, "staff.totp_enrol")
    await db.flush()


def has_role(staff: Staff, *roles: Role) -> bool:
    return bool(staff.roles & set(roles))


# ---------------------------------------------------------------- device keys, passphrases


async def _end_sessions(db: AsyncSession, staff: Staff, *, keep: str | None = None) -> int:
    """End the account's sessions (all, or all but `keep`); returns how many ended."""
    stmt = delete(StaffSession).where(StaffSession.staff_id == staff.id)
    if keep is not None:
        stmt = stmt.where(StaffSession.id != keep)
    result = cast(CursorResult[Any], await db.execute(stmt))
    return int(result.rowcount or 0)


async def enrol_key(
    db: AsyncSession,
    staff: Staff,
    *,
    public_key: str,
    wrapped_private_key: str,
    recovery_wrapped_private_key: str | None,
) -> None:
    """Store the device-made key and its two wraps; a new public key waits for an admin's
    directory signature and needs its recovery wrap, a re-wrap of the same key keeps the
    stored recovery wrap unless it sends a new one."""
    try:
        fingerprint = formats.fingerprint(public_key)
    except ValueError:
        raise ValidationFailed(
            "Kunci publik tidak valid.", "The public key is not valid."
        ) from None
    checked_wrap(wrapped_private_key, public_key, recovery=False)
    changed = staff.public_key != public_key
    await claim_key_id(db, staff, formats.key_id(public_key))
    if recovery_wrapped_private_key is not None:
        checked_wrap(recovery_wrapped_private_key, public_key, recovery=True)
    elif changed:
        raise ValidationFailed(
            "Kunci baru memerlukan salinan terbungkus dengan kunci pemulihan.",
            "A new key needs its copy wrapped under the recovery key.",
        )
    staff.public_key = public_key
    staff.wrapped_private_key = wrapped_private_key
    if recovery_wrapped_private_key is not None:
        staff.recovery_wrapped_private_key = recovery_wrapped_private_key
    if changed:
        staff.key_approved_at = None
    await _audit_own(db, staff, "staff.key_enrol" if changed else "staff.key_rewrap", {
        "fingerprint": fingerprint,
        "recovery_wrap": recovery_wrapped_private_key is not None,
    })
    await db.flush()


async def claim_key_id(db: AsyncSession, staff: Staff, key_id: str) -> None:
    """Record that `key_id` belongs to `staff`; KeyTaken (409) when another account holds
    it. The primary key on staff_key_ids decides a race between two accounts."""
    owner = await db.scalar(select(StaffKeyId.staff_id).where(StaffKeyId.key_id == key_id))
    if owner == staff.id:
        return
    if owner is not None:
        raise KeyTaken()
    db.add(StaffKeyId(key_id=key_id, staff_id=staff.id, created_at=utcnow()))
    try:
        await db.flush()
    except IntegrityError:  # a concurrent enrolment of the same key by another account
        raise KeyTaken() from None


async def change_passphrase(
    db: AsyncSession,
    sec: Security,
    staff: Staff,
    *,
    current_login_secret: str,
    new_login_secret: str,
    new_kdf: dict[str, Any],
    wrapped_private_key: str | None,
    session_id: str | None,
) -> int:
    """The officer's device chose a new passphrase: new login hash, parameters and wrap of
    the same private key (reports are untouched). Ends the account's other sessions;
    returns how many. A wrong current secret counts as a failed sign-in (the caller commits
    when CurrentPassphraseWrong is raised, so the count stays)."""
    throttle = await _throttle_row(db, sec, staff.email)
    if throttle.failures >= sec.settings.login_max_failures:
        raise TooManyRequests()
    if not sec.hasher.verify(staff.password_hash, current_login_secret):
        throttle.failures += 1
        await db.flush()
        raise CurrentPassphraseWrong()
    kdf = checked_kdf(new_kdf)
    if staff.public_key is None:
        if wrapped_private_key is not None:
            raise ValidationFailed(
                "Akun ini belum memiliki kunci; buat kunci lebih dulu.",
                "This account has no key yet; make one first.",
            )
    else:
        if wrapped_private_key is None:
            raise ValidationFailed(
                "Kirim kunci privat yang dibungkus ulang dengan kata sandi baru.",
                "Send the private key re-wrapped under the new passphrase.",
            )
        wrapped = checked_wrap(wrapped_private_key, staff.public_key, recovery=False)
        if wrapped.kdf is None or wrapped.kdf.to_json() != kdf:
            raise ValidationFailed(
                "Kunci terbungkus harus memakai parameter kata sandi yang baru.",
                "The wrapped key must use the new passphrase parameters.",
            )
        staff.wrapped_private_key = wrapped_private_key
    staff.password_hash = sec.hasher.hash(new_login_secret)
    staff.kdf_params = kdf
    staff.passphrase_changed_at = utcnow()
    throttle.failures = 0
    ended = await _end_sessions(db, staff, keep=session_id)
    await _audit_own(db, staff, "staff.passphrase_change", {
        "fingerprint": formats.fingerprint(staff.public_key) if staff.public_key else None,
        "sessions_ended": ended,
    })
    await db.flush()
    return ended


async def set_password(
    db: AsyncSession,
    sec: Security,
    *,
    email: str,
    login_secret: str,
    kdf_params: dict[str, Any],
    actor: str = "cli",
) -> tuple[Staff, int]:
    """An admin sets a temporary passphrase (forgotten passphrase): new login hash and
    parameters, every session ended, the key pair and both of its wraps kept. The officer
    signs in with it and recovers the key with the recovery key on the device."""
    staff = await repository.by_email(db, normalise_email(email))
    if staff is None:
        raise NotFound("Akun tidak ditemukan.", "Account not found.")
    staff.password_hash = sec.hasher.hash(login_secret)
    staff.kdf_params = kdf_params
    staff.passphrase_changed_at = None
    (await _throttle_row(db, sec, staff.email)).failures = 0
    ended = await _end_sessions(db, staff)
    await audit.append(
        db,
        unit=await _unit_of(db, staff),
        actor_id=None,
        actor=actor,
        action="staff.password_set",
        object_type="staff",
        object_id=staff.id,
        details={
            "email": staff.email,
            "sessions_ended": ended,
            "key_kept": staff.public_key is not None,
            "recovery_wrap": staff.recovery_wrapped_private_key is not None,
        },
    )
    await db.flush()
    return staff, ended


async def deactivate(
    db: AsyncSession,
    staff: Staff,
    *,
    actor_id: int | None = None,
    actor: str = "cli",
) -> int:
    """A departed officer: the account is inactive (sign-in refused, sessions gone), its key
    approval is cleared so no new directory lists it. Returns how many sessions ended."""
    result = cast(
        CursorResult[Any],
        await db.execute(
            update(Staff)
            .where(Staff.id == staff.id, Staff.active.is_(True))
            .values(active=False, key_approved_at=None)
            .execution_options(synchronize_session=False)
        ),
    )
    if int(result.rowcount or 0) != 1:
        raise Conflict("Akun ini sudah nonaktif.", "This account is already deactivated.")
    ended = await _end_sessions(db, staff)
    await db.refresh(staff)
    await audit.append(
        db,
        unit=await _unit_of(db, staff),
        actor_id=actor_id,
        actor=actor,
        action="staff.deactivate",
        object_type="staff",
        object_id=staff.id,
        details={"email": staff.email, "sessions_ended": ended},
    )
    await db.flush()
    return ended


async def deactivate_by_email(db: AsyncSession, email: str, *, actor: str = "cli") -> int:
    staff = await repository.by_email(db, normalise_email(email))
    if staff is None:
        raise NotFound("Akun tidak ditemukan.", "Account not found.")
    return await deactivate(db, staff, actor=actor)
