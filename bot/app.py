"""The composition root: settings -> sales book -> database -> bot and dispatcher."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramAPIError
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage, DefaultKeyBuilder
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram.types import LinkPreviewOptions
from aiogram.utils.i18n import I18n
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.handlers import build_root_router, lead
from bot.reminder_sweeper import ReminderSweeper
from bot.telegram.answered_queries import RememberAnsweredQueries
from bot.telegram.business_order import keep_business_chats_in_order
from bot.telegram.card_messages import OpenCards
from bot.telegram.fsm_storage import DatabaseStorage
from bot.telegram.http_session import BotApiSession
from bot.telegram.i18n import ActorLocaleMiddleware, create_i18n, pick_locale
from bot.telegram.inline_filters import run_filters_inline
from bot.telegram.menus import set_default_menus, set_staff_menus
from bot.telegram.metrics import Metrics, SendMetrics, UpdateMetrics
from bot.telegram.middlewares import (
    ActorMiddleware,
    UnitOfWorkMiddleware,
    UpdatesInHand,
    private_chats_only,
)
from bot.telegram.repeated_presses import RepeatedPresses
from bot.telegram.response_models import pin_response_models
from bot.telegram.revoked_token import RevokedTokenWatch
from bot.telegram.sender import CountInteractiveSends, PacedSender
from bot.telegram.shared_state import RedisTokenBucket, SharedSendBudget, TeamVersion
from bot.telegram.staff_directory import StaffDirectory
from bot.telegram.telegram_probe import TokenRejected
from bot.telegram.throttling import Limiter, ThrottlingMiddleware, TokenBucketLimiter
from config.settings import Settings
from domain.book_loading import parse_sales_book
from domain.clock import Clock, SystemClock
from domain.sales_book import SalesBook
from domain.scripts import ScriptLibrary
from domain.working_time import WorkingCalendar
from services.deals import backfill_deadlines
from services.reminders import release_stale_claims
from services.scripts import load_scripts
from services.staff import staff_members
from storage.database import create_engine, create_session_factory, migrate
from storage.unit_of_work import UnitOfWork, forget_handled_updates

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from bot.fanout.link import PollerLink

log = logging.getLogger(__name__)
SHARED_PER_SECOND = 18.0
"""Telegram's ~30 messages a second, shared by the instances, with a margin (20 still let 30
land in one second at the fake, now and then, behind nginx with an instance killed) for the time
between the decision in Redis and the message reaching Telegram (on a loaded 2-core machine
messages decided at 25 a second still reached the fake Telegram 30 in one second)."""
INBOX_KEPT = dt.timedelta(days=2)
"""How long handled update ids are kept: Telegram gives up redelivering after a day."""


def load_sales_book(path: Path) -> SalesBook:
    """Read and validate the sales book; a mistake raises `SalesBookError` naming the field."""
    return parse_sales_book(path.read_text(encoding="utf-8"), source=str(path))


@dataclass(frozen=True)
class WorkerPlace:
    """This process is one of several workers fed by one poller (WORKERS > 1, bot/fanout/)."""

    index: int
    link: PollerLink

    @property
    def keeps_the_clock(self) -> bool:
        """The first worker alone does what one process must: the scheduled sweeps, the outbox
        (so the pace of messages to a chat stays one process's), the start's release of claims
        a crash left and the greeting of Telegram (menus)."""
        return self.index == 0


@dataclass
class Application:
    settings: Settings
    book: SalesBook
    clock: Clock
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    bot: Bot
    dispatcher: Dispatcher
    calendar: WorkingCalendar
    sender: PacedSender
    sweeper: ReminderSweeper
    scheduler: AsyncIOScheduler
    updates_in_hand: UpdatesInHand
    open_cards: OpenCards
    i18n: I18n = field(repr=False)
    metrics: Metrics = field(default_factory=Metrics, repr=False)

    async def run_polling(self, *, handle_signals: bool = False) -> None:
        """Poll until stopped; `TokenRejected` if Telegram stopped accepting the token."""
        watch = RevokedTokenWatch(stop=self.dispatcher.stop_polling)
        self.bot.session.middleware(watch)
        await self.dispatcher.start_polling(
            self.bot, handle_signals=handle_signals, close_bot_session=False
        )
        if watch.refusal is not None:
            raise TokenRejected(watch.refusal)

    async def close(self) -> None:
        """A routine stop (polling already stopped): the updates in hand finish and their
        answers go out, the messages being sent get the same grace, then everything closes."""
        grace = self.settings.shutdown_grace_seconds
        if not await self.updates_in_hand.finished(grace):
            log.warning("stopping with updates still being handled after %.0f s", grace)
        # Paused, not shut: shutting APScheduler's asyncio executor cancels the jobs in flight,
        # and a query cancelled under SQLAlchemy's pool logs a traceback on a routine stop. The
        # sweeper lets its running jobs finish within the grace, and only then the executor goes.
        if self.scheduler.running:
            self.scheduler.pause()
        await self.sweeper.stop(grace)
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        await self.open_cards.finish(grace)
        await self.sender.close()
        await self.dispatcher.storage.close()
        await self.bot.session.close()
        await self.engine.dispose()


async def create_application(
    settings: Settings,
    *,
    clock: Clock | None = None,
    book: SalesBook | None = None,
    place: WorkerPlace | None = None,
) -> Application:
    if settings.bot_token is None:
        raise ValueError("BOT_TOKEN is not set")
    clock = clock or SystemClock()
    pin_response_models()
    book = book or load_sales_book(settings.sales_book)
    engine = create_engine(settings.database_url)
    await migrate(engine)
    session_factory = create_session_factory(engine)
    session = BotApiSession.for_server(settings.telegram_api_url)
    bot = Bot(
        token=settings.bot_token.get_secret_value(),
        session=session,
        # link_preview, not link_preview_is_disabled: the latter also sends the
        # disable_web_page_preview parameter that the Bot API no longer lists.
        default=DefaultBotProperties(
            parse_mode=ParseMode.HTML, link_preview=LinkPreviewOptions(is_disabled=True)
        ),
    )
    i18n = create_i18n(settings.default_locale)
    scripts = load_scripts(book=book)
    for problem in scripts.problems:
        log.warning("scripts library: %s", problem)
    calendar = WorkingCalendar.from_book(book.working_hours)
    keeps_the_clock = place is None or place.keeps_the_clock
    if keeps_the_clock:
        filled = await backfill_deadlines(UnitOfWork(session_factory), book, calendar)
        if filled:
            log.info("stage deadlines filled in for %d open deals", filled)
    sender = PacedSender(bot)
    bot.session.middleware(CountInteractiveSends(sender))
    metrics = Metrics()
    metrics.watch_sender(sender)
    bot.session.middleware(SendMetrics(metrics))
    bot.session.middleware(RememberAnsweredQueries())
    sweeper = ReminderSweeper(session_factory, sender, book, calendar, settings, clock, i18n)
    sweeper.on_sweep = metrics.count_sweep
    if engine.dialect.name == "sqlite" and keeps_the_clock:
        # One process by construction (Telegram refuses a second long-polling consumer, and of
        # several workers only the first claims): what is claimed was claimed by a process that
        # died before sending it.
        released = await release_stale_claims(UnitOfWork(session_factory))
        if released:
            log.info("%d messages claimed before a crash are due again", released)
    scheduler = AsyncIOScheduler(timezone=dt.UTC)
    updates_in_hand = UpdatesInHand()
    dispatcher = create_dispatcher(
        settings,
        book,
        clock,
        calendar,
        session_factory,
        i18n,
        scripts.library,
        # A worker that does not send the outbox has the first worker woken to send it.
        messages_owed=(
            place.link.wake_outbox
            if place is not None and not place.keeps_the_clock
            else sweeper.wake_outbox
        ),
        updates_in_hand=updates_in_hand,
        metrics=metrics,
        greets_telegram=keeps_the_clock,
    )
    dispatcher["sender"] = sender
    open_cards = OpenCards(session_factory, clock, book, calendar, settings, i18n, bot, sender)
    dispatcher["open_cards"] = open_cards
    redis = getattr(dispatcher.storage, "redis", None)
    if redis is not None:
        sender.budget = SharedSendBudget(redis, settings.redis_prefix, SHARED_PER_SECOND)
    if keeps_the_clock:
        _keep_the_clock(settings, dispatcher, scheduler, sweeper, session_factory)
    return Application(
        settings,
        book,
        clock,
        engine,
        session_factory,
        bot,
        dispatcher,
        calendar,
        sender,
        sweeper,
        scheduler,
        updates_in_hand,
        open_cards,
        i18n,
        metrics,
    )


def _keep_the_clock(
    settings: Settings,
    dispatcher: Dispatcher,
    scheduler: AsyncIOScheduler,
    sweeper: ReminderSweeper,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    """What runs on its own, started with the dispatcher: the outbox at once, then the sweeps."""
    # What the outbox owed when the bot stopped (or died) goes out first thing.
    dispatcher.startup.register(_outbox_starter(sweeper))
    if settings.reminder_tick_seconds > 0:
        # The first run sends what fell due while the bot was down.
        scheduler.add_job(
            sweeper.tick_logged,
            IntervalTrigger(seconds=settings.reminder_tick_seconds),
            id="reminders",
            next_run_time=dt.datetime.now(dt.UTC),
            max_instances=1,
            coalesce=True,
        )
        scheduler.add_job(
            sweeper.plan_daily_logged,
            IntervalTrigger(minutes=1),
            id="daily",
            next_run_time=dt.datetime.now(dt.UTC),
            max_instances=1,
            coalesce=True,
        )
        if settings.webhook_url:
            scheduler.add_job(
                _inbox_pruner(session_factory),
                IntervalTrigger(hours=1),
                id="inbox",
                max_instances=1,
                coalesce=True,
            )
        dispatcher.startup.register(_starter(scheduler))


def create_dispatcher(
    settings: Settings,
    book: SalesBook,
    clock: Clock,
    calendar: WorkingCalendar,
    session_factory: async_sessionmaker[AsyncSession],
    i18n: I18n,
    scripts: ScriptLibrary,
    *,
    messages_owed: Callable[[], None],
    updates_in_hand: UpdatesInHand,
    metrics: Metrics,
    greets_telegram: bool = True,
) -> Dispatcher:
    storage, isolation = _conversation_storage(settings, session_factory, clock)
    # Several instances share Redis: the team's version, the flood limit (below), the budget.
    redis: Redis | None = getattr(storage, "redis", None)
    team_version = TeamVersion(redis, settings.redis_prefix) if redis is not None else None
    staff_directory = StaffDirectory(session_factory, clock, team_version=team_version)
    dispatcher = Dispatcher(
        storage=storage,
        events_isolation=isolation,
        settings=settings,
        book=book,
        clock=clock,
        session_factory=session_factory,
        i18n=i18n,
        calendar=calendar,
        scripts=scripts,
        staff_directory=staff_directory,
    )
    keep_business_chats_in_order(dispatcher)
    dispatcher.update.filter(private_chats_only)
    dispatcher.update.outer_middleware(UpdateMetrics(metrics))
    dispatcher.update.outer_middleware(updates_in_hand)
    # The inbox only behind a webhook: polling confirms the updates it fetched, and a crash loses
    # the ones in hand rather than delivering them again.
    dispatcher.update.outer_middleware(
        UnitOfWorkMiddleware(
            session_factory,
            messages_owed,
            inbox=bool(settings.webhook_url),
            on_repeat=lead.answer_again,
        )
    )
    dispatcher.update.outer_middleware(ActorMiddleware(clock, settings.admin_ids, staff_directory))
    ActorLocaleMiddleware(i18n).setup(dispatcher)
    # After the locale middleware, so the "slow down" answer is in the person's language.
    limiter: Limiter = TokenBucketLimiter(settings.throttle_rate, settings.throttle_burst)
    if redis is not None:
        limiter = RedisTokenBucket(
            redis, settings.redis_prefix, settings.throttle_rate, settings.throttle_burst
        )
    throttling = ThrottlingMiddleware(limiter, exempt_user_ids=settings.admin_ids)
    dispatcher.message.outer_middleware(throttling)
    dispatcher.callback_query.outer_middleware(throttling)
    repeated_presses = RepeatedPresses()
    dispatcher.message.middleware(repeated_presses)
    dispatcher.callback_query.middleware(repeated_presses)
    dispatcher.include_router(build_root_router())
    run_filters_inline(dispatcher)
    if greets_telegram:
        dispatcher.startup.register(_on_startup)
    return dispatcher


def _starter(scheduler: AsyncIOScheduler) -> Callable[[], Awaitable[None]]:
    """Start the scheduler from the dispatcher's startup, inside the running loop (aiogram runs
    plain functions in a thread, where the asyncio scheduler cannot start)."""

    async def start_scheduler() -> None:
        if not scheduler.running:
            scheduler.start()

    return start_scheduler


def _inbox_pruner(
    session_factory: async_sessionmaker[AsyncSession],
) -> Callable[[], Awaitable[None]]:
    async def forget_old_updates() -> None:
        try:
            await forget_handled_updates(
                UnitOfWork(session_factory), dt.datetime.now(dt.UTC) - INBOX_KEPT
            )
        except Exception:
            log.exception("forgetting old update ids failed; the next hour retries")

    return forget_old_updates


def _outbox_starter(sweeper: ReminderSweeper) -> Callable[[], Awaitable[None]]:
    async def send_what_is_owed() -> None:
        sweeper.wake_outbox()

    return send_what_is_owed


def _conversation_storage(
    settings: Settings, session_factory: async_sessionmaker[AsyncSession], clock: Clock
) -> tuple[BaseStorage, BaseEventIsolation]:
    """Where conversation state lives, and the lock that keeps one person's updates in order
    (a quick second tap must not race the first one's state): in this process and the database
    for a single instance, in Redis when several instances share the updates."""
    if settings.redis_url:
        # The Redis client is imported only by the instances that use it.
        from aiogram.fsm.storage.redis import RedisStorage

        from bot.telegram.chat_lock import RenewedChatLock

        redis_storage = RedisStorage.from_url(
            settings.redis_url, key_builder=DefaultKeyBuilder(prefix=settings.redis_prefix)
        )
        return redis_storage, RenewedChatLock(redis_storage.redis, redis_storage.key_builder)
    return DatabaseStorage(session_factory, clock), SimpleEventIsolation()


async def _on_startup(
    bot: Bot,
    dispatcher: Dispatcher,
    settings: Settings,
    book: SalesBook,
    session_factory: async_sessionmaker[AsyncSession],
    i18n: I18n,
) -> None:
    if settings.webhook_url and settings.webhook_secret:
        # The web server (aiohttp's, the Mini App's API) is imported only where one is served.
        from bot.web import webhook_endpoint

        # Every instance sets the same webhook; the pending updates are never dropped.
        await bot.set_webhook(
            url=webhook_endpoint(settings.webhook_url),
            secret_token=settings.webhook_secret.get_secret_value(),
            allowed_updates=dispatcher.resolve_used_update_types(),
            drop_pending_updates=False,
        )
    else:
        await bot.delete_webhook(drop_pending_updates=False)
    with i18n.context():
        await set_default_menus(bot, settings.default_locale)
        members = await staff_members(UnitOfWork(session_factory))
        try:
            await set_staff_menus(
                bot,
                [
                    (member_id, role, pick_locale(language, settings.default_locale))
                    for member_id, role, language in members
                ],
                settings.web_app_url,
            )
        except TelegramAPIError as error:
            log.warning("could not set a staff command menu: %s", error)
    me = await bot.get_me()
    log.info("bot @%s is up for %s: %d staff", me.username, book.company, len(members))
