"""`wbs indicators rebuild` on a migrated SQLite database: the time zone it builds the
months in is stored; an unknown zone is refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.foundation.test_cli import wbs


def test_rebuild_stores_the_time_zone(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    assert wbs(data_dir, "db", "upgrade").returncode == 0
    assert wbs(data_dir, "unit", "create", "KPPN-UJI", "--name", "KPPN Uji").returncode == 0
    done = wbs(data_dir, "indicators", "rebuild", "--timezone", "Asia/Makassar")
    assert done.returncode == 0, done.stderr
    assert "0 cases recomputed (Asia/Makassar)" in done.stdout
    databases = list(data_dir.glob("*.db")) + list(data_dir.glob("*.sqlite*"))
    with sqlite3.connect(databases[0]) as conn:
        found = conn.execute("SELECT value FROM indicator_meta WHERE name = 'tz'").fetchall()
    assert found == [("Asia/Makassar",)]
    refused = wbs(data_dir, "indicators", "rebuild", "--timezone", "Mars/Olympus")
    assert refused.returncode != 0
