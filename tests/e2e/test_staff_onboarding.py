"""An admin brings a team in: invites, roles, command menus, the team list."""

from __future__ import annotations

import datetime as dt

from bot.app import Application
from domain.clock import FixedClock
from domain.invites import hash_token
from domain.roles import Role
from domain.staff import StaffMember
from storage.unit_of_work import UnitOfWork
from tests.e2e.scenario import invite, invite_rows, staff_row
from tests.fake_telegram import FakeTelegram, FakeUser


async def test_an_invited_manager_joins_and_gets_a_menu_of_their_own(
    tg: FakeTelegram, app: Application, admin: FakeUser
) -> None:
    await admin.send("/start")
    await admin.wait_message(contains="Вы — администратор")

    token = await invite(admin, "Менеджер", "Иван из Казани")
    stored = await invite_rows(app)
    assert [(row.role, row.label, row.used_by) for row in stored] == [
        ("manager", "Иван из Казани", None)
    ]
    assert stored[0].token_hash == hash_token(token) != token

    ivan = tg.user("Иван", language_code="ru")
    await ivan.send(f"/start {token}")
    welcome = await ivan.wait_message(contains="Добро пожаловать")
    assert "менеджер" in welcome.text
    assert "/book" in welcome.text
    await ivan.send("/start")  # later: what a manager does every day comes first
    greeting = await ivan.wait_message(contains="Вы — менеджер")
    assert "/deals — мои сделки" in greeting.text and "«перезвонить завтра в 11»" in greeting.text

    stranger = tg.user("Гость")
    await stranger.send("/start")
    await stranger.wait_message(contains="Здравствуйте! Это бот отдела продаж")

    manager_menu = [c.command for c in await ivan.commands()]
    stranger_menu = [c.command for c in await stranger.commands()]
    admin_menu = [c.command for c in await admin.commands()]
    assert stranger_menu == ["start", "help", "cancel", "forget_me"]
    assert manager_menu == [
        "start",
        "deals",
        "reminders",
        "scripts",
        "report",
        "my",
        "book",
        "training",
        "timezone",
        "help",
        "cancel",
    ]
    assert admin_menu == [
        "start",
        "deals",
        "reminders",
        "digest",
        "ab",
        "scripts",
        "invite",
        "team",
        "report",
        "my",
        "spend",
        "book",
        "timezone",
        "help",
        "cancel",
    ]

    member = await staff_row(app, ivan.id)
    assert member is not None and member.role == "manager" and member.is_active
    assert (await invite_rows(app))[0].used_by == ivan.id
    assert await staff_row(app, stranger.id) is None  # nothing stored about a stranger

    await admin.send("/team")
    team = await admin.wait_message(contains="Команда")
    assert "Иван" in team.text and "менеджер" in team.text
    assert team.has_button("Отключить: Иван")


async def test_a_supervisor_sees_the_team_but_cannot_invite(
    tg: FakeTelegram, app: Application, admin: FakeUser
) -> None:
    token = await invite(admin, "Руководитель", "Мария")
    maria = tg.user("Мария")
    await maria.send(f"/start {token}")
    await maria.wait_message(contains="Ваша роль — руководитель")
    await maria.send("/start")
    greeting = await maria.wait_message(contains="Вы — руководитель")
    assert "/digest — сводка по отделу" in greeting.text and "/report" in greeting.text

    await maria.send("/team")
    team = await maria.wait_message(contains="Команда")
    assert "Ольга" in team.text and not team.inline_keyboard  # only admins deactivate
    await maria.send("/invite")
    refusal = await maria.wait_message(contains="нет прав")
    assert "для роли «администратор» и выше, а ваша роль — «руководитель»" in refusal.text
    assert [c.command for c in await maria.commands()] == [
        "start",
        "deals",
        "reminders",
        "digest",
        "ab",
        "scripts",
        "team",
        "report",
        "my",
        "spend",
        "book",
        "timezone",
        "help",
        "cancel",
    ]


async def test_an_admin_deactivates_a_manager_who_then_is_a_stranger(
    tg: FakeTelegram, app: Application, admin: FakeUser, clock: FixedClock
) -> None:
    token = await invite(admin, "Менеджер", "Пётр")
    petr = tg.user("Пётр")
    await petr.send(f"/start {token}")
    await petr.wait_message(contains="Добро пожаловать")

    clock.advance(dt.timedelta(days=3))
    await admin.send("/team")
    await admin.wait_message(contains="Команда")
    await admin.press("Отключить: Пётр")
    await admin.wait_message(contains="Отключить Пётр")
    await admin.press("Да, отключить")
    done = await admin.wait_message(contains="Пётр (@user")
    assert done.text.endswith("отключён(а). Открытых сделок нет.") and not done.button_texts
    told = await petr.wait_message(contains="Ваш доступ к рабочим командам")
    assert "обратитесь к руководителю" in told.text

    member = await staff_row(app, petr.id)
    assert member is not None and not member.is_active
    assert member.deactivated_at == clock.now()
    assert [c.command for c in await petr.commands()] == ["start", "help", "cancel", "forget_me"]
    await petr.send("/book")
    await petr.wait_message(contains="только для сотрудников")


async def test_the_sales_book_is_at_a_managers_fingertips(
    tg: FakeTelegram, app: Application, admin: FakeUser
) -> None:
    await admin.send("/book")
    overview = await admin.wait_message(contains="Книга продаж")
    pipeline = app.book.pipelines[0]
    assert pipeline.name in overview.text
    await admin.press(pipeline.name)
    details = await admin.wait_message(contains="Критерии перехода")
    for stage in pipeline.stages:
        assert stage.name in details.text
    assert "ключевой этап" in details.text
    assert pipeline.stages[0].exit_criteria[0] in details.text


async def test_help_and_cancel_for_every_role_in_their_language(
    tg: FakeTelegram, app: Application, admin: FakeUser
) -> None:
    john = tg.user("John", language_code="en")
    await john.send("/help")
    await john.wait_message(contains="I am the sales team's bot")
    await john.send("/cancel")
    await john.wait_message(contains="There is nothing to cancel: I am not asking you anything")

    await admin.send("/help")
    await admin.wait_message(contains="Команды администратора")
    await admin.send("/invite")
    await admin.press("Менеджер")
    await admin.send("/cancel")
    await admin.wait_message(exact="Отменено.")
    await admin.send("Иван")  # no longer asked for a name: no invite is made
    await admin.wait_message(contains="Не понял")
    assert await invite_rows(app) == []


async def test_a_large_team_is_shown_a_page_at_a_time(
    tg: FakeTelegram, app: Application, admin: FakeUser, clock: FixedClock
) -> None:
    uow = UnitOfWork(app.session_factory)
    async with uow:
        for number in range(1, 25):  # the admin and 24 managers
            await uow.staff.add(
                StaffMember(2_000 + number, Role.MANAGER, clock.now(), f"Менеджер {number:02}")
            )
        await uow.commit()

    await admin.send("/team")
    first = await admin.wait_message(contains="Команда")
    assert first.text.startswith("Команда (25) · стр. 1/3\n")
    assert first.text.count("\n• ") == 10
    assert "Менеджер 09" in first.text and "Менеджер 10" not in first.text
    assert first.button_texts[-1] == "▶️" and "Отключить: Менеджер 09" in first.button_texts
    assert "Отключить: Менеджер 10" not in first.button_texts

    await admin.press("▶️", message_id=first.message_id)
    second = await admin.wait_message(contains="стр. 2/3")
    assert second.message_id == first.message_id  # in place
    assert "Менеджер 10" in second.text and "Менеджер 19" in second.text
    assert second.button_texts[-2:] == ["◀️", "▶️"]
    await admin.press("▶️", message_id=second.message_id)
    last = await admin.wait_message(contains="стр. 3/3")
    assert last.text.count("\n• ") == 5 and last.button_texts[-1] == "◀️"
    assert all(len(row) <= 8 for row in last.inline_keyboard)
