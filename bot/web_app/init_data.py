"""The Mini App's `initData`, checked as Telegram documents it
(https://core.telegram.org/bots/webapps#validating-data-received-via-the-mini-app): the
HMAC-SHA256 of the sorted fields, keyed by HMAC-SHA256("WebAppData", bot token). aiogram's
`safe_parse_webapp_init_data` does exactly that; what it leaves to us is the age."""

from __future__ import annotations

import datetime as dt

from aiogram.utils.web_app import WebAppInitData, WebAppUser, safe_parse_webapp_init_data


class InitDataRefused(Exception):
    """Missing, forged, malformed or too old: the request is nobody's."""


def verified_user(
    token: str, init_data: str | None, now: dt.datetime, max_age: dt.timedelta
) -> WebAppUser:
    """The Telegram user the signed `initData` speaks for, or `InitDataRefused`."""
    if not init_data:
        raise InitDataRefused("missing")
    try:
        parsed: WebAppInitData = safe_parse_webapp_init_data(token, init_data)
    except ValueError as error:  # a bad signature, or fields Telegram never sends
        raise InitDataRefused("forged") from error
    signed_at = parsed.auth_date
    if signed_at.tzinfo is None:
        signed_at = signed_at.replace(tzinfo=dt.UTC)
    # A replay of an old, genuine initData is refused like a forgery once it has aged out.
    if now - signed_at > max_age:
        raise InitDataRefused("expired")
    if parsed.user is None:
        raise InitDataRefused("no user")
    return parsed.user
