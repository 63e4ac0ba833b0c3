"""A typed phone is a claim, not a proof: a stranger who types a client's number gets their own
request and sees nothing of the client's; only Telegram's shared contact merges two accounts,
and otherwise a manager does, after looking at both chats."""

from __future__ import annotations

import pytest

from bot.app import Application
from tests.e2e.scenario import contacts, deal_messages, deals, join_team, leave_request
from tests.fake_telegram import FakeTelegram, FakeUser

CLIENT_PHONE = "+7 916 123-45-67"


async def test_a_stranger_typing_a_clients_phone_takes_over_nothing(
    tg: FakeTelegram, app_on_each_database: Application, admin: FakeUser
) -> None:
    manager = await join_team(tg, admin, "Менеджер", "Иван")
    anna = tg.user("Анна")
    await leave_request(anna, name="Анна", phone=CLIENT_PHONE)
    await manager.wait_message(contains="Новая заявка №1")

    stranger = tg.user("Борис")
    confirmation = await leave_request(
        stranger, name="Борис", phone=CLIENT_PHONE, company="ООО Чужая"
    )
    # His own request, not "we added this to your request №1".
    assert "Заявка №2 принята" in confirmation.text
    assert "№1" not in confirmation.text
    card = await manager.wait_message(contains="Новая заявка №2")
    assert "Тот же телефон, что у заявки №1 (Анна)" in card.text
    assert card.has_button("🔗 Объединить с №1")

    # The manager answers the real client on deal 1: only she gets it.
    stranger.mark_seen()
    await manager.press("✉️ Написать клиенту", message_id=_card_of(manager, 1))
    await manager.wait_message(contains="Напишите сообщение клиенту по заявке №1")
    await manager.send("Цена для вас: 120 000 ₽")
    await manager.wait_message(contains="Отправлено клиенту (заявка №1)")
    await anna.wait_message(contains="Цена для вас")
    await stranger.expect_no_message()
    assert not any("Цена" in m.text for m in stranger.messages)

    # What the stranger writes lands on his own request, never on hers.
    await stranger.send("Когда перезвоните?")
    relayed = await manager.wait_message(contains="Когда перезвоните?")
    assert "заявка №2" in relayed.text

    anna_contact, boris_contact = await contacts(app_on_each_database)
    assert (anna_contact.telegram_id, anna_contact.name, anna_contact.company) == (
        anna.id,
        "Анна",
        "ООО Ромашка",
    )
    assert (boris_contact.telegram_id, boris_contact.name) == (stranger.id, "Борис")
    first, second = await deals(app_on_each_database)
    assert (first.contact_id, first.lead_chat_id) == (anna_contact.id, anna.id)
    assert (second.contact_id, second.lead_chat_id) == (boris_contact.id, stranger.id)
    assert second.same_phone_as == 1
    await tg.settle()
    assert [m.text for m in await deal_messages(app_on_each_database, 2)] == ["Когда перезвоните?"]
    assert "Когда перезвоните?" not in [
        m.text for m in await deal_messages(app_on_each_database, 1)
    ]


async def test_the_manager_merges_after_seeing_both_chats(
    tg: FakeTelegram, app_on_each_database: Application, admin: FakeUser
) -> None:
    manager = await join_team(tg, admin, "Менеджер", "Иван")
    anna = tg.user("Анна", username="anna_work")
    await leave_request(anna, name="Анна", phone=CLIENT_PHONE)
    home = tg.user("Анна (дом)", no_username=True)
    await leave_request(home, name="Анна", phone=CLIENT_PHONE, company="Пропустить")
    await manager.wait_message(contains="Новая заявка №2")

    await manager.press("🔗 Объединить с №1")
    ask = await manager.wait_message(contains="Объединить клиентов заявок №1 и №2?")
    assert f"№1: Анна, @anna_work (id {anna.id})" in ask.text
    assert f"№2: Анна, id {home.id}, без username" in ask.text
    await manager.press("✅ Да, это один клиент")
    await manager.wait_message(contains="Клиенты объединены")

    first, second = await deals(app_on_each_database)
    assert first.contact_id == second.contact_id
    assert second.same_phone_as is None
    # Each request keeps its own chat.
    assert (first.lead_chat_id, second.lead_chat_id) == (anna.id, home.id)
    await home.send("Это снова я")
    relayed = await manager.wait_message(contains="Это снова я")
    assert "заявка №2" in relayed.text

    # A second press of a stale button changes nothing.
    answer = await manager.press_data(f"sph:{second.id}:yes")
    assert answer is not None and "Объединять нечего" in (answer.text or "")


async def _merged_client(tg: FakeTelegram, admin: FakeUser) -> tuple[FakeUser, FakeUser, FakeUser]:
    """Анна writes from two accounts; the manager merges the two requests into one client."""
    manager = await join_team(tg, admin, "Менеджер", "Иван")
    work = tg.user("Анна", username="anna_work")
    await leave_request(work, name="Анна", phone=CLIENT_PHONE)
    home = tg.user("Анна (дом)", username="anna_home")
    await leave_request(home, name="Анна", phone=CLIENT_PHONE, company="ООО Дом")
    await manager.wait_message(contains="Новая заявка №2")
    await work.send("Рабочий вопрос")
    await home.send("Домашний вопрос")
    await manager.wait_message(contains="Домашний вопрос")
    await manager.press("🔗 Объединить с №1")
    await manager.wait_message(contains="Объединить клиентов заявок №1 и №2?")
    await manager.press("✅ Да, это один клиент")
    await manager.wait_message(contains="Клиенты объединены")
    return manager, work, home


@pytest.mark.parametrize("asking", ["work", "home"])
async def test_forget_me_from_either_account_of_a_merged_client_forgets_both(
    tg: FakeTelegram, app_on_each_database: Application, admin: FakeUser, asking: str
) -> None:
    manager, work, home = await _merged_client(tg, admin)
    person = work if asking == "work" else home

    await person.send("/forget_me")
    await person.press("Да, удалить")
    await person.wait_message(contains="ваши персональные данные удалены")
    for deal_id in (1, 2):
        await manager.wait_message(
            contains=f"Клиент по заявке №{deal_id} удалил свои персональные данные"
        )

    cards = await contacts(app_on_each_database)
    assert len(cards) == 2
    for card in cards:
        assert (card.telegram_id, card.name, card.phone, card.company, card.username) == (
            (None,) * 5
        )
        assert card.erased_at is not None
    for deal in await deals(app_on_each_database):
        assert (deal.need, deal.lead_chat_id) == (None, None)
        assert all(m.text is None for m in await deal_messages(app_on_each_database, deal.id))
    # Neither account's words reach the manager any more.
    manager.mark_seen()
    await work.send("Алло?")
    await home.send("Алло?")
    await manager.expect_no_message()


async def test_a_colleague_cannot_merge_someone_elses_request(
    tg: FakeTelegram, app_on_each_database: Application, admin: FakeUser
) -> None:
    ivan = await join_team(tg, admin, "Менеджер", "Иван")
    petr = await join_team(tg, admin, "Менеджер", "Пётр")
    await leave_request(tg.user("Анна"), phone=CLIENT_PHONE)
    await leave_request(tg.user("Борис"), name="Борис", phone=CLIENT_PHONE)
    # Round robin: Иван got №1, Пётр №2; Иван forges the merge of Пётр's request.
    await ivan.wait_message(contains="Новая заявка №1")
    await petr.wait_message(contains="Новая заявка №2")
    answer = await ivan.press_data("sph:2:yes")
    assert answer is not None and answer.show_alert
    first, second = await deals(app_on_each_database)
    assert first.contact_id != second.contact_id and second.same_phone_as == 1


def _card_of(manager: FakeUser, deal_id: int) -> int:
    return next(m.message_id for m in manager.messages if f"Новая заявка №{deal_id}" in m.text)
