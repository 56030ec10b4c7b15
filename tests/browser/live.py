"""A live wbs server for page tests: a fresh migrated SQLite database in a temporary data
dir, served by uvicorn on 127.0.0.1 (the harness's ``serve``), plus helpers that record
every request body and fail on CSP violations."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import make_settings
from wbs.app import create_app
from wbs.core.db import make_engine, make_sessionmaker
from wbs.core.settings import Settings
from wbs.reporting.context import Reporting
from wbs.reporting.limits import ReportingLimits
from wbs.staff import service as staff_service
from wbs.staff.credentials import new_credentials
from wbs.staff.models import Role, Staff
from wbs.staff.passwords import Hasher
from wbs.units.service import create_unit

POW_DIFFICULTY = 8  # the real check with fewer hashes, so a test does not wait on it


@dataclass
class Live:
    url: str
    settings: Settings
    engine: AsyncEngine
    data_dir: Path
    database_file: Path

    async def stored_files(self) -> list[Path]:
        """Every file the server wrote: the SQLite database (WAL included) and the data dir."""
        await self.engine.dispose()
        found = [p for p in self.database_file.parent.glob(self.database_file.name + "*")]
        return found + [p for p in self.data_dir.rglob("*") if p.is_file()]

    async def leaked(self, *canaries: str) -> list[str]:
        """Canaries found in any stored file (database, blobs, logs)."""
        found = []
        for path in await self.stored_files():
            data = path.read_bytes()
            found += [f"{c} in {path.name}" for c in canaries if c.encode() in data]
        return found

    async def unit(self, code: str, name: str) -> None:
        async with make_sessionmaker(self.engine)() as db:
            await create_unit(db, code=code, name=name, actor="test")
            await db.commit()

    async def staff(
        self, unit: str, email: str, passphrase: str, *roles: str, fast_kdf: bool = False
    ) -> Staff:
        """A staff account (`fast_kdf`: the tests' cheap login derivation, for API clients)."""
        sec = staff_service.Security(
            settings=self.settings,
            hasher=Hasher(time_cost=1, memory_kib=8, parallelism=1),
            master=self.settings.secret_bytes(),
        )
        secret, kdf = new_credentials(passphrase, for_tests=fast_kdf)
        async with make_sessionmaker(self.engine)() as db:
            staff, _seed = await staff_service.create_staff(
                db,
                sec,
                email=email,
                name=email.split("@")[0].title(),
                unit_code=unit,
                roles=[Role(r) for r in roles],
                login_secret=secret,
                kdf_params=kdf,
                with_totp=False,
                actor="test",
            )
            await db.commit()
        return staff


async def start_live(tmp: Path, databases: Any, serve: Callable[[Any], str]) -> Live:
    url = await databases.new_database("sqlite")
    settings = make_settings(tmp / "var", url)
    app = create_app(settings)
    app.state.reporting = Reporting.build(
        settings, settings.secret_bytes(), ReportingLimits(pow_difficulty=POW_DIFFICULTY)
    )
    base = serve(app)
    database_file = Path(url.split("///", 1)[1])
    return Live(base, settings, make_engine(url), settings.data_dir, database_file)


@dataclass
class Watch:
    """Request bodies and CSP or script errors seen by the pages of one or more contexts."""

    bodies: list[bytes] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def attach(self, page: Any) -> Any:
        def on_request(request: Any) -> None:
            self.urls.append(f"{request.method} {request.url}")
            body = request.post_data_buffer
            if body:
                self.bodies.append(bytes(body))

        def on_console(msg: Any) -> None:
            text = msg.text
            if msg.type == "error" and not msg.location.get("url", "").endswith("favicon.ico"):
                # A 4xx the page expects (wrong receipt) is reported as a failed resource.
                if "Failed to load resource" in text and "favicon" in text:
                    return
                self.errors.append(f"console: {text}")
            elif "Content Security Policy" in text:
                self.errors.append(f"csp: {text}")

        page.on("request", on_request)
        page.on("console", on_console)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        return page

    def csp_violations(self) -> list[str]:
        return [e for e in self.errors if "Content Security Policy" in e]

    def leaked(self, *canaries: str) -> list[str]:
        found = []
        for canary in canaries:
            needle = canary.encode()
            if any(needle in body for body in self.bodies):
                found.append(canary)
        return found


Step = Callable[[], Awaitable[None]]
