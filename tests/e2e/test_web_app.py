"""The Mini App's API on the bot's web server, over real HTTP with really signed initData: the
board shows what the chat's /deals shows to the same person, and a move obeys the chat's rules
and speaks its words."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from bot.app import Application
from bot.web import build_web_app, serving
from config.settings import Settings
from domain.clock import FixedClock
from domain.contact import Contact
from domain.deal import MAX_COMMENT_LENGTH
from services.deals import create_deal
from storage.models import ReminderRow
from storage.unit_of_work import UnitOfWork
from tests.e2e.conftest import TOKEN, running_bot
from tests.e2e.scenario import deals, join_team, leave_request
from tests.e2e.test_run_bot import closed_port
from tests.fake_telegram import FakeTelegram, FakeUser
from tests.init_data import signed_init_data

PIPELINE = "implementation_mid"


@pytest.fixture
async def board_url(app: Application) -> AsyncIterator[str]:
    port = closed_port()
    async with serving(build_web_app(app, webhook=False), "127.0.0.1", port, 1.0):
        yield f"http://127.0.0.1:{port}"


async def call(
    url: str,
    path: str,
    init_data: str | None,
    *,
    post: dict[str, Any] | None = None,
) -> tuple[int, Any]:
    headers = {"Authorization": f"tma {init_data}"} if init_data is not None else {}
    async with aiohttp.ClientSession() as session:
        method = session.post if post is not None else session.get
        async with method(f"{url}/app/api{path}", headers=headers, json=post) as answer:
            return answer.status, await answer.json()


def signed(person: FakeUser, clock: FixedClock, age: dt.timedelta = dt.timedelta()) -> str:
    return signed_init_data(TOKEN, person.id, clock.now() - age, first_name=person.first_name)


async def deal_for(app: Application, clock: FixedClock, manager: FakeUser, client: str) -> int:
    uow = UnitOfWork(app.session_factory)
    async with uow:
        contact = await uow.contacts.add(
            Contact(clock.now(), name=client, phone="+7 900 000-00-01", company=f"{client} и К")
        )
        await uow.commit()
    deal = await create_deal(
        UnitOfWork(app.session_factory),
        clock,
        app.book,
        app.calendar,
        PIPELINE,
        contact_id=contact.id,
        manager_id=manager.id,
    )
    assert deal.id is not None
    return deal.id


def clients(board: dict[str, Any]) -> list[str]:
    return sorted(card["client"] for stage in board["stages"] for card in stage["cards"])


async def test_a_manager_sees_their_own_deals_and_a_supervisor_filters_by_manager(
    tg: FakeTelegram, app: Application, admin: FakeUser, clock: FixedClock, board_url: str
) -> None:
    ivan = await join_team(tg, admin, "Менеджер", "Иван")
    petr = await join_team(tg, admin, "Менеджер", "Пётр")
    svetlana = await join_team(tg, admin, "Руководитель", "Светлана")
    await deal_for(app, clock, ivan, "Анна")
    await deal_for(app, clock, ivan, "Борис")
    await deal_for(app, clock, petr, "Вера")

    status, board = await call(board_url, "/board", signed(ivan, clock))
    assert status == 200
    assert clients(board) == ["Анна", "Борис"]
    first_stage = app.book.pipeline(PIPELINE).stages[0]
    assert board["stages"][0]["name"] == first_stage.name
    card = board["stages"][0]["cards"][0]
    assert card["company"] and "осталось" in card["due"] and card["overdue"] is False
    assert board["managers"] == [] and board["texts"]["title"] == "Доска"
    # A manager's own filter by someone else is ignored, as in the chat.
    _, board = await call(board_url, f"/board?manager={petr.id}", signed(ivan, clock))
    assert clients(board) == ["Анна", "Борис"]

    _, team = await call(board_url, "/board", signed(svetlana, clock))
    assert clients(team) == ["Анна", "Борис", "Вера"]
    assert {m["name"] for m in team["managers"]} == {"Иван", "Пётр"}
    _, only_petr = await call(board_url, f"/board?manager={petr.id}", signed(svetlana, clock))
    assert clients(only_petr) == ["Вера"]
    _, found = await call(board_url, "/board?q=бор", signed(svetlana, clock))
    assert clients(found) == ["Борис"]
    _, overdue = await call(board_url, "/board?overdue=1", signed(svetlana, clock))
    assert clients(overdue) == []
    clock.advance(dt.timedelta(days=30))
    _, overdue = await call(board_url, "/board?overdue=1", signed(svetlana, clock))
    assert clients(overdue) == ["Анна", "Борис", "Вера"]
    assert all(c["overdue"] for s in overdue["stages"] for c in s["cards"])


async def test_missing_forged_and_expired_init_data_and_non_staff_are_refused(
    tg: FakeTelegram, app: Application, admin: FakeUser, clock: FixedClock, board_url: str
) -> None:
    ivan = await join_team(tg, admin, "Менеджер", "Иван")
    assert (await call(board_url, "/board", None))[0] == 401
    assert (await call(board_url, "/board", ""))[0] == 401
    forged = signed_init_data("42:another-bots-token", ivan.id, clock.now())
    assert (await call(board_url, "/board", forged))[0] == 401
    old = signed(ivan, clock, dt.timedelta(days=1, seconds=1))
    assert (await call(board_url, "/board", old))[0] == 401
    assert (await call(board_url, "/board", signed(ivan, clock)))[0] == 200

    stranger = tg.user("Незнакомец")
    status, body = await call(board_url, "/board", signed(stranger, clock))
    assert (status, body) == (403, {"error": "У вас нет прав на это действие."})


async def test_a_move_obeys_the_chats_rules_and_words(
    tg: FakeTelegram, app: Application, admin: FakeUser, clock: FixedClock, board_url: str
) -> None:
    ivan = await join_team(tg, admin, "Менеджер", "Иван")
    petr = await join_team(tg, admin, "Менеджер", "Пётр")
    deal_id = await deal_for(app, clock, ivan, "Анна")
    first, second = app.book.pipeline(PIPELINE).stages[:2]

    status, body = await call(board_url, f"/deals/{deal_id}", signed(petr, clock))
    assert (status, body) == (403, {"error": "Эта заявка назначена другому менеджеру."})
    status, body = await call(
        board_url, f"/deals/{deal_id}/next-stage", signed(petr, clock), post={"ticked": [0, 1]}
    )
    assert status == 403
    assert (await call(board_url, "/deals/999", signed(ivan, clock))) == (
        404,
        {"error": "Сделки №999 нет."},
    )

    status, deal = await call(board_url, f"/deals/{deal_id}", signed(ivan, clock))
    assert status == 200
    assert deal["client"] == "Анна" and deal["stage"]["name"] == first.name
    assert deal["stage"]["exit_criteria"] == first.exit_criteria
    assert [step["to"] for step in deal["history"]] == [first.name]

    status, body = await call(
        board_url, f"/deals/{deal_id}/next-stage", signed(ivan, clock), post={"ticked": [0]}
    )
    missing = len(first.exit_criteria) - 1
    assert (status, body) == (
        409,
        {"error": f"Сначала отметьте все критерии перехода (не отмечено: {missing})."},
    )
    assert [d.stage_id for d in await deals(app)] == [first.id]

    ticked = list(range(len(first.exit_criteria)))
    status, moved = await call(
        board_url, f"/deals/{deal_id}/next-stage", signed(ivan, clock), post={"ticked": ticked}
    )
    assert status == 200 and moved["stage"]["name"] == second.name
    assert [step["to"] for step in moved["history"]] == [first.name, second.name]
    assert [d.stage_id for d in await deals(app)] == [second.id]


async def test_the_board_page_and_its_files_are_served_without_a_cdn(board_url: str) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{board_url}/app/") as page:
            assert page.status == 200
            html = await page.text()
        scripts = [line for line in html.splitlines() if "<script src=" in line]
        # Telegram's own script comes from Telegram; everything else is ours, relative.
        assert [s for s in scripts if "https://" in s] == [
            '<script src="https://telegram.org/js/telegram-web-app.js"></script>'
        ]
        for name in ("board.js", "board.css"):
            async with session.get(f"{board_url}/app/static/{name}") as asset:
                assert asset.status == 200 and len(await asset.read()) > 100


async def test_staff_get_the_board_on_the_menu_button_and_under_deals(
    tg: FakeTelegram, settings: Settings, clock: FixedClock, admin: FakeUser
) -> None:
    url = "https://bot.example.com/app/"
    board_button = {"type": "web_app", "text": "Доска", "web_app": {"url": url}}
    with_board = settings.model_copy(update={"web_app_url": url})
    async with running_bot(tg, settings, clock):
        ivan = await join_team(tg, admin, "Менеджер", "Иван")
        assert ("menu_button", ivan.id) not in tg.bot_settings  # no URL, no board
    async with running_bot(tg, with_board, clock):
        # At start every staff chat gets the board on its menu button.
        assert tg.bot_settings[("menu_button", ivan.id)] == board_button
        await ivan.send("/deals")
        listing = await ivan.wait_message(contains="Открытые сделки")
        board = listing.inline_keyboard[-1][0]
        assert board.text == "📋 Доска"
        assert board.raw["web_app"] == {"url": url}
        petr = await join_team(tg, admin, "Менеджер", "Пётр")
        assert tg.bot_settings[("menu_button", petr.id)] == board_button

        # Someone who leaves the team loses the board with the staff commands.
        await admin.send("/team")
        await admin.wait_message(contains="Команда")
        await admin.press("Отключить: Пётр")
        await admin.wait_message(contains="Отключить Пётр")
        await admin.press("Да, отключить")
        await admin.wait_message(contains="Пётр (@user")
        assert tg.bot_settings[("menu_button", petr.id)] == {"type": "default"}


async def test_a_lead_gets_nothing(
    tg: FakeTelegram, app: Application, clock: FixedClock, board_url: str
) -> None:
    anna = tg.user("Анна")
    await leave_request(anna)
    status, body = await call(board_url, "/board", signed(anna, clock))
    assert (status, body) == (403, {"error": "У вас нет прав на это действие."})
    assert (await call(board_url, "/deals/1", signed(anna, clock)))[0] == 403


async def test_back_won_lost_and_a_note_go_through_the_chats_use_cases(
    tg: FakeTelegram, app: Application, admin: FakeUser, clock: FixedClock, board_url: str
) -> None:
    ivan = await join_team(tg, admin, "Менеджер", "Иван")
    petr = await join_team(tg, admin, "Менеджер", "Пётр")
    won_id = await deal_for(app, clock, ivan, "Анна")
    lost_id = await deal_for(app, clock, ivan, "Борис")
    first, second = app.book.pipeline(PIPELINE).stages[:2]
    me = signed(ivan, clock)
    everything = list(range(len(first.exit_criteria)))
    status, deal = await call(
        board_url, f"/deals/{won_id}/next-stage", me, post={"ticked": everything}
    )
    assert deal["stage"]["id"] == second.id and deal["back_to"] == [
        {"id": first.id, "name": first.name}
    ]

    status, body = await call(board_url, f"/deals/{won_id}/back", me, post={"stage": first.id})
    assert (status, body) == (  # the chat's words when it asks for the comment
        409,
        {"error": "Нужен комментарий: напишите причину — она останется в истории сделки."},
    )
    status, deal = await call(
        board_url, f"/deals/{won_id}/back", me, post={"stage": first.id, "comment": "ждёт бюджет"}
    )
    assert status == 200 and deal["stage"]["id"] == first.id
    assert deal["history"][-1]["comment"] == "ждёт бюджет"

    status, deal = await call(board_url, f"/deals/{won_id}/note", me, post={"comment": "звонил"})
    assert status == 200 and deal["activities"][0]["comment"] == "звонил"

    bad_amount = (
        f"Не похоже на сумму. Напишите число в {app.book.currency}, например 150 000, 150000,50"
        " или 1,5 млн."
    )
    for typed in ("abc", "1,500", "-5"):  # read by the chat's reader, refused in its words
        assert await call(board_url, f"/deals/{won_id}/won", me, post={"amount": typed}) == (
            400,
            {"error": bad_amount},
        )
    status, deal = await call(board_url, f"/deals/{won_id}/won", me, post={"amount": "150 000"})
    assert status == 200 and deal["status"] == "won" and deal["amount"].startswith("150 000")
    thanks = app.book.follow_up[0]  # the bot's own message to the client comes next, and says so
    assert deal["next_reminder"]["text"] == f"Клиенту: {thanks.text}"
    status, body = await call(
        board_url, f"/deals/{won_id}/note", signed(petr, clock), post={"comment": "x"}
    )
    assert (status, body) == (403, {"error": "Эта заявка назначена другому менеджеру."})

    reason = app.book.lost_reasons[0]
    status, deal = await call(board_url, f"/deals/{lost_id}", me)
    assert {"id": reason.id, "name": reason.name} in deal["lost_reasons"]
    status, deal = await call(board_url, f"/deals/{lost_id}/lost", me, post={"reason": reason.id})
    assert status == 200 and deal["status"] == "lost"
    stored = {d.id: (d.status, d.lost_reason_id) for d in await deals(app)}
    assert stored == {won_id: ("won", None), lost_id: ("lost", reason.id)}


async def test_the_deal_speaks_the_persons_language_not_stored_codes(
    tg: FakeTelegram, app: Application, admin: FakeUser, clock: FixedClock, board_url: str
) -> None:
    ivan = await join_team(tg, admin, "Менеджер", "Иван")
    deal_id = await deal_for(app, clock, ivan, "Анна")
    status, _ = await call(
        board_url, f"/deals/{deal_id}/note", signed(ivan, clock), post={"comment": "звонил"}
    )
    assert status == 200

    _, ru = await call(board_url, f"/deals/{deal_id}", signed(ivan, clock))
    assert [(step["kind"], step["at"]) for step in ru["history"]] == [("Создана", "02.03 10:00")]
    assert [(a["kind"], a["comment"]) for a in ru["activities"]] == [("Заметка", "звонил")]
    assert ru["next_reminder"]["text"] == "скоро срок этапа"
    assert ru["manager"] is None  # his own deal
    boss = await join_team(tg, admin, "Руководитель", "Светлана")
    _, watched = await call(board_url, f"/deals/{deal_id}", signed(boss, clock))
    assert watched["manager"] == "👤 Иван"  # a supervisor's: whose deal it is

    english = signed_init_data(
        TOKEN, ivan.id, clock.now(), first_name=ivan.first_name, language_code="en"
    )
    _, en = await call(board_url, f"/deals/{deal_id}", english)
    assert [step["kind"] for step in en["history"]] == ["Created"]
    assert [a["kind"] for a in en["activities"]] == ["Note"]
    assert en["next_reminder"]["text"] == "stage due soon"


async def test_a_change_in_the_app_shows_on_the_chat_cards_of_that_deal(
    tg: FakeTelegram, app: Application, admin: FakeUser, clock: FixedClock, board_url: str
) -> None:
    ivan = await join_team(tg, admin, "Менеджер", "Иван")
    boss = await join_team(tg, admin, "Руководитель", "Светлана")
    deal_id = await deal_for(app, clock, ivan, "Анна")
    other_id = await deal_for(app, clock, ivan, "Борис")
    await ivan.send(f"/deal {other_id}")
    other_card = await ivan.wait_message(contains=f"Сделка №{other_id}")
    await ivan.send(f"/deal {deal_id}")
    ivan_card = await ivan.wait_message(contains=f"Сделка №{deal_id}")
    await boss.send(f"/deal {deal_id}")
    boss_card = await boss.wait_message(contains=f"Сделка №{deal_id}")

    status, _ = await call(
        board_url, f"/deals/{deal_id}/note", signed(ivan, clock), post={"comment": "из приложения"}
    )
    assert status == 200
    # Each card open in a chat shows the note, as its own reader sees the deal.
    seen_by_ivan = await ivan.wait_message(
        where=lambda m: m.message_id == ivan_card.message_id and "из приложения" in m.text
    )
    seen_by_boss = await boss.wait_message(
        where=lambda m: m.message_id == boss_card.message_id and "из приложения" in m.text
    )
    assert seen_by_ivan.edited and seen_by_boss.edited
    assert seen_by_boss.has_button("👤 Передать") and not seen_by_ivan.has_button("👤 Передать")
    assert tg.calls_to("editMessageText", chat_id=ivan.id, message_id=ivan_card.message_id)
    assert not tg.calls_to("editMessageText", chat_id=ivan.id, message_id=other_card.message_id)

    async def shown_to() -> list[int]:
        async with UnitOfWork(app.session_factory) as uow:
            return sorted(card.staff_id for card in await uow.deals.shown_cards(deal_id))

    # Cards that already say it are not edited again (Telegram refuses an edit that changes
    # nothing), and they stay known.
    edits = len(tg.calls_to("editMessageText"))
    await app.open_cards.refresh(deal_id)
    assert len(tg.calls_to("editMessageText")) == edits and tg.take_violations() == []
    assert await shown_to() == sorted([ivan.id, boss.id])
    # A card the person deleted from the chat: the next change's edit finds nothing, and it is
    # forgotten.
    del tg.chat(ivan.id).messages[ivan_card.message_id]
    status, _ = await call(
        board_url, f"/deals/{deal_id}/note", signed(boss, clock), post={"comment": "ещё одна"}
    )
    assert status == 200
    await app.open_cards.finish(5)
    assert await shown_to() == [boss.id]
    refused = tg.take_violations()
    assert any("message to edit not found" in v for v in refused)
    assert [v for v in refused if "not found" not in v] == []


async def test_a_reminder_set_in_the_app_is_the_chats_reminder_refused_in_its_words(
    tg: FakeTelegram, app: Application, admin: FakeUser, clock: FixedClock, board_url: str
) -> None:
    ivan = await join_team(tg, admin, "Менеджер", "Иван")
    petr = await join_team(tg, admin, "Менеджер", "Пётр")
    deal_id = await deal_for(app, clock, ivan, "Анна")
    me = signed(ivan, clock)
    # What the chat says to the same words typed after its card's "🔔 Напомнить".
    await ivan.send(f"/deal {deal_id}")
    card = await ivan.wait_message(contains=f"Сделка №{deal_id}")
    await ivan.press("🔔 Напомнить")
    await ivan.wait_message(contains="Когда напомнить и о чём?")
    await ivan.send("абракадабра")
    not_understood = await ivan.wait_message(contains="Не понял, когда напомнить")
    await ivan.send("вчера в 10")
    past = await ivan.wait_message(contains="Это время уже прошло")
    await ivan.send("/cancel")

    path = f"/deals/{deal_id}/reminder"
    assert await call(board_url, path, me, post={"when": "абракадабра"}) == (
        400,
        {"error": not_understood.text},
    )
    assert await call(board_url, path, me, post={"when": "вчера в 10"}) == (
        400,
        {"error": past.text},
    )
    assert await call(board_url, path, me, post={"when": "через 3 года"}) == (
        400,
        {
            "error": "Это слишком далеко (02.03.2029 10:00): напоминание ставится не больше"
            " чем на год вперёд. Напишите время поближе."
        },
    )
    too_long = {"when": "завтра в 11", "text": "х" * (MAX_COMMENT_LENGTH + 1)}
    assert await call(board_url, path, me, post=too_long) == (
        400,
        {
            "error": f"Слишком длинный текст: не больше {MAX_COMMENT_LENGTH} символов. "
            "Сократите, пожалуйста."
        },
    )
    status, body = await call(board_url, path, signed(petr, clock), post={"when": "завтра в 11"})
    assert (status, body) == (403, {"error": "Эта заявка назначена другому менеджеру."})
    forged = signed_init_data("42:another-bots-token", ivan.id, clock.now())
    assert (await call(board_url, path, forged, post={"when": "завтра в 11"}))[0] == 401
    assert await reminder_rows(app) == []

    status, deal = await call(
        board_url, path, me, post={"when": "через 2 часа", "text": "перезвонить"}
    )
    assert status == 200
    assert deal["notice"] == "🔔 Напомню 02.03.2026 12:00: перезвонить"
    assert deal["next_reminder"] == {"at": "02.03 12:00", "text": "перезвонить"}
    noon = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    assert await reminder_rows(app) == [("personal", ivan.id, deal_id, noon, "перезвонить")]
    # Shown again, the deal still says it; and the chat's card of the deal says it too.
    _, shown = await call(board_url, f"/deals/{deal_id}", me)
    assert shown["next_reminder"] == deal["next_reminder"] and "notice" not in shown
    await ivan.wait_message(
        where=lambda m: m.message_id == card.message_id and "12:00 — перезвонить" in m.text
    )

    # Without words of its own, those around the time; in English for an English speaker.
    english = signed_init_data(
        TOKEN, ivan.id, clock.now(), first_name=ivan.first_name, language_code="en"
    )
    status, deal = await call(board_url, path, english, post={"when": "call tomorrow at 11"})
    assert status == 200 and deal["notice"] == "🔔 I will remind you 03.03.2026 11:00: call"
    assert [row[-1] for row in await reminder_rows(app)] == ["перезвонить", "call"]


async def test_the_app_offers_the_chats_reminder_presets_and_each_is_a_time(
    tg: FakeTelegram, app: Application, admin: FakeUser, clock: FixedClock, board_url: str
) -> None:
    ivan = await join_team(tg, admin, "Менеджер", "Иван")
    deal_id = await deal_for(app, clock, ivan, "Анна")
    for language in ("ru", "en"):
        init_data = signed_init_data(TOKEN, ivan.id, clock.now(), language_code=language)
        _, board = await call(board_url, "/board", init_data)
        presets = [board["texts"][f"preset_{name}"] for name in ("soon", "tomorrow", "monday")]
        for preset in presets:
            status, deal = await call(
                board_url, f"/deals/{deal_id}/reminder", init_data, post={"when": preset}
            )
            assert status == 200, (preset, deal)
    # Monday 10:00: in two hours, tomorrow at 11, next Monday at 10, in either language.
    hours = sorted(row[3] for row in await reminder_rows(app))
    expected = [
        dt.datetime(2026, 3, day, hour, tzinfo=dt.UTC) for day, hour in ((2, 9), (3, 8), (9, 7))
    ]
    assert hours == sorted(expected * 2)


async def test_qualification_answers_given_in_the_chat_show_in_the_app(
    tg: FakeTelegram, app: Application, admin: FakeUser, clock: FixedClock, board_url: str
) -> None:
    ivan = await join_team(tg, admin, "Менеджер", "Иван")
    deal_id = await deal_for(app, clock, ivan, "Анна")
    status, deal = await call(board_url, f"/deals/{deal_id}", signed(ivan, clock))
    assert status == 200 and deal["answers"] == [] and deal["qualification"] is None

    questions = app.book.framework_for(PIPELINE).questions
    await ivan.send(f"/deal {deal_id}")
    await ivan.wait_message(contains=f"Сделка №{deal_id}")
    await ivan.press("🎯 Квалификация")
    chosen = []
    for question in questions:
        await ivan.wait_message(contains=question.text)
        best = max(question.options, key=lambda option: option.points)
        chosen.append({"question": question.text, "answer": best.text})
        await ivan.press(best.text)
    await ivan.wait_message(contains="Квалификация: SQL")

    _, deal = await call(board_url, f"/deals/{deal_id}", signed(ivan, clock))
    assert deal["answers"] == chosen and deal["qualification"] == "SQL"


async def reminder_rows(
    app: Application,
) -> list[tuple[str, int | None, int | None, dt.datetime, str | None]]:
    async with app.session_factory() as session:
        rows = await session.scalars(
            select(ReminderRow).where(ReminderRow.kind == "personal").order_by(ReminderRow.id)
        )
        return [(row.kind, row.staff_id, row.deal_id, row.due_at, row.text) for row in rows]
