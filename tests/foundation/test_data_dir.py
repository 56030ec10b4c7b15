"""A missing or unusable data directory stops `wbs serve` and `create_app` (review #11).

Before: `wbs serve` recreated a removed data directory, with a new development secret and
an empty SQLite database, started, and answered every request with 500.
"""

from __future__ import annotations

import os
import shutil

import pytest

from tests.conftest import make_settings
from tests.foundation.test_cli import free_port, wbs
from wbs.app import create_app
from wbs.core.settings import SettingsError

PRODUCTION = {"WBS_ENV": "production", "WBS_SECRET_KEY": "p" * 48}


def test_production_app_refuses_a_missing_data_dir(tmp_path, db_url, monkeypatch):
    monkeypatch.delenv("WBS_CRYPTO_ALLOW_WEAK_KDF")
    missing = tmp_path / "gone"
    with pytest.raises(SettingsError) as refused:
        create_app(make_settings(missing, db_url, env="production", secret_key="p" * 48))
    assert str(missing.resolve()) in str(refused.value) and "does not exist" in str(refused.value)
    assert not missing.exists()  # not papered over with an empty one


async def test_development_app_creates_a_missing_data_dir(tmp_path, db_url):
    missing = tmp_path / "new" / "var"
    app = create_app(make_settings(missing, db_url))
    await app.state.engine.dispose()
    assert missing.is_dir()


def test_a_data_dir_that_is_a_file_or_read_only_is_refused(tmp_path, db_url):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(SettingsError, match="is not a directory"):
        make_settings(a_file, db_url).prepare_data_dir()
    if os.geteuid() == 0:
        pytest.skip("root may write anywhere: the read-only case cannot be shown")
    read_only = tmp_path / "ro"
    read_only.mkdir(mode=0o500)
    try:
        with pytest.raises(SettingsError, match="not writable") as refused:
            make_settings(read_only, db_url).prepare_data_dir()
        assert str(read_only.resolve()) in str(refused.value)
    finally:
        read_only.chmod(0o700)


def test_serve_refuses_a_removed_data_dir_in_production(tmp_path):
    data = tmp_path / "var"
    assert wbs(data, "db", "upgrade", env=PRODUCTION).returncode == 0
    shutil.rmtree(data)
    result = wbs(data, "serve", "--port", str(free_port()), env=PRODUCTION)
    assert result.returncode == 2
    assert str(data.resolve()) in result.stderr and "does not exist" in result.stderr
    assert "Traceback" not in result.stderr
    assert not data.exists()


def test_serve_refuses_an_empty_database_after_the_data_dir_was_removed(tmp_path):
    """Development recreates the directory, but the SQLite database went with it: serving
    would answer 500 to everything, so `wbs serve` says to run `wbs db upgrade` instead."""
    data = tmp_path / "var"
    assert wbs(data, "db", "upgrade").returncode == 0
    shutil.rmtree(data)
    result = wbs(data, "serve", "--port", str(free_port()))
    assert result.returncode == 2
    assert "wbs db upgrade" in result.stderr and "Traceback" not in result.stderr
    assert wbs(data, "db", "upgrade").returncode == 0  # and after that it is servable again
