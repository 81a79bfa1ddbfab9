"""Settings from the environment (prefix ``POLICYGAP_``), read once per process."""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRET = "changethis"  # noqa: S105 - the placeholder refused outside development


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever spelling the URL came in."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Settings(BaseSettings):
    """Everything an operator may set; defaults give a working single-instance SQLite setup."""

    model_config = SettingsConfigDict(
        env_prefix="POLICYGAP_", env_file=".env", env_ignore_empty=True, extra="ignore"
    )

    env: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite:///./var/policygap.sqlite3"
    secret_key: str = PLACEHOLDER_SECRET
    cookie_secure: bool = False
    session_cookie_name: str = "policygap_session"
    session_max_age_seconds: int = 8 * 3600
    anonymous_session_max_age_seconds: int = 3600
    questionnaires_dir: Path = Path("questionnaires")
    max_body_bytes: int = 1_000_000
    # Evidence documents: the largest file accepted, and where blobs go (None: the database).
    max_upload_bytes: int = 20 * 1024 * 1024
    documents_dir: Path | None = None
    login_max_failures: int = 5
    login_window_seconds: int = 900
    # Account security (issue 7): per-address sign-in limit, idle and absolute session expiry.
    login_max_failures_per_address: int = 20
    session_idle_seconds: int = 30 * 60
    session_absolute_seconds: int = 12 * 3600
    default_language: Literal["en", "fr"] = "en"
    # Reports: rendered once per submission in a separate process, cached in the database.
    report_prerender: bool = True
    report_paper: Literal["letter", "a4"] = "letter"
    # A security marking for the running header of every PDF page, e.g. "Protected A".
    report_marking: str | None = Field(default=None, max_length=60)
    report_timeout_seconds: float = 120.0
    report_memory_limit_mb: int = 1024
    # Signed reports: the name printed on them and in the certificate made at first use, or a
    # key and certificate of the deployment's own (PEM files; both or neither).
    instance_name: str = Field(default="PolicyGap instance", min_length=1, max_length=64)
    signing_key: Path | None = None
    signing_cert: Path | None = None
    # The public verify page: checks per client address per minute (in each process's memory).
    verify_per_minute: int = Field(default=10, ge=1)

    @field_validator("database_url")
    @classmethod
    def _normalise_url(cls, value: str) -> str:
        return normalise_database_url(value)

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Settings:
        if self.secret_key == PLACEHOLDER_SECRET:
            if self.env == "production":
                raise ValueError("POLICYGAP_SECRET_KEY must be set in production")
            if self.env == "development":
                logging.getLogger(__name__).warning(
                    "POLICYGAP_SECRET_KEY is the development placeholder"
                )
        return self


@lru_cache
def get_settings() -> Settings:
    """The process's settings (cached; tests build their own ``Settings``)."""
    return Settings()
