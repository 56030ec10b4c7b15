"""A unit's Ed25519 directory key, its signed directory versions and recipient overrides."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from wbs.core.db import Base, BigId, IdMixin, utcnow


class DirectoryKey(IdMixin, Base):
    """The public half of the unit's directory key (the private half never reaches us)."""

    __tablename__ = "directory_keys"

    unit_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("units.id", ondelete="CASCADE"), unique=True
    )
    public_key: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DirectoryKeyWrap(IdMixin, Base):
    """The unit directory private key as wrapped by one admin's device (opaque to us)."""

    __tablename__ = "directory_key_wraps"
    __table_args__ = (UniqueConstraint("unit_id", "staff_id"),)

    unit_id: Mapped[int] = mapped_column(BigId, ForeignKey("units.id", ondelete="CASCADE"))
    staff_id: Mapped[int] = mapped_column(BigId, ForeignKey("staff.id", ondelete="CASCADE"))
    wrapped: Mapped[str] = mapped_column(Text)


class SignedDirectory(IdMixin, Base):
    """One signed version of a unit's directory: the exact document and its signature."""

    __tablename__ = "signed_directories"
    __table_args__ = (UniqueConstraint("unit_id", "version"),)

    unit_id: Mapped[int] = mapped_column(BigId, ForeignKey("units.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    document: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(Text)
    signed_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff.id"))
    signed_at: Mapped[datetime] = mapped_column(default=utcnow)


class RecipientOverride(Base):
    """An admin's explicit recipient list for a channel (replaces the role default)."""

    __tablename__ = "recipient_overrides"

    channel_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True
    )
    staff_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True
    )
