"""A restart loses nobody's place: half-filled forms resume, and colleagues stay colleagues.

Runs with conversation state in the database (the default) and, when TEST_REDIS_URL is set
(CI sets it), in Redis as several instances behind webhooks would keep it."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from config.settings import Settings
from domain.clock import FixedClock
from domain.deal import DealStatus
from tests.e2e.conftest import running_bot
from tests.e2e.scenario import deals, join_team
from tests.fake_telegram import FakeTelegram, FakeUser

REDIS_URL = os.environ.get("TEST_REDIS_URL", "")
STORAGES = ["database", "redis"] if REDIS_URL else ["database"]


@pytest.fixture(params=STORAGES)
async def restartable_settings(
    request: pytest.FixtureRequest, settings: Settings
) -> AsyncIterator[Settings]:
    if request.param == "database":
        yield settings
        return
    # A prefix of its own, so the test neither sees nor leaves anything another run wrote.
    prefix = f"salesbot-test-{uuid.uuid4().hex}"
    yield settings.model_copy(update={"redis_url": REDIS_URL, "redis_prefix": prefix})
    client = Redis.from_url(REDIS_URL)
    try:
        async for key in client.scan_iter(match=f"{prefix}:*"):
            await client.delete(key)
    finally:
        await client.aclose()


async def test_a_half_filled_request_resumes_after_a_restart(
    tg: FakeTelegram, restartable_settings: Settings, clock: FixedClock, admin: FakeUser
) -> None:
    lead = tg.user("Анна")
    async with running_bot(tg, restartable_settings, clock):
        manager = await join_team(tg, admin, "Менеджер", "Иван")
        await lead.send("/start site")
        await lead.press("✅ Согласен(на)")
        await lead.wait_message(contains="Как к вам обращаться")
        await lead.send("Анна Петрова")
        await lead.wait_message(contains="Ваш телефон")
        await tg.settle()

    async with running_bot(tg, restartable_settings, clock) as app:
        await lead.send("+7 916 123-45-67")
        await lead.wait_message(contains="компания")
        await lead.send("ООО Ромашка")
        await lead.wait_message(contains="Что вас интересует")
        await lead.send("CRM для отдела продаж")
        await lead.wait_message(contains="принята")
        card = await manager.wait_message(contains="Анна Петрова")
        assert "+79161234567" in card.text.replace(" ", "")

        # The manager who joined before the restart is still staff after it.
        await manager.send("/deals")
        await manager.wait_message(contains="Анна Петрова")

        [deal] = await deals(app)
        assert deal.status == DealStatus.OPEN.value
        assert deal.source == "site"
