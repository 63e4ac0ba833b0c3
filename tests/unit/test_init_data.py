"""The Mini App's initData: a genuine one names its user; a missing, forged, tampered or aged
one is refused."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qsl, urlencode

import pytest

from bot.web_app.init_data import InitDataRefused, verified_user
from tests.init_data import signed_init_data

TOKEN = "123456789:AAHtest-token-never-in-logs-0123456"
NOW = dt.datetime(2026, 3, 2, 7, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(seconds=86400)


def test_a_genuine_init_data_names_its_user() -> None:
    init_data = signed_init_data(TOKEN, 42, NOW - dt.timedelta(minutes=5), first_name="Иван")
    user = verified_user(TOKEN, init_data, NOW, DAY)
    assert (user.id, user.first_name, user.language_code) == (42, "Иван", "ru")


@pytest.mark.parametrize("init_data", [None, ""])
def test_a_missing_init_data_is_refused(init_data: str | None) -> None:
    with pytest.raises(InitDataRefused, match="missing"):
        verified_user(TOKEN, init_data, NOW, DAY)


def test_init_data_signed_with_another_token_is_refused() -> None:
    forged = signed_init_data("987654321:AAother-bot-token", 42, NOW)
    with pytest.raises(InitDataRefused, match="forged"):
        verified_user(TOKEN, forged, NOW, DAY)


def test_init_data_whose_user_was_changed_is_refused() -> None:
    fields = dict(parse_qsl(signed_init_data(TOKEN, 42, NOW)))
    fields["user"] = fields["user"].replace('"id":42', '"id":43')
    with pytest.raises(InitDataRefused, match="forged"):
        verified_user(TOKEN, urlencode(fields), NOW, DAY)


@pytest.mark.parametrize("init_data", ["hash=00", "user=%7B%7D&auth_date=1", "not a query"])
def test_init_data_without_a_valid_hash_is_refused(init_data: str) -> None:
    with pytest.raises(InitDataRefused, match="forged"):
        verified_user(TOKEN, init_data, NOW, DAY)


def test_init_data_older_than_the_limit_is_refused_even_if_genuine() -> None:
    signed_at = NOW - DAY - dt.timedelta(seconds=1)
    with pytest.raises(InitDataRefused, match="expired"):
        verified_user(TOKEN, signed_init_data(TOKEN, 42, signed_at), NOW, DAY)
    assert verified_user(TOKEN, signed_init_data(TOKEN, 42, NOW - DAY), NOW, DAY).id == 42
