"""The lead path benchmark: the request form driven through the real dispatcher and SQLite as
fast as it goes, side by side with a bare aiogram echo bot on the same in-process fake session.

    python -m bench.lead_path [--leads 300] [--warmup 10] [--seed 1] [--rounds 1]

Each bot runs in a fresh interpreter (a subprocess of this command, `--worker echo|lead`), so
imports, caches and the process's max RSS of one do not leak into the other. A worker:

1. builds its bot: for the lead path the real `create_application` (every middleware, the
   database FSM storage, a fresh SQLite file with migrations applied, the bundled sales book,
   one active manager enrolled through an invite, the startup hook run); for the echo bot a bare
   `Dispatcher()` with one handler that answers the text back;
2. swaps the bot's HTTP session for `FakeSession`, which serialises every request the way the
   aiohttp session does and parses a Telegram-shaped JSON answer the way it does, minus the
   network;
3. feeds `--warmup` leads unmeasured, then `--leads` leads timed, one update after another
   (`Update.model_validate` + `Dispatcher.feed_update`, per update `perf_counter_ns`), then
   `--leads` more with `tracemalloc` on, for the peak memory only;
4. checks the path worked: every lead got "Заявка №N принята", the manager got every card,
   and the database holds exactly one deal per lead.

A lead is six updates: `/start ads_vk`, the consent button, name, phone (typed or a shared
contact), company (or "Пропустить"), need (a product button or free text). The echo bot gets
the same six texts per user. Exit status: 0 if the targets are met, 1 if not, 2 if a worker
failed (including a failed check).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import datetime as dt
import gc
import json
import logging
import math
import os
import platform
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import AsyncGenerator, Callable, Coroutine, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from importlib.metadata import version
from itertools import count
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from aiogram import Bot, Dispatcher, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.base import BaseSession
from aiogram.enums import ParseMode
from aiogram.methods import (
    AnswerCallbackQuery,
    DeleteMyCommands,
    DeleteWebhook,
    EditMessageReplyMarkup,
    EditMessageText,
    GetMe,
    SendMessage,
    SetChatMenuButton,
    SetMyCommands,
)
from aiogram.methods.base import TelegramMethod, TelegramType
from aiogram.types import InlineKeyboardMarkup, InputFile, LinkPreviewOptions, Message, Update

if TYPE_CHECKING:
    from bot.app import Application

# The project is imported by the lead worker only, so the echo worker's memory is aiogram's.

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456789:AAbench-token-not-a-real-one-0123456"
BOT_USER = {"id": 123456789, "is_bot": True, "first_name": "Отдел продаж", "username": "bench_bot"}
ADMIN_ID = 1_000
MANAGER_ID = 2_000
FIRST_LEAD_ID = 7_000_000_000
MONDAY_10_MSK = dt.datetime(2026, 3, 2, 7, 0, tzinfo=dt.UTC)
SOURCE = "ads_vk"
STEPS = ("start", "consent", "name", "phone", "company", "need")
CONFIRMED = "Заявка №"
SKIP = "Пропустить"
TARGET_RATIO = 0.5
TARGET_P99_MS = 25.0
BOTS = ("echo", "lead")

NAMES = ("Анна", "Борис", "Вера", "Глеб", "Дарья", "Егор", "Жанна", "Илья", "Ксения", "Лев")
COMPANIES = ("ООО «Ромашка»", "ИП Петров", "АО «Северсталь-Сервис»", "Кофейня на углу", SKIP)
FREE_NEEDS = (
    "Нужна CRM для отдела из 12 человек, сейчас всё в Excel",
    "Хотим перейти с amoCRM, нужна миграция данных",
)


class BenchError(Exception):
    """The benchmark did not exercise the path it claims to measure."""


class BenchClock:
    """Real time, but starting from a fixed working Monday morning: timestamps move (so rows are
    really updated), while the first-response deadline is computed the same way on every run,
    whatever the hour or the day of the week the benchmark runs at."""

    def __init__(self, start: dt.datetime) -> None:
        self._start = start
        self._started = time.monotonic()

    def now(self) -> dt.datetime:
        return self._start + dt.timedelta(seconds=time.monotonic() - self._started)


# --- The fake session -------------------------------------------------------------------------


TRUE_RESULTS = (
    AnswerCallbackQuery,
    SetMyCommands,
    DeleteMyCommands,
    DeleteWebhook,
    SetChatMenuButton,
)
"""Methods Telegram answers with plain `true`."""


class FakeSession(BaseSession):
    """Answers Bot API calls in-process, the way Telegram would.

    Every request is serialised exactly as `AiohttpSession.build_form_data` does (so the bot's
    own cost of talking to Telegram is measured), and every answer goes through
    `check_response` from a JSON string (so is the cost of reading Telegram's reply); only the
    network is left out. Sent messages get increasing `message_id`s; the last one per chat is
    kept so the driver can press a button on it."""

    def __init__(self) -> None:
        super().__init__()
        self._message_ids = count(1)
        self.last_sent: dict[int, dict[str, Any]] = {}
        self.calls: dict[str, int] = {}
        self.sent_to_watched: dict[int, int] = {}

    def watch(self, chat_id: int) -> None:
        """Count the messages sent to this chat (for staff: one card per lead)."""
        self.sent_to_watched.setdefault(chat_id, 0)

    def forget(self, chat_id: int) -> None:
        self.last_sent.pop(chat_id, None)

    async def close(self) -> None:
        """Nothing to close."""

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,  # noqa: ASYNC109 (BaseSession's signature)
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        raise NotImplementedError("the fake session serves no files")
        yield b""  # pragma: no cover

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 (BaseSession's signature)
    ) -> TelegramType:
        files: dict[str, InputFile] = {}
        form: dict[str, Any] = {}
        for key, value in method.model_dump(warnings=False).items():
            prepared = self.prepare_value(value, bot=bot, files=files)
            if prepared:
                form[key] = prepared
        name = method.__api_method__
        self.calls[name] = self.calls.get(name, 0) + 1
        content = self.json_dumps({"ok": True, "result": self._result(method, form)})
        response = self.check_response(bot=bot, method=method, status_code=200, content=content)
        return cast(TelegramType, response.result)

    def _result(self, method: TelegramMethod[Any], form: dict[str, Any]) -> Any:
        if isinstance(method, SendMessage):
            chat_id = int(method.chat_id)
            message = self._message(chat_id, next(self._message_ids), text=method.text)
            if isinstance(method.reply_markup, InlineKeyboardMarkup):
                message["reply_markup"] = json.loads(form["reply_markup"])
            self.last_sent[chat_id] = message
            if chat_id in self.sent_to_watched:
                self.sent_to_watched[chat_id] += 1
            return message
        if isinstance(method, EditMessageReplyMarkup | EditMessageText):
            if method.chat_id is None or method.message_id is None:
                return True
            message = self._message(int(method.chat_id), method.message_id)
            message["edit_date"] = int(time.time())
            if isinstance(method, EditMessageText):
                message["text"] = method.text
            if isinstance(method.reply_markup, InlineKeyboardMarkup):
                message["reply_markup"] = json.loads(form["reply_markup"])
            return message
        if isinstance(method, GetMe):
            return BOT_USER
        if isinstance(method, TRUE_RESULTS):
            return True
        raise BenchError(f"the fake session does not serve {method.__api_method__}")

    @staticmethod
    def _message(chat_id: int, message_id: int, text: str | None = None) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "x"},
            "from": BOT_USER,
        }
        if text is not None:
            message["text"] = text
        return message


# --- What the people type ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Lead:
    user_id: int
    first_name: str
    name: str
    phone: str
    """As typed, "+7 916 123-45-67"."""
    shares_contact: bool
    company: str
    need: str

    @property
    def user(self) -> dict[str, Any]:
        return {
            "id": self.user_id,
            "is_bot": False,
            "first_name": self.first_name,
            "language_code": "ru",
        }

    def texts(self) -> list[str]:
        """What the echo bot gets from this person: the same six texts."""
        return [
            f"/start {SOURCE}",
            "✅ Согласен(на)",
            self.name,
            self.phone,
            self.company,
            self.need,
        ]


def make_leads(
    rng: random.Random, first_index: int, number: int, products: Sequence[str]
) -> list[Lead]:
    """`number` distinct people with distinct phones (the same phone would be the same contact,
    and its open deal would take the request instead of a new deal)."""
    leads = []
    for index in range(first_index, first_index + number):
        first_name = rng.choice(NAMES)
        digits = f"{index:07d}"
        leads.append(
            Lead(
                user_id=FIRST_LEAD_ID + index,
                first_name=first_name,
                name=f"{first_name} {rng.choice(('Иванова', 'Смирнов', 'Кузнецова', 'Попов'))}",
                phone=f"+7 916 {digits[:3]}-{digits[3:5]}-{digits[5:]}",
                shares_contact=rng.random() < 0.5,
                company=rng.choice(COMPANIES),
                need=rng.choice([*products, *FREE_NEEDS]),
            )
        )
    return leads


class Updates:
    """Telegram-shaped update dicts with increasing ids."""

    def __init__(self) -> None:
        self._update_ids = count(1)
        self._message_ids = count(1_000_000)

    def text(self, lead: Lead, text: str) -> dict[str, Any]:
        message = self._message(lead)
        message["text"] = text
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return {"update_id": next(self._update_ids), "message": message}

    def contact(self, lead: Lead) -> dict[str, Any]:
        message = self._message(lead)
        message["contact"] = {
            "phone_number": "".join(ch for ch in lead.phone if ch.isdigit()),
            "first_name": lead.first_name,
            "user_id": lead.user_id,
        }
        return {"update_id": next(self._update_ids), "message": message}

    def button(self, lead: Lead, message: dict[str, Any], data: str) -> dict[str, Any]:
        query = {
            "id": str(next(self._update_ids) * 7919),
            "from": lead.user,
            "chat_instance": str(lead.user_id),
            "message": message,
            "data": data,
        }
        return {"update_id": next(self._update_ids), "callback_query": query}

    def _message(self, lead: Lead) -> dict[str, Any]:
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": lead.user_id, "type": "private", "first_name": lead.first_name},
            "from": lead.user,
        }


# --- Driving a dispatcher ---------------------------------------------------------------------


@dataclass
class Timings:
    per_step: dict[str, list[int]] = field(default_factory=dict)
    wall_ns: int = 0

    @property
    def all(self) -> list[int]:
        return [ns for values in self.per_step.values() for ns in values]


class Driver:
    def __init__(self, dispatcher: Dispatcher, bot: Bot, session: FakeSession) -> None:
        self.dispatcher = dispatcher
        self.bot = bot
        self.session = session
        self.updates = Updates()
        self.timings = Timings()
        self.step = ""

    async def feed(self, step: str, raw: dict[str, Any]) -> None:
        self.step = step
        started = time.perf_counter_ns()
        update = Update.model_validate(raw, context={"bot": self.bot})
        await self.dispatcher.feed_update(self.bot, update)
        self.timings.per_step.setdefault(step, []).append(time.perf_counter_ns() - started)


LeadRunner = Callable[[Driver, Lead], Coroutine[Any, Any, None]]


async def echo_lead(driver: Driver, lead: Lead) -> None:
    for step, text in zip(STEPS, lead.texts(), strict=True):
        await driver.feed(step, driver.updates.text(lead, text))
        answer = driver.session.last_sent.get(lead.user_id)
        if answer is None or answer.get("text") != text:
            raise BenchError(f"the echo bot did not echo {text!r}")
    driver.session.forget(lead.user_id)


async def walk_lead_path(driver: Driver, lead: Lead) -> None:
    updates, session = driver.updates, driver.session
    await driver.feed("start", updates.text(lead, f"/start {SOURCE}"))
    policy = session.last_sent.get(lead.user_id)
    if policy is None:
        raise BenchError(f"no consent message for {lead.user_id}")
    await driver.feed("consent", updates.button(lead, policy, _accept_button(policy)))
    await driver.feed("name", updates.text(lead, lead.name))
    phone = updates.contact(lead) if lead.shares_contact else updates.text(lead, lead.phone)
    await driver.feed("phone", phone)
    await driver.feed("company", updates.text(lead, lead.company))
    cards = session.sent_to_watched[MANAGER_ID]
    await driver.feed("need", updates.text(lead, lead.need))
    confirmation = session.last_sent.get(lead.user_id, {}).get("text", "")
    if CONFIRMED not in confirmation:
        raise BenchError(f"lead {lead.user_id} got no confirmation, last: {confirmation!r}")
    if session.sent_to_watched[MANAGER_ID] != cards + 1:
        raise BenchError(f"the manager got no card for lead {lead.user_id}")
    session.forget(lead.user_id)


def _accept_button(message: dict[str, Any]) -> str:
    from bot.callbacks import Consent

    for row in message.get("reply_markup", {}).get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data")
            if data and data.startswith(Consent.__prefix__) and Consent.unpack(data).accept:
                return str(data)
    raise BenchError(f"no consent button in {message!r}")


async def drive(driver: Driver, leads: Sequence[Lead], run_lead: LeadRunner) -> Timings:
    driver.timings = Timings()
    started = time.perf_counter_ns()
    for lead in leads:
        await run_lead(driver, lead)
    driver.timings.wall_ns = time.perf_counter_ns() - started
    return driver.timings


# --- The two bots -----------------------------------------------------------------------------


@dataclass
class QueryCounts:
    statements: dict[str, int] = field(default_factory=dict)
    checkouts: dict[str, int] = field(default_factory=dict)


class BenchBot:
    """A dispatcher, its bot on a `FakeSession`, and how to walk one person through it."""

    name: str
    dispatcher: Dispatcher
    bot: Bot
    session: FakeSession
    run_lead: LeadRunner

    async def verify(self, leads: int) -> int | None:
        """Check the path left what it should; returns the number of deals, if it has any."""
        return None

    @contextlib.contextmanager
    def counting_queries(self, driver: Driver) -> Iterator[QueryCounts | None]:
        """SQL statements and connection checkouts per step, while inside (not when timed)."""
        yield None

    async def close(self) -> None:
        await self.bot.session.close()


class EchoBot(BenchBot):
    name = "echo"
    run_lead = staticmethod(echo_lead)

    def __init__(self) -> None:
        router = Router()

        @router.message()
        async def echo(message: Message) -> None:
            await message.answer(message.text or "")

        self.dispatcher = Dispatcher()
        self.dispatcher.include_router(router)
        self.session = FakeSession()
        self.bot = Bot(
            TOKEN,
            session=self.session,
            default=DefaultBotProperties(
                parse_mode=ParseMode.HTML, link_preview=LinkPreviewOptions(is_disabled=True)
            ),
        )


class LeadPathBot(BenchBot):
    name = "lead"
    run_lead = staticmethod(walk_lead_path)

    def __init__(self, app: Application, session: FakeSession) -> None:
        self.app = app
        self.dispatcher = app.dispatcher
        self.bot = app.bot
        self.session = session

    @classmethod
    async def create(cls, database: Path) -> LeadPathBot:
        from bot.app import create_application
        from bot.sender import CountInteractiveSends
        from config.settings import Settings

        settings = Settings(
            _env_file=None,
            bot_token=TOKEN,
            database_url=f"sqlite+aiosqlite:///{database}",
            admin_ids=frozenset({ADMIN_ID}),
            # The scheduler's jobs (the reminder sweep, the morning digest) are not the lead
            # path; left on, they would send in the middle of the timed pass.
            reminder_tick_seconds=0,
        )
        app = await create_application(settings, clock=BenchClock(MONDAY_10_MSK))
        await app.bot.session.close()
        session = FakeSession()
        # As in production: replies count against the paced sender's global budget.
        session.middleware(CountInteractiveSends(app.sender))
        app.bot.session = session
        await _enroll_manager(app)
        session.watch(MANAGER_ID)
        await app.dispatcher.emit_startup(bot=app.bot, **app.dispatcher.workflow_data)
        return cls(app, session)

    async def verify(self, leads: int) -> int:
        from sqlalchemy import func, select

        from storage.models import DealRow

        async with self.app.session_factory() as db:
            deals = await db.scalar(select(func.count()).select_from(DealRow)) or 0
        if deals != leads:
            raise BenchError(f"{leads} leads walked the path but the database holds {deals} deals")
        if self.session.sent_to_watched[MANAGER_ID] != leads:
            raise BenchError(f"the manager got {self.session.sent_to_watched[MANAGER_ID]} cards")
        return deals

    @contextlib.contextmanager
    def counting_queries(self, driver: Driver) -> Iterator[QueryCounts | None]:
        from sqlalchemy import event

        counts = QueryCounts()

        def statement(*_: Any) -> None:
            counts.statements[driver.step] = counts.statements.get(driver.step, 0) + 1

        def checkout(*_: Any) -> None:
            counts.checkouts[driver.step] = counts.checkouts.get(driver.step, 0) + 1

        engine = self.app.engine.sync_engine
        event.listen(engine, "before_cursor_execute", statement)
        event.listen(engine, "checkout", checkout)
        try:
            yield counts
        finally:
            event.remove(engine, "before_cursor_execute", statement)
            event.remove(engine, "checkout", checkout)

    async def close(self) -> None:
        await self.dispatcher.emit_shutdown(bot=self.bot, **self.dispatcher.workflow_data)
        await self.app.close()


async def _enroll_manager(app: Application) -> None:
    """An admin from ADMIN_IDS invites a manager who serves every pipeline, as in the bot."""
    from domain.roles import Role
    from services.staff import Profile, create_invite, identify, join_by_invite
    from storage.unit_of_work import UnitOfWork

    def uow() -> UnitOfWork:
        return UnitOfWork(app.session_factory)

    admin = await identify(
        uow(), app.clock, Profile(ADMIN_ID, "Ольга", "olga_admin", "ru"), app.settings.admin_ids
    )
    invite = await create_invite(
        uow(), app.clock, admin, Role.MANAGER, "bench", dt.timedelta(hours=1)
    )
    await join_by_invite(
        uow(),
        app.clock,
        Profile(MANAGER_ID, "Иван", "ivan_sales", "ru"),
        invite.token,
        [pipeline.id for pipeline in app.book.pipelines],
    )


# --- One worker: one bot in this process ------------------------------------------------------


@dataclass
class WorkerResult:
    bot: str
    updates: int
    seconds: float
    updates_per_s: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    steps: dict[str, list[float]]
    """step -> [p50 ms, p99 ms, mean ms]"""
    queries: dict[str, list[float]] | None
    """step -> [SQL statements, connection checkouts] per update, counted in the warm-up"""
    tracemalloc_peak_bytes: int | None
    max_rss_kb: int
    deals: int | None
    errors: int


class CountingHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        sys.stderr.write(f"{record.levelname} {record.name}: {record.getMessage()}\n")


async def run_worker(
    name: str, leads: int, warmup: int, seed: int, memory: bool, profile: Path | None
) -> WorkerResult:
    # Both bots run with the per-update INFO log of aiogram off (the bot's LOG_LEVEL=WARNING);
    # anything at WARNING or above is counted and fails the run.
    problems = CountingHandler()
    logging.basicConfig(level=logging.WARNING, handlers=[problems], force=True)
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="salesbot-bench-") as tmp:
        bench_bot: BenchBot
        if name == "lead":
            bench_bot = await LeadPathBot.create(Path(tmp) / "bench.sqlite3")
            products = [product.name for product in bench_bot.app.book.products]
        else:
            bench_bot = EchoBot()
            products = ["Внедрение CRM под ключ", "Подписка на облачную CRM"]
        try:
            driver = Driver(bench_bot.dispatcher, bench_bot.bot, bench_bot.session)
            with bench_bot.counting_queries(driver) as queries:
                await drive(driver, make_leads(rng, 0, warmup, products), bench_bot.run_lead)
            timed = make_leads(rng, warmup, leads, products)
            gc.collect()
            with _profiling(profile):
                timings = await drive(driver, timed, bench_bot.run_lead)
            max_rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            walked = warmup + leads
            peak = None
            if memory:
                more = make_leads(rng, walked, leads, products)
                gc.collect()
                tracemalloc.start()
                await drive(driver, more, bench_bot.run_lead)
                peak = tracemalloc.get_traced_memory()[1]
                tracemalloc.stop()
                walked += leads
            deals = await bench_bot.verify(walked)
        finally:
            await bench_bot.close()
    if problems.count:
        raise BenchError(f"{problems.count} warnings or errors were logged")
    latencies = timings.all
    return WorkerResult(
        bot=name,
        updates=len(latencies),
        seconds=timings.wall_ns / 1e9,
        updates_per_s=len(latencies) / (timings.wall_ns / 1e9),
        p50_ms=percentile(latencies, 50) / 1e6,
        p99_ms=percentile(latencies, 99) / 1e6,
        max_ms=max(latencies) / 1e6,
        steps={
            step: [
                percentile(values, 50) / 1e6,
                percentile(values, 99) / 1e6,
                statistics.fmean(values) / 1e6,
            ]
            for step, values in timings.per_step.items()
        },
        queries={
            step: [
                queries.statements.get(step, 0) / warmup,
                queries.checkouts.get(step, 0) / warmup,
            ]
            for step in STEPS
        }
        if queries is not None and warmup
        else None,
        tracemalloc_peak_bytes=peak,
        max_rss_kb=max_rss_kb,
        deals=deals,
        errors=problems.count,
    )


class _profiling:
    """cProfile around the timed pass when asked (`--profile FILE`, a pstats file)."""

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._profiler = cProfile.Profile() if path else None

    def __enter__(self) -> None:
        if self._profiler:
            self._profiler.enable()

    def __exit__(self, *_: object) -> None:
        if self._profiler and self._path:
            self._profiler.disable()
            self._profiler.dump_stats(self._path)


def percentile(values: Sequence[int], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return float(ordered[rank - 1])


# --- The command: both workers, the table -----------------------------------------------------


def spawn_worker(name: str, args: argparse.Namespace) -> WorkerResult:
    command = [
        sys.executable,
        "-m",
        "bench.lead_path",
        "--worker",
        name,
        "--leads",
        str(args.leads),
        "--warmup",
        str(args.warmup),
        "--seed",
        str(args.seed),
    ]
    if args.no_tracemalloc:
        command.append("--no-tracemalloc")
    done = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise BenchError(f"the {name} worker failed (exit status {done.returncode})")
    return WorkerResult(**json.loads(done.stdout.strip().splitlines()[-1]))


def combine(results: list[WorkerResult]) -> WorkerResult:
    """The median of several rounds of one bot (the worst memory)."""
    if len(results) == 1:
        return results[0]

    def median(values: Iterator[float]) -> float:
        return statistics.median(list(values))

    first = results[0]
    peaks = [r.tracemalloc_peak_bytes for r in results if r.tracemalloc_peak_bytes is not None]
    return WorkerResult(
        bot=first.bot,
        updates=first.updates,
        seconds=median(r.seconds for r in results),
        updates_per_s=median(r.updates_per_s for r in results),
        p50_ms=median(r.p50_ms for r in results),
        p99_ms=median(r.p99_ms for r in results),
        max_ms=max(r.max_ms for r in results),
        steps={
            step: [median(r.steps[step][i] for r in results) for i in range(3)]
            for step in first.steps
        },
        queries=first.queries,
        tracemalloc_peak_bytes=max(peaks) if peaks else None,
        max_rss_kb=max(r.max_rss_kb for r in results),
        deals=first.deals,
        errors=sum(r.errors for r in results),
    )


def code_version() -> str:
    """The commit measured, and whether tracked files differed from it."""

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False
        )
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD")
    if not commit:
        return "unknown (not a git checkout)"
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return f"commit {commit}" + (" + uncommitted changes" if dirty else "")


def machine_info() -> list[str]:
    cpu_model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return [
        f"code: {code_version()}",
        f"Python {platform.python_version()} ({platform.python_implementation()}), "
        f"{platform.system()} {platform.release()}, {platform.machine()}",
        f"CPU: {cpu_model}, {os.cpu_count()} logical CPUs ({usable} usable)",
        f"aiogram {version('aiogram')}, SQLAlchemy {version('SQLAlchemy')}, "
        f"aiosqlite {version('aiosqlite')}, SQLite {sqlite3.sqlite_version}",
    ]


def render(
    echo_rounds: list[WorkerResult],
    lead_rounds: list[WorkerResult],
    args: argparse.Namespace,
    elapsed: float,
    header: list[str],
) -> tuple[str, bool]:
    echo, lead = combine(echo_rounds), combine(lead_rounds)
    ratio = lead.updates_per_s / echo.updates_per_s
    ratio_ok = ratio >= TARGET_RATIO
    p99_ok = lead.p99_ms <= TARGET_P99_MS
    rounds = f", median of {args.rounds} rounds" if args.rounds > 1 else ""
    lines = [
        *header,
        f"{args.leads} leads x {len(STEPS)} updates after {args.warmup} warm-up leads, "
        f"seed {args.seed}{rounds}; total {elapsed:.1f} s",
        "",
        "| bot | updates | updates/s | p50 ms | p99 ms | max ms | peak traced memory | max RSS |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for result, label in ((echo, "bare aiogram echo bot"), (lead, "lead path (full bot)")):
        peak = (
            f"{result.tracemalloc_peak_bytes / 2**20:.1f} MiB"
            if result.tracemalloc_peak_bytes is not None
            else "—"
        )
        lines.append(
            f"| {label} | {result.updates} | {result.updates_per_s:,.0f} | {result.p50_ms:.2f} "
            f"| {result.p99_ms:.2f} | {result.max_ms:.2f} | {peak} "
            f"| {result.max_rss_kb / 1024:.0f} MiB |"
        )
    lines += [
        "",
        f"ratio (lead path updates/s ÷ echo updates/s): {ratio:.3f} "
        f"(target >= {TARGET_RATIO}): {'PASS' if ratio_ok else 'FAIL'}",
        f"lead path p99: {lead.p99_ms:.2f} ms (target <= {TARGET_P99_MS:g} ms): "
        f"{'PASS' if p99_ok else 'FAIL'}",
        f"deals in the database: {lead.deals} (one per lead, warm-up and memory pass included)",
        *(
            [
                "updates/s per round: echo "
                + ", ".join(f"{r.updates_per_s:,.0f}" for r in echo_rounds)
                + "; lead path "
                + ", ".join(f"{r.updates_per_s:,.0f}" for r in lead_rounds)
                + "; lead p99 ms "
                + ", ".join(f"{r.p99_ms:.1f}" for r in lead_rounds)
            ]
            if len(lead_rounds) > 1
            else []
        ),
        "",
        "updates/s: timed updates ÷ wall time of the timed pass; p50/p99/max: per update, "
        "Update.model_validate + Dispatcher.feed_update. Peak traced memory: tracemalloc peak "
        f"over a separate pass of {args.leads} more leads (tracemalloc slows everything, so it "
        "is off in the timed pass). Max RSS: the worker process's ru_maxrss after the timed "
        "pass, imports included.",
        "",
        "| lead step | p50 ms | p99 ms | mean ms | SQL statements | DB sessions |",
        "|---|---:|---:|---:|---:|---:|",
        *(
            f"| {step} | {p50:.2f} | {p99:.2f} | {mean:.2f} | {_queries(lead, step)} |"
            for step, (p50, p99, mean) in lead.steps.items()
        ),
        "",
        "SQL statements and DB sessions (connection checkouts) are per update, counted during "
        "the warm-up, not in the timed pass.",
    ]
    return "\n".join(lines), ratio_ok and p99_ok


def _queries(result: WorkerResult, step: str) -> str:
    if result.queries is None:
        return "— | —"
    statements, checkouts = result.queries[step]
    return f"{statements:.1f} | {checkouts:.1f}"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.lead_path", description=__doc__)
    parser.add_argument("--leads", type=int, default=300, help="timed leads (6 updates each)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed leads first")
    parser.add_argument("--seed", type=int, default=1, help="names, phones, answers")
    parser.add_argument("--rounds", type=int, default=1, help="echo+lead pairs; medians shown")
    parser.add_argument(
        "--no-tracemalloc", action="store_true", help="skip the memory pass (faster)"
    )
    parser.add_argument(
        "--worker", choices=BOTS, help="run one bot in this process and print its JSON result"
    )
    parser.add_argument(
        "--profile", type=Path, help="with --worker: cProfile the timed pass into this file"
    )
    args = parser.parse_args(argv)
    if args.leads < 1 or args.warmup < 0 or args.rounds < 1:
        parser.error("--leads and --rounds must be positive, --warmup not negative")
    if args.profile and not args.worker:
        parser.error("--profile needs --worker")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        if args.worker:
            result = asyncio.run(
                run_worker(
                    args.worker,
                    args.leads,
                    args.warmup,
                    args.seed,
                    memory=not args.no_tracemalloc,
                    profile=args.profile,
                )
            )
            print(json.dumps(asdict(result)))
            return 0
        header = machine_info()  # before the run: the commit may move while it runs
        started = time.perf_counter()
        results: dict[str, list[WorkerResult]] = {name: [] for name in BOTS}
        for _ in range(args.rounds):
            for name in BOTS:
                results[name].append(spawn_worker(name, args))
        elapsed = time.perf_counter() - started
        table, ok = render(results["echo"], results["lead"], args, elapsed, header)
    except BenchError as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 2
    print(table)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
