"""/training through the fake Bot API: a new manager is offered it when they join, walks the real
screens on a sandbox deal (open, qualify, a script, a stage move, a reminder, closing) with the
card saying the next step, and completes it; the supervisor sees that in /team. The sandbox
deal is never in /deals, never opens for anyone else, and no report, digest or A/B counts it."""

from __future__ import annotations

from sqlalchemy import select

from bot.app import Application
from bot.telegram.callbacks import DealCard
from storage.models import DealRow
from tests.e2e.scenario import join_team
from tests.fake_telegram import FakeTelegram, FakeUser


async def test_a_new_manager_walks_the_screens_on_a_deal_nobody_else_sees(
    tg: FakeTelegram, app: Application, admin: FakeUser
) -> None:
    maria = await join_team(tg, admin, "Руководитель", "Мария")
    ivan = await join_team(tg, admin, "Менеджер", "Иван")
    [welcome] = [
        m.text or "" for m in tg.messages_in(ivan.id) if "Добро пожаловать" in (m.text or "")
    ]
    assert "🎓 Начните с обучения" in welcome
    await ivan.press("🎓 Пройти обучение")
    plan = await ivan.wait_message(contains="🎓 Обучение")
    assert "⬜️ 1. открыть карточку сделки" in plan.text
    assert "Следующий шаг: Нажмите «📂 Открыть учебную сделку»" in plan.text
    await ivan.send("/deals")
    await ivan.wait_message(contains="Открытых сделок нет")  # the sandbox deal is not listed

    await ivan.press("📂 Открыть учебную сделку")
    card = await ivan.wait_message(contains="Учебный клиент")
    assert "🎓 Учебная сделка. Следующий шаг: «🎯 Квалификация»" in card.text

    pipeline = app.book.pipelines[0]
    await ivan.press("🎯 Квалификация")
    for question in app.book.framework_for(pipeline.id).questions:
        await ivan.wait_message(contains=question.text)
        await ivan.press(max(question.options, key=lambda option: option.points).text)
    await ivan.wait_message(contains="Следующий шаг: «📚 Скрипты»")

    await ivan.press("📚 Скрипты")
    scripts = await ivan.wait_message(contains="Этап «")
    await ivan.press(scripts.inline_keyboard[0][0].text, message_id=scripts.message_id)
    await ivan.send("/deal 1")
    card = await ivan.wait_message(contains="Следующий шаг: «➡️ Следующий этап»")

    await ivan.press("➡️ Следующий этап")
    for criterion in pipeline.stages[0].exit_criteria:
        await ivan.press(criterion[:20])
    await ivan.press("➡️ Перевести")
    await ivan.wait_message(contains="Следующий шаг: «🔔 Напомнить»")

    await ivan.press("🔔 Напомнить")
    await ivan.wait_message(contains="Когда напомнить и о чём")
    await ivan.send("завтра в 11 перезвонить")
    await ivan.wait_message(contains="🔔 Напомню")
    await ivan.send("/deal 1")
    await ivan.wait_message(contains="Следующий шаг: «✅ Выиграна» или «❌ Проиграна»")

    # Nobody else sees it: not the supervisor by number, not a forged button.
    await maria.send("/deal 1")
    await maria.wait_message(exact="Сделки №1 нет.")
    await maria.press_data(DealCard(deal_id=1).pack())
    assert not [m for m in tg.messages_in(maria.id) if "Учебный клиент" in (m.text or "")]

    await ivan.send("/deal 1")
    await ivan.wait_message(contains="Учебный клиент")
    await ivan.press("❌ Проиграна")
    await ivan.press(app.book.lost_reasons[0].name)
    await ivan.press("Без комментария")
    await ivan.wait_message(contains="🎓 Учебная сделка: обучение пройдено")

    await ivan.send("/training")
    done = await ivan.wait_message(contains="Обучение пройдено")
    assert done.text.count("✅") == 6
    assert done.has_button("🔁 Пройти ещё раз на новой сделке")

    await maria.send("/team")
    team = await maria.wait_message(contains="Команда")
    assert "Иван (@user100002) — менеджер, 🎓 обучение пройдено 02.03.2026 10:00" in team.text

    # No figure counts it: the digest, the report, the A/B of scripts.
    await maria.send("/digest")
    photo = await maria.wait_message(kind="photo")
    assert "➡️ Новые лиды: 0 (до этого 0)" in photo.text
    assert "Проигрыши" not in photo.text
    await maria.send("/ab")
    await maria.wait_message(contains="Пока нет возражений")
    async with app.session_factory() as session:
        [sandbox] = list(await session.scalars(select(DealRow)))
    assert sandbox.is_sandbox and sandbox.manager_id == ivan.id and sandbox.status == "lost"
