"""Bots in webhook mode inside the test's process: each instance serves its own port, the
fake Telegram delivers to the first (the balancer stands in as `webhook_via`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

from pydantic import SecretStr

from bot.app import Application, create_application
from bot.web import build_web_app, serving
from config.settings import Settings
from domain.clock import FixedClock
from tests.e2e.test_run_bot import closed_port
from tests.fake_telegram import FakeTelegram

SECRET = "s3cret-webhook_token"
PUBLIC_URL = "https://bot.example.test"


@dataclass
class Instance:
    application: Application
    url: str


@asynccontextmanager
async def webhook_instances(
    tg: FakeTelegram, settings: Settings, clock: FixedClock, count: int = 1
) -> AsyncIterator[list[Instance]]:
    async with AsyncExitStack() as stack:
        instances = []
        for _ in range(count):
            port = closed_port()
            on_port = settings.model_copy(
                update={
                    "webhook_url": PUBLIC_URL,
                    "webhook_secret": SecretStr(SECRET),
                    "web_port": port,
                }
            )
            application = await create_application(on_port, clock=clock)
            stack.push_async_callback(application.close)
            app = build_web_app(application, webhook=True)
            await stack.enter_async_context(serving(app, "127.0.0.1", port, 5.0))
            instances.append(Instance(application, f"http://127.0.0.1:{port}"))
        tg.webhook_via = instances[0].url
        await tg.wait_for(lambda: tg.webhook_url or None, what="the webhook to be set")
        yield instances
