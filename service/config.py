"""Settings from the environment (prefix ``POLICYGAP_``), read once per process."""

from __future__ import annotations

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
    # Secure cookies and HSTS: always in production; elsewhere when this is true.
    cookie_secure: bool = False
    # HTTPS in production: either uvicorn terminates TLS (`policygap serve` passes these files
    # as --ssl-certfile/--ssl-keyfile), or a proxy in front does and this says so.
    tls_certfile: Path | None = None
    tls_keyfile: Path | None = None
    behind_tls_proxy: bool = False
    # The reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (addresses or
    # networks, comma-separated); empty: none, the client is the TCP peer.
    trusted_proxies: str = ""
    session_cookie_name: str = "policygap_session"
    session_max_age_seconds: int = 8 * 3600
    anonymous_session_max_age_seconds: int = 3600
    questionnaires_dir: Path = Path("questionnaires")
    max_body_bytes: int = 1_000_000
    # Evidence documents: the largest file accepted, and where blobs go (None: the database).
    max_upload_bytes: int = 20 * 1024 * 1024
    # the documents of one agency's drafts, counted once per document (a copy on another
    # question or draft counts again: it is what the agency asked to keep)
    agency_storage_quota_bytes: int = 2 * 1024 * 1024 * 1024
    documents_dir: Path | None = None
    # Sign-in abuse (issue 16): no hard lock of an account. From this many failures in the
    # window, the next attempt on the account waits 15, 30, 60... seconds after the last
    # failure, up to the maximum; one client address may fail this many times in the window.
    login_delay_after_failures: int = 5
    login_first_delay_seconds: int = 15
    login_max_delay_seconds: int = 300
    login_window_seconds: int = 900
    # Account security: per-address sign-in limit, idle and absolute session expiry.
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
    # Jobs (service/jobs): each app instance runs a worker in a thread unless this is off (then
    # run ``policygap worker``); failed jobs are tried up to ``job_max_attempts`` times; the
    # SQLite queue is polled every ``job_poll_seconds``; on PostgreSQL a worker silent for
    # ``job_stalled_seconds`` is taken for dead and its jobs are retried by a periodic task
    # (``job_recovery_cron``, seconds as an optional sixth field).
    embedded_worker: bool = True
    job_max_attempts: int = Field(default=3, ge=1)
    job_poll_seconds: float = Field(default=0.25, gt=0)
    job_stalled_seconds: float = Field(default=30.0, gt=0)
    job_recovery_cron: str = "* * * * *"
    # ``json``: one JSON object a line (request id, user id, route); ``text``: readable lines
    log_format: Literal["text", "json"] = "text"
    # The least severe records written: ``warning`` leaves out the line per request.
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # Signed reports: the name printed on them and in the certificate made at first use, or a
    # key and certificate of the deployment's own (PEM files; both or neither).
    instance_name: str = Field(default="PolicyGap instance", min_length=1, max_length=64)
    signing_key: Path | None = None
    signing_cert: Path | None = None
    # The public verify page: checks per client address per minute (in each process's memory).
    verify_per_minute: int = Field(default=10, ge=1)
    # Notices by e-mail (service/notices): the SMTP server, ``smtp://host:port`` (STARTTLS when
    # the server offers it), ``smtps://user:password@host:465`` (TLS from the start); none: the
    # notices stay in the app. ``mail_from`` is the sender; ``public_url`` the address the links
    # of a message start with. Reminders (due in 7 days, overdue) are looked for on
    # ``reminder_cron`` (seconds as an optional sixth field).
    smtp_url: str | None = None
    mail_from: str = "PolicyGap <policygap@localhost>"
    public_url: str = "http://localhost:8000"
    reminder_cron: str = "0 * * * *"

    @field_validator("database_url")
    @classmethod
    def _normalise_url(cls, value: str) -> str:
        return normalise_database_url(value)

    @property
    def secure_cookies(self) -> bool:
        """The session cookie is ``Secure`` (and HSTS is sent): in production, or when asked."""
        return self.cookie_secure or self.env == "production"

    @property
    def serves_tls(self) -> bool:
        return self.tls_certfile is not None and self.tls_keyfile is not None

    @model_validator(mode="after")
    def _require_https_in_production(self) -> Settings:
        if self.env != "production" or self.behind_tls_proxy:
            return self
        if not self.serves_tls:
            raise ValueError(
                "production needs HTTPS: set POLICYGAP_TLS_CERTFILE and POLICYGAP_TLS_KEYFILE, "
                "or POLICYGAP_BEHIND_TLS_PROXY=true when a proxy in front terminates TLS"
            )
        for path in (self.tls_certfile, self.tls_keyfile):
            if path is not None and not path.is_file():
                raise ValueError(f"POLICYGAP_TLS_CERTFILE/KEYFILE: {path} is not a file")
        return self

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Settings:
        if self.secret_key == PLACEHOLDER_SECRET and self.env == "production":
            raise ValueError("POLICYGAP_SECRET_KEY must be set in production")
        return self

    @property
    def placeholder_secret(self) -> bool:
        return self.secret_key == PLACEHOLDER_SECRET


# Printed once, by `policygap serve`, when the placeholder secret is in use outside tests.
PLACEHOLDER_WARNING = (
    "note: POLICYGAP_SECRET_KEY is the development placeholder, fine on your own machine only. "
    "Before any other use, set it to a long random value, for example:\n"
    "  export POLICYGAP_SECRET_KEY=\"$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')\""
)


@lru_cache
def get_settings() -> Settings:
    """The process's settings (cached; tests build their own ``Settings``)."""
    return Settings()
