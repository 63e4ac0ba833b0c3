"""The bot under test as its users run it: one process polling (the default), or `--webhook`:
N processes taking Telegram's webhooks behind nginx (deploy/nginx's site with TLS, as
tests/e2e/nginx_cluster.py runs it), the real bot on PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import uuid
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bench.burst.common import BenchError
from bench.burst.judge import Judge
from bench.burst.processes import BotProcess, bot_environment
from tests.e2e.nginx_cluster import balancer
from tests.e2e.test_run_bot import closed_port

SECRET = "burst-webhook-secret"
PUBLIC_URL = "https://bot.example.test"
"""The public URL the bots give setWebhook; the judge POSTs its path to nginx instead."""
STARTUP_TIMEOUT = 90.0
"""A start on a loaded 2-core machine, the migrations of a fresh database included."""


@dataclass(frozen=True)
class Deployment:
    webhook: bool = False
    instances: int = 1
    redis_url: str = ""
    """The real bot's REDIS_URL in webhook mode (its keys are under a prefix of the run's,
    deleted after it)."""
    workers: int = 1
    """The real bot's WORKERS in polling mode: processes handling the updates one polls."""


class Fleet:
    """The bot's processes (and nginx in front of them), started and stopped together."""

    def __init__(self, processes: list[BotProcess], stack: AsyncExitStack) -> None:
        self.processes = processes
        self._stack = stack

    @property
    def pids(self) -> list[int]:
        """Every process of the bot: each instance and its workers."""
        return [pid for bot in self.processes for pid in bot.family()]

    def peak_rss_kib(self) -> int | None:
        """The largest instance's high-water mark (an instance's and its workers' together)."""
        found = [rss for bot in self.processes if (rss := bot.peak_rss_kib()) is not None]
        return max(found) if found else None

    @classmethod
    async def start(
        cls,
        bot: str,
        deployment: Deployment,
        workdir: Path,
        judge: Judge,
        environment: dict[str, str],
    ) -> Fleet:
        """Started and ready: polling, or every instance healthy and the webhook set."""
        stack = AsyncExitStack()
        fleet = cls([], stack)
        try:
            if deployment.webhook:
                await fleet._start_webhook(bot, deployment, workdir, judge, environment)
            else:
                if bot == "lead" and deployment.workers > 1:
                    environment = {**environment, "WORKERS": str(deployment.workers)}
                process = await BotProcess.start(
                    bot, workdir, bot_environment(workdir, **environment)
                )
                fleet.processes.append(process)
                await judge.wait_for(
                    lambda: (fleet._alive() and judge.poll_count > 0) or None,
                    timeout=STARTUP_TIMEOUT,
                    what="the bot to start polling",
                )
        except BaseException:
            await fleet.stop()
            raise
        return fleet

    async def _start_webhook(
        self,
        bot: str,
        deployment: Deployment,
        workdir: Path,
        judge: Judge,
        environment: dict[str, str],
    ) -> None:
        ports = [closed_port() for _ in range(deployment.instances)]
        url, tls = await self._stack.enter_async_context(balancer(workdir, ports))
        webhook = {"WEBHOOK_URL": PUBLIC_URL, "WEBHOOK_SECRET": SECRET}
        if bot == "lead":
            prefix = f"burst-{uuid.uuid4().hex[:8]}"
            webhook.update(REDIS_URL=deployment.redis_url, REDIS_PREFIX=prefix)
            self._stack.push_async_callback(_forget_redis, deployment.redis_url, prefix)
        for n, port in enumerate(ports):
            folder = workdir / f"instance{n}"
            folder.mkdir()
            settings = {**environment, **webhook, "WEB_PORT": str(port)}
            self.processes.append(
                await BotProcess.start(bot, folder, bot_environment(folder, **settings))
            )
            if n == 0:  # the first migrates the database; the others find it done
                await self._healthy(port)
        for port in ports:
            await self._healthy(port)
        judge.webhook_via, judge.webhook_ssl = url, tls
        await judge.wait_for(
            lambda: judge.webhook_url or None, timeout=STARTUP_TIMEOUT, what="the webhook"
        )

    async def _healthy(self, port: int) -> None:
        async with asyncio.timeout(STARTUP_TIMEOUT), aiohttp.ClientSession() as session:
            while self._alive():
                try:
                    async with session.get(f"http://127.0.0.1:{port}/healthz") as answer:
                        if answer.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.2)

    def _alive(self) -> bool:
        for bot in self.processes:
            if bot.process.returncode is not None:
                raise BenchError(
                    f"the bot exited with status {bot.process.returncode} before it was ready:\n"
                    + "\n".join(bot.console.lines[-20:])
                )
        return True

    async def stop(self) -> tuple[int | None, list[str]]:
        """SIGTERM to each, as a service manager stops them, then nginx: the first non-zero
        exit status (or 0), and everything they printed."""
        status: int | None = 0
        lines: list[str] = []
        try:
            for bot in self.processes:
                code, printed = await bot.stop()
                lines += printed
                if status == 0:
                    status = code
        finally:
            await self._stack.aclose()
        return status, lines


async def _forget_redis(url: str, prefix: str) -> None:
    from redis.asyncio import Redis

    redis = Redis.from_url(url)
    try:
        keys = [key async for key in redis.scan_iter(match=f"{prefix}:*", count=1000)]
        if keys:
            await redis.delete(*keys)
    finally:
        await redis.aclose()
