"""Staff accounts, roles, server-side sessions and the login throttle."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Enum,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from wbs.core.db import Base, BigId, CreatedMixin, IdMixin
from wbs.units.models import Unit


class Role(enum.StrEnum):
    admin = "admin"
    verifikator = "verifikator"
    investigator = "investigator"
    upg = "upg"
    atasan = "atasan"
    auditor = "auditor"
    custodian = "custodian"


class Staff(IdMixin, CreatedMixin, Base):
    __tablename__ = "staff"

    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    unit_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("units.id", ondelete="RESTRICT"), index=True
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    # Staff-device key derivation parameters (salt, iterations) so the device can derive
    # the login secret and the private-key wrapping key; see crypto.staffkeys.
    kdf_params: Mapped[dict[str, object] | None] = mapped_column(JSON)
    totp_secret_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    public_key: Mapped[str | None] = mapped_column(Text)
    wrapped_private_key: Mapped[str | None] = mapped_column(Text)
    # The same private key wrapped under the one-time recovery key the officer printed at
    # enrolment (JSON text, kdf "recovery"); opens only with that key, on the device.
    recovery_wrapped_private_key: Mapped[str | None] = mapped_column(Text)
    key_approved_at: Mapped[datetime | None] = mapped_column()
    # When the officer last chose the passphrase on their own device; None while the account
    # still has a passphrase an admin typed (`wbs staff create` / `wbs staff set-password`).
    passphrase_changed_at: Mapped[datetime | None] = mapped_column()

    unit: Mapped[Unit] = relationship(lazy="raise")
    role_rows: Mapped[list[StaffRole]] = relationship(
        back_populates="staff", lazy="selectin", cascade="all, delete-orphan"
    )

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(r.role for r in self.role_rows)

    @property
    def key_status(self) -> str:
        """`none` (no device key yet), `pending` (waits for a directory signature), `approved`."""
        if self.public_key is None:
            return "none"
        return "approved" if self.key_approved_at is not None else "pending"

    @property
    def approved_public_key(self) -> str | None:
        """The public key cases may be addressed to: an active account's approved key."""
        if not self.active or self.public_key is None or self.key_approved_at is None:
            return None
        return self.public_key

    def __repr__(self) -> str:
        return f"Staff(id={self.id!r}, email={self.email!r})"


class StaffRole(Base):
    __tablename__ = "staff_roles"

    staff_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[Role] = mapped_column(
        Enum(Role, name="staff_role", native_enum=False, length=32), primary_key=True
    )

    staff: Mapped[Staff] = relationship(back_populates="role_rows", lazy="raise")


class StaffSession(CreatedMixin, Base):
    """A signed-in browser; the cookie holds a random token, the table only its SHA-256."""

    __tablename__ = "staff_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("staff.id", ondelete="CASCADE"), index=True
    )
    last_seen_at: Mapped[datetime] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column()


class StaffKeyId(CreatedMixin, Base):
    """Every device key id an account has enrolled (pending, approved or rotated away).

    The primary key makes a key id belong to exactly one account, for good: nobody else can
    enrol a colleague's public key, and a key id in an old directory still names its holder.
    """

    __tablename__ = "staff_key_ids"

    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    staff_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("staff.id", ondelete="CASCADE"), index=True
    )


class LoginThrottle(Base):
    """Failed sign-ins per account key (a keyed hash of the e-mail, known or not)."""

    __tablename__ = "login_throttle"
    __table_args__ = (UniqueConstraint("account_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    account_key: Mapped[str] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column()
