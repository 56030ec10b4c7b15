"""Fixtures of the workflow walks through the API: the reporter endpoints with a light proof
of work, time frozen on chosen days, and offices of enrolled officers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import pytest_asyncio

from tests.workflow.helpers import FrozenTime, Office, open_office
from wbs.reporting.context import Reporting
from wbs.reporting.limits import ReportingLimits


@pytest.fixture
def reporting_ctx(app: Any, settings: Any) -> None:
    app.state.reporting = Reporting.build(
        settings, app.state.security.master, ReportingLimits(pow_difficulty=2)
    )


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> FrozenTime:
    return FrozenTime(monkeypatch)


@pytest_asyncio.fixture
async def office(
    app: Any, reporting_ctx: None, make_unit: Any, make_staff: Any, frozen: FrozenTime
) -> AsyncIterator[Callable[..., Awaitable[Office]]]:
    """Open an office: `await office(roles, channels)` (see `open_office`)."""
    opened: list[Office] = []

    async def factory(roles: dict[str, str], channels: dict[str, list[str]]) -> Office:
        made = await open_office(app, make_unit, make_staff, frozen, roles, channels)
        opened.append(made)
        return made

    yield factory
    for made in opened:
        await made.close()
