"""Staff JSON API v1: pre-login derivation parameters, sign-in/out, own account and key."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from crypto.atrest import keyed_digest
from crypto.encoding import b64u_encode
from crypto.keys import fingerprint_of, key_id_of
from wbs.core.bodylimit import KIB, body_limit
from wbs.core.db import DbSession
from wbs.core.security import check_origin, csrf_token
from wbs.reporting.schemas import B64u
from wbs.staff import repository, service
from wbs.staff.deps import CsrfChecked, CurrentStaff, SecurityDep, session_cookie_name
from wbs.staff.models import Staff
from wbs.units.models import Unit

router = APIRouter(prefix="/api/v1/staff", tags=["staff"])

DECOY_ITERATIONS = 600_000


class KdfOut(BaseModel):
    kdf: dict[str, object] | None


class SessionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=254)
    login_secret: str = Field(min_length=1, max_length=1024)
    code: str | None = Field(default=None, max_length=16)


class MeOut(BaseModel):
    id: int
    email: str
    name: str
    unit: str
    roles: list[str]
    kdf: dict[str, object] | None
    public_key: str | None
    wrapped_private_key: str | None
    recovery_wrapped_private_key: str | None
    passphrase_changed_at: datetime | None
    totp_enrolled: bool
    key_id: str | None
    fingerprint: str | None
    key_status: str
    key_approved_at: datetime | None
    csrf_token: str


class SessionOut(BaseModel):
    staff: MeOut
    csrf_token: str


class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Re-authentication: the current login secret and, with TOTP enrolled, a current code.
    login_secret: str = Field(min_length=1, max_length=1024)
    code: str | None = Field(default=None, max_length=16)
    public_key: B64u = Field(min_length=40, max_length=2048)
    wrapped_private_key: str = Field(min_length=2, max_length=16384)
    recovery_wrapped_private_key: str | None = Field(default=None, min_length=2, max_length=16384)


class PassphraseIn(BaseModel):
    """A passphrase change made on the device: only derived secrets and the new wrap."""

    model_config = ConfigDict(extra="forbid")

    current_login_secret: str = Field(min_length=1, max_length=1024)
    code: str | None = Field(default=None, max_length=16)  # required with TOTP enrolled
    new_login_secret: str = Field(min_length=1, max_length=1024)
    new_kdf: dict[str, Any]
    wrapped_private_key: str | None = Field(default=None, min_length=2, max_length=16384)


def decoy_kdf(master: bytes, email: str) -> dict[str, object]:
    """Stable parameters for an unknown e-mail, shaped like a real account's."""
    salt = bytes.fromhex(keyed_digest(master, "kdf-decoy", email.encode()))[:16]
    return {"name": "pbkdf2-sha256", "iterations": DECOY_ITERATIONS, "salt": b64u_encode(salt)}


async def me_out(db: AsyncSession, request: Request, staff: Staff) -> MeOut:
    unit = await db.get(Unit, staff.unit_id)
    assert unit is not None  # noqa: S101 - foreign key
    return MeOut(
        id=staff.id,
        email=staff.email,
        name=staff.name,
        unit=unit.code,
        roles=sorted(r.value for r in staff.roles),
        kdf=staff.kdf_params,
        public_key=staff.public_key,
        wrapped_private_key=staff.wrapped_private_key,
        recovery_wrapped_private_key=staff.recovery_wrapped_private_key,
        passphrase_changed_at=staff.passphrase_changed_at,
        totp_enrolled=staff.totp_secret_enc is not None,
        key_id=key_id_of(staff.public_key) if staff.public_key else None,
        fingerprint=fingerprint_of(staff.public_key) if staff.public_key else None,
        key_status=staff.key_status,
        key_approved_at=staff.key_approved_at,
        csrf_token=csrf_token(request),
    )


@router.get("/kdf", response_model=KdfOut)
async def kdf(db: DbSession, sec: SecurityDep, email: str = Query(max_length=254)) -> KdfOut:
    email = email.strip().lower()
    staff = await repository.by_email(db, email)
    if staff is None or not staff.active:
        return KdfOut(kdf=decoy_kdf(sec.master, email))
    return KdfOut(kdf=staff.kdf_params)


@router.post("/session", response_model=SessionOut)
async def sign_in(
    body: SessionIn, request: Request, db: DbSession, sec: SecurityDep
) -> JSONResponse:
    check_origin(request)
    # The attempt is charged and any failure audited and committed inside `authenticate`.
    staff = await service.authenticate(
        db, sec, email=body.email, login_secret=body.login_secret, code=body.code
    )
    token, session = await service.start_session(db, sec, staff)
    request.state.session_id = session.id
    me = await me_out(db, request, staff)
    response = JSONResponse(SessionOut(staff=me, csrf_token=me.csrf_token).model_dump(mode="json"))
    response.set_cookie(
        session_cookie_name(request),
        token,
        httponly=True,
        samesite="strict",
        secure=sec.settings.is_production,
        path="/",
    )
    return response


@router.delete("/session", status_code=204, dependencies=[CsrfChecked])
async def sign_out(request: Request, db: DbSession, staff: CurrentStaff) -> Response:
    await service.end_session(db, request.state.session_id, staff)
    response = Response(status_code=204)
    response.delete_cookie(session_cookie_name(request), path="/")
    return response


@router.get("/me", response_model=MeOut)
async def me(request: Request, db: DbSession, staff: CurrentStaff) -> MeOut:
    return await me_out(db, request, staff)


@router.put("/me/key", response_model=MeOut, dependencies=[CsrfChecked])
@body_limit(64 * KIB)
async def enrol_key(
    body: KeyIn, request: Request, db: DbSession, sec: SecurityDep, staff: CurrentStaff
) -> MeOut:
    """Store the device-made key; a new public key waits for an admin's directory signature.
    Replacing the key needs the current login secret (and TOTP code) first."""
    await service.reauthenticate(db, sec, staff, login_secret=body.login_secret, code=body.code)
    await service.enrol_key(
        db,
        staff,
        public_key=body.public_key,
        wrapped_private_key=body.wrapped_private_key,
        recovery_wrapped_private_key=body.recovery_wrapped_private_key,
    )
    return await me_out(db, request, staff)


@router.put("/me/passphrase", response_model=MeOut, dependencies=[CsrfChecked])
@body_limit(64 * KIB)
async def change_passphrase(
    body: PassphraseIn, request: Request, db: DbSession, sec: SecurityDep, staff: CurrentStaff
) -> MeOut:
    """Passphrase change (or completion of a recovery): the same key pair, newly wrapped."""
    # A wrong current secret or code is charged, audited and committed by the service.
    await service.change_passphrase(
        db,
        sec,
        staff,
        current_login_secret=body.current_login_secret,
        code=body.code,
        new_login_secret=body.new_login_secret,
        new_kdf=body.new_kdf,
        wrapped_private_key=body.wrapped_private_key,
        session_id=request.state.session_id,
    )
    return await me_out(db, request, staff)
