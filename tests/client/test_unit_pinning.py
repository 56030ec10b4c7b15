"""`wbs client` accepts a unit's directory only under the unit key the reporter trusts, against
a real `wbs serve`: the key whose fingerprint the reporter gives (from the unit's poster), or
else the key stored on first use; never an older directory version than one already seen.

The malicious operator is simulated with its real powers over the database: it drops the
unit's directory key and has a directory signed with a key of its own (so reports would be
wrapped to officers it chooses), or it deletes the newest signed directory so that an older
one is served again.
"""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from tests.client.server import Served
from wbs.core.db import make_engine

PASS = "kata-sandi-panjang-untuk-uji"
UNIT = "DEMO"

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("backend", ["sqlite"])]


def _json(result: Any) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


class Site:
    """A served unit with an admin and one officer, and the operator's database access."""

    def __init__(self, tmp_path: Path, database_url: str) -> None:
        self.served = Served(tmp_path, database_url)
        self.database_url = database_url
        self.report = tmp_path / "report.txt"
        self.report.write_text("Pengadaan fiktif di gudang 3.\n")

    def setup(self) -> dict[str, Any]:
        served = self.served
        assert served.wbs("unit", "create", UNIT, "--name", "Unit Demo").returncode == 0
        for email, role in (("admin@demo.go.id", "admin"), ("v1@demo.go.id", "verifikator")):
            made = served.wbs(
                "staff",
                "create",
                email,
                "--unit",
                UNIT,
                "--role",
                role,
                "--password-stdin",
                stdin=PASS + "\n",
            )
            assert made.returncode == 0, made.stderr
        served.start()
        _json(
            served.wbs(
                "client",
                "enroll",
                "--url",
                served.url,
                "--email",
                "v1@demo.go.id",
                "--password-stdin",
                stdin=PASS + "\n",
            )
        )
        return self.approve()

    def approve(self) -> dict[str, Any]:
        out: dict[str, Any] = _json(
            self.served.wbs(
                "client",
                "approve",
                "--url",
                self.served.url,
                "--email",
                "admin@demo.go.id",
                "--password-stdin",
                stdin=PASS + "\n",
            )
        )
        return out

    def submit(self, *extra: str) -> Any:
        return self.served.wbs(
            "client",
            "submit",
            "--url",
            self.served.url,
            "--unit",
            UNIT,
            "--channel",
            "wbs",
            "--text-file",
            str(self.report),
            *extra,
        )

    def unit(self) -> dict[str, Any]:
        out: dict[str, Any] = _json(
            self.served.wbs("client", "unit", "--url", self.served.url, "--unit", UNIT)
        )
        return out

    @property
    def state_file(self) -> Path:
        return self.served.config_dir / "wbs-client" / "known_units.json"

    async def sql(self, *statements: str) -> list[Any]:
        engine = make_engine(self.database_url)
        try:
            async with engine.begin() as conn:
                return [(await conn.execute(text(s))) for s in statements]
        finally:
            await engine.dispose()

    async def reports(self) -> int:
        engine = make_engine(self.database_url)
        try:
            async with engine.connect() as conn:
                return int((await conn.execute(text("SELECT count(*) FROM reports"))).scalar_one())
        finally:
            await engine.dispose()

    async def operator_swaps_the_unit_key(self) -> None:
        """Forget the unit key (and the admins' wraps of it): the next signature makes one."""
        await self.sql(
            "DELETE FROM directory_key_wraps"
            " WHERE unit_id = (SELECT id FROM units WHERE code = 'DEMO')",
            "DELETE FROM directory_keys WHERE unit_id = (SELECT id FROM units WHERE code = 'DEMO')",
        )


async def test_unit_prints_the_poster_fingerprint_and_submit_pins_it(
    tmp_path: Path, fresh_db_url: str, pg_cluster: Any
) -> None:
    site = Site(tmp_path, fresh_db_url)
    try:
        approved = site.setup()
        poster = httpx.get(f"{site.served.url}/lapor/{UNIT}/poster").text
        found = re.search(r'<code class="fingerprint">([^<]+)</code>', poster)
        assert found is not None
        poster_fp = found.group(1).strip()

        shown = site.unit()
        assert shown["fingerprint"] == poster_fp == approved["unit_key_fingerprint"]
        assert shown["unit"] == UNIT and shown["version"] == 1
        assert shown["known_fingerprint"] is None and shown["matches_known"] is None
        assert len(shown["channels"]["wbs"]) == 1  # the one approved officer

        # A fingerprint from another poster (or a forged one): refused, nothing sent or stored.
        other = "aaaa bbbb cccc dddd eeee ffff gggg hhhh"
        refused = site.submit("--fingerprint", other)
        assert refused.returncode != 0 and refused.stdout == ""
        assert "TIDAK dikirim" in refused.stderr and "NOT sent" in refused.stderr
        assert poster_fp in refused.stderr and other in refused.stderr
        assert await site.reports() == 0
        assert not site.state_file.exists()

        # Not a fingerprint at all: a usage error before any request.
        assert site.submit("--fingerprint", "abc").returncode == 2

        # The poster's fingerprint, typed without spaces in capitals: accepted and remembered.
        sent = _json(site.submit("--fingerprint", poster_fp.replace(" ", "").upper()))
        assert sent["unit_key_fingerprint"] == poster_fp and sent["unit_key_trust"] == "pinned"
        assert await site.reports() == 1
        assert stat.S_IMODE(site.state_file.stat().st_mode) == 0o600
        stored = json.loads(site.state_file.read_text())["units"]
        assert [(u["unit"], u["fingerprint"], u["version"]) for u in stored.values()] == [
            (UNIT, poster_fp, 1)
        ]
        again = site.unit()
        assert again["known_fingerprint"] == poster_fp and again["matches_known"] is True

        # The operator swaps the key: the pinned fingerprint refuses it, nothing is sent.
        await site.operator_swaps_the_unit_key()
        swapped = site.approve()["unit_key_fingerprint"]
        assert swapped != poster_fp
        assert site.unit()["matches_known"] is False
        refused = site.submit("--fingerprint", poster_fp)
        assert refused.returncode != 0 and swapped in refused.stderr
        assert await site.reports() == 1
    finally:
        site.served.stop()


async def test_first_use_stores_the_key_and_a_swapped_key_is_refused(
    tmp_path: Path, fresh_db_url: str, pg_cluster: Any
) -> None:
    site = Site(tmp_path, fresh_db_url)
    try:
        first_fp = site.setup()["unit_key_fingerprint"]
        first = site.submit()
        assert first.returncode == 0, first.stderr
        assert await site.reports() == 1

        # The operator signs a directory with a key of its own: the plain submit refuses it.
        await site.operator_swaps_the_unit_key()
        swapped_fp = site.approve()["unit_key_fingerprint"]
        assert swapped_fp != first_fp
        refused = site.submit()
        assert refused.returncode != 0, "the operator-swapped unit key was accepted"
        assert refused.stdout == ""
        for needle in (
            first_fp,
            swapped_fp,
            "BERUBAH",
            "CHANGED",
            "poster",
            f'--fingerprint "{swapped_fp}"',
            "NOT sent",
        ):
            assert needle in refused.stderr, needle
        assert await site.reports() == 1
        # The first run said which key it stored and to check it against the poster.
        assert first_fp in first.stderr and "poster" in first.stderr
        # The stored key is kept, not replaced by the refused one.
        stored = json.loads(site.state_file.read_text())["units"]
        assert [u["fingerprint"] for u in stored.values()] == [first_fp]

        # After checking the poster, the reporter re-pins the new key explicitly.
        repinned = _json(site.submit("--fingerprint", swapped_fp))
        assert repinned["unit_key_trust"] == "pinned"
        assert _json(site.submit())["unit_key_trust"] == "known"
        assert await site.reports() == 3
    finally:
        site.served.stop()


async def test_an_older_directory_version_is_refused(
    tmp_path: Path, fresh_db_url: str, pg_cluster: Any
) -> None:
    site = Site(tmp_path, fresh_db_url)
    try:
        site.setup()
        assert site.approve()["version"] == 2  # same key, a newer directory
        assert site.submit().returncode == 0
        assert await site.reports() == 1

        # The operator serves version 1 again (e.g. one that still lists a departed officer).
        await site.sql("DELETE FROM signed_directories WHERE version = 2")
        refused = site.submit()
        assert refused.returncode != 0, "an older directory version was accepted"
        assert "versi 1" in refused.stderr and "version 2" in refused.stderr
        assert "NOT sent" in refused.stderr
        assert await site.reports() == 1
    finally:
        site.served.stop()
