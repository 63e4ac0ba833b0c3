"""What a head of sales does to deals that managers cannot: move on without every criterion,
reopen a closed deal, hand deals to another manager (one, or all of someone's), and what the
managers and the lead see when that happens. Plus the qualification's per-answer comment and the
lost reason the answers suggest."""

from __future__ import annotations

from sqlalchemy import select

from bot.app import Application
from bot.telegram.callbacks import CardAction, DealCard, Handover
from domain.roles import Role
from domain.staff import StaffMember
from services.deals import create_deal, lose_deal
from services.staff import Actor
from storage.models import QualificationAnswerRow, ReassignmentRow, StageTransitionRow
from storage.unit_of_work import UnitOfWork
from tests.e2e.scenario import deals, join_team, leave_request
from tests.fake_telegram import BotMessage, FakeTelegram, FakeUser


async def transitions(app: Application, deal_id: int) -> list[StageTransitionRow]:
    async with app.session_factory() as session:
        query = select(StageTransitionRow).where(StageTransitionRow.deal_id == deal_id)
        return list(await session.scalars(query.order_by(StageTransitionRow.id)))


async def reassignments(app: Application) -> list[tuple[int, int | None, int, int]]:
    async with app.session_factory() as session:
        rows = await session.scalars(select(ReassignmentRow).order_by(ReassignmentRow.id))
        return [(r.deal_id, r.from_manager_id, r.to_manager_id, r.actor_id) for r in rows]


async def test_a_supervisor_moves_a_deal_on_without_ticks_and_says_why(
    tg: FakeTelegram, app: Application, admin: FakeUser
) -> None:
    ivan = await join_team(tg, admin, "Менеджер", "Иван")
    maria = await join_team(tg, admin, "Руководитель", "Мария")
    await leave_request(tg.user("Анна"))

    await ivan.send("/deal 1")
    await ivan.press("➡️ Следующий этап")
    checklist = await ivan.wait_message(contains="отметьте критерии")
    assert "⚠️ Перевести без отметок" not in checklist.button_texts
    forged = await ivan.press_data(DealCard(deal_id=1, action=CardAction.OVERRIDE).pack())
    assert forged is not None and "нет прав" in (forged.text or "")

    await maria.send("/deal 1")
    await maria.wait_message(contains="Сделка №1")
    await maria.press("➡️ Следующий этап")
    await maria.press(app.book.pipeline("implementation_mid").stages[0].exit_criteria[0][:20])
    await maria.press("⚠️ Перевести без отметок")
    await maria.wait_message(contains="Комментарий обязателен")
    await maria.send("   ")
    await maria.wait_message(contains="Нужен комментарий")
    await maria.send("Клиент подтвердил всё по телефону")
    moved = await maria.wait_message(contains="Квалификация (2/8)")
    assert "Сделка №1" in moved.text

    _created, forward = await transitions(app, 1)
    assert (forward.kind, forward.from_stage, forward.to_stage) == (
        "forward",
        "request",
        "qualification",
    )
    assert forward.actor_id == maria.id and forward.override is True
    assert forward.comment == "Клиент подтвердил всё по телефону"


async def test_a_supervisor_reopens_a_lost_deal_by_its_number(
    tg: FakeTelegram, app: Application, admin: FakeUser
) -> None:
    ivan = await join_team(tg, admin, "Менеджер", "Иван")
    maria = await join_team(tg, admin, "Руководитель", "Мария")
    await leave_request(tg.user("Анна"))
    await ivan.send("/deal 1")
    await ivan.press("❌ Проиграна")
    await ivan.press("Нет бюджета")
    await ivan.press("Без комментария")
    lost = await ivan.wait_message(contains="❌ Проиграна")
    assert "↩️ Переоткрыть" not in lost.button_texts
    await ivan.send("/deals")
    await ivan.wait_message(contains="Открытых сделок нет")

    await maria.send("/deal 99")
    await maria.wait_message(contains="Сделки №99 нет")
    await maria.send("/deal")
    await maria.wait_message(contains="/deal 123")
    await maria.send("/deal №1")
    closed = await maria.wait_message(contains="❌ Проиграна")
    assert "↩️ Переоткрыть" in closed.button_texts
    await maria.press("↩️ Переоткрыть")
    await maria.wait_message(contains="Почему сделка открывается снова")
    await maria.send("Клиент нашёл бюджет")
    reopened = await maria.wait_message(contains="Сделка №1")
    assert "➡️ Следующий этап" in reopened.button_texts

    [deal] = await deals(app)
    assert deal.status == "open" and deal.lost_reason_id is None
    *_, lose, reopen = await transitions(app, 1)
    assert (lose.kind, lose.actor_id) == ("lost", ivan.id)
    assert (reopen.kind, reopen.actor_id, reopen.comment) == (
        "reopen",
        maria.id,
        "Клиент нашёл бюджет",
    )
    await ivan.send("/deals")
    back = await ivan.wait_message(contains="Открытые сделки")
    assert "№1 · Анна" in back.text


async def test_a_deal_handed_to_another_manager_takes_the_clients_chat_along(
    tg: FakeTelegram, app: Application, admin: FakeUser
) -> None:
    ivan = await join_team(tg, admin, "Менеджер", "Иван")
    petr = await join_team(tg, admin, "Менеджер", "Пётр")
    maria = await join_team(tg, admin, "Руководитель", "Мария")
    anna = tg.user("Анна")
    await leave_request(anna)
    await ivan.wait_message(contains="Новая заявка №1")
    await ivan.press("✅ Взять в работу")
    await anna.wait_message(contains="Менеджер Иван взял вашу заявку №1")

    forged = await ivan.press_data(
        DealCard(deal_id=1, action=CardAction.REASSIGN, arg=str(ivan.id)).pack()
    )
    assert forged is not None and "нет прав" in (forged.text or "")
    card = await ivan.press_data(DealCard(deal_id=1).pack())
    assert card is not None
    own = await ivan.wait_message(contains="Сделка №1")
    assert "👤 Передать" not in own.button_texts and "Менеджер:" not in own.text  # his own

    await maria.send("/deal 1")
    watched = await maria.wait_message(contains="Сделка №1")
    assert "👤 Менеджер: Иван" in watched.text  # a supervisor's card says whose deal it is
    await maria.press("👤 Передать")
    picker = await maria.wait_message(contains="Кому передать сделку №1")
    assert picker.button_texts[:1] == ["Пётр (открытых: 0)"]
    assert not any(text.startswith("Иван") for text in picker.button_texts)
    done = await maria.press("Пётр (открытых: 0)")
    assert "Сделка передана: Пётр" in (done.text or "")
    assert "👤 Менеджер: Пётр" in tg.message(maria.id, watched.message_id).text

    handed = await petr.wait_message(contains="Вам передана сделка №1")
    assert "Анна" in handed.text and "✉️ Написать клиенту" in handed.button_texts
    await ivan.wait_message(contains="Сделка №1 передана менеджеру Пётр")
    closed = await ivan.wait_message(  # his open card of it stops offering buttons
        where=lambda m: m.message_id == own.message_id and "карточка закрыта" in m.text
    )
    assert closed.button_texts == []
    assert await reassignments(app) == [(1, ivan.id, petr.id, maria.id)]
    # The client, told Ivan's name when he took the request, is told who has it now.
    await anna.wait_message(
        exact="🔄 Вашей заявкой №1 теперь занимается менеджер Пётр. Пишите сюда, как и раньше: "
        "он увидит."
    )

    ivan.mark_seen()
    await anna.send("Когда будет демо?")
    relayed = await petr.wait_message(contains="Когда будет демо?")
    await ivan.expect_no_message()
    await petr.send("Завтра в 11:00", reply_to=relayed.message_id)
    await anna.wait_message(exact="Завтра в 11:00")
    await ivan.send("/deals")
    await ivan.wait_message(contains="Открытых сделок нет")


async def test_all_of_a_leavers_deals_go_to_a_colleague_from_team(
    tg: FakeTelegram, app: Application, admin: FakeUser
) -> None:
    ivan = await join_team(tg, admin, "Менеджер", "Иван")
    petr = await join_team(tg, admin, "Менеджер", "Пётр")
    maria = await join_team(tg, admin, "Руководитель", "Мария")
    for _ in range(3):
        await create_deal(
            UnitOfWork(app.session_factory),
            app.clock,
            app.book,
            app.calendar,
            "subscription_small",
            manager_id=ivan.id,
        )
    head = Actor(maria.id, Role.SUPERVISOR, "Мария", None, "ru")
    await lose_deal(UnitOfWork(app.session_factory), app.clock, app.book, head, 3, "spam")

    # Ivan leaves: the admin deactivates him, his two open deals must not be stranded.
    await admin.send("/team")
    await admin.press("Отключить: Иван")
    await admin.press("Да, отключить")
    done = await admin.wait_message(contains="отключён")
    assert "Открытые сделки (2) нужно передать другому менеджеру" in done.text
    assert done.button_texts == [f"🔁 Передать сделки: Иван (@{ivan.username}) (2)"]
    await ivan.wait_message(contains="Ваш доступ к рабочим командам бота отдела продаж отключён")
    await admin.press(done.button_texts[0], message_id=done.message_id)  # the picker, right there
    await admin.wait_message(contains="Кому передать открытые сделки (2) сотрудника Иван")

    await maria.send("/team")
    team = await maria.wait_message(contains="Команда")
    assert "Отключены, но у них остались открытые сделки" in team.text
    assert f"Иван (@{ivan.username}) — открытых сделок: 2" in team.text
    assert "Отключить: Пётр" not in team.button_texts  # only an admin deactivates
    await maria.press("🔁 Передать сделки: Иван")
    await maria.wait_message(contains="Кому передать открытые сделки (2) сотрудника Иван")
    await maria.press("Пётр (открытых: 0)")
    await maria.wait_message(contains="Передать все открытые сделки (2) от Иван к Пётр?")
    await maria.press("✅ Передать")
    done = await maria.wait_message(contains="Передано сделок: 2, от Иван к Пётр")
    assert "Пётр получил(а) уведомление" in done.text  # Иван, gone, is not written to
    await petr.wait_message(contains="Вам переданы сделки от Иван: 2")

    by_id = {deal.id: deal for deal in await deals(app)}
    assert (by_id[1].manager_id, by_id[2].manager_id) == (petr.id, petr.id)
    assert by_id[3].manager_id == ivan.id  # a closed deal keeps who lost it
    assert await reassignments(app) == [
        (1, ivan.id, petr.id, maria.id),
        (2, ivan.id, petr.id, maria.id),
    ]

    stale = await maria.press_data(Handover(from_id=ivan.id, to_id=petr.id, confirmed=True).pack())
    assert stale is not None and "нет открытых сделок" in (stale.text or "")
    forged = await petr.press_data(Handover(from_id=petr.id).pack())
    assert forged is None or "Передать" not in (forged.text or "")
    assert len(await reassignments(app)) == 2


async def test_answers_keep_their_comments_and_the_weakest_names_the_lost_reason(
    tg: FakeTelegram, app: Application, admin: FakeUser
) -> None:
    ivan = await join_team(tg, admin, "Менеджер", "Иван")
    await leave_request(tg.user("Анна"), need="Подписка на облачную CRM")
    framework = app.book.framework_for("subscription_small")
    budget, *rest = framework.questions
    await ivan.send("/deal 1")
    await ivan.press("🎯 Квалификация")
    first = await ivan.wait_message(contains="вопрос 1/4")
    assert "Можно написать комментарий" in first.text
    await ivan.send("Бюджет появится только в <следующем> году")
    with_comment = await ivan.wait_message(contains="💬 Комментарий к ответу")
    assert "Бюджет появится только в <следующем> году" in with_comment.text  # escaped, shown
    await ivan.wait_message(  # the question above it keeps no buttons: one set on screen
        where=lambda m: m.message_id == first.message_id and not m.button_texts
    )
    await ivan.send("Бюджет появится только в следующем году, в марте")  # typed again
    again = await ivan.wait_message(contains="в марте")
    await ivan.wait_message(
        where=lambda m: m.message_id == with_comment.message_id and not m.button_texts
    )
    with_comment = again
    await ivan.press(budget.options[-1].text, message_id=with_comment.message_id)
    for question in rest[:-1]:
        await ivan.wait_message(contains=question.text)
        await ivan.press(question.options[-1].text)
    await ivan.wait_message(contains=rest[-1].text)
    scored = await ivan.press(rest[-1].options[-1].text)
    assert scored is not None and scored.text == "Квалификация: не квалифицирован, 0 из 12 б."
    offer = await ivan.wait_message(contains="не прошёл квалификацию")
    assert offer.button_texts[0] == "⭐ Нет бюджета (по анкете)"
    await ivan.press("⭐ Нет бюджета (по анкете)")
    await ivan.press("Без комментария")
    closed = await ivan.wait_message(contains="❌ Проиграна")
    assert "Квалификация: не квалифицирован (0 б.)" in closed.text

    [deal] = await deals(app)
    assert (deal.status, deal.lost_reason_id) == ("lost", "no_budget")
    async with app.session_factory() as session:
        answers = {
            row.question_id: row.comment
            for row in await session.scalars(select(QualificationAnswerRow))
        }
    assert answers == {
        "budget": "Бюджет появится только в следующем году, в марте",
        "authority": None,
        "need": None,
        "timeline": None,
    }


async def test_a_bulk_handover_closes_the_old_managers_open_cards(
    tg: FakeTelegram, app: Application, admin: FakeUser
) -> None:
    ivan = await join_team(tg, admin, "Менеджер", "Иван")
    petr = await join_team(tg, admin, "Менеджер", "Пётр")
    await leave_request(tg.user("Анна"))  # round robin: Иван's
    await ivan.send("/deal 1")
    card = await ivan.wait_message(contains="Сделка №1")

    await admin.send("/team")
    await admin.press("🔁 Передать сделки: Иван")
    await admin.press("Пётр (открытых: 0)")
    await admin.press("✅ Передать")
    await admin.wait_message(contains="Передано сделок: 1, от Иван к Пётр")
    closed = await ivan.wait_message(
        where=lambda m: m.message_id == card.message_id and "карточка закрыта" in m.text
    )
    assert closed.button_texts == []
    await petr.wait_message(contains="Вам передана сделка №1")


async def test_a_large_teams_pickers_go_a_page_at_a_time(
    tg: FakeTelegram, app: Application, admin: FakeUser
) -> None:
    """Forty-four managers: every picker of a manager fits Telegram's 100 buttons."""
    uow = UnitOfWork(app.session_factory)
    async with uow:
        for number in range(1, 45):
            name = f"Менеджер {number:02}"
            tg.user(name, user_id=3_000 + number)
            await uow.staff.add(StaffMember(3_000 + number, Role.MANAGER, app.clock.now(), name))
        await uow.commit()
    maria = await join_team(tg, admin, "Руководитель", "Мария")
    await create_deal(
        uow, app.clock, app.book, app.calendar, "subscription_small", manager_id=3_001
    )

    await maria.send("/deal 1")
    await maria.press("👤 Передать")
    first = await maria.wait_message(contains="Кому передать сделку №1")
    assert first.text == "Кому передать сделку №1?\nСтр. 1 из 3"  # 43: all but his own
    assert first.button_texts[:1] == ["Менеджер 02 (открытых: 0)"]
    assert first.button_texts[-2:] == ["▶️", "Отмена"] and len(first.button_texts) == 22
    second = await _turn_page(maria, first, "▶️", "Стр. 2 из 3")
    assert second.button_texts[-3:] == ["◀️", "▶️", "Отмена"]
    last = await _turn_page(maria, second, "▶️", "Стр. 3 из 3")
    assert last.button_texts == [
        "Менеджер 42 (открытых: 0)",
        "Менеджер 43 (открытых: 0)",
        "Менеджер 44 (открытых: 0)",
        "◀️",
        "Отмена",
    ]
    back = await _turn_page(
        maria, await _turn_page(maria, last, "◀️", "Стр. 2 из 3"), "◀️", "Стр. 1 из 3"
    )
    done = await maria.press("Менеджер 02 (открытых: 0)", message_id=back.message_id)
    assert "Сделка передана: Менеджер 02" in (done.text or "")

    await maria.send("/team")
    team = await maria.wait_message(contains="Команда")
    await maria.press("🔁 Передать сделки: Менеджер 02 (1)", message_id=team.message_id)
    everyone = await maria.wait_message(contains="Кому передать открытые сделки (1)")
    assert "Стр. 1 из 3" in everyone.text and everyone.button_texts[-2:] == ["▶️", "Отмена"]
    await _turn_page(maria, everyone, "▶️", "Стр. 2 из 3")

    await maria.send("/deals")
    listed = await maria.wait_message(contains="Открытые сделки")
    await maria.press("👤 Менеджер", message_id=listed.message_id)
    managers = await maria.wait_message(contains="Показать сделки менеджера")
    assert "Стр. 1 из 3" in managers.text and managers.button_texts[-1] == "▶️"
    assert managers.button_texts[:2] == ["Все менеджеры", "Менеджер 01"]
    page_two = await _turn_page(maria, managers, "▶️", "Стр. 2 из 3")
    await maria.press("Менеджер 21", message_id=page_two.message_id)
    filtered = await maria.wait_message(contains="🔎 Отбор: менеджер Менеджер 21")
    assert filtered.message_id == page_two.message_id and "Открытых сделок нет" in filtered.text


async def _turn_page(person: FakeUser, screen: BotMessage, arrow: str, page: str) -> BotMessage:
    """Press an arrow under a list: the same message shows the next page."""
    await person.press(arrow, message_id=screen.message_id)
    turned = await person.wait_message(contains=page)
    assert turned.message_id == screen.message_id
    return turned
