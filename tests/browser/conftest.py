"""Chromium/Playwright harness for browser tests: the fixtures live in ``fixtures.py``.

They are registered as a global plugin (not as this conftest's own fixtures) so that a
test module elsewhere can use them through ``pytest_plugins = ["tests.browser.fixtures"]``
without pytest loading them twice. See ``fixtures.py`` for the list.
"""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.import_plugin("tests.browser.fixtures")
