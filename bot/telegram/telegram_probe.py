"""Before polling: make sure the Bot API answers and accepts the token.

A service manager may start the bot before the network is up, and a mistyped
`TELEGRAM_API_URL` or a revoked token must be told in one line, not in tracebacks from the
startup hooks. So the start asks `getMe` first: an unreachable server is asked again after a
growing pause, a rejected token stops the start."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Iterator

from aiogram import Bot
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import User

log = logging.getLogger(__name__)

FIRST_PAUSE_SECONDS = 1.0
LONGEST_PAUSE_SECONDS = 60.0
# Far below aiogram's 60 s default: a network that drops packets silently should be retried
# (and reported) sooner than once a minute.
PROBE_TIMEOUT_SECONDS = 15


class TokenRejected(Exception):
    """Telegram refused the bot token: 401 Unauthorized, or 404 Not Found, which it answers
    for some malformed tokens. `description` is Telegram's own word; it never holds the token."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


def retry_pauses(
    first: float = FIRST_PAUSE_SECONDS, longest: float = LONGEST_PAUSE_SECONDS
) -> Iterator[float]:
    """1, 2, 4, ... seconds, doubling up to `longest` and staying there."""
    pause = first
    while True:
        yield pause
        pause = min(pause * 2, longest)


async def wait_for_telegram(bot: Bot, api_url: str) -> User:
    """Ask `getMe` until the Bot API at `api_url` answers, logging one line per failed attempt
    with the pause before the next. Raises `TokenRejected` when Telegram refuses the token;
    cancel the task to give up (the pause and the request are both cancellable)."""
    pauses = retry_pauses()
    while True:
        try:
            return await bot.get_me(request_timeout=PROBE_TIMEOUT_SECONDS)
        except (TelegramUnauthorizedError, TelegramNotFound) as error:
            raise TokenRejected(error.message) from None
        except TelegramRetryAfter as error:
            reason, seconds = "flood control", float(error.retry_after)
        except (TelegramNetworkError, TelegramServerError) as error:
            reason, seconds = error.message, next(pauses)
        except ClientDecodeError as error:
            reason, seconds = f"not a Bot API answer: {error.message}", next(pauses)
        log.warning(
            "Telegram Bot API at %s is unreachable (%s); retrying in %g s", api_url, reason, seconds
        )
        await asyncio.sleep(seconds)


async def reach_telegram(bot: Bot, api_url: str) -> bool:
    """Wait until the Bot API answers (raising `TokenRejected` if it refuses the token);
    False when Ctrl-C or SIGTERM came first. Polling installs its own signal handlers after."""
    probe = asyncio.create_task(wait_for_telegram(bot, api_url))
    loop = asyncio.get_running_loop()
    stop_signals = (signal.SIGINT, signal.SIGTERM)
    for stop_signal in stop_signals:
        loop.add_signal_handler(stop_signal, probe.cancel)
    try:
        await asyncio.wait({probe})
    finally:
        for stop_signal in stop_signals:
            loop.remove_signal_handler(stop_signal)
    if probe.cancelled():
        return False
    probe.result()
    return True
