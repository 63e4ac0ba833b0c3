"""`python run_bot.py` in webhook mode: Telegram (the fake) POSTs the updates to it through
the balancer's address, with the secret token; anything without the secret is refused."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import aiohttp

from tests.e2e.conftest import ADMIN_ID, TOKEN
from tests.e2e.test_run_bot import (
    STARTUP_TIMEOUT,
    ConsoleOutput,
    bot_environment,
    closed_port,
    spawn_run_bot,
    stopped_at_start,
)
from tests.fake_telegram import FakeTelegram

SECRET = "s3cret-webhook_token"
PUBLIC_URL = "https://bot.example.test"


def webhook_environment(tg: FakeTelegram, tmp_path: Path, **extra: str) -> dict[str, str]:
    """`run_bot.py`'s environment for webhook mode on a free port, where the fake delivers."""
    port = closed_port()
    # The balancer terminates TLS for https://bot.example.test and forwards to the instance.
    tg.webhook_via = f"http://127.0.0.1:{port}"
    return bot_environment(
        tmp_path,
        BOT_TOKEN=TOKEN,
        TELEGRAM_API_URL=tg.base_url,
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}",
        ADMIN_IDS=str(ADMIN_ID),
        WEBHOOK_URL=PUBLIC_URL,
        WEBHOOK_SECRET=SECRET,
        WEB_PORT=str(port),
        **extra,
    )


async def start_webhook_bot(
    tg: FakeTelegram, tmp_path: Path, **extra: str
) -> tuple[asyncio.subprocess.Process, ConsoleOutput]:
    process = await spawn_run_bot(tmp_path, webhook_environment(tg, tmp_path, **extra))
    return process, ConsoleOutput(process)


async def stop(process: asyncio.subprocess.Process, console: ConsoleOutput) -> str:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), timeout=STARTUP_TIMEOUT)
    return await console.finish()


async def test_webhook_mode_answers_start_and_refuses_a_wrong_secret(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    process, console = await start_webhook_bot(tg, tmp_path)
    try:
        admin = tg.user("Ольга", user_id=ADMIN_ID)
        await admin.send("/start")
        await admin.wait_message(contains="Вы — администратор", timeout=STARTUP_TIMEOUT)
        (webhook,) = tg.calls_to("setWebhook")
        assert webhook.params["url"] == f"{PUBLIC_URL}/telegram/webhook"
        assert webhook.params["secret_token"] == SECRET
        assert webhook.params["drop_pending_updates"] is False
        assert {"message", "callback_query"} <= set(webhook.params["allowed_updates"])
        assert not tg.calls_to("getUpdates")
        assert not tg.calls_to("deleteWebhook")
        await tg.settle()
        assert all(delivery.ok for delivery in tg.deliveries[-1:])

        # A forged update (no secret, or a wrong one) is refused and changes nothing.
        forged = {**tg.deliveries[-1].update, "update_id": 999_999}
        seen = len(tg.calls)
        assert await tg.post_webhook(forged, secret="") == 401
        assert await tg.post_webhook(forged, secret="not-the-secret") == 401
        await tg.settle()
        assert len(tg.calls) == seen
    finally:
        log = await stop(process, console)
    assert process.returncode == 0, log
    assert "Traceback" not in log
    assert TOKEN not in log and SECRET not in log


async def test_a_webhook_without_a_secret_does_not_start(tmp_path: Path) -> None:
    environment = bot_environment(
        tmp_path, BOT_TOKEN=TOKEN, WEBHOOK_URL=PUBLIC_URL, WEB_PORT=str(closed_port())
    )
    process = await spawn_run_bot(tmp_path, environment, stderr_apart=True)
    explanation, _ = await stopped_at_start(process)
    assert "WEBHOOK_SECRET is required" in explanation


async def test_polling_serves_health_and_metrics_when_web_port_is_set(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    port = closed_port()
    environment = bot_environment(
        tmp_path,
        BOT_TOKEN=TOKEN,
        TELEGRAM_API_URL=tg.base_url,
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}",
        ADMIN_IDS=str(ADMIN_ID),
        WEB_PORT=str(port),
    )
    process = await spawn_run_bot(tmp_path, environment)
    console = ConsoleOutput(process)
    try:
        admin = tg.user("Ольга", user_id=ADMIN_ID)
        await admin.send("/start")
        await admin.wait_message(contains="Вы — администратор", timeout=STARTUP_TIMEOUT)
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/healthz") as health:
                assert health.status == 200
            async with session.get(f"http://127.0.0.1:{port}/metrics") as metrics:
                assert 'salesbot_updates_total{outcome="handled",type="message"}' in (
                    await metrics.text()
                )
        assert tg.calls_to("getUpdates") and not tg.calls_to("setWebhook")
    finally:
        log = await stop(process, console)
    assert process.returncode == 0, log
    assert "Traceback" not in log


async def test_a_token_revoked_behind_a_webhook_stops_the_bot_naming_botfather(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    """The updates still come to the webhook, and nothing can be answered: the first refused
    call stops the bot, with the start's words."""
    environment = webhook_environment(tg, tmp_path)
    process = await spawn_run_bot(tmp_path, environment, stderr_apart=True)
    admin = tg.user("Ольга", user_id=ADMIN_ID)
    await admin.send("/start")
    await admin.wait_message(contains="администратор", timeout=STARTUP_TIMEOUT)

    tg.revoke_token("123456789:AAH-the-new-token-made-in-botfather")
    await admin.send("/help")
    explanation, printed = await stopped_at_start(process)
    rejection = [line for line in explanation.splitlines() if "@BotFather" in line]
    assert len(rejection) == 1 and "Unauthorized" in rejection[0], explanation
    assert TOKEN not in printed and SECRET not in printed
    tg.token = TOKEN  # the fake's own checks at the end speak to the token it started with
    tg.take_violations()  # the refused calls themselves
