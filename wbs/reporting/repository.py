"""Report queries and the per-(unit, type, year) case counter."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import Float, Table, bindparam, case, delete, exists, select, update
from sqlalchemy import insert as insert_rows
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from wbs.core.db import Base, utcnow
from wbs.directory.models import SignedDirectory
from wbs.indicators.aggregates import tz_column
from wbs.reporting.models import (
    Attachment,
    IdentityWrap,
    IdentityWrapKind,
    MailboxSession,
    Message,
    RateBucket,
    Report,
    ReportNotice,
    ReportWrap,
    SenderRole,
    SpentWork,
)
from wbs.units.models import CaseType, Channel, Unit


def _table(model: type[Base]) -> Table:
    """A model's table, for Core statements that skip the ORM's statement handling."""
    return cast(Table, model.__table__)


def _upsert(db: AsyncSession) -> Any:
    return pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert


@cache
def _counter_bump(dialect_insert: Any) -> Any:
    """`INSERT ... ON CONFLICT DO UPDATE SET last = last + 1 RETURNING last`, built once
    (Core on the table: no ORM statement handling, one cached compilation)."""
    from wbs.reporting.models import CaseCounter

    table = _table(CaseCounter)
    stmt = dialect_insert(table)
    return stmt.on_conflict_do_update(
        index_elements=[table.c.unit_id, table.c.case_type, table.c.year],
        set_={"last": table.c.last + 1},
    ).returning(table.c.last)


async def next_case_seq(db: AsyncSession, unit_id: int, case_type: CaseType, year: int) -> int:
    """Take the next number from the counter row in one statement (`INSERT ... ON CONFLICT
    DO UPDATE ... RETURNING`); the row stays locked until the caller's commit, so numbers
    are gapless (a rolled-back submission gives its number back). Call it last."""
    conn = await db.connection()
    params = {"unit_id": unit_id, "case_type": case_type.value, "year": year, "last": 1}
    return int((await conn.execute(_counter_bump(_upsert(db)), params)).scalar_one())


@dataclass
class UnitSnapshot:
    unit: Unit
    channels: list[Channel]
    newest: tuple[int, str] | None  # the newest directory's (version, signature)
    indicators_tz: str | None  # the indicators' stored time zone (aggregates.tz_column)


async def unit_snapshot(db: AsyncSession, code: str) -> UnitSnapshot | None:
    """A unit by code, its channels, its newest directory's (version, signature) and the
    indicators' time zone (a submission counts its report with it), in one query; None
    when there is no such unit."""
    newest = (
        select(SignedDirectory.version, SignedDirectory.signature)
        .where(SignedDirectory.unit_id == Unit.id)
        .order_by(SignedDirectory.version.desc())
        .limit(1)
        .correlate(Unit)
    )
    rows = (
        await db.execute(
            select(
                Unit,
                Channel,
                newest.with_only_columns(SignedDirectory.version).scalar_subquery(),
                newest.with_only_columns(SignedDirectory.signature).scalar_subquery(),
                tz_column(),
            )
            .outerjoin(Channel, Channel.unit_id == Unit.id)
            .where(Unit.code == code)
            .order_by(Channel.id)
        )
    ).all()
    if not rows:
        return None
    unit, _channel, version, signature, tz = rows[0]
    channels = [row[1] for row in rows if row[1] is not None]
    newest_version = (int(version), str(signature)) if version is not None else None
    return UnitSnapshot(unit, channels, newest_version, tz)


async def signed_directory(db: AsyncSession, unit_id: int, version: int) -> SignedDirectory:
    """One signed version of a unit's directory, detached from the session (it is cached)."""
    row = (
        await db.execute(
            select(*_table(SignedDirectory).c).where(
                SignedDirectory.unit_id == unit_id, SignedDirectory.version == version
            )
        )
    ).one()
    return SignedDirectory(**row._asdict())


_INSERT_REPORT = insert_rows(_table(Report)).returning(_table(Report).c.id)
_NUMBER_REPORT = (
    update(_table(Report))
    .where(_table(Report).c.id == bindparam("report_id"))
    .values(
        seq=bindparam("seq"),
        case_number=bindparam("case_number"),
        proof_signature=bindparam("proof_signature"),
    )
)


async def insert_report(db: AsyncSession, values: dict[str, Any]) -> int:
    """Insert a report with one Core statement (no ORM flush); its id."""
    conn = await db.connection()
    return int((await conn.execute(_INSERT_REPORT, values)).scalar_one())


async def number_report(
    db: AsyncSession, report_id: int, *, seq: int, case_number: str, proof_signature: str
) -> None:
    """Give a just-inserted report its case number and the signature of its proof."""
    conn = await db.connection()
    params = {
        "report_id": report_id,
        "seq": seq,
        "case_number": case_number,
        "proof_signature": proof_signature,
    }
    await conn.execute(_NUMBER_REPORT, params)


async def add_rows(db: AsyncSession, model: type[Base], rows: list[dict[str, Any]]) -> None:
    """Insert rows of one table in one multi-row INSERT (nothing when there are none), Core
    on the table (no ORM statement handling; one round trip, not a pipeline of one per row)."""
    if rows:
        conn = await db.connection()
        await conn.execute(insert_rows(_table(model)).values(rows))


async def unit_of(db: AsyncSession, report: Report) -> Unit:
    """The unit a report belongs to (the foreign key guarantees it exists)."""
    unit = await db.get(Unit, report.unit_id)
    assert unit is not None  # noqa: S101 - foreign key
    return unit


async def by_public_id(db: AsyncSession, public_id: str) -> Report | None:
    return await db.scalar(select(Report).where(Report.public_id == public_id))


async def by_lookup_hash(db: AsyncSession, lookup_hash: str) -> Report | None:
    return await db.scalar(select(Report).where(Report.lookup_hash == lookup_hash))


async def id_by_lookup_hash(db: AsyncSession, lookup_hash: str) -> int | None:
    """The id alone (a receipt login needs no more of the row)."""
    return await db.scalar(select(Report.id).where(Report.lookup_hash == lookup_hash))


async def mailbox_report(db: AsyncSession, session_id: str) -> Report | None:
    """The report of a live mailbox session; its unit comes in the same query (and stays in
    the session, so that `unit_of` asks the database no more)."""
    row = (
        await db.execute(
            select(Report, Unit)
            .join(MailboxSession, MailboxSession.report_id == Report.id)
            .join(Unit, Unit.id == Report.unit_id)
            .where(MailboxSession.id == session_id, MailboxSession.expires_at > utcnow())
        )
    ).first()
    return None if row is None else row[0]


async def wraps_of(
    db: AsyncSession, report_id: int, recipient: SenderRole | None = None
) -> list[ReportWrap]:
    """The report's wraps, or only those to `recipient`."""
    query = select(ReportWrap).where(ReportWrap.report_id == report_id)
    if recipient is not None:
        query = query.where(ReportWrap.recipient == recipient)
    return list(await db.scalars(query.order_by(ReportWrap.id)))


async def identity_wraps_of(
    db: AsyncSession, report_id: int, kind: IdentityWrapKind = IdentityWrapKind.original
) -> list[IdentityWrap]:
    """The report's identity wraps of one kind, in the order they were stored."""
    rows = await db.scalars(
        select(IdentityWrap)
        .where(IdentityWrap.report_id == report_id, IdentityWrap.kind == kind)
        .order_by(IdentityWrap.id)
    )
    return list(rows)


async def notices_of(db: AsyncSession, report_id: int) -> list[ReportNotice]:
    rows = await db.scalars(
        select(ReportNotice)
        .where(ReportNotice.report_id == report_id)
        .order_by(ReportNotice.created_at, ReportNotice.id)
    )
    return list(rows)


async def messages_of(db: AsyncSession, report_id: int) -> list[Message]:
    rows = await db.scalars(
        select(Message)
        .where(Message.report_id == report_id)
        .order_by(Message.created_at, Message.id)
    )
    return list(rows)


async def attachments_of(db: AsyncSession, report_id: int) -> list[Attachment]:
    rows = await db.scalars(
        select(Attachment).where(Attachment.report_id == report_id).order_by(Attachment.id)
    )
    return list(rows)


async def attachment(db: AsyncSession, report_id: int, public_id: str) -> Attachment | None:
    return await db.scalar(
        select(Attachment).where(
            Attachment.report_id == report_id, Attachment.public_id == public_id
        )
    )


async def public_id_taken(
    db: AsyncSession, model: type[Message | Attachment], public_id: str
) -> bool:
    return (await db.scalar(select(model.id).where(model.public_id == public_id))) is not None


async def record_spent(db: AsyncSession, key: str, expires_at: datetime) -> bool:
    """Insert the spent key; False when it is already there (a replay, maybe concurrent).

    `ON CONFLICT DO NOTHING` on the primary key: of concurrent inserts one wins, the others
    wait for it (PostgreSQL) or for the write lock (SQLite) and insert nothing.
    """
    # Now and then forget expired keys on the way (an expired challenge fails its own check).
    if secrets.randbelow(SWEEP_ONE_IN) == 0:
        await _sweep_spent(db)
    conn = await db.connection()
    found = await conn.execute(_spend(_upsert(db)), {"key": key, "expires_at": expires_at})
    return found.scalar() is not None


@cache
def _spend(dialect_insert: Any) -> Any:
    table = _table(SpentWork)
    return dialect_insert(table).on_conflict_do_nothing().returning(table.c.key)


SWEEP_ONE_IN = 32  # forget expired spent keys on about one redemption in 32


async def _sweep_spent(db: AsyncSession) -> None:
    """Delete expired keys, skipping rows a concurrent request is deleting (no lock waits,
    no deadlocks between cleaners)."""
    expired = (
        select(SpentWork.key)
        .where(SpentWork.expires_at < utcnow())
        .limit(500)
        .with_for_update(skip_locked=True)
    )
    await db.execute(delete(SpentWork).where(SpentWork.key.in_(expired)))


async def charge_mailbox(
    db: AsyncSession, report_id: int, size: int, *, max_messages: int, max_bytes: int
) -> bool:
    """Count one reporter message of `size` bytes against the report's quota, atomically.

    One `UPDATE ... WHERE used + n <= quota RETURNING`: concurrent messages never pass the
    quota together (the row lock serialises them on PostgreSQL).
    """
    charged = await db.scalar(
        update(Report)
        .where(
            Report.id == report_id,
            Report.mailbox_messages + 1 <= max_messages,
            Report.mailbox_bytes + size <= max_bytes,
        )
        .values(
            mailbox_messages=Report.mailbox_messages + 1,
            mailbox_bytes=Report.mailbox_bytes + size,
        )
        .returning(Report.id)
        .execution_options(synchronize_session=False)
    )
    return charged is not None


async def mailbox_usage(db: AsyncSession, report_id: int) -> tuple[int, int]:
    row = (
        await db.execute(
            select(Report.mailbox_messages, Report.mailbox_bytes).where(Report.id == report_id)
        )
    ).one()
    return int(row[0]), int(row[1])


async def take_token(
    db: AsyncSession, name: str, *, capacity: float, per_second: float, now: float
) -> float | None:
    """Add one to a shared bucket unless that would overflow it: its new level, or None
    when it is full.

    One `UPDATE ... WHERE level after draining + 1 <= capacity`: race-safe on PostgreSQL
    (row lock) and SQLite (one writer), across processes and servers. A clock behind the
    row's `updated` (another server's) drains nothing and never moves `updated` back."""
    conn = await db.connection()
    params = {"bucket": name, "capacity": capacity, "per_second": per_second, "now": now}
    taken = (await conn.execute(_BUMP, params)).scalar()
    if taken is None:
        fresh = {"name": name, "level": 0.0, "updated": now}
        await conn.execute(_bucket_row(_upsert(db)), fresh)
        taken = (await conn.execute(_BUMP, params)).scalar()
    return None if taken is None else float(taken)


async def spend_and_take(
    db: AsyncSession,
    key: str,
    expires_at: datetime,
    name: str,
    *,
    capacity: float,
    per_second: float,
    now: float,
) -> tuple[bool, float | None]:
    """`record_spent` and then, only when the key was new, `take_token`: (spent, level).

    On PostgreSQL one statement (the insert and the update as CTEs, the update only when
    the insert returned the key): the same row locks in the same order as the two calls.
    A bucket row yet to be made is left to `take_token`."""
    if db.get_bind().dialect.name != "postgresql":
        if not await record_spent(db, key, expires_at):
            return False, None
        return True, await take_token(db, name, capacity=capacity, per_second=per_second, now=now)
    if secrets.randbelow(SWEEP_ONE_IN) == 0:
        await _sweep_spent(db)
    conn = await db.connection()
    params = {
        "spent_key": key,
        "spent_expires": expires_at,
        "bucket": name,
        "capacity": capacity,
        "per_second": per_second,
        "now": now,
    }
    spent, level = (await conn.execute(_SPEND_AND_BUMP, params)).one()
    if spent and level is None:
        return True, await take_token(db, name, capacity=capacity, per_second=per_second, now=now)
    return bool(spent), None if level is None else float(level)


def _spend_and_bump() -> Any:
    table = _table(SpentWork)
    spent = (
        pg_insert(table)
        .values(
            key=bindparam("spent_key", type_=table.c.key.type),
            expires_at=bindparam("spent_expires", type_=table.c.expires_at.type),
        )
        .on_conflict_do_nothing()
        .returning(table.c.key)
        .cte("spent")
    )
    bumped = _BUMP.where(exists(select(spent.c.key))).cte("bumped")
    return select(
        exists(select(spent.c.key)).label("spent"),
        select(bumped.c.level).scalar_subquery().label("level"),
    )


def _bucket_bump() -> Any:
    """The `take_token` update, built once with its values as parameters."""
    t = _table(RateBucket).c
    now, per_second = bindparam("now", type_=Float), bindparam("per_second", type_=Float)
    elapsed = case((t.updated < now, now - t.updated), else_=0.0)
    drained = t.level - elapsed * per_second
    level = case((drained > 0.0, drained), else_=0.0) + 1.0
    later = case((t.updated < now, now), else_=t.updated)
    return (
        update(_table(RateBucket))
        .where(t.name == bindparam("bucket"), level <= bindparam("capacity", type_=Float))
        .values(level=level, updated=later)
        .returning(t.level)
    )


_BUMP = _bucket_bump()


_SPEND_AND_BUMP = _spend_and_bump()


@cache
def _bucket_row(dialect_insert: Any) -> Any:
    return dialect_insert(_table(RateBucket)).on_conflict_do_nothing()


async def bucket_levels(db: AsyncSession, names: Sequence[str]) -> dict[str, tuple[float, float]]:
    """name -> (level, updated) of the buckets that exist."""
    rows = await db.execute(
        select(RateBucket.name, RateBucket.level, RateBucket.updated).where(
            RateBucket.name.in_(list(names))
        )
    )
    return {name: (float(level), float(updated)) for name, level, updated in rows}
