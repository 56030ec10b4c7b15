"""Parsing of staff forms with explicit limits."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from wbs.core.security import safe_next


@dataclass(frozen=True)
class LoginForm:
    email: str
    password: str
    code: str | None
    next: str


async def parse_login(request: Request) -> LoginForm:
    form = await request.form()

    def text(name: str, limit: int) -> str:
        value = form.get(name)
        return value[:limit] if isinstance(value, str) else ""

    code = text("code", 16).strip()
    return LoginForm(
        email=text("email", 254),
        password=text("password", 300),
        code=code or None,
        next=safe_next(text("next", 500)),
    )
