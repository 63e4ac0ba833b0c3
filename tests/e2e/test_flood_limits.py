"""An ad burst against Telegram's flood limits: a reply Telegram refuses with 429 is sent again
after `retry_after`, never lost (the lead would otherwise wait for a question that never comes)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.app import Application
from config.settings import Settings
from tests.e2e.conftest import TOKEN
from tests.e2e.scenario import deals, join_team, leave_request
from tests.fake_telegram import FakeTelegram, FakeUser, running_fake_telegram

LEADS = 45
"""Their 315 messages take Telegram's 30 a second at least 10.5 s: each lead waits longer for
an answer than the usual 5 s."""


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with running_fake_telegram(TOKEN, default_timeout=60.0) as fake:
        yield fake


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # The 45 cards queue for one manager at one a second: the stop need not wait them out for
    # the whole default grace (10 s of the suite's time).
    return settings.model_copy(update={"shutdown_grace_seconds": 1})


async def test_every_lead_of_a_burst_is_answered_though_telegram_answers_429s(
    tg: FakeTelegram, app: Application, admin: FakeUser
) -> None:
    await join_team(tg, admin, "Менеджер", "Иван")
    # Telegram's limits: 30 messages a second, one a second to a chat.
    tg.enforce_flood_limits(per_second=30, per_chat_per_second=1, retry_after=1)
    leads = [tg.user(f"Лид {number}") for number in range(LEADS)]

    confirmations = await asyncio.gather(
        *(
            leave_request(lead, name=f"Лид {number}", phone=f"+7 916 000-00-{number:02d}")
            for number, lead in enumerate(leads)
        )
    )

    assert tg.flood_429s > 0  # the burst did run into the limit
    assert all("принята" in confirmation.text for confirmation in confirmations)
    assert len(await deals(app)) == LEADS
    for lead in leads:
        questions = [m.text for m in lead.messages if "Как к вам обращаться" in m.text]
        assert len(questions) == 1  # each reply once: a 429 sent nothing
