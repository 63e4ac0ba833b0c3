"""Several bot instances on one PostgreSQL database: every reminder and every owed card is sent
exactly once, counted at the fake Bot API (runs when TEST_DATABASE_URL points at a PostgreSQL
server; CI's does)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from pathlib import Path

import pytest

from bot.app import create_application
from config.settings import Settings
from domain.clock import FixedClock
from domain.roles import Role
from services.deals import create_deal
from services.leads import RequestForm, record_consent, submit_request
from services.staff import Profile
from storage.models import StaffPipeline, StaffRow
from storage.unit_of_work import UnitOfWork
from tests.db import POSTGRES_URL, fresh_database
from tests.e2e.conftest import MONDAY_10_MSK
from tests.fake_telegram import FakeTelegram

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="needs TEST_DATABASE_URL (PostgreSQL)")

MANAGERS = 40


async def test_two_instances_send_every_due_reminder_once(
    tg: FakeTelegram, settings: Settings, clock: FixedClock, tmp_path: Path
) -> None:
    async with fresh_database("postgresql", tmp_path) as url:
        shared = settings.model_copy(update={"database_url": url})
        first = await create_application(shared, clock=clock)
        second = await create_application(shared, clock=clock)
        try:
            people = [tg.user(f"Менеджер {n}") for n in range(MANAGERS)]
            async with first.session_factory() as session:
                for person in people:
                    session.add(
                        StaffRow(
                            telegram_id=person.id,
                            role=Role.MANAGER.value,
                            first_name=person.first_name,
                            joined_at=clock.now(),
                        )
                    )
                await session.commit()
            for person in people:  # each deal plans its "due soon" for 13:00
                await create_deal(
                    UnitOfWork(first.session_factory),
                    clock,
                    first.book,
                    first.calendar,
                    "implementation_mid",
                    manager_id=person.id,
                )
            clock.set(MONDAY_10_MSK + dt.timedelta(hours=3))
            # Small batches, so the two sweepers interleave their claims many times.
            first.sweeper.batch = second.sweeper.batch = 3
            tallies = await asyncio.gather(first.sweeper.tick(), second.sweeper.tick())
            assert sum(t.sent for t in tallies) == MANAGERS
            assert all(t.sent > 0 for t in tallies)  # both instances did part of the work
            again = await asyncio.gather(first.sweeper.tick(), second.sweeper.tick())
            assert sum(t.sent for t in again) == 0
        finally:
            await first.close()
            await second.close()
    sends = Counter(call.params["chat_id"] for call in tg.calls_to("sendMessage"))
    assert sends == Counter({person.id: 1 for person in people})


async def test_two_instances_send_every_owed_card_once(
    tg: FakeTelegram, settings: Settings, clock: FixedClock, tmp_path: Path
) -> None:
    """The outbox is claimed like the reminders: two instances, forty new requests, each card
    sent once, by one of them."""
    async with fresh_database("postgresql", tmp_path) as url:
        shared = settings.model_copy(update={"database_url": url})
        first = await create_application(shared, clock=clock)
        second = await create_application(shared, clock=clock)
        try:
            people = [tg.user(f"Менеджер {n}") for n in range(MANAGERS)]
            async with first.session_factory() as session:
                session.add_all(
                    StaffRow(
                        telegram_id=person.id,
                        role=Role.MANAGER.value,
                        first_name=person.first_name,
                        joined_at=clock.now(),
                    )
                    for person in people
                )
                await session.flush()
                serving = first.book.pipelines[0].id  # where a request without a product goes
                session.add_all(StaffPipeline(staff_id=p.id, pipeline_id=serving) for p in people)
                await session.commit()
            for number in range(MANAGERS):  # round robin: one request, one card, each
                profile = Profile(300_000 + number, f"Лид {number}", None, "ru")
                await record_consent(UnitOfWork(first.session_factory), clock, first.book, profile)
                form = RequestForm(f"Лид {number}", f"+7903{number:07d}", None, "CRM", None)
                await submit_request(
                    UnitOfWork(first.session_factory),
                    clock,
                    first.book,
                    first.calendar,
                    profile,
                    form,
                    "site",
                    daily_limit=3,
                )
            first.sweeper.batch = second.sweeper.batch = 3
            await asyncio.gather(first.sweeper.send_owed(), second.sweeper.send_owed())
            await asyncio.gather(first.sweeper.send_owed(), second.sweeper.send_owed())
        finally:
            await first.close()
            await second.close()
    cards = Counter(
        call.params["chat_id"]
        for call in tg.calls_to("sendMessage")
        if "Новая заявка" in str(call.params.get("text"))
    )
    assert cards == Counter({person.id: 1 for person in people})
