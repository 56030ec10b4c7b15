"""What the reporting services need from the app: settings, limits, secrets, blobs, buckets.

Built once per app in `create_app` (`app.state.reporting`); routes get it as `ReportingCtx`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from crypto.atrest import keyed_digest
from wbs.core.blobs import BlobStore, open_store
from wbs.core.settings import Settings
from wbs.core.text import Text
from wbs.directory.document import Recipient
from wbs.directory.models import SignedDirectory
from wbs.reporting.limits import ReportingLimits
from wbs.reporting.pow import Challenge, Clock, FormChallenges, PowIssuer, Spent, WorkTooEasy
from wbs.reporting.ratelimit import SharedBucket, adaptive_difficulty, load_of
from wbs.workflow.registry import Workflows
from wbs.workflow.registry import load_all as load_workflows

LOOKUP_LABEL = "receipt-lookup"
PROOF_KEY_LABEL = "proof-of-submission"


@dataclass(frozen=True)
class DirectorySnapshot:
    """One signed directory version, parsed once, with the accounts that enrolled its keys.

    Cached per process under (unit id, version, signature): a signed version never changes,
    and every submission reads the newest version and signature in its one unit query, so
    a directory signed on another app server is seen at once."""

    signed: SignedDirectory
    channels: dict[str, list[Recipient]]
    custodians: list[Recipient]
    staff_by_key: dict[str, int | None]


DirectoryKey = tuple[int, int, str]
MAX_CACHED_DIRECTORIES = 4096


@dataclass
class Reporting:
    settings: Settings
    limits: ReportingLimits
    master: bytes = field(repr=False)
    blobs: BlobStore
    pow: PowIssuer
    forms: FormChallenges
    submit_bucket: SharedBucket
    plain_bucket: SharedBucket
    # Charged only for receipts that do not exist: guesses cannot lock a real reporter out.
    login_bucket: SharedBucket
    # The case workflows (labels of the status a reporter sees); set by the app.
    workflows: Workflows | None = None
    directories: dict[DirectoryKey, DirectorySnapshot] = field(default_factory=dict)

    def cached_directory(self, key: DirectoryKey) -> DirectorySnapshot | None:
        return self.directories.get(key)

    def cache_directory(self, key: DirectoryKey, snapshot: DirectorySnapshot) -> None:
        if len(self.directories) >= MAX_CACHED_DIRECTORIES:
            self.directories.clear()
        self.directories[key] = snapshot

    def status_label(self, case_type: str, status: str) -> Text:
        """The reporter-visible status label, from the case type's workflow file."""
        workflows = self.workflows or load_workflows(self.settings.workflows_dir)
        self.workflows = workflows
        return workflows.of(case_type).statuses[status]

    @classmethod
    def build(
        cls,
        settings: Settings,
        master: bytes,
        limits: ReportingLimits | None = None,
        *,
        clock: Clock = time.time,
        workflows: Workflows | None = None,
    ) -> Reporting:
        limits = limits or ReportingLimits()
        pow_key = bytes.fromhex(keyed_digest(master, "pow", b"v1"))
        form_key = bytes.fromhex(keyed_digest(master, "form-challenge", b"v1"))
        return cls(
            settings=settings,
            limits=limits,
            master=master,
            blobs=open_store(settings, "blobs"),
            pow=PowIssuer(pow_key, limits.pow_difficulty, limits.pow_ttl_seconds, clock),
            forms=FormChallenges(
                form_key, limits.report_form_min_seconds, limits.report_form_max_seconds, clock
            ),
            submit_bucket=SharedBucket("submit", limits.submit_rate_per_minute, clock),
            plain_bucket=SharedBucket("submit-plain", limits.plain_submit_rate_per_minute, clock),
            login_bucket=SharedBucket("login-miss", limits.mailbox_login_rate_per_minute, clock),
            workflows=workflows,
        )

    def difficulty_at(self, load: float) -> int:
        """The proof-of-work bits a bucket load (0 to 1) asks for (`adaptive_difficulty`)."""
        limits = self.limits
        return adaptive_difficulty(
            load, limits.pow_difficulty, limits.pow_difficulty_rise, limits.pow_load_start
        )

    async def issue_pow(self, db: AsyncSession) -> Challenge:
        """A challenge at the difficulty the current load asks for."""
        return self.pow.issue(
            self.difficulty_at(await load_of(db, (self.submit_bucket, self.login_bucket)))
        )

    def check_current(self, spent: Spent, load: float) -> None:
        """Work solved for a challenge issued at a much lighter load (a stock of cheap
        challenges kept for a flood) is refused: one step of slack for honest reporters who
        solved while the load rose."""
        if spent.difficulty < self.difficulty_at(load) - 1:
            raise WorkTooEasy()

    def lookup_hash(self, lookup: bytes) -> str:
        """The only trace of a receipt the server keeps: a keyed hash of its lookup id."""
        return keyed_digest(self.master, LOOKUP_LABEL, lookup)


def of_app(app: Any) -> Reporting:
    """The app's reporting context (built in `create_app`)."""
    ctx: Reporting = app.state.reporting
    if ctx.workflows is None:
        ctx.workflows = getattr(app.state, "workflows", None)
    return ctx


async def reporting(request: Request) -> Reporting:
    """The request's app's reporting context (a dependency; async, so that FastAPI calls it
    in the event loop instead of handing it to a worker thread)."""
    return of_app(request.app)


def upload_body_limit(app: Any) -> int:
    """Body limit of the API routes that take files (see wbs.core.bodylimit)."""
    return of_app(app).limits.upload_body_bytes


def form_body_limit(app: Any) -> int:
    """Body limit of the no-JavaScript forms that take files."""
    return of_app(app).limits.form_body_bytes


def note_body_limit(app: Any) -> int:
    return of_app(app).limits.note_body_bytes


ReportingCtx = Annotated[Reporting, Depends(reporting)]
