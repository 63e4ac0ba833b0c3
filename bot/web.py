"""The bot's web server: the webhook Telegram pushes updates to, `/healthz` and `/metrics`.

In webhook mode (WEBHOOK_URL set) it is how updates arrive; in polling mode it starts only when
WEB_PORT is set, for the balancer's health checks and Prometheus."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text

from bot.telegram.revoked_token import RevokedTokenWatch
from bot.telegram.telegram_probe import TokenRejected
from bot.web_app.api import create_api
from bot.web_app.keys import APPLICATION
from bot.web_app.static import add_static_routes
from storage.unit_of_work import UnitOfWork, reminder_depths

if TYPE_CHECKING:
    from bot.app import Application

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"
"""Where the updates are POSTed, under WEBHOOK_URL (the balancer forwards it as is)."""


def webhook_endpoint(webhook_url: str) -> str:
    return webhook_url.rstrip("/") + WEBHOOK_PATH


class _UpdateHandler(SimpleRequestHandler):
    """aiogram's webhook handler, answering only once the update was handled
    (`handle_in_background=False`): a crash mid-update leaves Telegram without its 2xx, and it
    delivers the update again (to this instance or another)."""

    async def close(self) -> None:
        """The application closes the bot's session itself, after the messages still being
        sent went out; aiogram's handler would close it at the server's shutdown."""


HEALTH_TIMEOUT = 2.0
"""How long /healthz waits for the database and Redis before calling them down."""


def build_web_app(application: Application, *, webhook: bool) -> web.Application:
    app = web.Application()
    app[APPLICATION] = application
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/metrics", _metrics)
    api = create_api()
    api[APPLICATION] = application
    app.add_subapp("/app/api", api)
    add_static_routes(app)
    if webhook:
        secret = application.settings.webhook_secret
        _UpdateHandler(
            application.dispatcher,
            application.bot,
            handle_in_background=False,
            secret_token=secret.get_secret_value() if secret else None,
        ).register(app, path=WEBHOOK_PATH)
        # The dispatcher's startup (setWebhook, menus, the scheduler) and shutdown run with the
        # server's, as in polling they run with the polling.
        setup_application(app, application.dispatcher, bot=application.bot)
    return app


async def _healthz(request: web.Request) -> web.Response:
    """200 while the database and Redis (when configured) answer; 503 names what does not:
    the balancer stops sending updates to an instance that could not handle them."""
    application = request.app[APPLICATION]
    checks: dict[str, Awaitable[Any]] = {"database": _database_answers(application)}
    redis = getattr(application.dispatcher.storage, "redis", None)
    if redis is not None:
        checks["redis"] = redis.ping()
    status: dict[str, str] = {}
    for name, check in checks.items():
        try:
            async with asyncio.timeout(HEALTH_TIMEOUT):
                await check
            status[name] = "ok"
        except Exception as error:
            status[name] = f"down: {type(error).__name__}"
    healthy = all(value == "ok" for value in status.values())
    return web.json_response(status, status=200 if healthy else 503)


async def _database_answers(application: Application) -> None:
    async with application.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


async def _metrics(request: web.Request) -> web.Response:
    application = request.app[APPLICATION]
    metrics = application.metrics
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT):
            due, outbox = await reminder_depths(UnitOfWork(application.session_factory))
        metrics.reminders_due.set(due)
        metrics.outbox_depth.set(outbox)
    except Exception as error:
        log.warning("metrics: the reminders could not be counted: %s", error)
    return web.Response(body=metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})


@asynccontextmanager
async def serving(app: web.Application, host: str, port: int, grace: float) -> AsyncIterator[None]:
    """Listen on `host:port` until the block ends; then the requests in hand get `grace`
    seconds to finish."""
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=grace)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        log.info("listening on %s:%d", host, port)
        yield
    finally:
        await runner.cleanup()


async def serve_webhook(application: Application) -> None:
    """Webhook mode until SIGINT or SIGTERM, or until Telegram refuses the token
    (`TokenRejected`)."""
    settings = application.settings
    app = build_web_app(application, webhook=True)
    stopped = asyncio.Event()

    async def stop() -> None:
        stopped.set()

    watch = RevokedTokenWatch(stop=stop, every_method=True)
    application.bot.session.middleware(watch)
    async with serving(
        app, settings.web_host, settings.web_port or 8080, settings.shutdown_grace_seconds
    ):
        await _until_stopped(stopped)
    log.info("webhook server stopped")
    if watch.refusal is not None:
        raise TokenRejected(watch.refusal)


async def run_polling_with_web(application: Application) -> None:
    """Polling, with the web server for /healthz and /metrics when WEB_PORT is set."""
    settings = application.settings
    if settings.web_port is None:
        await application.run_polling(handle_signals=True)
        return
    app = build_web_app(application, webhook=False)
    async with serving(app, settings.web_host, settings.web_port, 1.0):
        await application.run_polling(handle_signals=True)


async def _until_stopped(stopped: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    stop_signals = (signal.SIGINT, signal.SIGTERM)
    for stop_signal in stop_signals:
        loop.add_signal_handler(stop_signal, stopped.set)
    try:
        await stopped.wait()
    finally:
        for stop_signal in stop_signals:
            loop.remove_signal_handler(stop_signal)
