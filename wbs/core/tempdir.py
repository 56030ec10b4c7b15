"""Keep the process's temporary files under the data directory.

Libraries spool large request bodies to the temporary directory (Starlette's multipart
parser, for example). `wbs serve` points it at `WBS_DATA_DIR/tmp` (mode 0700) so nothing
the service handles lands in a shared /tmp; reporter uploads are never spooled at all
(the reporting forms parse into memory).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def use_private_tempdir(data_dir: Path) -> Path:
    """Create `data_dir/tmp` (0700), make it this process's and its children's temp dir."""
    tmp = (data_dir / "tmp").resolve()
    tmp.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp.chmod(0o700)
    os.environ["TMPDIR"] = str(tmp)
    tempfile.tempdir = None  # recomputed from TMPDIR on next use
    return tmp
