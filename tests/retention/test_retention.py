"""Retention on the indicators data set: identities go first, then closed cases are purged to
tombstones; open cases stay; indicator figures of past periods do not change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select, update

from tests.conftest import make_settings
from tests.indicators.dataset import AS_OF, CANARY, Tree, build
from wbs.audit.models import AuditEvent
from wbs.cases.models import Note
from wbs.identity.models import Alasan, IdentityRequest
from wbs.identity.models import State as IdentityState
from wbs.indicators.service import compute_tree, parse_period
from wbs.reporting.models import (
    Attachment,
    IdentityWrap,
    IdentityWrapKind,
    Message,
    Report,
    ReportWrap,
    SenderRole,
)
from wbs.retention import repository, service
from wbs.units.models import CaseType, Channel, Unit

CLOSED = ("selesai", "ditolak")


@pytest.fixture
async def tree(db, make_unit, make_staff) -> Tree:
    t = await build(db, make_unit, make_staff)
    for report in t.reports.values():  # wraps, notes and files as real cases have
        db.add(
            ReportWrap(report_id=report.id, key_id="k" * 32, recipient=SenderRole.officer, wrap="w")
        )
        db.add(
            IdentityWrap(
                report_id=report.id, key_id="k" * 32, kind=IdentityWrapKind.original, wrap="i"
            )
        )
        db.add(
            Note(
                report_id=report.id,
                public_id=f"n-{report.id}",
                author_id=t.staff.id,
                author_key_id="k" * 32,
                box=f"{CANARY}-note",
            )
        )
        db.add(
            Attachment(
                report_id=report.id,
                public_id=f"a-{report.id}",
                metadata_box="m",
                size=1,
                blob=f"{report.id:064x}",
            )
        )
    await db.flush()
    return t


@dataclass(frozen=True)
class Case:
    """What a test needs of a report, read before the session expires it."""

    id: int
    case_number: str
    case_type: CaseType
    status: str
    status_changed_at: datetime
    identity: str | None

    def __init__(self, report: Report) -> None:
        for name in ("id", "case_number", "case_type", "identity", "status_changed_at"):
            object.__setattr__(self, name, getattr(report, name))
        object.__setattr__(self, "status", report.status.value)


def settings_of(tmp_path, **more: Any):
    return make_settings(tmp_path, "sqlite+aiosqlite://", **more)


async def figures(db, root_id: int) -> list[Any]:
    """The whole tree's figures for 2025 and 2026 (staff form), as of the data set's day."""
    root, out = await db.get_one(Unit, root_id), []
    for period in ("2025", "2026"):
        found = await compute_tree(db, root, parse_period(period), public=False, today=AS_OF)
        out.append(_timeless(found))
    return out


def _timeless(node: Any) -> Any:
    """Figures without their `generated_at` stamps (at every level of the tree)."""
    if isinstance(node, dict):
        return {k: _timeless(v) for k, v in node.items() if k != "generated_at"}
    if isinstance(node, list):
        return [_timeless(v) for v in node]
    return node


async def count(db, table, report_id: int) -> int:
    return await db.scalar(
        select(func.count()).select_from(table).where(table.report_id == report_id)
    )


async def test_purge_leaves_tombstones_and_the_same_indicators(db, tree, tmp_path):
    root_id = tree.p.id
    before = await figures(db, root_id)
    reports = [Case(r) for r in tree.reports.values()]
    closed = [r for r in reports if r.status in CLOSED]
    still_open = [r for r in reports if r.status not in CLOSED]
    assert closed and still_open

    settings = settings_of(tmp_path, retention_years=5)
    now = datetime(2040, 1, 1, tzinfo=UTC)
    preview = await service.preview(db, settings, now)
    assert sorted(preview.purged) == sorted(r.case_number for r in closed)
    assert preview.identities == []  # no separate identity period: it goes with the content

    done, blobs = await service.apply(db, settings, now)
    assert sorted(done.purged) == sorted(r.case_number for r in closed)
    assert blobs == {f"{r.id:064x}" for r in closed}
    db.expire_all()
    for r in closed:
        row = await db.get_one(Report, r.id)
        assert row.purged_at is not None and row.identity_destroyed_at is not None
        assert (row.content, row.identity, row.reporter_key) == ("", None, "")
        assert row.case_number == r.case_number and row.status.value in CLOSED
        for table in (ReportWrap, IdentityWrap, Note, Attachment):
            assert await count(db, table, r.id) == 0
        boxes = await db.scalars(select(Message.box).where(Message.report_id == r.id))
        assert set(boxes) <= {""}
    for r in still_open:
        row = await db.get_one(Report, r.id)
        assert row.purged_at is None and CANARY in row.content
        assert await count(db, ReportWrap, r.id) == 1 and await count(db, Attachment, r.id) == 1

    # The tombstones are audited: number, type, closed and deleted days; nothing else.
    events = list(await db.scalars(select(AuditEvent).where(AuditEvent.action == "case.purged")))
    assert sorted(e.object_id for e in events) == sorted(r.case_number for r in closed)
    assert all(set(e.details) == {"case_type", "closed_on", "deleted_on", "years"} for e in events)
    assert all(e.details["deleted_on"] == "2040-01-01" and e.details["years"] == 5 for e in events)

    # Indicators of past periods count the tombstones as before.
    assert await figures(db, root_id) == before
    # Nothing is due any more; a second round does nothing.
    again, more = await service.apply(db, settings, now)
    assert (again.purged, again.identities, more) == ([], [], set())


async def test_identity_goes_first_and_channels_override(db, tree, tmp_path):
    reports = [Case(r) for r in tree.reports.values()]
    closed = [r for r in reports if r.status in CLOSED]
    wbs_closed = [r for r in closed if r.case_type == CaseType.wbs]
    assert wbs_closed
    # The WBS channels keep content 20 years and identity 2; the deployment 30 and none.
    await db.execute(
        update(Channel)
        .where(Channel.case_type == CaseType.wbs)
        .values(retention_years=20, identity_retention_years=2)
    )
    asked = next(r for r in wbs_closed if r.identity is not None)
    request = IdentityRequest(
        public_id=f"req-{asked.id}",
        report_id=asked.id,
        unit_id=tree.p.id,
        requester_id=tree.staff.id,
        requester_key_id="k" * 32,
        reason=Alasan.perlindungan,
    )
    db.add(request)
    await db.flush()
    request_id = request.id
    settings = settings_of(tmp_path, retention_years=30)
    latest = max(r.status_changed_at for r in wbs_closed)
    now = latest.replace(year=latest.year + 2)
    done, blobs = await service.apply(db, settings, now)
    with_identity = [r for r in wbs_closed if r.identity is not None]
    assert sorted(done.identities) == sorted(r.case_number for r in with_identity)
    assert done.purged == [] and blobs == set()
    db.expire_all()
    for r in wbs_closed:
        row = await db.get_one(Report, r.id)
        assert row.identity is None and row.identity_destroyed_at is not None
        assert row.purged_at is None and CANARY in row.content  # content kept
        assert await count(db, IdentityWrap, r.id) == 0 and await count(db, ReportWrap, r.id) == 1
    answered = await db.get_one(IdentityRequest, request_id)
    assert answered.state == IdentityState.denied and answered.decided_at is not None
    other = [r for r in closed if r.case_type != CaseType.wbs]
    for r in other:
        assert (await db.get_one(Report, r.id)).identity_destroyed_at is None
    events = await db.scalars(
        select(AuditEvent.object_id).where(AuditEvent.action == "case.identity_destroyed")
    )
    assert sorted(events) == sorted(r.case_number for r in with_identity)
    # 20 years on, the WBS cases are purged, the others (30 years) not yet.
    later = latest.replace(year=latest.year + 20)
    done, _blobs = await service.apply(db, settings, later)
    assert sorted(done.purged) == sorted(r.case_number for r in wbs_closed)


async def test_a_case_reopened_meanwhile_is_not_purged(db, tree, tmp_path):
    settings = settings_of(tmp_path, retention_years=1)
    now = datetime(2040, 1, 1, tzinfo=UTC)
    by_years = await repository.channel_years(db, 1, None, identity=False)
    due = await repository.due(
        db,
        [(1, service.years_before(now, 1), ids) for ids in by_years.values()],
        identity=False,
        limit=100,
    )
    first = due[0]
    await db.execute(  # moved on after `due` read it (a reopening, another worker's purge)
        update(Report).where(Report.id == first.report_id).values(status="ditindaklanjuti")
    )
    assert await repository.purge(db, first, now) is None
    assert await repository.destroy_identity(db, first, now) is False
    row = await db.get_one(Report, first.report_id)
    await db.refresh(row)
    assert row.purged_at is None and CANARY in row.content
    second = due[1]
    assert await repository.purge(db, second, now) is not None
    assert await repository.purge(db, second, now) is None  # once
    assert settings.retention_years == 1


def test_years_before_handles_leap_days():
    leap = datetime(2028, 2, 29, 12, tzinfo=UTC)
    assert service.years_before(leap, 1) == datetime(2027, 2, 28, 12, tzinfo=UTC)
    assert service.years_before(leap, 4) == datetime(2024, 2, 29, 12, tzinfo=UTC)
