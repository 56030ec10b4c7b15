"""Service settings, read from WBS_* environment variables."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from crypto.staffkeys import weak_kdf_allowed

PLACEHOLDER_SECRETS = frozenset(
    {"", "change-me", "changeme", "secret", "development", "placeholder"}
)
SECRET_FILE_NAME = "secret_key"  # noqa: S105 - a file name, not a secret


class SettingsError(RuntimeError):
    """The configuration cannot be used; the message says what to change."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WBS_", extra="ignore")

    env: Literal["development", "production"] = "development"
    data_dir: Path = Path("./var")
    database_url: str | None = None
    secret_key: SecretStr | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    base_url: str | None = None
    # PostgreSQL connections per process (pool + overflow) and how long a request may wait
    # for one before it is answered 503 (server busy) rather than queued further.
    db_pool_size: int = Field(default=5, ge=1)
    db_max_overflow: int = Field(default=10, ge=0)
    db_pool_timeout: float = Field(default=30.0, gt=0)
    # Test each connection with a round trip before every use (off: a connection the server
    # dropped fails one request, and the pool is then refreshed; recycled every 30 minutes).
    db_pool_pre_ping: bool = False

    # Argon2id for staff login secrets (RFC 9106 second recommended option by default).
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=65536, ge=8)
    argon2_parallelism: int = Field(default=4, ge=1)
    # Worker threads that may hash or verify login secrets at the same time (per process).
    argon2_workers: int = Field(default=2, ge=1, le=64)

    login_max_failures: int = Field(default=5, ge=1)
    login_window_seconds: int = Field(default=900, ge=1)
    # Sign-in attempts per minute for all e-mails together (shared by every process).
    login_global_per_minute: int = Field(default=60, ge=1)
    session_idle_seconds: int = Field(default=1800, ge=60)
    session_max_seconds: int = Field(default=12 * 3600, ge=60)

    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    mail_from: str = "wbs@localhost"

    # Deadlines are counted in local days; the worker runs in-process unless told otherwise.
    timezone: str = "Asia/Jakarta"
    # The case workflows (one YAML per case type); default: the repository's workflows/.
    workflows_dir: Path | None = None
    worker_in_process: bool | None = None
    worker_interval_seconds: float = Field(default=30.0, gt=0)
    # Public indicators show a cell of fewer than this many cases as "<k" (WBS_INDICATORS_K).
    indicators_k: int = Field(default=5, ge=2, le=100)

    # Operations: /metrics answers a bearer token when set, else loopback without a proxy.
    metrics_token: SecretStr | None = None
    ready_timeout_seconds: float = Field(default=2.0, gt=0, le=30)
    log_format: Literal["text", "json"] = "text"
    # Where pg_dump and pg_restore are (`wbs backup`); default: PATH, then the newest
    # /usr/lib/postgresql/*/bin.
    pg_bin_dir: Path | None = None

    # Blob storage (attachments, evidence, exports): directories under data_dir unless
    # WBS_BLOB_URL=s3://bucket/prefix names S3-compatible object storage.
    blob_url: str | None = None
    s3_endpoint_url: str | None = None  # e.g. https://minio.internal:9000; None: AWS
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None  # None (both): boto3's own chain (role, profile)
    s3_secret_access_key: SecretStr | None = None
    s3_addressing_style: Literal["path", "virtual", "auto"] = "path"
    s3_part_mib: int = Field(default=8, ge=5, le=512)  # multipart upload part size
    # `wbs blobs gc` leaves unreferenced blobs younger than this (requests in flight).
    blob_gc_grace_seconds: int = Field(default=86400, ge=60)

    # Retention of closed cases, in years after closing (a channel may set its own): the
    # content goes then, leaving a tombstone; the identity may go earlier (None: with the
    # content). wbs.retention; docs/operations.md says where the numbers come from.
    retention_years: int = Field(default=10, ge=1, le=100)
    identity_retention_years: int | None = Field(default=None, ge=1, le=100)
    # Cases handled per worker round (each round is one transaction).
    retention_batch: int = Field(default=100, ge=1, le=10000)

    @property
    def pool_options(self) -> dict[str, Any]:
        """Connection pool options for `make_engine` (none for SQLite, which has no pool)."""
        if self.resolved_database_url.startswith("sqlite"):
            return {}
        return {
            "pool_size": self.db_pool_size,
            "max_overflow": self.db_max_overflow,
            "pool_timeout": self.db_pool_timeout,
            "pool_pre_ping": self.db_pool_pre_ping,
            "pool_recycle": 1800,
        }

    @model_validator(mode="after")
    def _blob_url_is_s3(self) -> Settings:
        if self.blob_url is None:
            return self
        parts = urlsplit(self.blob_url)
        if parts.scheme != "s3" or not parts.netloc or parts.query or parts.fragment:
            raise SettingsError(
                "WBS_BLOB_URL harus berbentuk s3://bucket/prefix / "
                "WBS_BLOB_URL must look like s3://bucket/prefix"
            )
        if (self.s3_access_key_id is None) != (self.s3_secret_access_key is None):
            raise SettingsError(
                "WBS_S3_ACCESS_KEY_ID dan WBS_S3_SECRET_ACCESS_KEY diisi keduanya atau tidak sama "
                "sekali / set both WBS_S3_ACCESS_KEY_ID and WBS_S3_SECRET_ACCESS_KEY, or neither"
            )
        secret = self.s3_secret_access_key
        if self.env != "development" and secret is not None:
            raw = secret.get_secret_value()
            if raw.strip().lower() in PLACEHOLDER_SECRETS or len(raw) < 16:
                raise SettingsError(
                    "WBS_S3_SECRET_ACCESS_KEY bukan rahasia sungguhan (minimal 16 karakter) / "
                    "WBS_S3_SECRET_ACCESS_KEY is a placeholder (at least 16 characters)"
                )
        return self

    @model_validator(mode="after")
    def _production_needs_real_secret(self) -> Settings:
        if self.env == "production":
            raw = self.secret_key.get_secret_value() if self.secret_key else ""
            if raw.strip().lower() in PLACEHOLDER_SECRETS or len(raw) < 32:
                raise SettingsError(
                    "WBS_SECRET_KEY harus diisi kunci acak minimal 32 karakter di produksi / "
                    "WBS_SECRET_KEY must be a random key of at least 32 characters in production"
                )
            if weak_kdf_allowed():
                raise SettingsError(
                    "WBS_CRYPTO_ALLOW_WEAK_KDF hanya untuk pengujian, bukan produksi / "
                    "WBS_CRYPTO_ALLOW_WEAK_KDF is for test suites, never production"
                )
        return self

    def prepare_data_dir(self) -> Path:
        """The data directory, ready to write into, or SettingsError naming the problem.

        Development creates a missing one; production refuses to start without it (a
        removed or unmounted data directory is an operator's problem to see, not one to
        paper over with an empty directory, a new secret and a new empty database).
        """
        path = self.data_dir.resolve()
        if not path.exists():
            if self.is_production:
                raise SettingsError(
                    f"direktori data {path} (WBS_DATA_DIR) tidak ada; buat atau pasang dulu / "
                    f"the data directory {path} (WBS_DATA_DIR) does not exist; create or "
                    "mount it first"
                )
            try:
                path.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise SettingsError(
                    f"direktori data {path} (WBS_DATA_DIR) tidak dapat dibuat / the data "
                    f"directory {path} (WBS_DATA_DIR) cannot be created: {exc.strerror}"
                ) from None
        if not path.is_dir():
            raise SettingsError(
                f"WBS_DATA_DIR {path} bukan direktori / WBS_DATA_DIR {path} is not a directory"
            )
        if not os.access(path, os.W_OK | os.X_OK):
            raise SettingsError(
                f"direktori data {path} (WBS_DATA_DIR) tidak dapat ditulisi / the data "
                f"directory {path} (WBS_DATA_DIR) is not writable"
            )
        return path

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def public_origin(self) -> str | None:
        """scheme://host[:port] of WBS_BASE_URL, the origin browsers send behind a proxy."""
        if not self.base_url:
            return None
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'wbs.sqlite3').resolve()}"

    def secret_bytes(self) -> bytes:
        """The master secret; in development it is generated once into the data directory."""
        if self.secret_key is not None and self.secret_key.get_secret_value():
            return self.secret_key.get_secret_value().encode()
        if self.is_production:  # pragma: no cover - the validator refuses this first
            raise SettingsError("WBS_SECRET_KEY missing")
        path = self.data_dir / SECRET_FILE_NAME
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(secrets.token_urlsafe(48))
        return path.read_text().strip().encode()


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment (and explicit overrides, for tests)."""
    return Settings(**overrides)  # type: ignore[arg-type]
