"""`wbs demo`: a development unit that works from the first `make run`.

It creates the unit DEMO with its four channels, an admin and one officer per handling role,
makes each account's device key here on the command line (development only: in production
keys are made on the officer's own device and never by the server), and signs the unit's
key directory with a unit key wrapped to the admin's key, so the reporting form is ready and
a demo officer can open what a reporter sends. The demo custodian's key is the directory's
identity custodian, so reports with an identity are sealed as envelope v2. Passphrases are
printed once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from crypto import directory as lib_directory
from crypto import staffkeys
from wbs.directory import service as directory
from wbs.staff import service as staff_service
from wbs.staff.credentials import new_credentials
from wbs.staff.models import Role, Staff
from wbs.units.models import Unit
from wbs.units.service import create_unit

UNIT = "DEMO"
ACCOUNTS: tuple[tuple[str, str, tuple[Role, ...]], ...] = (
    ("admin@demo.wbs.local", "Admin Demo", (Role.admin, Role.auditor)),
    ("verifikator@demo.wbs.local", "Verifikator Demo", (Role.verifikator,)),
    ("upg@demo.wbs.local", "UPG Demo", (Role.upg,)),
    ("atasan@demo.wbs.local", "Atasan Demo", (Role.atasan,)),
    ("investigator@demo.wbs.local", "Investigator Demo", (Role.investigator,)),
    ("custodian@demo.wbs.local", "Penjaga Identitas Demo", (Role.custodian,)),
)


@dataclass(frozen=True)
class DemoAccount:
    email: str
    roles: tuple[str, ...]
    passphrase: str


def _passphrase() -> str:
    return "-".join(secrets.token_hex(3) for _ in range(4))


async def create(db: AsyncSession, security: staff_service.Security) -> list[DemoAccount]:
    """The demo unit, its accounts with device keys, and a signed directory."""
    unit: Unit = await create_unit(db, code=UNIT, name="Unit Demo wbs", actor="demo")
    made: list[DemoAccount] = []
    admin: Staff | None = None
    admin_key: staffkeys.StaffKeyEnrolment | None = None
    for email, name, roles in ACCOUNTS:
        passphrase = _passphrase()
        login_secret, kdf = new_credentials(passphrase)
        staff, _seed = await staff_service.create_staff(
            db,
            security,
            email=email,
            name=name,
            unit_code=UNIT,
            roles=list(roles),
            login_secret=login_secret,
            kdf_params=kdf,
            actor="demo",
        )
        key = staffkeys.create_staff_key(passphrase, kdf=kdf)
        await staff_service.enrol_key(
            db,
            staff,
            public_key=key.public,
            wrapped_private_key=key.wrapped.dumps(),
            recovery_wrapped_private_key=key.recovery_wrapped.dumps(),
        )
        # The demo officer chose nothing: the passphrase is printed, so mark it as theirs
        # only in the sense that the page does not nag; production accounts never do this.
        staff.passphrase_changed_at = staff.created_at
        if Role.admin in roles:
            admin, admin_key = staff, key
        made.append(DemoAccount(email, tuple(r.value for r in roles), passphrase))
    assert admin is not None and admin_key is not None  # noqa: S101 - ACCOUNTS has an admin
    plan = await directory.proposal(db, admin, unit)
    by_id = {k.key_id: k for k in plan.keys}

    def entries(kids: list[str]) -> list[dict[str, str | None]]:
        return [
            {"key_id": k, "public_key": by_id[k].staff.public_key, "name": by_id[k].display_name}
            for k in kids
        ]

    document = {
        "v": 1,
        "unit": unit.code,
        "version": plan.version + 1,
        "channels": {c.value: entries(kids) for c, kids in plan.recipients.items()},
        # the demo custodian's key: reports with an identity are sealed v2 (identity key)
        "custodians": entries(plan.custodians),
    }
    unit_key = lib_directory.new_signing_key()
    signed = lib_directory.sign_directory(unit_key, document)
    await directory.sign(
        db,
        admin,
        unit,
        public_key=signed["public_key"],
        wrapped_private_key=lib_directory.wrap_signing_key(unit_key, admin_key.public),
        document=signed["document"],
        signature=signed["signature"],
    )
    return made
