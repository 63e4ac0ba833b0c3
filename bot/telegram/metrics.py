"""What `/metrics` tells Prometheus: updates by type and outcome with the handler latency, the
messages sent to Telegram with its 429s and the sender's retries, the reminders due, sent and
late, and the outbox's depth. One registry per application (tests run several in a process).

The counters are this instance's: with WORKERS, every worker's together (prometheus_client's
multiprocess mode, in a folder the poller gives the workers); the reminders due and the outbox
depth are read from the database when scraped, so every instance reports the same figure for
them."""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import TelegramObject, Update
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from bot.telegram.sender import SEND_METHOD_PREFIXES, PacedSender
from services.reminders import SweepTally

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
"""prometheus_client's own variable: set, every metric of the process counts into files there."""


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.updates = Counter(
            "salesbot_updates",
            "Updates handled, by type and outcome (handled, unhandled, error)",
            ["type", "outcome"],
            registry=self.registry,
        )
        self.handling_seconds = Histogram(
            "salesbot_update_handling_seconds",
            "Time from an update's arrival to the end of its handling",
            ["type"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.messages = Counter(
            "salesbot_telegram_sends",
            "Messages sent to Telegram, by outcome (sent, rate_limited = 429, failed)",
            ["outcome"],
            registry=self.registry,
        )
        self.reminders_sent = Counter(
            "salesbot_reminders_sent",
            "Reminders and owed messages sent, by kind (reminder, outbox)",
            ["kind"],
            registry=self.registry,
        )
        self.reminders_late = Counter(
            "salesbot_reminders_late",
            "Reminders sent after their time (the bot was down or behind)",
            registry=self.registry,
        )
        # Read from the database by whoever is scraped: with workers, the latest figure.
        self.reminders_due = Gauge(
            "salesbot_reminders_due",
            "Reminders whose time has come, not yet sent (all instances)",
            registry=self.registry,
            multiprocess_mode="mostrecent",
        )
        self.outbox_depth = Gauge(
            "salesbot_outbox_depth",
            "Messages owed by changes, not yet sent (all instances)",
            registry=self.registry,
            multiprocess_mode="mostrecent",
        )
        self._sender: _SenderRetries | None = None

    def watch_sender(self, sender: PacedSender) -> None:
        self._sender = _SenderRetries(sender)
        self.registry.register(self._sender)

    def count_sweep(self, outbox: bool, tally: SweepTally) -> None:
        self.reminders_sent.labels("outbox" if outbox else "reminder").inc(tally.sent)
        self.reminders_late.inc(tally.late)

    def render(self) -> bytes:
        directory = os.environ.get(MULTIPROCESS_DIR)
        if not directory:
            return generate_latest(self.registry)
        # Every worker's files added up; the paced sender's retries are this worker's, the one
        # that sends the reminders and the outbox.
        together = CollectorRegistry()
        MultiProcessCollector(together, path=directory)  # type: ignore[no-untyped-call]
        if self._sender is not None:
            together.register(self._sender)
        return generate_latest(together)


class _SenderRetries(Collector):
    """The paced sender's retries, read from its statistics when scraped."""

    def __init__(self, sender: PacedSender) -> None:
        self._sender = sender

    def collect(self) -> Iterator[CounterMetricFamily]:
        stats = self._sender.stats
        family = CounterMetricFamily(
            "salesbot_sender_retries",
            "Paced sends tried again, by cause (rate_limited = 429 waited out, server_error)",
            labels=["cause"],
        )
        family.add_metric(["rate_limited"], len(stats.retry_after))
        family.add_metric(["server_error"], stats.server_errors)
        yield family


class UpdateMetrics:
    """Dispatcher middleware (outermost of the bot's own): each update's type, outcome and
    handling time."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics
        # Each label set's child, looked up once: `labels()` costs more than the count itself.
        self._timers: dict[str, Histogram] = {}
        self._counters: dict[tuple[str, str], Counter] = {}

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        kind = event.event_type if isinstance(event, Update) else type(event).__name__
        started = time.perf_counter()
        outcome = "error"
        try:
            result = await handler(event, data)
            outcome = "unhandled" if result is UNHANDLED else "handled"
            return result
        finally:
            self._timer(kind).observe(time.perf_counter() - started)
            self._counter(kind, outcome).inc()

    def _timer(self, kind: str) -> Histogram:
        timer = self._timers.get(kind)
        if timer is None:
            timer = self._timers[kind] = self._metrics.handling_seconds.labels(kind)
        return timer

    def _counter(self, kind: str, outcome: str) -> Counter:
        counter = self._counters.get((kind, outcome))
        if counter is None:
            counter = self._counters[kind, outcome] = self._metrics.updates.labels(kind, outcome)
        return counter


class SendMetrics(BaseRequestMiddleware):
    """Bot-session middleware: every message sent, paced or a reply, and every 429."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        if not method.__api_method__.startswith(SEND_METHOD_PREFIXES):
            return await make_request(bot, method)
        outcome = "failed"
        try:
            response = await make_request(bot, method)
            outcome = "sent"
            return response
        except TelegramRetryAfter:
            outcome = "rate_limited"
            raise
        finally:
            self._metrics.messages.labels(outcome).inc()
