"""Every file store of a deployment, by name: what readiness checks and backups cover."""

from __future__ import annotations

from wbs.core.blobs import STORE_NAMES, BlobStore, open_stores
from wbs.core.settings import Settings

# Report attachments and message files (wbs/reporting/context.py), ZI evidence
# (wbs/zi/evidence.py) and signed indicator exports (wbs/exports/service.py);
# tests/ops check that the app's stores are exactly these.
__all__ = ["STORE_NAMES", "file_stores"]


def file_stores(settings: Settings) -> dict[str, BlobStore]:
    return open_stores(settings)
