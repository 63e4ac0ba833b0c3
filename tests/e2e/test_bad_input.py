"""Bad input gets a clear reply and changes nothing (and, by the e2e conftest, logs no
traceback and breaks no Telegram rule)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager

import pytest

from bot.app import Application
from bot.telegram.callbacks import CardAction, DealCard, InviteCancel, TeamAction, TeamMember
from config.settings import Settings
from domain.clock import FixedClock
from tests.e2e.scenario import invite, invite_rows, join_team, leave_request, staff_row
from tests.fake_telegram import BotMessage, FakeTelegram, FakeUser


async def test_a_sticker_where_a_name_is_expected_is_explained(
    tg: FakeTelegram, app: Application, admin: FakeUser
) -> None:
    await admin.send("/invite")
    await admin.press("Менеджер")
    await admin.wait_message(contains="Как зовут")
    await admin.send_sticker()
    await admin.wait_message(contains="Нужен текст")
    assert await invite_rows(app) == []
    await admin.send("Иван")  # the question is still open
    await admin.wait_message(contains="Перешлите эту ссылку")
    assert len(await invite_rows(app)) == 1


async def test_a_5000_character_message_is_refused(
    tg: FakeTelegram, app: Application, admin: FakeUser
) -> None:
    stranger = tg.user("Гость")
    await stranger.send("а" * 5000)
    await stranger.wait_message(contains="Слишком длинный текст: не больше 4096")

    await admin.send("/invite")
    await admin.press("Менеджер")
    await admin.send("б" * 5000)
    await admin.wait_message(contains="Слишком длинный текст: не больше 64")
    assert await invite_rows(app) == []


async def test_cancel_under_a_question_of_buttons_says_they_can_be_left(
    tg: FakeTelegram, app: Application, admin: FakeUser
) -> None:
    await admin.send("/invite")
    question = await admin.wait_message(contains="Кого приглашаете")
    await admin.send("/cancel")  # no typed answer is awaited: the buttons are the question
    await admin.wait_message(
        exact="Отменять нечего: сейчас я ничего у вас не спрашиваю. Кнопки под сообщениями выше"
        " можно просто не нажимать."
    )
    await admin.press("Менеджер", message_id=question.message_id)  # and they still work
    await admin.wait_message(contains="Как зовут")


async def test_html_in_a_name_is_shown_as_typed_not_interpreted(
    tg: FakeTelegram, app: Application, admin: FakeUser
) -> None:
    token = await invite(admin, "Менеджер", "<i>Боб</i> & Ко")
    bob = tg.user("<b>Bob</b> & Co", no_username=True)
    await bob.send(f"/start {token}")
    await bob.wait_message(contains="Добро пожаловать")
    member = await staff_row(app, bob.id)
    assert member is not None and member.first_name == "<b>Bob</b> & Co"

    await admin.send("/team")
    team = await admin.wait_message(contains="Команда")
    assert "• <b>Bob</b> & Co — менеджер" in team.text  # literally, not in bold
    assert not any(entity["type"] == "bold" and entity["offset"] > 10 for entity in team.entities)
    assert team.has_button("Отключить: <b>Bob</b> & Co")
    await bob.send("/start")
    await bob.wait_message(contains="<b>Bob</b> & Co, здравствуйте")


async def test_forged_and_stale_buttons_change_nothing(
    tg: FakeTelegram, app: Application, admin: FakeUser
) -> None:
    token = await invite(admin, "Менеджер", "Иван")
    ivan = tg.user("Иван")
    await ivan.send(f"/start {token}")
    await ivan.wait_message(contains="Добро пожаловать")
    deactivate_ivan = TeamMember(action=TeamAction.CONFIRM_DEACTIVATE, staff_id=ivan.id).pack()

    stranger = tg.user("Злоумышленник")
    await stranger.send("/start")
    await stranger.wait_message(contains="Здравствуйте")
    answer = await stranger.press_data(deactivate_ivan)
    assert answer is not None and answer.show_alert and "устарела" in (answer.text or "")

    answer = await ivan.press_data(deactivate_ivan)  # a manager, not an admin
    assert answer is not None and "устарела" in (answer.text or "")

    answer = await admin.press_data(
        TeamMember(action=TeamAction.CONFIRM_DEACTIVATE, staff_id=424242).pack()
    )
    assert answer is not None and "уже нет в команде" in (answer.text or "")
    answer = await admin.press_data(
        TeamMember(action=TeamAction.CONFIRM_DEACTIVATE, staff_id=admin.id).pack()
    )
    assert answer is not None and "Себя отключить нельзя" in (answer.text or "")

    answer = await admin.press_data("garbage:that:matches:nothing")
    assert answer is not None and "устарела" in (answer.text or "")
    answer = await admin.press_data("book:no_such_pipeline")
    assert answer is not None and "устарела" in (answer.text or "")

    member = await staff_row(app, ivan.id)
    assert member is not None and member.is_active
    admin_row = await staff_row(app, admin.id)
    assert admin_row is not None and admin_row.is_active


async def test_numbers_no_database_holds_and_a_double_tap_are_answered_without_an_error(
    tg: FakeTelegram, app: Application, admin: FakeUser
) -> None:
    # (An error logged would fail the test: conftest's no_tracebacks_or_token_in_logs.)
    maria = await head_of_a_team_with_a_deal(tg, admin)
    twenty_digits = "9" * 20  # reached SQLite: "Python int too large to convert"
    for forged in (
        f"dc:{twenty_digits}:v:0:",
        DealCard(deal_id=1, action=CardAction.REASSIGN, arg=twenty_digits).pack(),
        f"team:ask:{twenty_digits}",
        "dc:1:q:0:metrics.²",  # a digit int() does not read
        "sp:0:-9223372036854775808",  # a month no date holds
    ):
        answer = await maria.press_data(forged)
        assert answer is not None and answer.show_alert, forged
        assert "устарела" in (answer.text or ""), forged
    await maria.send(f"/deal {twenty_digits}")
    await maria.wait_message(exact=f"Сделки №{twenty_digits} нет.")
    await maria.send("/deal ²")
    await maria.wait_message(contains="Напишите номер сделки")

    await admin.send("/invite")
    question = await admin.wait_message(contains="Кого приглашаете")
    cancel = InviteCancel().pack()
    await admin.press_data(cancel, message_id=question.message_id)
    await admin.wait_message(exact="Отменено.")
    # The second tap of a double tap: the message says so already, and Telegram refuses an
    # edit that changes nothing.
    answer = await admin.press_data(cancel, message_id=question.message_id)
    assert answer is not None and not answer.show_alert

    # "Согласен" tapped twice: the second tap finds the form under way and changes nothing
    # (it asked the first question again; the fake fails the test on a refused call).
    boris = tg.user("Борис")
    await boris.send("/start")
    consent = await boris.wait_message(with_button="✅ Согласен(на)")
    accept = consent.button("✅ Согласен(на)").callback_data
    assert accept is not None
    for _ in range(2):
        await boris.press_data(accept, message_id=consent.message_id)
    await boris.wait_message(contains="Как к вам обращаться")
    await tg.settle()
    asked = [m for m in tg.messages_in(boris.id) if "Как к вам обращаться" in (m.text or "")]
    assert len(asked) == 1


async def test_a_double_tap_on_a_button_that_replaces_its_screen_edits_it_once(
    tg: FakeTelegram, app: Application, admin: FakeUser
) -> None:
    """Both taps carry the message as it was before the first tap's edit; the second, handled
    after the first, must not ask Telegram for the same edit again (refused as "message is not
    modified": the tg fixture fails the test on any refused call)."""
    maria = await head_of_a_team_with_a_deal(tg, admin)
    screens = [
        (admin, "/invite", "Менеджер", "Как зовут сотрудника"),
        (maria, "/report", "Этот месяц", "Отчёт отдела продаж"),
        (maria, "/timezone", "Самара (UTC+4)", "Самара"),
        (maria, "/deals", "№1 Анна", "Сделка №1"),
        (maria, "/spend", "Яндекс Директ", "Яндекс Директ"),
    ]
    for person, command, button, then in screens:
        await person.send(command)
        screen = await person.wait_message(with_button=button)
        await double_tap(person, screen, button)
        edited = await person.wait_message(contains=then)
        assert edited.message_id == screen.message_id  # in place, not a new message
        await tg.settle()
        await person.send("/cancel")  # out of whatever the screen asks next
        await person.wait_message(contains="Отмен")


async def test_a_double_tap_on_a_card_button_that_asks_asks_once(
    tg: FakeTelegram, app: Application, admin: FakeUser
) -> None:
    ivan = await join_team(tg, admin, "Менеджер", "Иван")
    await leave_request(tg.user("Анна"))
    questions = {
        "💤 Отложить": "До какой даты отложить сделку",
        "🔔 Напомнить": "Когда напомнить и о чём",
        "💰 Сумма": "Какую сумму ожидаете",
        "✅ Выиграна": "Сумма сделки в RUB",
        "✉️ Написать клиенту": "Напишите сообщение клиенту",
        "📞 Звонок": "Звонок: добавьте комментарий",
        "🧾 Составить КП": "цифра 1 из 3",
    }
    for button, question in questions.items():
        await ivan.send("/deal 1")
        await double_tap(ivan, await ivan.wait_message(with_button=button), button)
        await ivan.wait_message(contains=question)
        await tg.settle()
        asked = [m for m in ivan.messages if question in m.text]
        assert len(asked) == 1, button
        await ivan.send("/cancel")
        await ivan.wait_message(exact="Отменено.")


async def test_a_double_tap_on_a_button_that_sends_something_sends_it_once(
    tg: FakeTelegram, app: Application, admin: FakeUser
) -> None:
    maria = await head_of_a_team_with_a_deal(tg, admin)
    for command, opening, button, sent in (
        ("/report", "Этот месяц", "📥 Выгрузить .xlsx и .csv", "CSV"),  # the .csv's caption
        ("/deal 1", "📚 Скрипты", "Нет времени", "«Нет времени»"),
    ):
        await maria.send(command)
        await maria.press(opening)
        await double_tap(maria, await maria.wait_message(with_button=button), button)
        await maria.wait_message(contains=sent)
        await tg.settle()
        assert len([m for m in maria.messages if sent in m.text]) == 1, button
    # (A press a second later is a press again: tests/unit/test_repeated_presses.py.)


async def test_an_expired_invite_is_refused(
    tg: FakeTelegram, app: Application, admin: FakeUser, clock: FixedClock
) -> None:
    token = await invite(admin, "Менеджер", "Опоздавший")
    clock.advance(dt.timedelta(hours=app.settings.invite_ttl_hours))
    late = tg.user("Опоздавший")
    await late.send(f"/start {token}")
    await late.wait_message(contains="Срок действия приглашения истёк")
    assert await staff_row(app, late.id) is None
    assert [c.command for c in await late.commands()] == ["start", "help", "cancel", "forget_me"]


async def test_a_reused_or_made_up_invite_is_refused(
    tg: FakeTelegram, app: Application, admin: FakeUser
) -> None:
    token = await invite(admin, "Руководитель", "Мария")
    maria, eve = tg.user("Мария"), tg.user("Ева")
    await maria.send(f"/start {token}")
    await maria.wait_message(contains="Добро пожаловать")
    await eve.send(f"/start {token}")
    await eve.wait_message(contains="уже использовано")
    await eve.send("/start inv_" + "A" * 43)
    await eve.wait_message(contains="не найдено")
    assert await staff_row(app, eve.id) is None
    await maria.send(f"/start {token}")  # already staff: told so, role unchanged
    await maria.wait_message(contains="Вы уже в команде")
    member = await staff_row(app, maria.id)
    assert member is not None and member.role == "supervisor"


async def test_a_stranger_calling_staff_commands_is_told_they_are_for_staff(
    tg: FakeTelegram, app: Application, admin: FakeUser
) -> None:
    stranger = tg.user("Гость")
    for command in ("/invite", "/team", "/book", "/deal 1"):
        await stranger.send(command)
        await stranger.wait_message(contains="только для сотрудников отдела продаж")
    await stranger.send("/nonsense")
    await stranger.wait_message(contains="Такой команды нет")
    assert await invite_rows(app) == []
    assert await staff_row(app, stranger.id) is None

    # In the middle of the request form a staff command ends it, and the form's keyboard goes.
    await stranger.send("/start")
    await stranger.press("✅ Согласен(на)")
    await stranger.send("Гость")
    await stranger.wait_message(contains="Ваш телефон")
    await stranger.send("/team")
    await stranger.wait_message(contains="только для сотрудников отдела продаж")
    assert stranger.reply_keyboard is None


async def test_a_failure_after_the_button_was_answered_is_still_told_in_the_chat(
    tg: FakeTelegram, app: Application, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    anna = tg.user("Анна")
    await anna.send("/forget_me")
    await anna.wait_message(with_button="Да, удалить")
    # The erasure's handler stops the button's spinner first; then the erasure fails.
    with contacts_table_gone(settings):
        answer = await anna.press("Да, удалить")
        assert answer.text is None  # the spinner stopped, nothing said there yet
        apology = await anna.wait_message(contains="Что-то пошло не так")
        assert apology.text.startswith("Что-то пошло не так")
        assert [r.getMessage() for r in caplog.records if r.exc_info] == ["update 2 failed"]
    caplog.clear()  # the one failure this scenario makes on purpose


async def test_a_failure_before_the_button_was_answered_is_told_on_the_button(
    tg: FakeTelegram, app: Application, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """The consent is stored before its press is answered (the answer goes out with the first
    question): storing it fails, and the apology is the press's own alert."""
    boris = tg.user("Борис")
    await boris.send("/start site")
    await boris.wait_message(with_button="✅ Согласен(на)")
    with contacts_table_gone(settings):
        answer = await boris.press("✅ Согласен(на)")
        assert answer.show_alert
        assert answer.text is not None and answer.text.startswith("Что-то пошло не так")
        assert not [m for m in tg.messages_in(boris.id) if "Как к вам обращаться" in (m.text or "")]
        assert [r.getMessage() for r in caplog.records if r.exc_info] == ["update 2 failed"]
    caplog.clear()  # the one failure this scenario makes on purpose


@contextmanager
def contacts_table_gone(settings: Settings) -> Iterator[None]:
    """The bot's contacts table renamed away while the block runs (a database failure on
    purpose), and back after it."""
    database = settings.database_url.split("///", 1)[1]
    with closing(sqlite3.connect(database)) as connection:
        connection.execute("ALTER TABLE contacts RENAME TO contacts_away")
    try:
        yield
    finally:
        with closing(sqlite3.connect(database)) as connection:
            connection.execute("ALTER TABLE contacts_away RENAME TO contacts")


async def double_tap(person: FakeUser, screen: BotMessage, button: str) -> None:
    """Two presses of one button, the second before the first is answered: a quick double tap,
    both carrying the message as it was."""
    data = screen.button(button).callback_data
    assert data is not None
    for _ in range(2):
        await person.press_data(data, message_id=screen.message_id, wait_answer=False)


async def head_of_a_team_with_a_deal(tg: FakeTelegram, admin: FakeUser) -> FakeUser:
    """A head of sales and a manager with deal №1 (Анна's request): the head is returned."""
    maria = await join_team(tg, admin, "Руководитель", "Мария")
    await join_team(tg, admin, "Менеджер", "Иван")
    await leave_request(tg.user("Анна"))
    return maria
