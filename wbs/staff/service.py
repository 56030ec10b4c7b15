"""Staff accounts, sign-in with throttle and TOTP, and server-side sessions."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from hashlib import sha256
from typing import Any, cast

from sqlalchemy import CursorResult, case, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from crypto.atrest import SecretBox, keyed_digest
from crypto.keys import fingerprint_of, key_id_of
from wbs.audit import service as audit
from wbs.core.db import utcnow
from wbs.core.errors import Conflict, DomainError, NotFound, TooManyRequests, ValidationFailed
from wbs.core.settings import Settings
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
from wbs.staff.passwords import Hasher, check_length
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


class CurrentCodeWrong(DomainError):
    status, code = 401, "current_code_wrong"
    message_id = "Kode verifikasi salah atau sudah dipakai. Tunggu kode berikutnya."
    message_en = "The verification code is wrong or was already used. Wait for the next code."


class SignInsBusy(TooManyRequests):
    code = "sign_ins_busy"
    message_id = (
        "Terlalu banyak percobaan masuk ke layanan ini saat ini. Tunggu sebentar lalu coba lagi."
    )
    message_en = "Too many sign-in attempts on this service right now. Wait a minute and try again."


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
            workers=settings.argon2_workers,
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


# ---------------------------------------------------------------- sign-in and its throttle

# The throttle row counting attempts of all e-mails together (account keys are 64 hex
# characters, so this one cannot collide with an e-mail's) and its window.
GLOBAL_THROTTLE_KEY = "*all*"
GLOBAL_WINDOW_SECONDS = 60


def _account_key(sec: Security, email: str) -> str:
    return keyed_digest(sec.master, "login-throttle", email.encode())


async def _charge(db: AsyncSession, key: str, window_seconds: int) -> int:
    """Count one attempt against `key` and return the attempts in its current window.

    One atomic upsert (``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``), so concurrent
    attempts each get their own count and the first ones on a new key cannot collide.
    """
    now = utcnow()
    insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(LoginThrottle).values(account_key=key, failures=1, window_started_at=now)
    expired = LoginThrottle.window_started_at < now - timedelta(seconds=window_seconds)
    upsert = stmt.on_conflict_do_update(
        index_elements=[LoginThrottle.account_key],
        set_={
            "failures": case((expired, 1), else_=LoginThrottle.failures + 1),
            "window_started_at": case(
                (expired, stmt.excluded.window_started_at), else_=LoginThrottle.window_started_at
            ),
        },
    ).returning(LoginThrottle.failures)
    return int((await db.execute(upsert)).scalar_one())


async def _clear_throttle(db: AsyncSession, sec: Security, email: str) -> None:
    await db.execute(
        update(LoginThrottle)
        .where(LoginThrottle.account_key == _account_key(sec, email))
        .values(failures=0)
    )


async def _use_totp_code(db: AsyncSession, sec: Security, staff: Staff, code: str) -> bool:
    """Accept a code once: an atomic compare-and-set of the last used time step, so two
    requests with the same code cannot both pass (the second finds the step taken)."""
    assert staff.totp_secret_enc is not None  # noqa: S101 - checked by the callers
    seed = totp.open_secret(sec.totp_box, staff.email, staff.totp_secret_enc)
    step = totp.matching_step(seed, code)
    if step is None:
        return False
    result = cast(
        CursorResult[Any],
        await db.execute(
            update(Staff)
            .where(
                Staff.id == staff.id,
                or_(Staff.totp_last_step.is_(None), Staff.totp_last_step < step),
            )
            .values(totp_last_step=step)
            .execution_options(synchronize_session=False)
        ),
    )
    if result.rowcount != 1:
        return False
    set_committed_value(staff, "totp_last_step", step)
    return True


async def _audit_failed_sign_in(
    db: AsyncSession, sec: Security, email: str, staff: Staff | None, reason: str
) -> None:
    """A failed sign-in in the audit log, never with the attempted secret or any address:
    a known account in its unit's chain by id, an unknown e-mail as a keyed hash in the
    chain of the first top-level unit. Committed at once (the request then fails)."""
    if staff is not None:
        unit: Unit | None = await _unit_of(db, staff)
        object_type, object_id = "staff", str(staff.id)
    else:
        unit = await db.scalar(
            select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.id).limit(1)
        )
        object_type, object_id = "login", _account_key(sec, email)
    if unit is not None:
        await audit.append(
            db,
            unit=unit,
            actor_id=None,
            actor="anonymous",
            action="staff.login_failed",
            object_type=object_type,
            object_id=object_id,
            details={"reason": reason},
        )
    await db.commit()


async def _charge_attempt(db: AsyncSession, sec: Security, email: str) -> None:
    """Charge a sign-in (or re-authentication) attempt globally and per e-mail, then commit.

    The charge is committed before the slow check so that concurrent guesses see it (and
    are refused beyond the limit), and so that no transaction (on SQLite: the write lock)
    stays open while Argon2 runs. This commit is the documented exception to the rule
    that services only flush: it ends the request's first, short transaction; whatever
    follows is written by the request's own commit.
    """
    total = await _charge(db, GLOBAL_THROTTLE_KEY, GLOBAL_WINDOW_SECONDS)
    if total > sec.settings.login_global_per_minute:
        await db.commit()
        raise SignInsBusy()
    attempts = await _charge(db, _account_key(sec, email), sec.settings.login_window_seconds)
    await db.commit()
    if attempts > sec.settings.login_max_failures:
        raise TooManyRequests()


async def authenticate(
    db: AsyncSession, sec: Security, *, email: str, login_secret: str, code: str | None
) -> Staff:
    """Check secret and TOTP. Raises LoginFailed/TotpRequired/TooManyRequests/SignInsBusy.

    Every attempt is charged (and committed) before the secret is checked; a success
    clears the e-mail's count. Argon2 runs in the hasher's bounded worker pool with no
    transaction open. A failure is audited and committed before LoginFailed is raised.
    """
    email = email.strip().lower()[:254]
    staff = await repository.by_email(db, email)
    await _charge_attempt(db, sec, email)
    ok = await sec.hasher.verify_async(staff.password_hash if staff else None, login_secret)
    if not ok or staff is None or not staff.active:
        reason = "inactive" if ok and staff is not None else "secret"
        await _audit_failed_sign_in(db, sec, email, staff, reason)
        raise LoginFailed()
    new_hash = None
    if sec.hasher.needs_rehash(staff.password_hash):
        new_hash = await sec.hasher.hash_async(login_secret)  # still outside a transaction
    if staff.totp_secret_enc is not None:
        if not code:
            raise TotpRequired()
        if not await _use_totp_code(db, sec, staff, code):
            await _audit_failed_sign_in(db, sec, email, staff, "totp")
            raise LoginFailed()
    elif sec.settings.is_production:
        raise TotpNotEnrolled()
    await _clear_throttle(db, sec, email)
    if new_hash is not None:
        staff.password_hash = new_hash
    await db.flush()
    return staff


async def reauthenticate(
    db: AsyncSession,
    sec: Security,
    staff: Staff,
    *,
    login_secret: str,
    code: str | None,
    new_login_secret: str | None = None,
) -> str | None:
    """The signed-in staff member proves again that they hold the login secret and, when
    TOTP is enrolled, the authenticator (a code not used before): required before changing
    the passphrase, the device key or the authenticator. Charged to the same throttle as a
    sign-in (and committed first, see `_charge_attempt`); a failure is audited and
    committed. Returns the hash of `new_login_secret` when given, made in the worker pool
    before any write."""
    await _charge_attempt(db, sec, staff.email)
    if not await sec.hasher.verify_async(staff.password_hash, login_secret):
        await _audit_failed_reauth(db, staff, "secret")
        raise CurrentPassphraseWrong()
    new_hash = None
    if new_login_secret is not None:
        new_hash = await sec.hasher.hash_async(new_login_secret)
    if staff.totp_secret_enc is not None:
        if not code:
            raise TotpRequired()
        if not await _use_totp_code(db, sec, staff, code):
            await _audit_failed_reauth(db, staff, "totp")
            raise CurrentCodeWrong()
    await _clear_throttle(db, sec, staff.email)
    return new_hash


async def _audit_failed_reauth(db: AsyncSession, staff: Staff, reason: str) -> None:
    await _audit_own(db, staff, "staff.reauth_failed", {"reason": reason})
    await db.commit()


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


async def enrol_totp(
    db: AsyncSession,
    sec: Security,
    staff: Staff,
    seed: str,
    code: str,
    *,
    login_secret: str,
    current_code: str | None,
) -> None:
    """Turn on (or replace) TOTP once the staff member proved the new authenticator shows the
    right code, after re-authenticating with the login secret and, when an authenticator
    is already enrolled, a current code from it."""
    step = totp.matching_step(seed, code)
    if step is None:
        raise ValidationFailed("Kode verifikasi salah.", "Wrong verification code.")
    await reauthenticate(db, sec, staff, login_secret=login_secret, code=current_code)
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
        fingerprint = fingerprint_of(public_key)
    except ValueError:
        raise ValidationFailed(
            "Kunci publik tidak valid.", "The public key is not valid."
        ) from None
    checked_wrap(wrapped_private_key, public_key, recovery=False)
    changed = staff.public_key != public_key
    await claim_key_id(db, staff, key_id_of(public_key))
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
    await _audit_own(
        db,
        staff,
        "staff.key_enrol" if changed else "staff.key_rewrap",
        {
            "fingerprint": fingerprint,
            "recovery_wrap": recovery_wrapped_private_key is not None,
        },
    )
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
    code: str | None = None,
    new_login_secret: str,
    new_kdf: dict[str, Any],
    wrapped_private_key: str | None,
    session_id: str | None,
) -> int:
    """The officer's device chose a new passphrase: new login hash, parameters and wrap of
    the same private key (reports are untouched). Ends the account's other sessions;
    returns how many. Needs the current login secret and, with TOTP enrolled, a current
    code (`reauthenticate`: a wrong one counts as a failed sign-in and is committed)."""
    check_length(new_login_secret)
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
    new_hash = await reauthenticate(
        db,
        sec,
        staff,
        login_secret=current_login_secret,
        code=code,
        new_login_secret=new_login_secret,
    )
    assert new_hash is not None  # noqa: S101 - asked for above
    if wrapped_private_key is not None:
        staff.wrapped_private_key = wrapped_private_key
    staff.password_hash = new_hash
    staff.kdf_params = kdf
    staff.passphrase_changed_at = utcnow()
    ended = await _end_sessions(db, staff, keep=session_id)
    await _audit_own(
        db,
        staff,
        "staff.passphrase_change",
        {
            "fingerprint": fingerprint_of(staff.public_key) if staff.public_key else None,
            "sessions_ended": ended,
        },
    )
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
    await _clear_throttle(db, sec, staff.email)
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
