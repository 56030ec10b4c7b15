"""`wbs blobs gc`: remove stored blobs that no row references, once older than a grace.

A request removes the blobs it created when it fails (`discard`); this catches the rest
(a process killed between storing and committing, an export whose row update failed, a
deleted case's attachments) and abandoned temp files, temp objects and S3 uploads. The
grace (`WBS_BLOB_GC_GRACE_SECONDS`) keeps the blobs of requests still running.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from wbs.core.blobs import BlobStore
from wbs.exports.models import ExportJob
from wbs.reporting.models import Attachment
from wbs.zi.models import Evidence


async def referenced(db: AsyncSession) -> dict[str, set[str]]:
    """The blob names rows refer to, by store."""
    blobs = set(await db.scalars(select(Attachment.blob)))
    evidence = await db.scalars(select(Evidence.sha256).where(Evidence.sha256.is_not(None)))
    exports = await db.scalars(
        select(ExportJob.file_sha256).where(ExportJob.file_sha256.is_not(None))
    )
    return {
        "blobs": blobs,
        "evidence": {n for n in evidence if n},
        "exports": {n for n in exports if n},
    }


async def collect(
    db: AsyncSession, stores: Mapping[str, BlobStore], grace_seconds: float
) -> dict[str, list[str]]:
    """Remove the unreferenced blobs older than the grace; the removed names by store."""
    refs = await referenced(db)
    removed = {}
    for name, store in stores.items():
        removed[name] = await asyncio.to_thread(
            store.remove_orphans, refs.get(name, set()), older_than=grace_seconds
        )
    return removed
