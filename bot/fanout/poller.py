"""The started process when WORKERS > 1: it polls Telegram and hands the updates out.

Why: one process handles updates on one core; in an ad burst the bot's process sat at a full
core while the machine's second one was mostly idle (bench/RESULTS.md). The poller does as
little per update as it can (no aiogram types: the JSON Telegram sent is routed by its sender's
id and passed on as one line), and the workers (bot/fanout/worker.py) do the rest, each with the
updates of its own people.

What one process kept to itself, and how it holds across several:
- the order of one person's updates, their conversation lock and flood limit: each person's
  updates all go to one worker (`routing`);
- the outbox, the scheduled sweeps and the pace of messages to a chat: the first worker alone
  sends them; another worker whose change owes messages has it woken through the poller;
- the staff directory (who is surely not staff, kept in memory): a person joins the team in
  their own chat, their worker's; a deactivation in another worker's chat is safe, since the
  directory only ever sends a listed person on to the database, which says no;
- SQLite's single writer: each worker queues its own writers (storage/sqlite_in_loop.py), and
  two workers' transactions, each a few statements with no wait in between, meet in SQLite's
  busy timeout for about a millisecond.

The poller confirms an update to Telegram (the next getUpdates' offset) once a worker has it,
as aiogram's polling does once a task has it: a worker killed mid-update loses its updates in
hand as a killed single process does. A worker that dies is started again; the poller that
dies closes every worker's line, and the workers finish what they hold and stop."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
from aiogram import Bot
from aiogram.client.telegram import TelegramAPIServer
from aiogram.utils.backoff import Backoff, BackoffConfig

from bot.fanout.link import LINE_LIMIT, WAKE, WorkerFailed, update_kinds_of
from bot.fanout.routing import worker_for
from bot.telegram.http_session import BotApiSession
from bot.telegram.metrics import MULTIPROCESS_DIR
from bot.telegram.telegram_probe import TokenRejected, reach_telegram
from config.settings import Settings
from storage.database import create_engine, migrate

log = logging.getLogger(__name__)
T = TypeVar("T")

PROJECT_ROOT = Path(__file__).resolve().parents[2]

POLL_TIMEOUT = 10
"""Seconds a getUpdates waits for updates (aiogram's polling's own)."""
REQUEST_MARGIN = 30.0
"""Seconds a getUpdates may take beyond its wait before it counts as lost."""
BACKOFF = BackoffConfig(min_delay=1.0, max_delay=5.0, factor=1.3, jitter=0.1)
"""Pauses after a failed getUpdates: aiogram's polling's own."""
STOP_MARGIN = 5.0
"""Seconds a worker gets beyond the shutdown grace to stop before it is killed."""


class _Worker:
    """One worker process and the poller's side of its line; started again when it dies."""

    def __init__(
        self,
        index: int,
        wake_outbox: Callable[[], None],
        stopping: asyncio.Event,
        environment: dict[str, str],
    ) -> None:
        self.index = index
        self._environment = environment
        self.update_kinds: list[str] = []
        self.failure: WorkerFailed | None = None
        self._wake_outbox = wake_outbox
        """Wakes the first worker, which alone sends the outbox."""
        self._stopping_all = stopping
        self._process: asyncio.subprocess.Process | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._held: list[bytes] = []
        """Lines for the worker while it is started again."""
        self._listening: asyncio.Task[None] | None = None
        self._stopping = False

    async def start(self) -> None:
        ours, theirs = socket.socketpair()
        with theirs:
            self._process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot.fanout.worker",
                str(self.index),
                str(theirs.fileno()),
                pass_fds=(theirs.fileno(),),
                env=self._environment,
            )
        reader, writer = await asyncio.open_unix_connection(sock=ours, limit=LINE_LIMIT)
        kinds = update_kinds_of(await reader.readline())
        if kinds is None:
            writer.close()
            code = await self._process.wait()
            raise WorkerFailed(f"worker {self.index} stopped before it was ready (exit {code})")
        self.update_kinds = kinds
        for line in self._held:
            writer.write(line)
        self._held.clear()
        self._writer = writer
        self._listening = asyncio.create_task(self._listen(reader), name=f"worker {self.index}")
        if self._stopping:  # stopped while this worker was started again
            writer.write_eof()

    def send(self, line: bytes) -> None:
        if self._writer is None:
            self._held.append(line)
        else:
            self._writer.write(line)

    async def drain(self) -> None:
        if self._writer is not None:
            with contextlib.suppress(ConnectionError):
                await self._writer.drain()

    async def stop(self, within: float) -> None:
        """Close the line (the worker finishes its updates in hand and stops); kill it if it
        has not stopped `within` seconds later."""
        self._stopping = True
        process = self._process
        if self._writer is not None:
            with contextlib.suppress(ConnectionError, OSError):
                self._writer.write_eof()
        if process is None:
            return
        try:
            await asyncio.wait_for(process.wait(), within)
        except TimeoutError:
            log.warning("worker %d did not stop within %.0f s: killed", self.index, within)
            process.kill()
            await process.wait()
        if self._listening is not None:
            await self._listening

    async def _listen(self, reader: asyncio.StreamReader) -> None:
        while line := await reader.readline():
            if line == WAKE:
                self._wake_outbox()
        self._writer = None
        assert self._process is not None
        code = await self._process.wait()
        if self._stopping:
            return
        log.error("worker %d died (exit code %s); starting it again", self.index, code)
        try:
            await self.start()
        except WorkerFailed as failure:
            self.failure = failure
            self._stopping_all.set()
            return
        log.info("worker %d is up again", self.index)  # its held updates are on their way


def _worker_environment(metrics_dir: str) -> dict[str, str]:
    """The poller's environment (the same settings), with the project importable wherever the
    bot was started from (`run_bot.py` finds it by its own path, `-m` by the working folder),
    and `metrics_dir` for prometheus_client's multiprocess mode: each worker counts into its
    files there, and the first worker's /metrics adds them all up (bot/telegram/metrics.py)."""
    environment = dict(os.environ)
    paths = [str(PROJECT_ROOT), *filter(None, [environment.get("PYTHONPATH")])]
    environment["PYTHONPATH"] = os.pathsep.join(paths)
    environment[MULTIPROCESS_DIR] = metrics_dir
    return environment


async def serve_with_workers(settings: Settings) -> None:
    """Migrate, reach Telegram, start the workers and poll until SIGINT or SIGTERM; raises
    `TokenRejected` when Telegram refuses the token and `WorkerFailed` when a worker cannot
    start."""
    engine = create_engine(settings.database_url)
    try:
        # Once, before any worker opens the database: they find it at the newest migration.
        await migrate(engine)
    finally:
        await engine.dispose()
    api = TelegramAPIServer.from_base(settings.telegram_api_url)
    assert settings.bot_token is not None
    token = settings.bot_token.get_secret_value()
    async with Bot(token, session=BotApiSession(api=api)) as bot:
        if not await reach_telegram(bot, settings.telegram_api_url):
            return
    with tempfile.TemporaryDirectory(prefix="salesbot-metrics-") as metrics_dir:
        await _run_workers(settings, api, token, _worker_environment(metrics_dir))


async def _run_workers(
    settings: Settings, api: TelegramAPIServer, token: str, environment: dict[str, str]
) -> None:
    workers: list[_Worker] = []
    stopping = asyncio.Event()
    workers.extend(
        _Worker(index, lambda: workers[0].send(WAKE), stopping, environment)
        for index in range(settings.workers)
    )
    loop = asyncio.get_running_loop()
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(stop_signal, stopping.set)
    try:
        await asyncio.gather(*(worker.start() for worker in workers))
        log.info("%d workers are up; polling", len(workers))
        async with aiohttp.ClientSession() as session:
            poller = _Poller(session, api.api_url(token, "getUpdates"), workers)
            await poller.run(stopping)
    finally:
        for stop_signal in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(stop_signal)
        within = settings.shutdown_grace_seconds + STOP_MARGIN
        await asyncio.gather(*(worker.stop(within) for worker in workers))
    failures = [worker.failure for worker in workers if worker.failure is not None]
    if failures:
        raise failures[0]


class _Stopped(Exception):
    pass


class _Poller:
    def __init__(self, session: aiohttp.ClientSession, url: str, workers: list[_Worker]) -> None:
        self._session = session
        self._url = url
        self._workers = workers
        self._offset: int | None = None

    async def run(self, stopping: asyncio.Event) -> None:
        backoff = Backoff(BACKOFF)
        kinds = self._workers[0].update_kinds
        try:
            while not stopping.is_set():
                request = {"timeout": POLL_TIMEOUT, "allowed_updates": kinds}
                try:
                    updates = await _unless(stopping, self._call(request, POLL_TIMEOUT))
                except _Stopped:
                    break
                except (aiohttp.ClientError, TimeoutError, _Refused) as error:
                    log.error("Failed to fetch updates - %s: %s", type(error).__name__, error)
                    pause = getattr(error, "retry_after", None) or next(backoff)
                    with contextlib.suppress(_Stopped):
                        await _unless(stopping, asyncio.sleep(pause))
                    continue
                backoff.reset()
                self._hand_out(updates)
                await asyncio.gather(*(worker.drain() for worker in self._workers))
        finally:
            await self._confirm()

    def _hand_out(self, updates: list[dict[str, Any]]) -> None:
        count = len(self._workers)
        for update in updates:
            line = json.dumps(update, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
            self._workers[worker_for(update, count)].send(line)
            self._offset = int(update["update_id"]) + 1

    async def _confirm(self) -> None:
        """At a stop: the updates handed out are confirmed, so a start does not get them again
        (a getUpdates that returns at once, and whose one update stays unconfirmed)."""
        if self._offset is None:
            return
        with contextlib.suppress(aiohttp.ClientError, TimeoutError, _Refused):
            await self._call({"offset": self._offset, "limit": 1, "timeout": 0}, 0)

    async def _call(self, request: dict[str, Any], waits: float) -> list[dict[str, Any]]:
        if self._offset is not None:
            request.setdefault("offset", self._offset)
        timeout = aiohttp.ClientTimeout(total=waits + REQUEST_MARGIN)
        async with self._session.post(self._url, json=request, timeout=timeout) as response:
            answer = await response.json(content_type=None)
        if answer.get("ok"):
            return list(answer["result"])
        code = int(answer.get("error_code") or response.status)
        description = str(answer.get("description") or response.reason)
        if code in (401, 404):
            raise TokenRejected(description)
        raise _Refused(code, description, answer.get("parameters") or {})


class _Refused(Exception):
    """Telegram answered getUpdates with an error other than refusing the token (a 409 while
    a webhook is set or another process polls, a 429, a 5xx)."""

    def __init__(self, code: int, description: str, parameters: dict[str, Any]) -> None:
        super().__init__(f"{code} {description}")
        self.retry_after: float | None = parameters.get("retry_after")


async def _unless(stopping: asyncio.Event, work: Awaitable[T]) -> T:
    """`work`'s result, or `_Stopped` (the work cancelled) if `stopping` is set first."""
    task = asyncio.ensure_future(work)
    stopped = asyncio.create_task(stopping.wait())
    try:
        await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
    if not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        raise _Stopped
    return task.result()
