"""The manager's own Telegram (Telegram Business): a manager connects the bot to their account,
and their chats with clients are logged on the clients' deals. The bot writes nothing there."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import Update
from sqlalchemy import ColumnElement, select

from bot.app import Application
from config.settings import Settings
from domain.clock import FixedClock
from domain.sales_book import DEFAULT_SALES_BOOK_PATH
from storage.models import (
    ActivityRow,
    BusinessChatRow,
    BusinessConnectionRow,
    BusinessMessageRow,
    ContactRow,
    ReminderRow,
)
from storage.unit_of_work import UnitOfWork
from tests.db import BACKENDS, fresh_database
from tests.e2e.conftest import running_bot
from tests.e2e.scenario import contacts, deals, join_team, leave_request
from tests.fake_telegram import FakeTelegram, FakeUser

MINUTE = dt.timedelta(minutes=1)
T = TypeVar("T")


@pytest.fixture(autouse=True)
def the_bot_stays_silent_in_business_chats(tg: FakeTelegram) -> Iterator[None]:
    yield
    assert tg.business_calls == [], [call.method for call in tg.business_calls]


@pytest.fixture(params=BACKENDS)
async def app_auto_create(
    request: pytest.FixtureRequest,
    tg: FakeTelegram,
    settings: Settings,
    clock: FixedClock,
    tmp_path: Path,
) -> AsyncIterator[Application]:
    """The bot with the book's `business.auto_create: true`, on each database."""
    book = DEFAULT_SALES_BOOK_PATH.read_text(encoding="utf-8")
    assert "  auto_create: false\n" in book
    path = tmp_path / "book.yaml"
    path.write_text(book.replace("  auto_create: false\n", "  auto_create: true\n"), "utf-8")
    async with fresh_database(request.param, tmp_path) as url:
        on_it = settings.model_copy(update={"database_url": url, "sales_book": path})
        async with running_bot(tg, on_it, clock) as application:
            yield application


async def rows(app: Application, model: type[T], *where: ColumnElement[bool]) -> list[T]:
    async with app.session_factory() as session:
        query = select(model).where(*where).order_by(model.id)  # type: ignore[attr-defined]
        return list(await session.scalars(query))


async def connected_manager(tg: FakeTelegram, admin: FakeUser, name: str = "Иван") -> FakeUser:
    manager = await join_team(tg, admin, "Менеджер", name)
    await manager.connect_business()
    await manager.wait_message(contains="Ваш Telegram подключён")
    return manager


def chat_history(messages: list[BusinessMessageRow]) -> list[tuple[object, ...]]:
    return [(m.direction, m.change, m.kind, m.text, m.deal_id) for m in messages]


async def test_a_manager_connects_and_disconnects(
    tg: FakeTelegram, app_on_each_database: Application, admin: FakeUser
) -> None:
    app = app_on_each_database
    manager = await join_team(tg, admin, "Менеджер", "Иван")
    connection_id = await manager.connect_business()
    told = await manager.wait_message(contains="Ваш Telegram подключён")
    assert "Бот сам в эти чаты ничего не пишет" in told.text
    assert "Как остановить: Настройки → Telegram Business → Чат-боты" in told.text
    assert "спрошу здесь, завести ли сделку" in told.text
    assert "/forget_me" in told.text  # the book's notice for clients, to put in the greeting
    [stored] = await rows(app, BusinessConnectionRow)
    assert (stored.id, stored.staff_id, stored.user_chat_id) == (
        connection_id,
        manager.id,
        manager.id,
    )
    assert stored.is_enabled and not stored.can_reply

    await manager.connect_business(can_reply=True)  # rights changed: nothing to tell
    await tg.settle()
    [stored] = await rows(app, BusinessConnectionRow)
    assert stored.can_reply and stored.rights == {"can_reply": True}
    await manager.expect_no_message()

    await manager.disconnect_business()
    await manager.wait_message(contains="Бот отключён от вашего Telegram")
    [stored] = await rows(app, BusinessConnectionRow)
    assert not stored.is_enabled

    # A message already on its way when she disconnected is not logged.
    tg.business_connections[connection_id].is_enabled = True
    petr = tg.user("Пётр", started=False)
    await petr.write_to_business(manager, "Здравствуйте!")
    await tg.settle()
    assert await rows(app, BusinessChatRow) == []
    assert await rows(app, BusinessMessageRow) == []
    await manager.expect_no_message()


async def test_a_non_staff_connection_is_refused_and_nothing_is_stored(
    tg: FakeTelegram, app_on_each_database: Application, admin: FakeUser
) -> None:
    app = app_on_each_database
    stranger = tg.user("Сергей")
    await stranger.send("/start")
    stranger.mark_seen()
    await stranger.connect_business()
    refused = await stranger.wait_message(contains="только сотрудники отдела продаж")
    assert "ничего о вашем подключении не сохранено" in refused.text
    client = tg.user("Пётр", started=False)
    await client.write_to_business(stranger, "Привет")
    await tg.settle()
    assert await rows(app, BusinessConnectionRow) == []
    assert await rows(app, BusinessChatRow) == []
    assert await rows(app, BusinessMessageRow) == []
    assert await contacts(app) == []

    # Someone who never opened the bot connects: nowhere to say it, and nothing fails.
    silent = tg.user("Оксана", started=False)
    await silent.connect_business()
    await tg.settle()
    assert await rows(app, BusinessConnectionRow) == []


async def test_a_new_client_gets_a_card_then_a_deal(
    tg: FakeTelegram, app_on_each_database: Application, admin: FakeUser, clock: FixedClock
) -> None:
    app = app_on_each_database
    manager = await connected_manager(tg, admin)
    petr = tg.user("Пётр", last_name="Смирнов", username="petr_s", started=False)
    first_at = clock.now()
    await petr.write_to_business(manager, "Здравствуйте, сколько стоит внедрение?")
    card = await manager.wait_message(contains="Новый клиент в вашем Telegram")
    assert "Пётр Смирнов (@petr_s)" in card.text
    assert card.has_button("➕ Завести сделку") and card.has_button("🙅 Не клиент")
    assert await deals(app) == []
    [chat] = await rows(app, BusinessChatRow)
    assert chat.deal_id is None and chat.first_in_at == first_at

    clock.advance(3 * MINUTE)  # the bot reads its clock when it handles an update: settle first
    await manager.reply_from_business(petr, "Добрый день! Расскажите о команде?")
    await petr.write_to_business(manager, "Нас 12 человек")
    await tg.settle()
    await manager.expect_no_message()  # asked once per chat
    pending = await rows(app, BusinessMessageRow)
    assert [(m.direction, m.text, m.deal_id) for m in pending] == [
        ("in", "Здравствуйте, сколько стоит внедрение?", None),
        ("out", "Добрый день! Расскажите о команде?", None),
        ("in", "Нас 12 человек", None),
    ]

    clock.advance(10 * MINUTE)
    await manager.press("➕ Завести сделку")
    shown = await manager.wait_message(contains="Сделка №1")
    assert "Переписка в Telegram" in shown.text
    assert "клиент: Нас 12 человек" in shown.text
    assert "менеджер: Добрый день! Расскажите о команде?" in shown.text
    [deal] = await deals(app)
    assert deal.source == "telegram_business" and deal.manager_id == manager.id
    assert deal.stage_id == app.book.pipelines[0].stages[0].id and deal.lead_chat_id is None
    assert deal.taken_at == first_at + 3 * MINUTE  # the reply before the deal counts
    # Counted from the client's first message (Monday 10:00, working time), not the press.
    assert deal.first_response_due_at == first_at + app.book.first_response_minutes * MINUTE
    assert {m.deal_id for m in await rows(app, BusinessMessageRow)} == {deal.id}
    [contact] = await contacts(app)
    assert (contact.telegram_id, contact.name, contact.username) == (
        petr.id,
        "Пётр Смирнов",
        "petr_s",
    )
    assert contact.consent_at is None  # no consent was asked: the bot never wrote to him

    await petr.write_to_business(manager, "Когда созвонимся?")
    # The card open in the manager's chat shows the new line by itself.
    await manager.wait_message(
        where=lambda m: m.message_id == shown.message_id and "клиент: Когда созвонимся?" in m.text
    )
    assert [m.deal_id for m in await rows(app, BusinessMessageRow)][-1] == deal.id
    assert len(await deals(app)) == 1
    assert petr.messages == []  # the bot never wrote to the client, anywhere


async def test_not_a_client_deletes_the_chat_and_stops_logging_it(
    tg: FakeTelegram, app_on_each_database: Application, admin: FakeUser
) -> None:
    app = app_on_each_database
    manager = await connected_manager(tg, admin)
    friend = tg.user("Коля", started=False)
    await friend.write_to_business(manager, "Пиво в пятницу?")
    await manager.wait_message(contains="Новый клиент в вашем Telegram")
    await manager.press("🙅 Не клиент")
    await manager.wait_message(contains="Не клиент: этот чат не записывается")
    await friend.write_to_business(manager, "Ну так что?")
    await manager.reply_from_business(friend, "Давай!")
    await tg.settle()
    assert await rows(app, BusinessMessageRow) == []
    [chat] = await rows(app, BusinessChatRow)
    assert chat.declined_at is not None and chat.client_name is None
    assert await deals(app) == [] and await contacts(app) == []
    await manager.expect_no_message()


async def test_a_colleagues_chat_is_not_a_clients(
    tg: FakeTelegram, app_on_each_database: Application, admin: FakeUser
) -> None:
    app = app_on_each_database
    manager = await connected_manager(tg, admin)
    colleague = await join_team(tg, admin, "Менеджер", "Мария")
    await colleague.write_to_business(manager, "Кто сегодня дежурит?")
    await tg.settle()
    assert await rows(app, BusinessChatRow) == [] and await rows(app, BusinessMessageRow) == []
    await manager.expect_no_message()


async def test_what_was_kept_before_the_deal_goes_onto_it(
    tg: FakeTelegram, app_on_each_database: Application, admin: FakeUser
) -> None:
    app = app_on_each_database
    manager = await connected_manager(tg, admin)
    anna = tg.user("Анна")
    await anna.write_to_business(manager, "Добрый день")
    await manager.wait_message(contains="Новый клиент в вашем Telegram")
    await leave_request(anna)  # she files a request through the bot meanwhile: deal №1
    await manager.wait_message(contains="Новая заявка №1")
    await anna.write_to_business(manager, "Заявку оставила")
    await tg.settle()
    [deal] = await deals(app)
    messages = await rows(app, BusinessMessageRow)
    assert [(m.text, m.deal_id) for m in messages] == [
        ("Добрый день", deal.id),
        ("Заявку оставила", deal.id),
    ]
    await manager.press("➕ Завести сделку")  # the card's button now finds the same deal
    await manager.wait_message(contains="Сделка №1")
    assert len(await deals(app)) == 1


async def test_with_auto_create_the_deal_opens_by_itself(
    tg: FakeTelegram, app_auto_create: Application, admin: FakeUser, clock: FixedClock
) -> None:
    app = app_auto_create
    manager = await join_team(tg, admin, "Менеджер", "Иван")
    await manager.connect_business()
    told = await manager.wait_message(contains="Ваш Telegram подключён")
    assert "сделка откроется сама" in told.text
    petr = tg.user("Пётр", started=False)
    await petr.write_to_business(manager, "Добрый день, нужен CRM")
    note = await manager.wait_message(contains="открыта сделка №1")
    [deal] = await deals(app)
    assert deal.source == "telegram_business" and deal.manager_id == manager.id
    assert deal.created_at == clock.now() and deal.taken_at is None
    [message] = await rows(app, BusinessMessageRow)
    assert message.deal_id == deal.id and message.text == "Добрый день, нужен CRM"
    reminders = await rows(app, ReminderRow, ReminderRow.deal_id == deal.id)
    assert "first_resp" in {r.kind for r in reminders}

    await manager.press("Открыть сделку", message_id=note.message_id)
    card = await manager.wait_message(contains="Сделка №1")
    assert "клиент: Добрый день, нужен CRM" in card.text


async def test_a_known_clients_message_lands_on_their_open_deal(
    tg: FakeTelegram, app_on_each_database: Application, admin: FakeUser
) -> None:
    app = app_on_each_database
    manager = await connected_manager(tg, admin)
    anna = tg.user("Анна", username="anna_k")
    await leave_request(anna)  # through the bot: deal №1, round robin to the only manager
    await manager.wait_message(contains="Новая заявка №1")
    await anna.write_to_business(manager, "Это Анна, по заявке")
    await tg.settle()
    await manager.expect_no_message()  # no "new client" card: she has a deal
    [deal] = await deals(app)
    [message] = await rows(app, BusinessMessageRow)
    assert message.deal_id == deal.id and message.direction == "in"
    assert len(await contacts(app)) == 1


async def test_both_directions_an_edit_and_a_deletion_are_kept(
    tg: FakeTelegram, app_on_each_database: Application, admin: FakeUser, clock: FixedClock
) -> None:
    app = app_on_each_database
    manager = await connected_manager(tg, admin)
    petr = tg.user("Пётр", started=False)
    await petr.write_to_business(manager, "Здравствуйте")
    await manager.press("➕ Завести сделку")
    opened = await manager.wait_message(contains="Сделка №1")

    photo = await petr.send_photo_to_business(manager, caption="Наша схема")
    answer = await manager.reply_from_business(petr, "Спасибо, посмотрю в четверг")
    await tg.settle()
    await app.open_cards.finish(5)  # the card shows both messages: now the changes alone
    await manager.edit_in_business(petr, answer, "Спасибо, посмотрю в среду")
    await petr.delete_in_business(manager, photo)
    # The card open in the manager's chat follows the edit and the deletion too.
    await manager.wait_message(
        where=lambda m: m.message_id == opened.message_id and "🗑 удалил(а)" in m.text
    )
    assert (
        "✏️ исправил(а): Спасибо, посмотрю в среду" in tg.message(manager.id, opened.message_id).text
    )
    await tg.settle()

    history = await rows(app, BusinessMessageRow)
    assert chat_history(history) == [
        ("in", "sent", "text", "Здравствуйте", 1),
        ("in", "sent", "photo", "Наша схема", 1),
        ("out", "sent", "text", "Спасибо, посмотрю в четверг", 1),
        ("out", "edited", "text", "Спасибо, посмотрю в среду", 1),
        ("in", "deleted", "photo", None, 1),
    ]
    assert [m.message_id for m in history[1:]] == [photo, answer, answer, photo]

    await manager.send("/deal 1")
    card = await manager.wait_message(contains="Сделка №1")
    assert "клиент: [фото] Наша схема" in card.text
    assert "менеджер ✏️ исправил(а): Спасибо, посмотрю в среду" in card.text
    assert "клиент 🗑 удалил(а) сообщение" in card.text


async def test_the_first_response_is_the_managers_own_reply(
    tg: FakeTelegram, app_on_each_database: Application, admin: FakeUser, clock: FixedClock
) -> None:
    app = app_on_each_database
    manager = await connected_manager(tg, admin)
    anna = tg.user("Анна")
    await leave_request(anna)
    await manager.wait_message(contains="Новая заявка №1")
    [deal] = await deals(app)
    assert deal.taken_at is None and deal.first_response_due_at is not None

    clock.advance(2 * MINUTE)
    await manager.reply_from_business(anna, "Я сейчас на встрече", from_offline=True)
    await tg.settle()
    [deal] = await deals(app)
    assert deal.taken_at is None  # an away message is not an answer

    await anna.write_to_business(manager, "Жду звонка")
    clock.advance(3 * MINUTE)
    replied_at = clock.now()
    await manager.reply_from_business(anna, "Анна, добрый день! Звоню через минуту")
    await tg.settle()  # the bot reads its clock when it handles the update
    clock.advance(MINUTE)
    await manager.reply_from_business(anna, "Набираю")
    await tg.settle()
    [deal] = await deals(app)
    assert deal.taken_at == replied_at
    pending = await rows(app, ReminderRow, ReminderRow.kind == "first_resp")
    assert [r.status for r in pending] != ["pending"]
    activities = await rows(app, ActivityRow, ActivityRow.deal_id == deal.id)
    assert [(a.kind, a.author_id, a.at) for a in activities] == [("chat", manager.id, replied_at)]

    async with UnitOfWork(app.session_factory) as uow:
        day_end = deal.created_at + dt.timedelta(days=1)
        met, total = await uow.reports.first_response(deal.created_at, day_end, day_end)
    assert (met, total) == (1, 1)


async def test_forget_me_erases_the_business_history_too(
    tg: FakeTelegram, app_on_each_database: Application, admin: FakeUser
) -> None:
    app = app_on_each_database
    manager = await connected_manager(tg, admin)
    other = await connected_manager(tg, admin, "Мария")
    petr = tg.user("Пётр", username="petr_s", started=False)
    await petr.write_to_business(manager, "Мой телефон +7 916 000-00-00")
    await manager.press("➕ Завести сделку")
    await manager.wait_message(contains="Сделка №1")
    await manager.reply_from_business(petr, "Записал")
    await petr.write_to_business(other, "И вам здравствуйте")  # no deal there yet
    await other.wait_message(contains="Новый клиент в вашем Telegram")

    await petr.send("/forget_me")
    await petr.press("Да, удалить")
    await petr.wait_message(contains="ваши персональные данные удалены")
    await tg.settle()

    messages = await rows(app, BusinessMessageRow)
    assert len(messages) == 3 and all(m.text is None for m in messages)
    chats = await rows(app, BusinessChatRow)
    assert [(c.client_name, c.client_username) for c in chats] == [(None, None)] * 2
    [contact] = await rows(app, ContactRow)
    assert contact.name is None and contact.telegram_id is None and contact.erased_at
    [deal] = await deals(app)
    assert deal.source == "telegram_business"  # the deal stays, anonymised

    await manager.send("/deal 1")
    card = await manager.wait_message(contains="Сделка №1")
    assert "текст удалён по просьбе клиента" in card.text
    assert "+7 916" not in card.text


async def test_the_fake_emits_business_updates_as_the_spec_defines(tg: FakeTelegram) -> None:
    owner = tg.user("Иван")
    client = tg.user("Пётр", started=False)
    connection_id = await owner.connect_business(can_reply=True)
    sent = await client.write_to_business(owner, "Привет")
    await owner.reply_from_business(client, "Привет!", from_offline=True)
    await owner.edit_in_business(client, sent + 1, "Здравствуйте!")
    await client.delete_in_business(owner, sent)
    await owner.disconnect_business()
    assert tg.internal_errors == []  # each update was checked against the spec when queued
    updates = [Update.model_validate(raw) for raw in tg.pending_updates]
    connection = updates[0].business_connection
    assert connection is not None and connection.id == connection_id
    assert connection.user.id == owner.id and connection.is_enabled
    assert connection.rights is not None and connection.rights.can_reply
    incoming = updates[1].business_message
    assert incoming is not None and incoming.business_connection_id == connection_id
    assert incoming.from_user is not None and incoming.from_user.id == client.id
    assert incoming.chat.id == client.id and incoming.text == "Привет"
    outgoing = updates[2].business_message
    assert outgoing is not None and outgoing.from_user is not None
    assert outgoing.from_user.id == owner.id and outgoing.chat.id == client.id
    assert outgoing.is_from_offline
    edited = updates[3].edited_business_message
    assert edited is not None and edited.text == "Здравствуйте!" and edited.edit_date
    deleted = updates[4].deleted_business_messages
    assert deleted is not None and deleted.message_ids == [sent] and deleted.chat.id == client.id
    closed = updates[5].business_connection
    assert closed is not None and not closed.is_enabled
    assert tg.messages_in(client.id, from_bot=None) == []  # a business chat is not the bot's


async def test_the_fake_refuses_a_send_into_a_business_chat_without_can_reply(
    tg: FakeTelegram,
) -> None:
    owner = tg.user("Иван")
    client = tg.user("Пётр", started=False)
    connection_id = await owner.connect_business()
    async with tg.make_bot() as bot:
        with pytest.raises(TelegramBadRequest, match="BOT_BUSINESS_MISSING"):
            await bot.send_message(client.id, "Здравствуйте", business_connection_id=connection_id)
    assert [call.method for call in tg.business_calls] == ["sendMessage"]
    assert len(tg.take_violations()) == 1
    tg.business_calls.clear()  # provoked on purpose: the silence check is for the bot
