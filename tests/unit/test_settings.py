from __future__ import annotations

import pytest
from pydantic import ValidationError

from config.settings import Settings


def test_admin_ids_accept_commas_and_spaces(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_IDS", "111, 222 333")
    assert Settings(_env_file=None).admin_ids == {111, 222, 333}


def test_defaults_need_nothing_but_python(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BOT_TOKEN", "DATABASE_URL", "TELEGRAM_API_URL", "ADMIN_IDS", "SALES_BOOK"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)
    assert settings.bot_token is None
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    assert settings.telegram_api_url == "https://api.telegram.org"
    assert settings.sales_book.exists()


def test_the_token_is_secret_in_reprs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_TOKEN", "123456:SECRET-token")
    settings = Settings(_env_file=None)
    assert "SECRET" not in repr(settings) and "SECRET" not in str(settings.model_dump())


@pytest.mark.parametrize(
    ("name", "value"), [("TIMEZONE", "Mars/Olympus"), ("DEFAULT_LOCALE", "de")]
)
def test_wrong_values_are_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings(_env_file=None)


def test_the_board_needs_https_and_a_web_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEB_APP_URL", "https://bot.example.com/app/")
    with pytest.raises(ValidationError, match="WEB_PORT"):
        Settings(_env_file=None)
    monkeypatch.setenv("WEB_PORT", "8080")
    settings = Settings(_env_file=None)
    assert settings.web_app_url == "https://bot.example.com/app/"
    assert settings.web_app_max_age_seconds == 86400
    monkeypatch.setenv("WEB_APP_URL", "http://bot.example.com/app/")
    with pytest.raises(ValidationError, match="https"):
        Settings(_env_file=None)
