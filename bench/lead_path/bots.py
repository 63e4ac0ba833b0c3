"""The two bots: a bare aiogram echo bot (the baseline) and the real bot on a fresh SQLite."""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiogram import Bot, Dispatcher, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.enums import ParseMode
from aiogram.types import LinkPreviewOptions, Message

from bench.lead_path.common import ADMIN_ID, MANAGER_ID, MONDAY_10_MSK, TOKEN, BenchError
from bench.lead_path.driver import Driver, LeadRunner, echo_lead, walk_lead_path
from bench.lead_path.fake_session import FakeSession

if TYPE_CHECKING:
    from bot.app import Application


class BenchClock:
    """Real time, but starting from a fixed working Monday morning: timestamps move (so rows are
    really updated), while the first-response deadline is computed the same way on every run,
    whatever the hour or the day of the week the benchmark runs at."""

    def __init__(self, start: dt.datetime) -> None:
        self._start = start
        self._started = time.monotonic()

    def now(self) -> dt.datetime:
        return self._start + dt.timedelta(seconds=time.monotonic() - self._started)


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
        from bot.telegram.sender import CountInteractiveSends
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
        # As aiogram's polling starts it: the dispatcher is one of the startup's arguments.
        await app.dispatcher.emit_startup(
            bot=app.bot, dispatcher=app.dispatcher, **app.dispatcher.workflow_data
        )
        return cls(app, session)

    async def verify(self, leads: int) -> int:
        from sqlalchemy import func, select

        from storage.models import DealRow, ReminderRow

        async with self.app.session_factory() as db:
            deals = await db.scalar(select(func.count()).select_from(DealRow)) or 0
            cards = await db.scalar(
                select(func.count()).select_from(ReminderRow).where(ReminderRow.kind == "card")
            )
        if deals != leads:
            raise BenchError(f"{leads} leads walked the path but the database holds {deals} deals")
        if cards != leads:
            raise BenchError(f"{leads} new deals but {cards} cards owed to their manager")
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
        await self.dispatcher.emit_shutdown(
            bot=self.bot, dispatcher=self.dispatcher, **self.dispatcher.workflow_data
        )
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
