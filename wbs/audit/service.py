"""Append to, sequence, prove and verify the per-unit audit logs (Merkle, RFC 9162 shape).

`append` inserts an entry whose leaf hash is fixed at once (it covers a random, time-ordered
entry id and the entry's fields, never its position), without reading or locking anything of
the unit. The sequencer (`sequence`, one at a time) gives pending entries their leaf index in
batches, extends each unit's tree, keeps the hashes of the perfect subtrees it completes
(`AuditNode`) and signs a tree head. Proofs read O(log n) of those hashes, never every leaf.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from typing import Any, NotRequired, TypedDict, Unpack, cast

from sqlalchemy import Select, Table, and_, func, insert, literal, or_, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession

from crypto import merkle, treehead
from crypto.atrest import derive_signing_key
from wbs.audit.models import AuditEvent, AuditNode, AuditTree, AuditTreeHead
from wbs.core.db import take_turn, utcnow
from wbs.units.models import Unit

CHECKPOINT_KEY_LABEL = "audit-checkpoint"
SEQUENCER_JOB = "audit.sequence"
BATCH = 5000
FORBIDDEN_DETAIL_KEYS = frozenset(
    {
        "ip",
        "ip_address",
        "remote_addr",
        "user_agent",
        "referer",
        "referrer",
        "content",
        "text",
        "report",
        "body",
        "plaintext",
        "receipt",
        "password",
        "passphrase",
        "identity",
    }
)


def _iso(at: datetime) -> str:
    return at.isoformat(timespec="microseconds")


def canonical(event: AuditEvent, unit_code: str) -> bytes:
    """The entry bytes a leaf covers (sorted keys, no spaces, UTF-8); no position in it."""
    doc = {
        "v": 2,
        "unit": unit_code,
        "id": event.entry_id,
        "at": _iso(event.at),
        "actor_id": event.actor_id,
        "actor": event.actor,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "details": event.details,
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def leaf_of(event: AuditEvent, unit_code: str) -> str:
    return merkle.leaf_hash(canonical(event, unit_code)).hex()


def new_entry_id() -> str:
    """48 bits of milliseconds then 80 random bits, hex: unique without coordination."""
    return f"{time.time_ns() // 1_000_000:012x}{secrets.token_hex(10)}"


def signing_key(master: bytes) -> Any:
    return derive_signing_key(master, CHECKPOINT_KEY_LABEL)


def public_key_hex(master: bytes) -> str:
    return str(signing_key(master).public_key().public_bytes_raw().hex())


def _check_details(details: dict[str, Any]) -> None:
    bad = FORBIDDEN_DETAIL_KEYS.intersection(k.lower() for k in details)
    if bad:
        raise ValueError(f"audit details must not carry {sorted(bad)}")


class EventFields(TypedDict):
    """What an entry says (`append`, `new_event`)."""

    unit: Unit
    actor_id: int | None
    actor: str
    action: str
    object_type: str
    object_id: str | int
    details: NotRequired[dict[str, Any] | None]


async def append(db: AsyncSession, **fields: Unpack[EventFields]) -> AuditEvent:
    """Insert one entry in the caller's transaction; the sequencer gives it its place later."""
    event = new_event(**fields)
    db.add(event)
    await db.flush()
    return event


def new_event(**fields: Unpack[EventFields]) -> AuditEvent:
    """An entry with its leaf hash, not yet added anywhere (`append`, `insert_event`)."""
    details = dict(fields.get("details") or {})
    _check_details(details)
    unit = fields["unit"]
    event = AuditEvent(
        unit_id=unit.id,
        entry_id=new_entry_id(),
        seq=None,
        at=utcnow(),
        actor_id=fields["actor_id"],
        actor=fields["actor"],
        action=fields["action"],
        object_type=fields["object_type"],
        object_id=str(fields["object_id"]),
        details=details,
        leaf_hash="",
    )
    event.leaf_hash = leaf_of(event, unit.code)
    return event


async def insert_event(db: AsyncSession, event: AuditEvent) -> None:
    """Insert an entry made by `new_event` with one Core statement (no ORM flush)."""
    table = cast(Table, AuditEvent.__table__)
    row = {c.key: getattr(event, c.key) for c in table.columns if c.key != "id"}
    await (await db.connection()).execute(insert(table), row)


# --------------------------------------------------------------------------- sequencer


@dataclass(frozen=True)
class SequencerRun:
    sequenced: int = 0
    heads: int = 0


async def sequence(db: AsyncSession, master: bytes, batch: int = BATCH) -> SequencerRun:
    """Give committed pending entries their leaf index (in the order this transaction sees
    them), extend each unit's tree and sign new tree heads. Skips when another runs."""
    if not await take_turn(db, SEQUENCER_JOB):
        return SequencerRun()
    pending = (
        await db.execute(
            select(AuditEvent.id, AuditEvent.unit_id, AuditEvent.leaf_hash)
            .where(AuditEvent.seq.is_(None))
            .order_by(AuditEvent.id)
            .limit(batch)
        )
    ).all()
    by_unit: dict[int, list[tuple[int, str]]] = {}
    for event_id, unit_id, leaf in pending:
        by_unit.setdefault(unit_id, []).append((event_id, leaf))
    trees = {
        t.unit_id: t
        for t in await db.scalars(select(AuditTree).where(AuditTree.unit_id.in_(list(by_unit))))
    }
    assignments: list[dict[str, int]] = []
    nodes: list[dict[str, Any]] = []
    for unit_id, entries in by_unit.items():
        tree = trees.get(unit_id)
        if tree is None:
            tree = AuditTree(unit_id=unit_id, size=0, frontier=[])
            db.add(tree)
        edge, done = merkle.extend_nodes(
            [bytes.fromhex(h) for h in tree.frontier],
            tree.size,
            [bytes.fromhex(leaf) for _id, leaf in entries],
        )
        nodes.extend(
            {"unit_id": unit_id, "level": level, "idx": idx, "hash": h.hex()}
            for level, idx, h in done
        )
        for offset, (event_id, _leaf) in enumerate(entries):
            assignments.append({"id": event_id, "seq": tree.size + offset})
        tree.size += len(entries)
        tree.frontier = [h.hex() for h in edge]
    if assignments:
        await db.execute(update(AuditEvent), assignments)
    await db.flush()
    if nodes:
        await db.execute(insert(AuditNode), nodes)
    heads = await sign_new_heads(db, master)
    return SequencerRun(len(assignments), heads)


async def sign_new_heads(db: AsyncSession, master: bytes) -> int:
    """A signed head for every tree grown past its latest head (also after migration)."""
    latest = (
        select(AuditTreeHead.unit_id, func.max(AuditTreeHead.tree_size).label("size"))
        .group_by(AuditTreeHead.unit_id)
        .subquery()
    )
    rows = (
        await db.execute(
            select(AuditTree, Unit.code)
            .join(Unit, Unit.id == AuditTree.unit_id)
            .outerjoin(latest, latest.c.unit_id == AuditTree.unit_id)
            .where(func.coalesce(latest.c.size, -1) < AuditTree.size)
        )
    ).all()
    key = signing_key(master)
    public = public_key_hex(master)
    for tree, code in rows:
        at = utcnow()
        root = merkle.frontier_root([bytes.fromhex(h) for h in tree.frontier]).hex()
        db.add(
            AuditTreeHead(
                unit_id=tree.unit_id,
                tree_size=tree.size,
                root_hash=root,
                at=at,
                public_key=public,
                signature=treehead.sign_head(key, code, tree.size, root, _iso(at)),
            )
        )
    await db.flush()
    return len(rows)


async def pending(db: AsyncSession, now: datetime) -> tuple[int, float]:
    """Entries not yet sequenced, and the age in seconds of the oldest (sequencer lag)."""
    count, oldest = (
        await db.execute(
            select(func.count(), func.min(AuditEvent.at)).where(AuditEvent.seq.is_(None))
        )
    ).one()
    return count, max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0


async def sequence_all(sessions: Any, master: bytes) -> SequencerRun:
    """Sequence until nothing is pending, one committed batch at a time (worker, tests)."""
    total, heads = 0, 0
    while True:
        async with sessions() as db:
            run = await sequence(db, master)
            await db.commit()
        total, heads = total + run.sequenced, heads + run.heads
        if run.sequenced < BATCH:
            return SequencerRun(total, heads)


# --------------------------------------------------------------------------- heads and proofs


def head_json(head: AuditTreeHead, unit_code: str) -> dict[str, Any]:
    return {
        "unit": unit_code,
        "tree_size": head.tree_size,
        "root_hash": head.root_hash,
        "at": _iso(head.at),
        "public_key": head.public_key,
        "signature": head.signature,
    }


async def stored_nodes(
    db: AsyncSession, unit: Unit, wanted: set[merkle.Node]
) -> dict[merkle.Node, bytes]:
    """The hashes of these subtrees of the unit's tree, in one query: leaves (level 0) from
    the entries, the rest from `AuditNode`."""
    leaves = sorted(idx for level, idx in wanted if level == 0)
    inner = sorted((level, idx) for level, idx in wanted if level > 0)
    parts: list[Select[int, int | None, str]] = []
    if leaves:
        parts.append(
            select(literal(0), AuditEvent.seq, AuditEvent.leaf_hash).where(
                AuditEvent.unit_id == unit.id, AuditEvent.seq.in_(leaves)
            )
        )
    if inner:
        parts.append(
            select(AuditNode.level, AuditNode.idx, AuditNode.hash).where(
                AuditNode.unit_id == unit.id,
                or_(*(and_(AuditNode.level == lv, AuditNode.idx == ix) for lv, ix in inner)),
            )
        )
    rows = await db.execute(parts[0] if len(parts) == 1 else union_all(*parts))
    return {(level, idx or 0): bytes.fromhex(h) for level, idx, h in rows}


async def _proof(db: AsyncSession, unit: Unit, ranges: list[tuple[int, int]]) -> list[str]:
    nodes = await stored_nodes(db, unit, merkle.nodes_needed(ranges)) if ranges else {}
    try:
        return [p.hex() for p in merkle.proof_from_nodes(ranges, nodes)]
    except KeyError as exc:  # only when the stored tree was tampered with; verify names it
        raise RuntimeError(f"audit log of {unit.code}: subtree {exc} missing") from exc


async def latest_head(db: AsyncSession, unit: Unit) -> AuditTreeHead | None:
    return await db.scalar(
        select(AuditTreeHead)
        .where(AuditTreeHead.unit_id == unit.id)
        .order_by(AuditTreeHead.tree_size.desc(), AuditTreeHead.id.desc())
        .limit(1)
    )


async def head_of_size(db: AsyncSession, unit: Unit, size: int) -> AuditTreeHead | None:
    return await db.scalar(
        select(AuditTreeHead)
        .where(AuditTreeHead.unit_id == unit.id, AuditTreeHead.tree_size == size)
        .order_by(AuditTreeHead.id)
        .limit(1)
    )


async def entry_of(
    db: AsyncSession, unit_id: int, action: str, object_type: str, object_id: str
) -> AuditEvent | None:
    """The first entry of `action` on an object (e.g. a report's submission)."""
    return await db.scalar(
        select(AuditEvent)
        .where(
            AuditEvent.unit_id == unit_id,
            AuditEvent.action == action,
            AuditEvent.object_type == object_type,
            AuditEvent.object_id == object_id,
        )
        .order_by(AuditEvent.id)
        .limit(1)
    )


async def inclusion(db: AsyncSession, unit: Unit, event: AuditEvent) -> dict[str, Any]:
    """The entry, its leaf and its audit path to the latest signed tree head; `pending`
    while the sequencer has not placed it under a signed head yet."""
    head = await latest_head(db, unit)
    doc: dict[str, Any] = {
        "format": "wbs-audit-inclusion/v1",
        "entry": canonical(event, unit.code).decode(),
        "leaf_hash": event.leaf_hash,
    }
    if event.seq is None or head is None or head.tree_size <= event.seq:
        return doc | {"pending": True}
    return doc | {
        "pending": False,
        "leaf_index": event.seq,
        "tree_head": head_json(head, unit.code),
        "proof": await _proof(db, unit, merkle.inclusion_ranges(event.seq, head.tree_size)),
    }


async def consistency(db: AsyncSession, unit: Unit, first: int, second: int) -> dict[str, Any]:
    """Two signed heads (by tree size) and the RFC 9162 consistency proof between them."""
    old, new = await head_of_size(db, unit, first), await head_of_size(db, unit, second)
    if old is None or new is None or first > second:
        raise LookupError("no signed tree heads of those sizes (in that order)")
    return {
        "format": "wbs-audit-consistency/v1",
        "first": head_json(old, unit.code),
        "second": head_json(new, unit.code),
        "proof": await _proof(db, unit, merkle.consistency_ranges(first, second)),
    }


# --------------------------------------------------------------------------- verify


@dataclass(frozen=True)
class ChainReport:
    unit_code: str
    checked: int
    problem: str | None = None
    bad_seq: int | None = None
    bad_id: int | None = None
    bad_head: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def where(self) -> str:
        if self.bad_head is not None:
            return self.bad_head
        return f"entry seq={self.bad_seq} id={self.bad_id}"


def _head_name(head: AuditTreeHead) -> str:
    return f"tree head size={head.tree_size} id={head.id}"


def _check_heads(
    code: str, leaves: Sequence[bytes], heads: Sequence[AuditTreeHead], key: str | None
) -> ChainReport | None:
    """Signatures, roots against the entries, forks and consistency between heads."""
    checked = len(leaves)
    edge: list[bytes] = []
    grown = 0
    previous: AuditTreeHead | None = None
    for head in heads:
        name = _head_name(head)
        try:
            treehead.verify_head(head_json(head, code), key)
        except merkle.ProofError as exc:
            return ChainReport(code, checked, str(exc), bad_head=name)
        if previous is not None and previous.tree_size == head.tree_size:
            if previous.root_hash != head.root_hash:
                return ChainReport(
                    code, checked, "forked tree heads (same size, other root)", bad_head=name
                )
            continue
        if head.tree_size > len(leaves):
            return ChainReport(
                code, checked, "tree head beyond the log (entries truncated?)", bad_head=name
            )
        if previous is not None and head.at < previous.at:
            return ChainReport(code, checked, "tree heads out of time order", bad_head=name)
        edge = merkle.extend(edge, grown, leaves[grown : head.tree_size])
        grown = head.tree_size
        if merkle.frontier_root(edge).hex() != head.root_hash:
            problem = (
                f"tree head inconsistent with earlier head size={previous.tree_size}"
                if previous is not None
                else "tree head does not match the entries"
            )
            return ChainReport(code, checked, problem, bad_head=name)
        previous = head
    return None


async def verify_unit(db: AsyncSession, unit: Unit, master: bytes | None = None) -> ChainReport:
    """Every entry's leaf hash and place, the tree state, every signed head and the
    consistency of successive heads; the first problem names its entry or head."""
    code = unit.code
    events = (
        await db.scalars(
            select(AuditEvent)
            .where(AuditEvent.unit_id == unit.id)
            .order_by(AuditEvent.seq.is_(None), AuditEvent.seq, AuditEvent.id)
        )
    ).all()
    leaves: list[bytes] = []
    for event in events:
        leaf = leaf_of(event, code)
        if event.seq is not None and event.seq != len(leaves):
            problem = "sequence gap (entry deleted?)" if event.seq > len(leaves) else "duplicate"
            return ChainReport(code, len(leaves), problem, event.seq, event.id)
        if leaf != event.leaf_hash:
            return ChainReport(code, len(leaves), "content altered", event.seq, event.id)
        if event.seq is not None:
            leaves.append(bytes.fromhex(leaf))
    checked = len(events)
    heads = (
        await db.scalars(
            select(AuditTreeHead)
            .where(AuditTreeHead.unit_id == unit.id)
            .order_by(AuditTreeHead.tree_size, AuditTreeHead.id)
        )
    ).all()
    key = public_key_hex(master) if master is not None else None
    bad = _check_heads(code, leaves, heads, key)
    if bad is not None:
        return bad
    tree = await db.scalar(select(AuditTree).where(AuditTree.unit_id == unit.id))
    if tree is not None and tree.size != len(leaves):
        return ChainReport(
            code,
            checked,
            "log end does not match the tree (entries deleted?)",
            tree.size - 1,
            None,
        )
    if tree is not None and merkle.frontier_root(
        [bytes.fromhex(h) for h in tree.frontier]
    ) != merkle.root(leaves):
        return ChainReport(
            code,
            checked,
            "tree state does not match the entries",
            bad_head=f"tree state size={tree.size}",
        )
    return await _check_nodes(db, unit, leaves, checked) or ChainReport(code, checked)


async def _check_nodes(
    db: AsyncSession, unit: Unit, leaves: Sequence[bytes], checked: int
) -> ChainReport | None:
    """Every stored subtree hash against the one the entries give; proofs are built from
    them, so a changed, missing or extra node is named."""
    _edge, done = merkle.extend_nodes([], 0, leaves)
    expected = {(level, idx): h.hex() for level, idx, h in done}
    rows = await db.execute(
        select(AuditNode.level, AuditNode.idx, AuditNode.hash)
        .where(AuditNode.unit_id == unit.id)
        .order_by(AuditNode.level, AuditNode.idx)
    )
    stored = {(level, idx): h for level, idx, h in rows}
    for node in sorted(expected.keys() | stored.keys()):
        want, have = expected.get(node), stored.get(node)
        if want == have:
            continue
        problem = (
            "stored subtree missing"
            if have is None
            else "stored subtree beyond the log"
            if want is None
            else "stored subtree does not match the entries"
        )
        return ChainReport(
            unit.code, checked, problem, bad_head=f"subtree level={node[0]} index={node[1]}"
        )
    return None


# --------------------------------------------------------------------------- export


async def export_chain(db: AsyncSession, unit: Unit) -> dict[str, Any]:
    """A unit's log, signed tree heads and consistency proofs between successive heads,
    as JSON an auditor can check offline (format wbs-audit-export/v2)."""
    events = (
        await db.scalars(
            select(AuditEvent)
            .where(AuditEvent.unit_id == unit.id)
            .order_by(AuditEvent.seq.is_(None), AuditEvent.seq, AuditEvent.id)
        )
    ).all()
    heads = (
        await db.scalars(
            select(AuditTreeHead)
            .where(AuditTreeHead.unit_id == unit.id)
            .order_by(AuditTreeHead.tree_size, AuditTreeHead.id)
        )
    ).all()
    leaves = [bytes.fromhex(e.leaf_hash) for e in events if e.seq is not None]
    proofs = [
        {
            "from": a.tree_size,
            "to": b.tree_size,
            "proof": [
                p.hex() for p in merkle.consistency_proof(a.tree_size, leaves[: b.tree_size])
            ],
        }
        for a, b in pairwise(heads)
        if a.tree_size < b.tree_size <= len(leaves)
    ]
    return {
        "format": "wbs-audit-export/v2",
        "unit": unit.code,
        "hash": "RFC 9162: leaf = sha256(0x00 || entry), node = sha256(0x01 || left || right);"
        " entry = canonical JSON (sorted keys, no spaces, UTF-8)",
        "entries": [
            {"seq": e.seq, "entry": canonical(e, unit.code).decode(), "leaf_hash": e.leaf_hash}
            for e in events
        ],
        "tree_heads": [
            head_json(h, unit.code)
            | {
                "message": treehead.head_message(
                    unit.code, h.tree_size, h.root_hash, _iso(h.at)
                ).decode()
            }
            for h in heads
        ],
        "consistency": proofs,
    }
