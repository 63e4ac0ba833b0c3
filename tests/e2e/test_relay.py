"""The chat after the request: the client's messages reach whoever answers for the deal, and
the manager's answers, written from the notification, the deal's card or as a reply, reach the
client."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.app import Application
from domain.clock import FixedClock
from domain.reminders import ReminderKind
from storage.models import ReminderRow
from storage.unit_of_work import UnitOfWork
from tests.e2e.scenario import close_as_lost, deal_messages, deals, join_team, leave_request
from tests.fake_telegram import FakeTelegram, FakeUser


async def test_the_chat_is_the_channel_in_both_directions(
    tg: FakeTelegram, app: Application, admin: FakeUser
) -> None:
    manager = await join_team(tg, admin, "Менеджер", "Иван")
    anna = tg.user("Анна")
    await leave_request(anna)
    await manager.wait_message(contains="Новая заявка №1")

    await anna.send("А можно <b>демо</b> в четверг?")
    relayed = await manager.wait_message(contains="А можно <b>демо</b> в четверг?")
    assert relayed.text.startswith("💬 Анна · заявка №1")
    await anna.send_photo(caption="Вот наша схема")
    photo = await manager.wait_message(kind="photo")
    assert "Вот наша схема" in photo.text and "заявка №1" in photo.text

    await manager.send("Да, в четверг в 11:00 подойдёт?", reply_to=relayed.message_id)
    answer = await anna.wait_message(contains="в четверг в 11:00")
    assert answer.text == "Да, в четверг в 11:00 подойдёт?"
    await manager.wait_message(contains="Отправлено клиенту")

    await manager.press("✉️ Написать клиенту")
    await manager.wait_message(contains="Напишите сообщение клиенту")
    await manager.send_photo(caption="Наше КП")
    sent = await anna.wait_message(kind="photo")
    assert sent.text == "Наше КП"
    await manager.wait_message(contains="Отправлено клиенту")

    history = await deal_messages(app, 1)
    assert [(m.direction, m.kind, m.text) for m in history] == [
        ("in", "text", "А можно <b>демо</b> в четверг?"),
        ("in", "photo", "Вот наша схема"),
        ("out", "text", "Да, в четверг в 11:00 подойдёт?"),
        ("out", "photo", "Наше КП"),
    ]


async def test_a_supervisor_who_takes_a_queued_request_sees_it_is_no_longer_waiting(
    tg: FakeTelegram, app: Application, admin: FakeUser
) -> None:
    maria = await join_team(tg, admin, "Руководитель", "Мария")
    oleg = await join_team(tg, admin, "Руководитель", "Олег")
    anna = tg.user("Анна")
    await leave_request(anna)
    queued = await maria.wait_message(contains="Заявка №1 ждёт в очереди")
    olegs = await oleg.wait_message(contains="Заявка №1 ждёт в очереди")
    await maria.press("✅ Взять в работу", message_id=queued.message_id)
    taken = await maria.wait_message(contains="вы взяли её в работу")
    assert taken.message_id == queued.message_id
    assert "ждёт в очереди" not in taken.text and "Возьмите её" not in taken.text
    assert "👤 Анна" in taken.text and "ООО Ромашка" in taken.text
    assert taken.button_texts == ["✉️ Написать клиенту", "📋 Открыть сделку"]
    await anna.wait_message(contains="Менеджер Мария взял вашу заявку №1")
    [deal] = await deals(app)
    assert deal.manager_id == maria.id and deal.taken_at is not None

    # The other supervisor's copy, pressed late: refused, and it stops offering the take.
    alert = await oleg.press("✅ Взять в работу", message_id=olegs.message_id)
    assert alert is not None and alert.text == "Эта заявка назначена другому менеджеру."
    late = await oleg.wait_message(contains="уже в работе у другого сотрудника")
    assert late.message_id == olegs.message_id and "👤 Анна" in late.text
    assert late.button_texts == ["📋 Открыть сделку"]
    [deal] = await deals(app)
    assert deal.manager_id == maria.id


async def test_a_taken_request_opens_as_the_deals_card_which_writes_to_the_client(
    tg: FakeTelegram, app: Application, admin: FakeUser
) -> None:
    manager = await join_team(tg, admin, "Менеджер", "Иван")
    anna = tg.user("Анна")
    await leave_request(anna)
    notification = await manager.wait_message(contains="Новая заявка №1")
    await manager.press("✅ Взять в работу")
    taken = await manager.wait_message(contains="вы взяли её в работу")
    assert taken.message_id == notification.message_id
    assert taken.text.startswith("✅ Заявка №1 — вы взяли её в работу\n👤 Анна")
    assert "Внедрение CRM под ключ" in taken.text
    await manager.press("📋 Открыть сделку", message_id=notification.message_id)
    card = await manager.wait_message(contains="Сделка №1")
    assert card.message_id == notification.message_id  # the card in place of the notification
    assert "✉️ Написать клиенту" in card.button_texts and "➡️ Следующий этап" in card.button_texts

    # Changed his mind: "Отмена" brings the card back in place of the question.
    await manager.press("✉️ Написать клиенту", message_id=card.message_id)
    asked = await manager.wait_message(contains="Напишите сообщение клиенту")
    assert asked.button_texts == ["Отмена"]
    await manager.press("Отмена", message_id=asked.message_id)
    back = await manager.wait_message(contains="Сделка №1")
    assert back.message_id == asked.message_id

    await manager.press("✉️ Написать клиенту", message_id=card.message_id)
    asked = await manager.wait_message(contains="Напишите сообщение клиенту")
    await manager.send("Анна, добрый день! Удобно созвониться в 15:00?")
    await anna.wait_message(exact="Анна, добрый день! Удобно созвониться в 15:00?")
    await manager.wait_message(contains="Отправлено клиенту")
    answered = await manager.wait_message(contains="Напишите сообщение клиенту")  # its button gone
    assert answered.message_id == asked.message_id and not answered.inline_keyboard
    [message] = await deal_messages(app, 1)
    assert (message.direction, message.text) == (
        "out",
        "Анна, добрый день! Удобно созвониться в 15:00?",
    )


async def test_a_client_of_a_manager_who_left_is_heard_by_the_supervisors_not_by_him(
    tg: FakeTelegram, app: Application, admin: FakeUser
) -> None:
    ivan = await join_team(tg, admin, "Менеджер", "Иван")
    maria = await join_team(tg, admin, "Руководитель", "Мария")
    anna = tg.user("Анна")
    await leave_request(anna)
    await ivan.wait_message(contains="Новая заявка №1")
    await admin.send("/team")
    await admin.press("Отключить: Иван")
    await admin.press("Да, отключить")
    await admin.wait_message(contains="отключён")

    await anna.send("Где мой менеджер?")
    heard = await maria.wait_message(contains="Где мой менеджер?")
    assert heard.text.startswith("💬 Анна · заявка №1")
    await tg.settle()
    assert not [m for m in ivan.messages if "Где мой менеджер?" in m.text]
    assert [(m.direction, m.text) for m in await deal_messages(app, 1)] == [
        ("in", "Где мой менеджер?")
    ]


async def test_a_client_message_at_telegrams_limit_reaches_the_manager_whole(
    tg: FakeTelegram, app: Application, admin: FakeUser
) -> None:
    """The header "💬 Анна · заявка №1" would push a 4,096-character text (or a 1,024-character
    caption) past Telegram's limit: it goes apart, and the client's words arrive whole."""
    manager = await join_team(tg, admin, "Менеджер", "Иван")
    anna = tg.user("Анна")
    await leave_request(anna)
    await manager.wait_message(contains="Новая заявка №1")
    longest = "<&>" * 1365 + "!"  # 4,096 characters, escaped far longer
    await anna.send(longest)
    whole = await manager.wait_message(exact=longest)
    header = manager.messages[-2]
    assert header.text == "💬 Анна · заявка №1" and header.message_id == whole.message_id - 1
    await anna.send_photo(caption="п" * 1024)
    photo = await manager.wait_message(kind="photo")
    assert photo.text == "п" * 1024
    await anna.send("Коротко")  # a short one keeps its header on it
    short = await manager.wait_message(contains="Коротко")
    assert short.text == "💬 Анна · заявка №1\nКоротко"

    await manager.send("Принято", reply_to=whole.message_id)  # a reply still finds the deal
    await anna.wait_message(exact="Принято")
    assert (await deal_messages(app, 1))[0].text == longest
    assert not [m for m in anna.messages if "Что-то пошло не так" in m.text]


async def test_a_managers_first_message_through_the_bot_is_the_first_response(
    tg: FakeTelegram, app: Application, admin: FakeUser, clock: FixedClock
) -> None:
    """Answering the lead through the bot answers them, as a take does: the first-response
    clock stops, its reminders go, the digest counts it met, and a later take says nothing more
    to the lead (the rule the manager's own Telegram follows, tests/e2e/test_business.py)."""
    manager = await join_team(tg, admin, "Менеджер", "Иван")
    anna = tg.user("Анна")
    await leave_request(anna)
    card = await manager.wait_message(contains="Новая заявка №1")

    clock.advance(dt.timedelta(minutes=3))
    answered_at = clock.now()
    await manager.press("✉️ Написать клиенту")
    await manager.wait_message(contains="Напишите сообщение клиенту")
    await manager.send("Анна, здравствуйте! Звоню через минуту")
    await anna.wait_message(contains="Звоню через минуту")
    anna.mark_seen()
    await manager.wait_message(contains="Отправлено клиенту")

    [deal] = await deals(app)
    assert deal.taken_at == answered_at
    async with app.session_factory() as session:
        first_response = await session.scalars(
            select(ReminderRow.status).where(ReminderRow.kind == ReminderKind.FIRST_RESPONSE.value)
        )
        assert list(first_response) == ["dropped"]
    async with UnitOfWork(app.session_factory) as uow:
        day = (deal.created_at, deal.created_at + dt.timedelta(days=1))
        assert await uow.reports.first_response(*day, day[1]) == (1, 1)
    await manager.send("/deal 1")
    assert "Срок этапа" in (await manager.wait_message(contains="Сделка №1")).text

    taken = await manager.press("✅ Взять в работу", message_id=card.message_id)
    assert taken.text == "Заявка ваша. Удачи!"
    await tg.settle()
    await anna.expect_no_message()
    [deal] = await deals(app)
    assert deal.taken_at == answered_at


async def test_a_manager_takes_a_queued_request_from_deals(
    tg: FakeTelegram, app: Application, admin: FakeUser
) -> None:
    await join_team(tg, admin, "Руководитель", "Мария")
    anna = tg.user("Анна")
    await leave_request(anna)  # no manager yet: it waits in the queue
    ivan = await join_team(tg, admin, "Менеджер", "Иван")

    await ivan.send("/deals")
    listing = await ivan.wait_message(contains="Открытые сделки")
    assert "📥 В очереди без менеджера: 1" in listing.text
    await ivan.press("📥 Очередь (1)", message_id=listing.message_id)
    offered = await ivan.wait_message(contains="Заявка №1 ждёт в очереди")
    assert "👤 Анна" in offered.text and "назначьте" not in offered.text
    assert offered.button_texts == ["✅ Взять в работу"]
    await ivan.press("✅ Взять в работу", message_id=offered.message_id)
    taken = await ivan.wait_message(contains="вы взяли её в работу")
    assert taken.message_id == offered.message_id
    await anna.wait_message(contains="Менеджер Иван взял вашу заявку №1")
    [deal] = await deals(app)
    assert deal.manager_id == ivan.id

    await ivan.send("/deals")
    mine = await ivan.wait_message(contains="Открытые сделки")
    assert "№1 · Анна" in mine.text and "В очереди" not in mine.text
    late = await ivan.press("📥 Очередь (1)", message_id=listing.message_id)  # the old list
    assert late is not None and late.text == "Очередь пуста: заявки уже разобрали."


async def test_a_client_with_a_request_open_who_presses_start_may_just_write(
    tg: FakeTelegram, app: Application, admin: FakeUser
) -> None:
    ivan = await join_team(tg, admin, "Менеджер", "Иван")
    anna = tg.user("Анна")
    await leave_request(anna)
    await ivan.wait_message(contains="Новая заявка №1")

    await anna.send("/start")  # from the menu, meaning only to write
    asked = await anna.wait_message(contains="Как к вам обращаться")
    assert asked.text.startswith("📌 Ваша заявка №1 уже в работе.")
    assert "нажмите «◀️ Назад» и пишите сюда" in asked.text
    await anna.tap_reply_button("◀️ Назад")
    left = await anna.wait_message(contains="Заявка №1 остаётся в работе")
    assert "отменена" not in left.text and anna.reply_keyboard is None
    await anna.send("Вы тут? Перезвоните, пожалуйста")
    await ivan.wait_message(contains="Вы тут? Перезвоните, пожалуйста")
    [deal] = await deals(app)
    assert deal.status == "open"

    # Someone whose requests are all closed starts afresh, without the note.
    await close_as_lost(app, deal.id)
    await anna.send("/start")
    fresh = await anna.wait_message(contains="Как к вам обращаться")
    assert "📌" not in fresh.text
