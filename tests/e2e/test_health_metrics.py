"""`/healthz` answers 200 only while the database (and Redis, when configured) answer;
`/metrics` serves Prometheus text: updates, sends and 429s, retries, reminders and the outbox."""

from __future__ import annotations

import os
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from config.settings import Settings
from domain.clock import FixedClock
from storage.database import create_engine
from tests.db import BACKENDS, fresh_database
from tests.e2e.scenario import leave_request
from tests.e2e.test_run_bot import closed_port
from tests.e2e.webhook_bots import webhook_instances
from tests.fake_telegram import FakeTelegram

REDIS_URL = os.environ.get("TEST_REDIS_URL", "")


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as answer:
        return answer.status, await answer.text()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


@pytest.mark.parametrize("backend", BACKENDS)
async def test_metrics_count_updates_sends_429s_and_the_outbox(
    tg: FakeTelegram, settings: Settings, clock: FixedClock, tmp_path: Path, backend: str
) -> None:
    async with (
        fresh_database(backend, tmp_path) as url,
        webhook_instances(tg, settings.model_copy(update={"database_url": url}), clock) as (
            instance,
        ),
    ):
        assert await get(f"{instance.url}/healthz") == (200, '{"database": "ok"}')
        anna = tg.user("Анна")
        await leave_request(anna)
        await tg.settle()
        tg.fail_next("sendMessage", 429, retry_after=1)
        await instance.application.sender.send_message(anna.id, "Напоминание")

        status, text = await get(f"{instance.url}/metrics")
        assert status == 200
        found = samples(text)
        handled = found[("salesbot_updates_total", (("outcome", "handled"), ("type", "message")))]
        assert handled >= 5
        assert found[("salesbot_update_handling_seconds_count", (("type", "message"),))] >= 5
        assert found[("salesbot_telegram_sends_total", (("outcome", "rate_limited"),))] == 1
        assert found[("salesbot_telegram_sends_total", (("outcome", "sent"),))] >= 6
        assert found[("salesbot_sender_retries_total", (("cause", "rate_limited"),))] == 1
        assert found[("salesbot_outbox_depth", ())] == 0
        assert ("salesbot_reminders_due", ()) in found
        assert ("salesbot_reminders_sent_total", (("kind", "outbox"),)) in found


async def test_healthz_is_503_while_the_database_does_not_answer(
    tg: FakeTelegram, settings: Settings, clock: FixedClock
) -> None:
    async with webhook_instances(tg, settings, clock) as (instance,):
        application = instance.application
        working = application.engine
        # The database server gone: nothing listens where the engine connects.
        application.engine = create_engine(
            f"postgresql+asyncpg://nobody@127.0.0.1:{closed_port()}/gone"
        )
        try:
            status, body = await get(f"{instance.url}/healthz")
        finally:
            await application.engine.dispose()
            application.engine = working
        assert status == 503
        assert '"database": "down' in body
        assert (await get(f"{instance.url}/healthz"))[0] == 200


@pytest.mark.skipif(not REDIS_URL, reason="TEST_REDIS_URL is not set")
async def test_healthz_checks_redis_when_it_is_configured(
    tg: FakeTelegram, settings: Settings, clock: FixedClock
) -> None:
    with_redis = settings.model_copy(
        update={"redis_url": REDIS_URL, "redis_prefix": f"health{closed_port()}"}
    )
    async with webhook_instances(tg, with_redis, clock) as (instance,):
        assert await get(f"{instance.url}/healthz") == (
            200,
            '{"database": "ok", "redis": "ok"}',
        )
    gone = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{closed_port()}/0"})
    async with webhook_instances(tg, gone, clock) as (instance,):
        status, body = await get(f"{instance.url}/healthz")
        assert status == 503
        assert '"database": "ok"' in body and '"redis": "down' in body
