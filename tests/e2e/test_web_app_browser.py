"""The Mini App in a real browser: Debian's chromium, driven by Playwright, at a phone's width,
with `window.Telegram.WebApp` stubbed as Telegram's app provides it (a really signed initData,
themeParams, HapticFeedback and BackButton that record their calls) and Telegram's own script
refused, so nothing leaves this machine.

One bot, one web server and one browser serve every test of this module (each test gets its
own browser context and its own people). Off CI the module is skipped where chromium is
missing; with CI=true it fails instead. `SCREENSHOT_DIR=docs` writes the README's screenshots.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
from decimal import Decimal
from typing import Literal

import pytest
from playwright.async_api import expect

from domain.qualification import QualificationLevel
from domain.roles import Role
from domain.staff import StaffMember
from services.deals import advance_deal, expect_amount, snooze_deal
from services.qualification import answer
from services.staff import Actor
from services.workspace import ActivityKind, log_activity
from storage.unit_of_work import UnitOfWork
from tests.e2e import mini_app_browser
from tests.e2e.mini_app_browser import (
    CHROMIUM,
    DARK,
    LIGHT,
    PHONE,
    PIPELINE,
    World,
    board_of,
    column,
    open_deal,
    personal_reminders,
    shot,
    telegram_calls,
)
from tests.e2e.scenario import deals, join_team

# The fixture: one bot, web server and browser for every test of this module.
world = mini_app_browser.world

pytestmark = [
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.skipif(
        not os.environ.get("CI") and not CHROMIUM.exists(),
        reason=f"needs Debian's chromium at {CHROMIUM} (apt-get install chromium)",
    ),
]


# Telegram's app as the page finds it: `window.Telegram.WebApp` in place before the page's own
# scripts run. `window.__telegram` is the test's side: the calls made, and the back arrow.
async def test_a_manager_sees_their_columns_and_their_cards(world: World) -> None:
    ivan = await join_team(world.tg, world.admin, "Менеджер", "Иван")
    petr = await join_team(world.tg, world.admin, "Менеджер", "Пётр")
    await open_deal(world, ivan.id, "Анна", company="ООО Ромашка")
    await open_deal(world, ivan.id, "Борис", entered=world.clock.now() - dt.timedelta(days=9))
    await open_deal(world, petr.id, "Вера")
    stages = world.app.book.pipeline(PIPELINE).stages

    async with board_of(world, ivan.id, "Иван") as page:
        headings = await page.locator(".column h2").all_inner_texts()
        assert headings == [
            f"{stage.name} · {2 if index == 0 else 0}" for index, stage in enumerate(stages)
        ]
        first = column(page, stages[0].id)
        assert await first.locator(".card .client").all_inner_texts() == ["Борис", "Анна"]
        anna = first.locator(".card", has_text="Анна")
        await expect(anna.locator(".meta")).to_have_text("ООО Ромашка")
        await expect(anna.locator(".due")).to_contain_text("осталось")
        boris = first.locator(".card", has_text="Борис")
        await expect(boris).to_have_class("card overdue")
        assert await page.get_by_text("Вера").count() == 0  # Пётр's deal
        assert await page.locator("#manager").is_hidden()  # no manager filter for a manager
        # The page is as wide as the phone; the columns past it are reached by the board's own
        # sideways scroll.
        board_box = await page.evaluate(
            "[document.getElementById('board').scrollWidth, innerWidth]"
        )
        assert board_box[0] > board_box[1] == PHONE["width"]
        assert ["ready"] in await telegram_calls(page)


async def test_a_move_is_refused_as_in_the_chat_then_made_and_the_chat_card_agrees(
    world: World,
) -> None:
    manager = await join_team(world.tg, world.admin, "Менеджер", "Мария")
    deal_id = await open_deal(world, manager.id, "Глеб", company="ООО Вектор")
    first, second = world.app.book.pipeline(PIPELINE).stages[:2]

    # The card in the chat, and the chat's refusal of a move without its criteria.
    await manager.send(f"/deal {deal_id}")
    card = await manager.wait_message(contains=f"Сделка №{deal_id}")
    await manager.press("➡️ Следующий этап")
    refused_in_chat = await manager.press("➡️ Перевести")
    assert refused_in_chat.text is not None and "не отмечено" in refused_in_chat.text
    await manager.press("Отмена")
    await manager.wait_message(contains=f"Сделка №{deal_id}", where=lambda m: m.edited)

    async with board_of(world, manager.id, "Мария") as page:
        await column(page, first.id).locator(".card", has_text="Глеб").click()
        deal = page.locator("#deal")
        await expect(deal.locator("h1")).to_have_text(f"№{deal_id} · Глеб")
        await expect(page.locator("#board")).to_be_hidden()
        assert ["BackButton.show"] in await telegram_calls(page)
        # Created, in the person's words (not the stored code).
        await expect(deal).to_contain_text(f"Создана: {first.name}")

        next_stage = deal.get_by_role("button", name="➡️ Следующий этап")
        await next_stage.click()
        await page.wait_for_function(
            "window.__telegram.calls.some((call) => call[0] === 'showAlert')"
        )
        alerts = [c[1] for c in await telegram_calls(page) if c[0] == "showAlert"]
        assert alerts == [refused_in_chat.text]
        assert ["HapticFeedback.notificationOccurred", "error"] in await telegram_calls(page)
        assert [(d.id, d.stage_id) for d in await deals(world.app) if d.id == deal_id] == [
            (deal_id, first.id)
        ]

        boxes = deal.locator("input[type=checkbox]")
        assert await boxes.count() == len(first.exit_criteria)
        for index in range(len(first.exit_criteria)):
            await boxes.nth(index).check()
        assert ["HapticFeedback.selectionChanged", None] in await telegram_calls(page)
        await next_stage.click()
        await expect(deal.locator(".due")).to_contain_text(second.name)
        assert ["HapticFeedback.notificationOccurred", "success"] in await telegram_calls(page)
        await expect(deal).to_contain_text(f"Вперёд: {second.name}")

        # The database and the chat's card say the same.
        stored = [d.stage_id for d in await deals(world.app) if d.id == deal_id]
        assert stored == [second.id]
        edited = await manager.wait_message(
            where=lambda m: m.message_id == card.message_id and second.name in m.text
        )
        assert edited.edited and f"Сделка №{deal_id}" in edited.text
        assert first.name not in edited.text.split("\n")[2]  # the stage line

        # Telegram's back arrow returns to the board, where the deal is in its new column.
        await page.evaluate("window.__telegram.pressBack()")
        await expect(page.locator("#board")).to_be_visible()
        await expect(deal).to_be_hidden()
        await expect(column(page, second.id).locator(".card", has_text="Глеб")).to_be_visible()
        assert (await telegram_calls(page))[-1] == ["BackButton.hide"]


async def test_a_reminder_is_set_from_the_deal_and_a_later_stage_goes_back_with_a_comment(
    world: World,
) -> None:
    manager = await join_team(world.tg, world.admin, "Менеджер", "Вика")
    deal_id = await open_deal(world, manager.id, "Семён", company="ООО Орбита")
    first, second = world.app.book.pipeline(PIPELINE).stages[:2]

    async with board_of(world, manager.id, "Вика") as page:
        await page.locator(f'.card[data-deal="{deal_id}"]').click()
        deal = page.locator("#deal")
        await expect(deal.locator("h1")).to_have_text(f"№{deal_id} · Семён")
        # On the first stage there is nothing to go back to.
        await expect(deal.get_by_role("button", name="⬅️ Вернуть на этап")).to_have_count(0)

        # A preset fills the time as the chat's words would say it; the server reads it.
        await deal.get_by_role("button", name="через 2 часа").click()
        await expect(deal.get_by_placeholder("Когда: завтра в 11")).to_have_value("через 2 часа")
        await deal.get_by_placeholder("О чём напомнить").fill("перезвонить")
        await deal.get_by_role("button", name="🔔 Напомнить").click()
        await expect(deal.locator(".notice")).to_have_text(
            "🔔 Напомню 02.03.2026 12:00: перезвонить"
        )
        reminder = deal.locator("h3", has_text="Следующее напоминание").locator("xpath=..")
        await expect(reminder.locator("li")).to_have_text(["02.03 12:00 · перезвонить"])
        assert ["HapticFeedback.notificationOccurred", "success"] in await telegram_calls(page)
        noon = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
        assert await personal_reminders(world.app, deal_id) == [
            (manager.id, noon, "перезвонить", "pending")
        ]

        # A time already past is refused with the chat's words, and nothing is stored.
        await deal.get_by_placeholder("Когда: завтра в 11").fill("вчера в 10")
        await deal.get_by_role("button", name="🔔 Напомнить").click()
        await page.wait_for_function(
            "window.__telegram.calls.some((call) => call[0] === 'showAlert')"
        )
        alerts = [c[1] for c in await telegram_calls(page) if c[0] == "showAlert"]
        assert alerts == ["Это время уже прошло (01.03.2026 10:00). Напишите время в будущем."]
        assert len(await personal_reminders(world.app, deal_id)) == 1

        # Past the first stage, "back" is offered, and asks for a comment as the chat does.
        boxes = deal.locator("input[type=checkbox]")
        for index in range(len(first.exit_criteria)):
            await boxes.nth(index).check()
        await deal.get_by_role("button", name="➡️ Следующий этап").click()
        await expect(deal.locator(".due")).to_contain_text(second.name)
        back = deal.locator("form.action", has=page.get_by_role("button", name="⬅️ Вернуть на этап"))
        await expect(back.locator("select option")).to_have_text([first.name])
        await back.get_by_role("button").click()
        await page.wait_for_function(
            "window.__telegram.calls.filter((call) => call[0] === 'showAlert').length === 2"
        )
        alerts = [c[1] for c in await telegram_calls(page) if c[0] == "showAlert"]
        assert alerts[-1] == "Нужен комментарий: напишите причину — она останется в истории сделки."
        await back.get_by_placeholder("Комментарий").fill("ждёт бюджет")
        await back.get_by_role("button").click()
        await expect(deal.locator(".due")).to_contain_text(first.name)
        await expect(deal).to_contain_text(f"Возврат: {first.name} — ждёт бюджет")
        stored = [d.stage_id for d in await deals(world.app) if d.id == deal_id]
        assert stored == [first.id]


async def test_a_deal_is_lost_from_the_app_with_its_reason_and_a_comment(world: World) -> None:
    manager = await join_team(world.tg, world.admin, "Менеджер", "Лев")
    deal_id = await open_deal(world, manager.id, "Нина", company="ООО Сигма")
    reason = world.app.book.lost_reasons[1]

    async with board_of(world, manager.id, "Лев") as page:
        await page.locator(f'.card[data-deal="{deal_id}"]').click()
        deal = page.locator("#deal")
        lost = deal.locator("form.action", has=page.get_by_role("button", name="❌ Проиграна"))
        await lost.locator("select").select_option(reason.id)
        await lost.get_by_placeholder("Комментарий").fill("выбрали другого подрядчика")
        await lost.get_by_role("button").click()
        await page.wait_for_function(
            "window.__telegram.calls.some((c) => c[0] === 'HapticFeedback.notificationOccurred')"
        )
        assert ["HapticFeedback.notificationOccurred", "success"] in await telegram_calls(page)
    [stored] = [d for d in await deals(world.app) if d.id == deal_id]
    assert (stored.status, stored.lost_reason_id, stored.close_comment) == (
        "lost",
        reason.id,
        "выбрали другого подрядчика",
    )


async def test_a_supervisor_filters_by_manager(world: World) -> None:
    lena = await join_team(world.tg, world.admin, "Менеджер", "Лена")
    oleg = await join_team(world.tg, world.admin, "Менеджер", "Олег")
    boss = await join_team(world.tg, world.admin, "Руководитель", "Светлана")
    await open_deal(world, lena.id, "Дарья")
    await open_deal(world, oleg.id, "Егор")

    async with board_of(world, boss.id, "Светлана") as page:
        cards = page.locator(".card .client")
        await expect(page.locator(".card", has_text="Дарья")).to_be_visible()
        await expect(page.locator(".card", has_text="Егор")).to_be_visible()
        picker = page.locator("#manager")
        await expect(picker).to_be_visible()
        await picker.select_option(label="Олег")
        await expect(page.locator(".card", has_text="Дарья")).to_have_count(0)
        assert await cards.all_inner_texts() == ["Егор"]
        await picker.select_option(label="Все менеджеры")
        await expect(page.locator(".card", has_text="Дарья")).to_be_visible()


async def test_search_and_the_overdue_filter(world: World) -> None:
    manager = await join_team(world.tg, world.admin, "Менеджер", "Ника")
    await open_deal(world, manager.id, "Жанна", company="Альфа")
    await open_deal(world, manager.id, "Захар", company="Бета")
    await open_deal(world, manager.id, "Инна", entered=world.clock.now() - dt.timedelta(days=9))

    async with board_of(world, manager.id, "Ника") as page:
        cards = page.locator(".card .client")
        await expect(cards).to_have_count(3)
        await page.locator("#search").fill("бета")
        await expect(cards).to_have_text(["Захар"])
        await page.locator("#search").fill("")
        await expect(cards).to_have_count(3)
        await page.locator("#overdue").check()
        await expect(cards).to_have_text(["Инна"])
        await expect(page.locator(".card.overdue")).to_have_count(1)


async def test_the_dark_theme_takes_its_colours_from_theme_params(world: World) -> None:
    manager = await join_team(world.tg, world.admin, "Менеджер", "Тимур")
    await showcase(world, manager.id)

    async with board_of(world, manager.id, "Тимур", theme=DARK, scheme="dark") as page:
        colours = await page.evaluate(
            """() => {
              const style = (selector) => getComputedStyle(document.querySelector(selector));
              return {
                page: style("body").backgroundColor,
                text: style("body").color,
                column: style(".column").backgroundColor,
                card: style(".card").backgroundColor,
                hint: style(".column h2").color,
                overdue: style(".card.overdue .due").color,
                level: style(".level").backgroundColor,
              };
            }"""
        )
        assert colours == {
            "page": rgb(DARK["bg_color"]),
            "text": rgb(DARK["text_color"]),
            "column": rgb(DARK["secondary_bg_color"]),
            "card": rgb(DARK["bg_color"]),
            "hint": rgb(DARK["hint_color"]),
            "overdue": rgb(DARK["destructive_text_color"]),
            "level": rgb(DARK["button_color"]),
        }


async def test_screenshots_of_the_board_and_a_deal_light_and_dark(world: World) -> None:
    manager = await join_team(world.tg, world.admin, "Менеджер", "Кира")
    deal_id = await showcase(world, manager.id)
    schemes: list[tuple[Literal["light", "dark"], dict[str, str]]] = [
        ("light", LIGHT),
        ("dark", DARK),
    ]
    for scheme, theme in schemes:
        async with board_of(world, manager.id, "Кира", theme=theme, scheme=scheme, scale=2) as page:
            await expect(page.locator(".card")).to_have_count(5)
            await shot(world, page, f"board-{scheme}")
            await page.locator(f'.card[data-deal="{deal_id}"]').click()
            await expect(page.locator("#deal h1")).to_contain_text(f"№{deal_id}")
            await expect(page.locator("#deal")).to_contain_text("Звонок — ждёт КП до пятницы")
            first_question = world.app.book.framework_for(PIPELINE).questions[0].text
            await expect(page.locator("#deal")).to_contain_text(f"{first_question} — ")
            button = page.locator("#deal button").first
            assert await button.evaluate("(b) => getComputedStyle(b).backgroundColor") == rgb(
                theme["button_color"]
            )
            # All of the deal: what it says, then every action it offers.
            await shot(world, page, f"deal-{scheme}", full_page=True)


async def test_the_board_of_200_deals_renders_and_its_time_is_reported(world: World) -> None:
    """The time from navigation start to the cards laid out, as the page marks it
    (`performance.mark("board-rendered")`), for a manager with 200 open deals. Reported, not
    asserted: speed is a measurement, not a test's verdict."""
    manager_id = 777_000
    async with UnitOfWork(world.app.session_factory) as uow:
        await uow.staff.add(
            StaffMember(manager_id, Role.MANAGER, world.clock.now(), first_name="Нагрузка")
        )
        await uow.commit()
    for number in range(200):
        await open_deal(world, manager_id, f"Клиент {number}", company=f"Компания {number}")

    timings: list[float] = []
    drawing: list[float] = []
    """Of which the page's own work: from the board's JSON in hand to the cards laid out."""
    async with board_of(world, manager_id, "Нагрузка") as page:
        for attempt in range(6):
            if attempt:
                await page.reload()
            await page.wait_for_function(
                "performance.getEntriesByName('board-rendered').length > 0"
            )
            await expect(page.locator(".card")).to_have_count(200)
            data, rendered = await page.evaluate(
                "['board-data', 'board-rendered'].map("
                "(name) => performance.getEntriesByName(name)[0].startTime)"
            )
            timings.append(float(rendered))
            drawing.append(float(rendered) - float(data))
    warm = timings[1:]  # the first load also fetches and compiles the page's files
    print(
        f"\nMini App board, 200 open deals, navigation start → cards laid out: "
        f"first load {timings[0]:.0f} ms; next {len(warm)} loads median "
        f"{statistics.median(warm):.0f} ms, max {max(warm):.0f} ms; of which drawing the "
        f"cards (JSON in hand → laid out): first {drawing[0]:.0f} ms, next median "
        f"{statistics.median(drawing[1:]):.0f} ms"
    )
    assert len(timings) == 6 and all(t > 0 for t in timings)


async def showcase(world: World, manager_id: int) -> int:
    """A board that shows what a card can say: a deadline, overdue, snoozed, a level, an
    amount. Returns the deal to open."""
    now = world.clock.now()
    stages = world.app.book.pipeline(PIPELINE).stages
    actor = Actor(manager_id, Role.MANAGER, "", None, "ru")
    app = world.app
    shown = await open_deal(world, manager_id, "Анна Соколова", company="ООО Ромашка")
    late = await open_deal(
        world, manager_id, "Игорь Белов", company="Техносфера", entered=now - dt.timedelta(days=3)
    )
    sleepy = await open_deal(world, manager_id, "Ольга Ким", company="Кофейня «Зерно»")
    await snooze_deal(
        UnitOfWork(app.session_factory),
        world.clock,
        actor,
        sleepy,
        now + dt.timedelta(days=2),
        "в отпуске",
    )
    await log_activity(
        UnitOfWork(app.session_factory),
        world.clock,
        actor,
        shown,
        ActivityKind.CALL,
        "ждёт КП до пятницы",
    )
    moved = [
        await open_deal(world, manager_id, "Пётр Орлов", company="СтройМаркет"),
        await open_deal(world, manager_id, "Елена Волкова", company="Аптека 36,6"),
    ]
    for deal_id, amount in ((shown, 480_000), (late, 1_250_000), (moved[0], 320_000)):
        await expect_amount(
            UnitOfWork(app.session_factory), app.book, actor, deal_id, Decimal(amount)
        )
    # The deal shown qualified as the chat qualifies one, answer by answer (its answers on the
    # deal's screen); the other one only carries a level on its card.
    for question in app.book.framework_for(PIPELINE).questions:
        best = max(range(len(question.options)), key=lambda i: question.options[i].points)
        await answer(
            UnitOfWork(app.session_factory), world.clock, app.book, actor, shown, question.id, best
        )
    async with UnitOfWork(app.session_factory) as uow:
        deal = await uow.deals.get(late)
        assert deal is not None
        deal.qualification_level = QualificationLevel.MQL
        deal.qualification_points = 7
        await uow.deals.save(deal)
        await uow.commit()
    # Moved on as a manager moves a deal, every exit criterion ticked: one stage, then two.
    for steps, deal_id in enumerate(moved, start=1):
        for stage in stages[:steps]:
            ticked = list(range(len(stage.exit_criteria)))
            await advance_deal(
                UnitOfWork(app.session_factory),
                world.clock,
                app.book,
                app.calendar,
                actor,
                deal_id,
                ticked,
            )
    return shown


def rgb(colour: str) -> str:
    red, green, blue = (int(colour[index : index + 2], 16) for index in (1, 3, 5))
    return f"rgb({red}, {green}, {blue})"
