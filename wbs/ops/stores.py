"""Every file store of a deployment, by name: what readiness checks and backups cover."""

from __future__ import annotations

from wbs.core.files import FileStore
from wbs.core.settings import Settings

# Report attachments and message files (wbs/reporting/context.py), ZI evidence
# (wbs/zi/evidence.py) and signed indicator exports (wbs/exports/service.py);
# tests/ops check that the app's stores are exactly these.
STORE_NAMES = ("blobs", "evidence", "exports")


def file_stores(settings: Settings) -> dict[str, FileStore]:
    return {name: FileStore(settings.data_dir / name) for name in STORE_NAMES}
