"""Admin API for the unit key directory."""

from __future__ import annotations

from fastapi import APIRouter

from wbs.core.bodylimit import MIB, body_limit
from wbs.core.db import DbSession
from wbs.directory import service
from wbs.directory.schemas import (
    DirectoryKeyOut,
    OverrideIn,
    OverrideOut,
    ProposalOut,
    SignedOut,
    SignIn,
    StaffKeyOut,
)
from wbs.staff.deps import CsrfChecked, CurrentAdmin
from wbs.units.models import CaseType

router = APIRouter(prefix="/api/v1/admin/units/{code}", tags=["directory"])


@router.get("/directory", response_model=ProposalOut)
async def directory_proposal(code: str, db: DbSession, admin: CurrentAdmin) -> ProposalOut:
    unit = await service.admin_unit(db, admin, code)
    plan = await service.proposal(db, admin, unit)
    repeated = service.repeated_key_ids(plan.keys)
    return ProposalOut(
        unit=unit.code,
        version=plan.version,
        next_version=plan.version + 1,
        directory_key=DirectoryKeyOut(
            public_key=plan.directory_key.public_key if plan.directory_key else None,
            wrapped_private_key=plan.wrapped_private_key,
        ),
        document=plan.document,
        staff=[
            StaffKeyOut(
                id=k.staff.id,
                email=k.staff.email,
                name=k.staff.name,
                display_name=k.display_name,
                roles=sorted(r.value for r in k.staff.roles),
                public_key=k.staff.public_key or "",
                key_id=k.key_id,
                fingerprint=k.fingerprint,
                key_status=k.staff.key_status,
                repeated=k.key_id in repeated,
            )
            for k in plan.keys
        ],
        recipients={c.value: ids for c, ids in plan.recipients.items()},
        custodians=plan.custodians,
    )


@router.put("/directory", response_model=SignedOut, dependencies=[CsrfChecked])
@body_limit(2 * MIB)
async def directory_sign(code: str, body: SignIn, db: DbSession, admin: CurrentAdmin) -> SignedOut:
    unit = await service.admin_unit(db, admin, code)
    signed, newly = await service.sign(
        db,
        admin,
        unit,
        public_key=body.public_key,
        wrapped_private_key=body.wrapped_private_key,
        document=body.document,
        signature=body.signature,
    )
    return SignedOut(version=signed.version, approved=[k.fingerprint for k in newly])


@router.put(
    "/channels/{case_type}/recipients", response_model=OverrideOut, dependencies=[CsrfChecked]
)
async def channel_recipients(
    code: str, case_type: CaseType, body: OverrideIn, db: DbSession, admin: CurrentAdmin
) -> OverrideOut:
    unit = await service.admin_unit(db, admin, code)
    chosen = await service.set_override(db, admin, unit, case_type, body.staff_ids)
    return OverrideOut(case_type=case_type.value, staff_ids=chosen)
