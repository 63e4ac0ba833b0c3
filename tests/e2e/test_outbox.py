"""What the bot promised, it delivers even if it is killed: the messages a change owes someone
(the new-request card, the client's "a manager took your request") are rows written with the
change, sent right after it, after a crash, and through Telegram's flood control."""

from __future__ import annotations

import asyncio
import datetime as dt
import signal
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import Application
from bot.telegram.sender import Pace
from config.settings import Settings
from domain.clock import FixedClock
from domain.reminders import OUTBOX_KINDS, REPLY_GRACE
from services.leads import RequestForm, record_consent, submit_request
from services.staff import Profile
from storage.database import create_engine, create_session_factory
from storage.models import DealRow, ReminderRow
from storage.unit_of_work import UnitOfWork
from tests.e2e.conftest import ADMIN_ID, MONDAY_10_MSK, running_bot
from tests.e2e.scenario import join_team, leave_request
from tests.e2e.test_run_bot import STARTUP_TIMEOUT, ConsoleOutput, start_bot
from tests.fake_telegram import FakeTelegram, FakeUser

CARD = "Новая заявка №"


async def fill_form_up_to_the_last_step(lead: FakeUser) -> None:
    await lead.send("/start site")
    await lead.press("✅ Согласен(на)")
    await lead.wait_message(contains="Как к вам обращаться")
    await lead.send("Анна")
    await lead.wait_message(contains="Ваш телефон")
    await lead.send("+7 916 123-45-67")
    await lead.wait_message(contains="компания")
    await lead.send("Пропустить")
    await lead.wait_message(contains="Что вас интересует")


async def stored(database_url: str) -> tuple[list[DealRow], list[ReminderRow]]:
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session:
            deals = list(await session.scalars(select(DealRow)))
            outbox = list(
                await session.scalars(
                    select(ReminderRow).where(ReminderRow.kind.in_([k.value for k in OUTBOX_KINDS]))
                )
            )
            return deals, outbox
    finally:
        await engine.dispose()


def cards_to(tg: FakeTelegram, manager: FakeUser) -> list[str]:
    return [text for m in tg.messages_in(manager.id) if CARD in (text := m.text or "")]


def answered(tg: FakeTelegram, chat_id: int, fragment: str) -> bool | None:
    """The bot has asked Telegram to send `fragment` to the chat (delivered or not yet)."""
    calls = tg.calls_to("sendMessage", chat_id=chat_id)
    return any(fragment in str(call.params.get("text")) for call in calls) or None


async def test_a_bot_killed_between_the_commit_and_the_card_sends_the_card_after_restart(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"
    process = await start_bot(tmp_path, tg.base_url)
    ConsoleOutput(process)  # drained as it comes, so the bot never blocks on a full pipe
    try:
        admin = tg.user("Ольга", user_id=ADMIN_ID)
        await admin.send("/start")
        await admin.wait_message(contains="Вы — администратор", timeout=STARTUP_TIMEOUT)
        manager = await join_team(tg, admin, "Менеджер", "Иван")
        anna = tg.user("Анна")
        await fill_form_up_to_the_last_step(anna)
        # The lead's confirmation hangs in Telegram: the request is committed, the card not
        # sent yet (it goes after the lead's answer) when the bot is killed.
        tg.delay_next("sendMessage", 5.0, chat_id=anna.id)
        await anna.send("Внедрение CRM под ключ")
        await tg.wait_for(
            lambda: answered(tg, anna.id, "Заявка №1 принята"), what="the bot to answer the lead"
        )
        process.kill()
        await process.wait()
        assert cards_to(tg, manager) == []
        deals, outbox = await stored(database_url)
        assert len(deals) == 1
        # The lead's answer was taken to be sent before the kill; the card was not.
        assert [(row.kind, row.status) for row in outbox] == [("note", "sent"), ("card", "pending")]
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()

    restarted = await start_bot(tmp_path, tg.base_url)
    console = ConsoleOutput(restarted)
    try:
        card = await manager.wait_message(contains="Новая заявка №1", timeout=STARTUP_TIMEOUT)
        assert "Анна" in card.text and card.has_button("✅ Взять в работу")
        await tg.settle(quiet=0.5)
        assert len(cards_to(tg, manager)) == 1
    finally:
        restarted.send_signal(signal.SIGTERM)
        await asyncio.wait_for(restarted.wait(), timeout=STARTUP_TIMEOUT)
    assert restarted.returncode == 0
    assert "Traceback" not in await console.finish()
    deals, outbox = await stored(database_url)
    assert len(deals) == 1
    assert [(row.kind, row.status) for row in outbox] == [("note", "sent"), ("card", "sent")]


async def test_sigterm_during_the_last_step_still_answers_the_lead_and_sends_the_card(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"
    process = await start_bot(tmp_path, tg.base_url)
    console = ConsoleOutput(process)
    try:
        admin = tg.user("Ольга", user_id=ADMIN_ID)
        await admin.send("/start")
        await admin.wait_message(contains="Вы — администратор", timeout=STARTUP_TIMEOUT)
        manager = await join_team(tg, admin, "Менеджер", "Иван")
        anna = tg.user("Анна")
        await fill_form_up_to_the_last_step(anna)
        # Telegram is slow to take the lead's confirmation; the bot is told to stop meanwhile.
        tg.delay_next("sendMessage", 2.0, chat_id=anna.id)
        await anna.send("Внедрение CRM под ключ")
        await tg.wait_for(
            lambda: answered(tg, anna.id, "Заявка №1 принята"), what="the bot to answer the lead"
        )
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), timeout=STARTUP_TIMEOUT)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    log = await console.finish()
    assert process.returncode == 0, log
    assert "Traceback" not in log
    confirmations = [m for m in tg.messages_in(anna.id) if "Заявка №1 принята" in (m.text or "")]
    assert len(confirmations) == 1
    assert len(cards_to(tg, manager)) == 1
    deals, outbox = await stored(database_url)
    assert len(deals) == 1
    assert [(row.kind, row.status) for row in outbox] == [("note", "sent"), ("card", "sent")]


async def test_a_bot_killed_before_answering_the_lead_leaves_the_answer_to_the_sweepers(
    tg: FakeTelegram, app_on_each_database: Application, admin: FakeUser, clock: FixedClock
) -> None:
    app = app_on_each_database
    manager = await join_team(tg, admin, "Менеджер", "Иван")
    anna = tg.user("Анна")
    # What a bot killed right after filing Anna's request leaves: the request committed with
    # the answer it owed her, and nobody to send it.
    profile = Profile(anna.id, "Анна", None, "ru")
    await record_consent(UnitOfWork(app.session_factory), app.clock, app.book, profile)
    form = RequestForm("Анна", "+7 916 123-45-67", None, "CRM", None)
    args = (app.clock, app.book, app.calendar, profile, form, "site")
    await submit_request(UnitOfWork(app.session_factory), *args, daily_limit=3)
    app.sweeper.wake_outbox()
    await manager.wait_message(contains="Новая заявка №1")
    await app.sweeper.tick_logged()
    await tg.settle()
    assert not [m for m in anna.messages if "принята" in m.text]  # its bot may still send it

    clock.set(clock.now() + REPLY_GRACE)
    await app.sweeper.tick_logged()
    await app.sweeper.send_owed()
    await tg.settle()
    answers = [call for call in tg.calls_to("sendMessage", chat_id=anna.id) if call.ok]
    assert len(answers) == 1
    assert "Спасибо, Анна! Заявка №1 принята" in answers[0].params["text"]
    assert answers[0].params["reply_markup"] == {"remove_keyboard": True}
    await app.sweeper.tick_logged()
    await app.sweeper.send_owed()
    await tg.settle()
    assert len(tg.calls_to("sendMessage", chat_id=anna.id)) == 1


async def test_a_lead_answered_by_the_bot_that_filed_the_request_is_not_answered_again(
    tg: FakeTelegram, app_on_each_database: Application, admin: FakeUser, clock: FixedClock
) -> None:
    app = app_on_each_database
    await join_team(tg, admin, "Менеджер", "Иван")
    anna = tg.user("Анна")
    await leave_request(anna)
    await tg.settle()
    clock.set(clock.now() + REPLY_GRACE + dt.timedelta(minutes=1))
    await app.sweeper.tick_logged()
    await app.sweeper.send_owed()
    await tg.settle()
    assert len([m for m in anna.messages if "Заявка №1 принята" in m.text]) == 1


async def test_sixty_cards_to_one_manager_under_flood_control_all_arrive_once(
    tg: FakeTelegram, app_on_each_database: Application, admin: FakeUser
) -> None:
    app = app_on_each_database
    manager = await join_team(tg, admin, "Менеджер", "Иван")
    # Telegram's one message a second to a chat would make this a minute; the flood limit
    # below is what the sender now runs into, again and again.
    app.sender.pace = Pace(private_interval=0.02)
    tg.enforce_flood_limits(per_second=30, per_chat_per_second=10, retry_after=1)
    for number in range(60):
        profile = Profile(200_000 + number, f"Лид {number}", None, "ru")
        await record_consent(UnitOfWork(app.session_factory), app.clock, app.book, profile)
        form = RequestForm(f"Лид {number}", f"+7903{number:07d}", None, "CRM", None)
        await submit_request(
            UnitOfWork(app.session_factory),
            app.clock,
            app.book,
            app.calendar,
            profile,
            form,
            "site",
            daily_limit=3,
        )
    app.sweeper.wake_outbox()
    await tg.wait_for(lambda: len(cards_to(tg, manager)) >= 60 or None, what="60 cards", timeout=60)
    await tg.settle(quiet=0.5)
    assert tg.flood_429s > 0
    numbers = sorted(
        int(text.split(CARD)[1].split()[0].strip("<>/b")) for text in cards_to(tg, manager)
    )
    assert numbers == list(range(1, 61))
    async with app.session_factory() as session:
        statuses = list(
            await session.scalars(select(ReminderRow.status).where(ReminderRow.kind == "card"))
        )
    assert statuses == ["sent"] * 60


async def test_the_client_hears_that_a_manager_took_the_request(
    tg: FakeTelegram, app_on_each_database: Application, admin: FakeUser
) -> None:
    manager = await join_team(tg, admin, "Менеджер", "Иван")
    anna = tg.user("Анна")
    await leave_request(anna)
    await manager.wait_message(contains="Новая заявка №1")
    await manager.press("✅ Взять в работу")
    taken = await anna.wait_message(contains="взял вашу заявку №1")
    assert "Менеджер Иван" in taken.text
    # Taking it again (a second tap) tells the client nothing new.
    await manager.press_data("deal:take:1")
    await tg.settle()
    assert sum("взял вашу заявку" in m.text for m in anna.messages) == 1


async def test_a_stop_in_the_middle_of_a_sweep_leaves_no_traceback_and_loses_nothing(
    tg: FakeTelegram, settings: Settings, clock: FixedClock, admin: FakeUser
) -> None:
    # A short grace, so the stop runs out of it while Telegram still holds the reminder.
    quick = settings.model_copy(update={"shutdown_grace_seconds": 0.3})
    async with running_bot(tg, quick, clock) as app:
        ivan = await join_team(tg, admin, "Менеджер", "Иван")
        await leave_request(tg.user("Анна"))  # Monday 10:00 MSK: "due soon" at 13:00
        await ivan.press("✅ Взять в работу")
        await tg.settle()
        clock.set(MONDAY_10_MSK + dt.timedelta(hours=3))
        tg.delay_next("sendMessage", 2.0, chat_id=ivan.id)
        sweep = asyncio.create_task(app.sweeper.tick_logged())
        await tg.wait_for(lambda: answered(tg, ivan.id, "Скоро срок"), what="the reminder's send")
    # The bot has stopped: the sweep ended with it, and (the autouse fixture checks) no
    # traceback was logged. The reminder is given back, to be sent after the next start.
    assert sweep.done() and sweep.exception() is None
    engine = create_engine(quick.database_url)
    async with create_session_factory(engine)() as session:
        status = await session.scalar(
            select(ReminderRow.status).where(ReminderRow.kind == "due_soon")
        )
    await engine.dispose()
    assert status == "pending"


async def test_a_stop_while_the_scheduled_jobs_wait_on_the_database_lets_them_finish(
    tg: FakeTelegram, settings: Settings, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    # The scheduler's own jobs, as run_bot.py runs them.
    scheduled = settings.model_copy(
        update={"reminder_tick_seconds": 3600, "shutdown_grace_seconds": 5}
    )
    database = Path(scheduled.database_url.split("///", 1)[1])
    async with running_bot(tg, scheduled, clock) as app:
        # Another writer holds the file, so the jobs wait on SQLite's busy timeout mid-query.
        holder = sqlite3.connect(database, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        for job in app.scheduler.get_jobs():
            job.modify(next_run_time=dt.datetime.now(dt.UTC))
        await asyncio.sleep(0.3)
        # The other writer lets go while the bot is stopping, well within its grace.
        asyncio.get_running_loop().call_later(0.5, holder.execute, "ROLLBACK")
    holder.close()
    # Not cancelled under SQLAlchemy's pool (which may log a traceback from the cancelled
    # rollback): the jobs finished within the grace. The autouse fixture checks the log.
    assert "stopped by the shutdown" not in caplog.text
