"""The manager's workspace: /deals by urgency, the deal card, stage moves, activities, closing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.app import Application
from bot.telegram.callbacks import CardAction, DealCard, ScriptFeedback
from domain.clock import FixedClock
from domain.scripts import ScriptLibrary
from services.deals import create_deal
from storage.models import (
    ActivityRow,
    QualificationAnswerRow,
    ScriptUseRow,
    StageTransitionRow,
)
from storage.unit_of_work import UnitOfWork
from tests.e2e.scenario import a_taken_deal, deals, join_team, leave_request
from tests.fake_telegram import FakeTelegram, FakeUser


async def history(app: Application, deal_id: int) -> list[tuple[str, str | None, str, int | None]]:
    async with app.session_factory() as session:
        rows = await session.scalars(
            select(StageTransitionRow)
            .where(StageTransitionRow.deal_id == deal_id)
            .order_by(StageTransitionRow.id)
        )
        return [(r.kind, r.from_stage, r.to_stage, r.actor_id) for r in rows]


async def test_a_deal_walks_from_request_to_won(
    tg: FakeTelegram, app: Application, admin: FakeUser
) -> None:
    ivan = await join_team(tg, admin, "Менеджер", "Иван")
    await leave_request(tg.user("Анна"))
    await ivan.wait_message(contains="Новая заявка №1")
    pipeline = app.book.pipeline("implementation_mid")
    first, second, third = pipeline.stages[:3]

    await ivan.send("/deals")
    listing = await ivan.wait_message(contains="Открытые сделки")
    assert "№1 · Анна · Обращение · ⏳ осталось" in listing.text
    await ivan.press("№1 Анна")
    card = await ivan.wait_message(contains="Сделка №1")
    assert card.message_id == listing.message_id  # the card replaced the list in place
    assert "Обращение</b>" not in card.text and "Обращение (1/8)" in card.text

    await ivan.press("➡️ Следующий этап")
    await ivan.wait_message(contains="отметьте критерии этапа «Обращение»")
    refused = await ivan.press("➡️ Перевести")
    assert refused.show_alert and "не отмечено: 2" in (refused.text or "")
    assert await history(app, 1) == [("created", None, first.id, None)]
    await ivan.press(first.exit_criteria[0][:20])
    # The text says what the buttons say: the first ticked, the second not yet.
    ticked = await ivan.wait_message(contains=f"☑️ {first.exit_criteria[0]}")
    assert f"  ☑️ {first.exit_criteria[0]}\n  ⬜️ {first.exit_criteria[1]}" in ticked.text
    for criterion in first.exit_criteria[1:]:
        await ivan.press(criterion[:20])
    await ivan.press("➡️ Перевести")
    moved = await ivan.wait_message(contains=f"{second.name} (2/8)")
    assert "Сделка №1" in moved.text

    # Qualification on the call, with the stage's script and an objection at hand.
    await ivan.press("📚 Скрипты")
    stage_script = await ivan.wait_message(contains=f"Этап «{second.name}»")
    assert "Цель:" in stage_script.text and stage_script.inline_keyboard
    objection = stage_script.inline_keyboard[0][0].text
    await ivan.press(objection, message_id=stage_script.message_id)
    await ivan.wait_message(contains=f"«{objection}»")
    await ivan.press("👍 Помогло")
    await ivan.press("🎯 Квалификация", message_id=moved.message_id)
    questions = app.book.framework_for(pipeline.id).questions
    for question in questions:
        await ivan.wait_message(contains=question.text)
        best = max(question.options, key=lambda option: option.points)
        result = await ivan.press(best.text)
    assert (result.text or "").startswith("Квалификация: SQL")
    await ivan.wait_message(contains="Квалификация: SQL")

    await ivan.press("📞 Звонок")
    await ivan.wait_message(contains="добавьте комментарий")
    await ivan.send("Договорились о демо на четверг")
    with_call = await ivan.wait_message(contains="Договорились о демо на четверг")
    assert "Последние действия" in with_call.text

    await ivan.press("➡️ Следующий этап")
    for criterion in second.exit_criteria:
        await ivan.press(criterion[:20])
    await ivan.press("➡️ Перевести")
    await ivan.wait_message(contains=f"{third.name} (3/8)")

    await ivan.press("✅ Выиграна")
    await ivan.wait_message(contains="Сумма сделки в RUB")
    await ivan.send("сто тысяч")
    await ivan.wait_message(contains="Не похоже на сумму")
    await ivan.send("1 250 000,50")
    won = await ivan.wait_message(contains="✅ Выиграна")
    assert "Сумма: 1 250 000,50 RUB" in won.text
    assert "➡️ Следующий этап" not in won.button_texts

    assert await history(app, 1) == [
        ("created", None, first.id, None),
        ("forward", first.id, second.id, ivan.id),
        ("forward", second.id, third.id, ivan.id),
        ("won", third.id, third.id, ivan.id),
    ]
    async with app.session_factory() as session:
        [call] = list(await session.scalars(select(ActivityRow)))
        [script_use] = list(await session.scalars(select(ScriptUseRow)))
        answered = list(await session.scalars(select(QualificationAnswerRow)))
    assert (call.kind, call.comment, call.author_id) == (
        "call",
        "Договорились о демо на четверг",
        ivan.id,
    )
    assert (script_use.deal_id, script_use.outcome, script_use.staff_id) == (1, "helped", ivan.id)
    assert len(answered) == len(questions)
    [deal] = await deals(app)
    assert (deal.qualification_level, deal.status) == ("sql", "won")
    await ivan.send("/deals")
    await ivan.wait_message(contains="Открытых сделок нет")


async def test_a_deal_with_an_expected_amount_is_won_at_it_with_one_tap(
    tg: FakeTelegram, app: Application, admin: FakeUser
) -> None:
    ivan, card = await a_taken_deal(tg, admin)
    await ivan.press("✅ Выиграна", message_id=card.message_id)
    asked = await ivan.wait_message(contains="Сумма сделки в RUB")
    assert asked.button_texts == ["Отмена"]  # nothing expected yet: typed
    await ivan.press("Отмена", message_id=asked.message_id)
    await ivan.press("💰 Сумма", message_id=card.message_id)
    await ivan.wait_message(contains="Какую сумму ожидаете")
    await ivan.send("1,5 млн")  # as said on the phone
    card = await ivan.wait_message(contains="💰 Ожидаемая сумма: 1 500 000 RUB")

    await ivan.press("✅ Выиграна", message_id=card.message_id)
    asked = await ivan.wait_message(contains="Сумма сделки в RUB")
    assert asked.button_texts == ["✅ 1 500 000 RUB, как ожидали", "Отмена"]
    await ivan.press("✅ 1 500 000 RUB, как ожидали", message_id=asked.message_id)
    won = await ivan.wait_message(contains="✅ Выиграна")
    assert won.message_id == asked.message_id and "Сумма: 1 500 000 RUB" in won.text
    [deal] = await deals(app)
    assert (deal.status, deal.amount) == ("won", Decimal(1_500_000))
    # The same tap again, from an old message, is a stale button: the deal stays as it is.
    alert = await ivan.press_data(DealCard(deal_id=1, action=CardAction.VIEW, arg="offer").pack())
    assert alert is not None and alert.show_alert


async def test_an_untaken_deals_card_counts_down_the_first_response_not_the_stage(
    tg: FakeTelegram, app: Application, admin: FakeUser
) -> None:
    """Until a manager takes the lead, the deadline that counts is the first answer the lead
    was promised, and the card says so; once taken, the stage's own SLA."""
    ivan = await join_team(tg, admin, "Менеджер", "Иван")
    confirmation = await leave_request(tg.user("Анна"))
    new_request = await ivan.wait_message(contains="Новая заявка №1")
    stage = app.book.pipeline("implementation_mid").stages[0]
    promised = confirmation.text.split("свяжется с вами ")[1].split(".")[0]  # "сегодня до 10:15"
    minutes = app.book.first_response_minutes

    await ivan.send("/deal 1")
    card = await ivan.wait_message(contains="Сделка №1")
    assert f"Первый ответ клиенту (SLA {minutes} раб. мин): ⏳ осталось" in card.text
    assert promised.split(" до ")[1] + ")" in card.text
    assert "Срок этапа" not in card.text

    await ivan.press("✅ Взять в работу", message_id=new_request.message_id)
    await ivan.send("/deal 1")
    card = await ivan.wait_message(contains="Сделка №1")
    assert f"Срок этапа (SLA {stage.sla_hours:g} раб. ч): ⏳ осталось" in card.text
    assert "Первый ответ клиенту" not in card.text


async def test_a_deal_goes_back_with_a_comment_and_is_lost_with_a_reason(
    tg: FakeTelegram, app: Application, admin: FakeUser
) -> None:
    ivan = await join_team(tg, admin, "Менеджер", "Иван")
    await leave_request(tg.user("Борис"), name="Борис", need="Подписка на облачную CRM")
    pipeline = app.book.pipeline("subscription_small")
    first, second = pipeline.stages[:2]
    await ivan.send("/deals")
    await ivan.press("№1 Борис")
    await ivan.press("➡️ Следующий этап")
    for criterion in first.exit_criteria:
        await ivan.press(criterion[:20])
    await ivan.press("➡️ Перевести")
    await ivan.wait_message(contains="(2/8)")

    await ivan.press("⬅️ Вернуть на этап")
    await ivan.press(first.name)
    await ivan.wait_message(contains="Почему сделка возвращается")
    await ivan.send("Клиент не отвечает, начинаем сначала")
    await ivan.wait_message(contains="(1/8)")

    reason = app.book.lost_reasons[0]
    await ivan.press("❌ Проиграна")
    reasons = await ivan.wait_message(contains="Почему сделка проиграна")
    await ivan.press(reason.name)
    question = await ivan.wait_message(contains="комментарий к проигрышу")
    assert question.message_id == reasons.message_id  # the reasons' list did not stay behind
    await ivan.send("Ушли к тем, кто дал <скидку>")
    closed = await ivan.wait_message(contains="❌ Проиграна")
    answered = await ivan.wait_message(contains="комментарий к проигрышу")  # its buttons gone
    assert answered.message_id == question.message_id and not answered.inline_keyboard
    # The closed card says when and why, the manager's comment as typed.
    closing = app.clock.now().astimezone(ZoneInfo(app.settings.timezone)).strftime("%d.%m.%Y")
    assert f"❌ Проиграна · {closing}\nПричина: {reason.name}\n💬 Ушли к тем, кто дал <скидку>" in (
        closed.text
    )
    assert await history(app, 1) == [
        ("created", None, first.id, None),
        ("forward", first.id, second.id, ivan.id),
        ("back", second.id, first.id, ivan.id),
        ("lost", first.id, first.id, ivan.id),
    ]
    [deal] = await deals(app)
    assert deal.status == "lost" and deal.lost_reason_id == reason.id


async def test_nobody_touches_another_managers_deal(
    tg: FakeTelegram, app: Application, admin: FakeUser
) -> None:
    ivan = await join_team(tg, admin, "Менеджер", "Иван")
    petr = await join_team(tg, admin, "Менеджер", "Пётр")
    await leave_request(tg.user("Анна"))
    [deal] = await deals(app)
    assert deal.manager_id == ivan.id
    stranger = tg.user("Гость")
    await stranger.send("/start")
    await stranger.wait_message(contains="Здравствуйте")
    await petr.send("/deals")
    await petr.wait_message(contains="Открытых сделок нет")

    forged = [
        DealCard(deal_id=deal.id, action=action, ticked=3, arg=arg).pack()
        for action, arg in [
            (CardAction.VIEW, ""),
            (CardAction.CONFIRM_ADVANCE, ""),
            (CardAction.WON, ""),
            (CardAction.LOST_REASON, app.book.lost_reasons[0].id),
            (CardAction.BACK_TO, "request"),
            (CardAction.ACTIVITY, "call"),
        ]
    ]
    for data in forged:
        answer = await petr.press_data(data)
        assert answer is not None and "другому менеджеру" in (answer.text or ""), data
        answer = await stranger.press_data(data)
        assert answer is not None and "устарела" in (answer.text or ""), data
    await stranger.send("/deals")
    await stranger.wait_message(contains="только для сотрудников")
    assert await history(app, deal.id) == [("created", None, "request", None)]
    [unchanged] = await deals(app)
    assert unchanged.status == "open" and unchanged.stage_id == "request"

    # A supervisor sees and may open every deal.
    maria = await join_team(tg, admin, "Руководитель", "Мария")
    await maria.send("/deals")
    team_list = await maria.wait_message(contains="Открытые сделки")
    assert "№1 · Анна" in team_list.text
    await maria.press("👤 Менеджер")
    await maria.press("Пётр")
    await maria.wait_message(contains="Открытых сделок нет")
    await maria.press("👤 Менеджер")
    await maria.press("Иван")
    ivans = await maria.wait_message(contains="Открытые сделки")
    assert "№1 · Анна" in ivans.text


async def test_two_hundred_deals_page_within_telegrams_limits(
    tg: FakeTelegram, app: Application, admin: FakeUser, clock: FixedClock
) -> None:
    ivan = await join_team(tg, admin, "Менеджер", "Иван")
    for number in range(200):
        clock.advance(dt.timedelta(minutes=7))
        await create_deal(
            UnitOfWork(app.session_factory),
            app.clock,
            app.book,
            app.calendar,
            app.book.pipelines[number % 2].id,
            manager_id=ivan.id,
            need="x" * 900,
        )
    await ivan.send("/deals")
    first_page = await ivan.wait_message(contains="Открытые сделки")
    assert "стр. 1/25" in first_page.text
    assert len(first_page.inline_keyboard) <= 6
    await ivan.press("▶️")
    second_page = await ivan.wait_message(contains="стр. 2/25")
    await ivan.press("🔴 Только просроченные")
    overdue = await ivan.wait_message(contains="Открытые сделки")
    assert "просрочено" in overdue.text or "Открытых сделок нет" in overdue.text
    assert "🔎 Отбор: только просроченные" in overdue.text  # an empty list says why
    assert second_page.message_id == first_page.message_id
    await ivan.press("Все открытые")
    await ivan.press("🗂 Этап")
    picker = await ivan.wait_message(contains="Показать сделки на этапе")
    # A stage each pipeline names its own way shows both names on its one button.
    assert "Встреча / демонстрация · Демонстрация" in picker.button_texts
    assert "Передача клиенту · Подключение" in picker.button_texts
    await ivan.press("Квалификация")
    qualifying = await ivan.wait_message(contains="Открытых сделок нет")  # all 200 are new
    assert "🔎 Отбор: этап «Квалификация»" in qualifying.text
    await ivan.press("🗂 Этап")
    await ivan.press("Обращение")
    await ivan.wait_message(contains="Открытые сделки: 200")


async def test_qualification_resumes_after_cancel_and_sets_the_level(
    tg: FakeTelegram, app: Application, admin: FakeUser
) -> None:
    ivan = await join_team(tg, admin, "Менеджер", "Иван")
    await leave_request(tg.user("Анна"))
    framework = app.book.framework_for("implementation_mid")
    questions = framework.questions
    await ivan.send("/deals")
    await ivan.press("№1 Анна")
    await ivan.press("🎯 Квалификация")
    first = await ivan.wait_message(contains=f"вопрос 1/{len(questions)}")
    assert questions[0].text in first.text
    best = [max(range(len(q.options)), key=lambda i: q.options[i].points) for q in questions]
    await ivan.press(questions[0].options[best[0]].text)
    await ivan.wait_message(contains=f"вопрос 2/{len(questions)}")
    await ivan.press(questions[1].options[best[1]].text)
    await ivan.wait_message(contains=f"вопрос 3/{len(questions)}")

    await ivan.send("/cancel")
    await ivan.send("/deals")
    await ivan.press("№1 Анна")
    await ivan.press("🎯 Квалификация")
    resumed = await ivan.wait_message(contains=f"вопрос 3/{len(questions)}")
    assert questions[2].text in resumed.text
    for index in range(2, len(questions)):
        result = await ivan.press(questions[index].options[best[index]].text)
    assert result.show_alert and (result.text or "").startswith("Квалификация: SQL")
    card = await ivan.wait_message(contains="Квалификация: SQL")
    assert "Сделка №1" in card.text
    [deal] = await deals(app)
    assert deal.qualification_level == "sql"
    assert deal.qualification_points == sum(
        q.options[b].points for q, b in zip(questions, best, strict=True)
    )


async def test_a_disqualified_lead_is_offered_closing_as_lost(
    tg: FakeTelegram, app: Application, admin: FakeUser
) -> None:
    ivan = await join_team(tg, admin, "Менеджер", "Иван")
    await leave_request(tg.user("Анна"), need="Подписка на облачную CRM")
    questions = app.book.framework_for("subscription_small").questions
    await ivan.send("/deals")
    await ivan.press("№1 Анна")
    await ivan.press("🎯 Квалификация")
    for question in questions:
        worst = min(range(len(question.options)), key=lambda i: question.options[i].points)
        await ivan.wait_message(contains=question.text)
        result = await ivan.press(question.options[worst].text)
    assert (result.text or "").startswith("Квалификация: не квалифицирован")
    offer = await ivan.wait_message(contains="не прошёл квалификацию")
    assert app.book.lost_reasons[0].name in offer.button_texts
    [deal] = await deals(app)
    assert deal.qualification_level == "disqualified" and deal.status == "open"


async def test_scripts_from_the_card_and_by_the_clients_words_with_ab_feedback(
    tg: FakeTelegram, app: Application, admin: FakeUser
) -> None:
    ivan = await join_team(tg, admin, "Менеджер", "Иван")
    await leave_request(tg.user("Анна"))
    await ivan.send("/deals")
    await ivan.press("№1 Анна")
    await ivan.press("📚 Скрипты")
    stage = await ivan.wait_message(contains="Этап «Обращение»")
    assert "Цель:" in stage.text

    await ivan.send("/scripts дороговато")
    found = await ivan.wait_message(contains="Похожие возражения")
    assert found.button_texts[0] == "Дорого"
    await ivan.press("Дорого")
    first = await ivan.wait_message(contains="«Дорого»")
    await ivan.press("👍 Помогло")
    await ivan.send("/scripts")
    await ivan.wait_message(contains="Что говорит клиент")
    await ivan.send("цена высокая")
    await ivan.wait_message(contains="Похожие возражения")
    await ivan.press("Дорого")
    second = await ivan.wait_message(
        contains="«Дорого»", where=lambda m: m.message_id != first.message_id
    )
    assert first.text != second.text  # the next A/B variant by rotation
    await ivan.press("👎 Не помогло")
    answer = await ivan.press_data(ScriptFeedback(use_id=1, helped=False).pack())
    assert answer is not None and "устарела" in (answer.text or "")  # feedback counts once

    async with app.session_factory() as session:
        uses = list(await session.scalars(select(ScriptUseRow).order_by(ScriptUseRow.id)))
    assert [(u.objection_id, u.outcome, u.staff_id) for u in uses] == [
        ("price", "helped", ivan.id),
        ("price", "not_helped", ivan.id),
    ]
    assert uses[0].variant_id != uses[1].variant_id

    # Words the library does not know: its objections to pick from, not a guess at its words.
    await ivan.send("/scripts expensive")
    browse = await ivan.wait_message(contains="Ничего не нашлось. Все возражения из библиотеки")
    library: ScriptLibrary = app.dispatcher["scripts"]
    assert browse.button_texts == [objection.title for objection in library.objections]
    await ivan.press("Дорого", message_id=browse.message_id)
    await ivan.wait_message(contains="«Дорого»")

    await ivan.send("/ab")
    await ivan.wait_message(contains="нет прав")
    await admin.send("/ab")
    report = await admin.wait_message(contains="A/B-результаты скриптов")
    assert "«Дорого»" in report.text
    assert "использовали 1 раз, помогло 100 % (1/1)" in report.text
    assert "использовали 1 раз, помогло 0 % (0/1)" in report.text
    assert "пока мало данных" in report.text


async def test_a_change_in_a_chat_shows_on_the_deals_card_open_in_a_colleagues_chat(
    tg: FakeTelegram, app: Application, admin: FakeUser
) -> None:
    ivan = await join_team(tg, admin, "Менеджер", "Иван")
    boss = await join_team(tg, admin, "Руководитель", "Светлана")
    await leave_request(tg.user("Анна"))
    await ivan.wait_message(contains="Новая заявка №1")
    first, second = app.book.pipeline("implementation_mid").stages[:2]
    await boss.send("/deal 1")
    boss_card = await boss.wait_message(contains="Сделка №1")
    assert f"{first.name} (1/8)" in boss_card.text
    await ivan.send("/deal 1")
    await ivan.wait_message(contains="Сделка №1")

    # Иван moves the deal on in his chat: Светлана's card shows it, as she sees the deal.
    await ivan.press("➡️ Следующий этап")
    await ivan.press(first.exit_criteria[0][:20])
    # The text says what the buttons say: the first ticked, the second not yet.
    ticked = await ivan.wait_message(contains=f"☑️ {first.exit_criteria[0]}")
    assert f"  ☑️ {first.exit_criteria[0]}\n  ⬜️ {first.exit_criteria[1]}" in ticked.text
    for criterion in first.exit_criteria[1:]:
        await ivan.press(criterion[:20])
    await ivan.press("➡️ Перевести")
    ivan_card = await ivan.wait_message(contains=f"{second.name} (2/8)")
    moved = await boss.wait_message(
        where=lambda m: m.message_id == boss_card.message_id and f"{second.name} (2/8)" in m.text
    )
    assert moved.edited and moved.has_button("👤 Передать")

    # A typed input (a call with its comment) too; Иван's own card is not edited behind him.
    await ivan.press("📞 Звонок", message_id=ivan_card.message_id)
    await ivan.wait_message(contains="добавьте комментарий")
    await ivan.send("Договорились о демо на четверг")
    await ivan.wait_message(contains="Договорились о демо на четверг")
    await boss.wait_message(
        where=lambda m: m.message_id == boss_card.message_id and "о демо на четверг" in m.text
    )
    await tg.settle()
    edits_of_ivans_cards = [
        call
        for call in tg.calls_to("editMessageText", chat_id=ivan.id)
        if "о демо на четверг" in str(call.params.get("text"))
    ]
    assert edits_of_ivans_cards == []
