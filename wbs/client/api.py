"""HTTP side of the reference client: one httpx session per command, errors as ClientError."""

from __future__ import annotations

from typing import Any

import httpx

TIMEOUT = httpx.Timeout(120.0, connect=10.0)


class ClientError(Exception):
    """The server refused (its bilingual message) or could not be reached."""

    def __init__(self, message: str, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class Api:
    """A small wrapper over httpx.Client that turns error bodies into ClientError."""

    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url.rstrip("/"), timeout=TIMEOUT)
        self.csrf: str | None = None
        self.bearer: str | None = None

    def __enter__(self) -> Api:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.http.close()

    def _headers(self, unsafe: bool) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if unsafe and self.csrf:
            headers["X-CSRF-Token"] = self.csrf
        if self.bearer:
            headers["Authorization"] = f"Bearer {self.bearer}"
        return headers

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        unsafe = method not in ("GET", "HEAD")
        try:
            response = self.http.request(method, path, headers=self._headers(unsafe), **kwargs)
        except httpx.HTTPError as exc:
            raise ClientError(f"cannot reach the server: {type(exc).__name__}") from None
        if response.status_code >= 400:
            try:
                body = response.json()
                message = f"{body.get('message_id')} / {body.get('message_en')}"
                if body.get("details"):
                    message += f" {body['details']}"
                code = body.get("error")
            except ValueError:
                message, code = f"HTTP {response.status_code}", None
            raise ClientError(message, response.status_code, code)
        if response.status_code == 204 or not response.content:
            return None
        if response.headers.get("content-type", "").startswith("application/json"):
            return response.json()
        return response.content

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Any:
        return self.request("PUT", path, **kwargs)
