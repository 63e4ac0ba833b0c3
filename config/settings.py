"""Runtime settings, read from the environment and an optional `.env` file."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from domain.sales_book import DEFAULT_SALES_BOOK_PATH

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TELEGRAM_API_URL = "https://api.telegram.org"
SUPPORTED_LOCALES = ("ru", "en")
SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
"""What setWebhook accepts as secret_token."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: SecretStr | None = None
    database_url: str = f"sqlite+aiosqlite:///{PROJECT_ROOT / 'data' / 'salesbot.sqlite3'}"
    telegram_api_url: str = TELEGRAM_API_URL
    sales_book: Path = DEFAULT_SALES_BOOK_PATH
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    timezone: str = "Europe/Moscow"
    default_locale: str = "ru"
    invite_ttl_hours: int = Field(default=72, gt=0)
    max_requests_per_day: int = Field(default=3, gt=0)
    """New requests one lead may file in 24 hours (messages to an open deal are not limited)."""
    throttle_rate: float = Field(default=2.0, gt=0)
    """Updates per second one person may send, sustained..."""
    throttle_burst: int = Field(default=8, ge=1)
    """...after a burst of this many."""
    log_level: str = "INFO"
    reminder_tick_seconds: float = Field(default=15, ge=0)
    """How often due reminders are looked for; 0 turns the sweeper off (tests drive it)."""
    redis_url: str | None = None
    """Conversation state in Redis instead of the database, for several instances behind
    webhooks; unset, one instance keeps it in the database."""
    redis_prefix: str = "salesbot"
    """Key prefix in Redis, so several bots can share one Redis."""
    shutdown_grace_seconds: float = Field(default=10, ge=0)
    """On SIGTERM: how long the updates in hand and the messages being sent get to finish."""
    backup_dir: Path = PROJECT_ROOT / "data" / "backups"
    """Where the daily backups of a SQLite database go (and `python -m services.backup`
    looks)."""
    backup_keep: int = Field(default=14, ge=1)
    """How many backups are kept; older ones are deleted after each new one."""
    webhook_url: str | None = None
    """The public HTTPS base URL Telegram pushes updates to (behind the balancer); unset, the
    bot polls."""
    webhook_secret: SecretStr | None = None
    """Required with WEBHOOK_URL: Telegram sends it with every update, anything else gets 401."""
    web_host: str = "127.0.0.1"
    web_port: int | None = Field(default=None, ge=0, le=65535)
    """Where the web server (webhook, /healthz, /metrics) listens; in polling mode it starts
    only when WEB_PORT is set."""
    web_app_url: str | None = None
    """The public HTTPS URL of the Mini App board (the reverse proxy forwards it to /app/)."""
    web_app_max_age_seconds: int = Field(default=86400, gt=0)
    """How long a Mini App's initData stays good after Telegram signed it (its auth_date)."""
    workers: int = Field(default=1, ge=1, le=16)
    """Processes that handle the updates in long polling: above 1, the started process only
    polls and hands each person's updates to one of this many workers (bot/fanout/), so an ad
    burst uses every core; 1 handles them in the polling process itself."""

    @model_validator(mode="after")
    def _webhook_needs_a_secret(self) -> Self:
        if self.webhook_url:
            if not self.webhook_url.startswith("https://"):
                raise ValueError("WEBHOOK_URL must start with https:// (Telegram refuses others)")
            secret = self.webhook_secret.get_secret_value() if self.webhook_secret else ""
            if not SECRET_TOKEN.fullmatch(secret):
                raise ValueError(
                    "WEBHOOK_SECRET is required with WEBHOOK_URL: 1-256 characters of A-Z, a-z,"
                    " 0-9, _ and -"
                )
        return self

    @model_validator(mode="after")
    def _workers_poll(self) -> Self:
        if self.workers > 1 and self.webhook_url:
            raise ValueError(
                "WORKERS is for long polling: behind a webhook, run several instances instead"
            )
        return self

    @model_validator(mode="after")
    def _web_app_is_served(self) -> Self:
        if self.web_app_url:
            if not self.web_app_url.startswith("https://"):
                raise ValueError("WEB_APP_URL must start with https:// (Telegram opens no other)")
            if self.web_port is None and not self.webhook_url:
                # Polling without WEB_PORT starts no web server: the button would open nothing.
                raise ValueError("WEB_APP_URL needs WEB_PORT (or WEBHOOK_URL): the bot serves it")
        return self

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_admin_ids(cls, value: object) -> object:
        """Accept `ADMIN_IDS=1,2 3` as well as a JSON list."""
        if isinstance(value, str):
            return frozenset(int(part) for part in value.replace(",", " ").split())
        if isinstance(value, int):
            return frozenset({value})
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {value!r}") from error
        return value

    @field_validator("default_locale")
    @classmethod
    def _supported_locale(cls, value: str) -> str:
        if value not in SUPPORTED_LOCALES:
            raise ValueError(f"must be one of {', '.join(SUPPORTED_LOCALES)}")
        return value

    @field_validator("telegram_api_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")
