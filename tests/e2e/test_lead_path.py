"""The lead's path: from an ad link to a manager's phone, and the chat that follows."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from bot.app import Application
from config.settings import Settings
from domain.clock import FixedClock
from storage.models import ContactRow, FsmStateRow, StageTransitionRow
from tests.e2e.scenario import (
    close_as_lost,
    contacts,
    deal_messages,
    deals,
    join_team,
    leave_request,
)
from tests.fake_telegram import FakeTelegram, FakeUser

MOSCOW = ZoneInfo("Europe/Moscow")


def moscow(year: int, month: int, day: int, hour: int, minute: int) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=MOSCOW).astimezone(dt.UTC)


async def test_a_stranger_from_an_ad_reaches_a_managers_phone(
    tg: FakeTelegram, app: Application, admin: FakeUser, clock: FixedClock
) -> None:
    manager = await join_team(tg, admin, "Менеджер", "Иван")
    clock.set(moscow(2026, 3, 4, 11, 15))  # a Wednesday morning

    anna = tg.user("Анна", username="anna_k")
    await anna.send("/start ads_vk")
    consent = await anna.wait_message(with_button="✅ Согласен(на)")
    # One message: who the bot is, and the consent with its buttons.
    assert [m.text for m in anna.messages] == [consent.text]
    assert consent.text.startswith("Здравствуйте! Это бот отдела продаж")
    assert "Согласие на обработку персональных данных" in consent.text
    assert await contacts(app) == []  # nothing stored before consent
    await anna.press("✅ Согласен(на)")
    await anna.wait_message(contains="Шаг 1 из 4")
    await anna.send("Анна Петрова")
    phone_question = await anna.wait_message(contains="Ваш телефон")
    assert anna.reply_keyboard == [["📱 Отправить мой номер"], ["◀️ Назад"]]
    assert phone_question.text.startswith("Шаг 2 из 4")
    await anna.send("12-34")
    await anna.wait_message(contains="Не похоже на номер телефона")
    await anna.send("8 (916) 123-45-67")
    await anna.wait_message(contains="компания")
    await anna.send("ООО «Ромашка» & Co")
    await anna.wait_message(contains="Что вас интересует")
    await anna.send("Внедрение CRM под ключ")
    confirmation = await anna.wait_message(contains="Спасибо, Анна Петрова!")
    assert "Заявка №1 принята" in confirmation.text
    assert "Менеджер свяжется с вами сегодня до 11:30" in confirmation.text

    card = await manager.wait_message(contains="Новая заявка №1")
    for expected in (
        "Анна Петрова",
        "+79161234567",
        "@anna_k",
        "ООО «Ромашка» & Co",
        "Внедрение CRM под ключ",
        "Источник: Реклама во ВКонтакте",
        "Клиенту обещан ответ сегодня до 11:30",
    ):
        assert expected in card.text
    assert card.button_texts == ["✅ Взять в работу", "✉️ Написать клиенту"]

    [deal] = await deals(app)
    [contact] = await contacts(app)
    pipeline = app.book.pipeline("implementation_mid")
    assert deal.pipeline_id == pipeline.id and deal.stage_id == pipeline.stages[0].id
    assert deal.source == "ads_vk" and deal.manager_id == manager.id
    assert deal.first_response_due_at == moscow(2026, 3, 4, 11, 30)
    assert deal.lead_chat_id == anna.id and deal.status == "open"
    assert contact.consent_at == clock.now()
    assert contact.consent_version == app.book.consent.version
    assert (contact.name, contact.phone, contact.telegram_id) == (
        "Анна Петрова",
        "+79161234567",
        anna.id,
    )

    await manager.press("✅ Взять в работу")
    await tg.settle()  # the alert comes first, the card's new buttons right after
    taken = await deals(app)
    assert taken[0].taken_at == clock.now()
    assert manager.last_message.button_texts == ["✉️ Написать клиенту", "📋 Открыть сделку"]


async def test_declining_consent_stores_nothing(tg: FakeTelegram, app: Application) -> None:
    stranger = tg.user("Аноним")
    await stranger.send("/start site")
    await stranger.press("Не согласен(на)")
    await stranger.wait_message(contains="ничего о вас не сохранили")
    await stranger.send("/start")
    await stranger.wait_message(with_button="✅ Согласен(на)")  # asked again, nothing remembered
    await stranger.send("Сколько стоит CRM?")  # typed instead of answering: the way on is named
    await stranger.wait_message(
        exact="Чтобы оставить заявку, нажмите «✅ Согласен(на)» под сообщением о согласии на"
        " обработку данных или /start, чтобы получить его снова. Что я умею — /help."
    )
    assert await contacts(app) == []
    assert await deals(app) == []
    async with app.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(FsmStateRow)) == 0


async def test_a_form_begun_under_a_former_policy_starts_over_with_the_new_consent(
    tg: FakeTelegram, app: Application
) -> None:
    anna = tg.user("Анна")
    for turn in range(2):
        if turn:  # the policy changed since she agreed, her form under way
            async with app.session_factory() as session:
                await session.execute(update(ContactRow).values(consent_version="2020-01"))
                await session.commit()
        await anna.send("/start site")
        await anna.wait_message(with_button="✅ Согласен(на)")
        # The second time not taken for a second tap of the first consent.
        await anna.press("✅ Согласен(на)")
        await anna.wait_message(contains="Шаг 1 из 4")
    [contact] = await contacts(app)
    assert contact.consent_version == app.book.consent.version


async def test_the_consent_is_read_in_the_leads_language_and_agreed_to_by_its_version(
    tg: FakeTelegram, app: Application
) -> None:
    john = tg.user("John", language_code="en")
    await john.send("/start site")
    asked = await john.wait_message(with_button="✅ I agree")
    assert 'By pressing "I agree" you give ООО «Ясная CRM» your consent' in asked.text
    assert "Нажимая" not in asked.text
    anna = tg.user("Анна", language_code="ru")
    await anna.send("/start site")
    asked = await anna.wait_message(with_button="✅ Согласен(на)")
    assert "Нажимая «Согласен», вы даёте ООО «Ясная CRM» согласие" in asked.text

    await john.press("✅ I agree")
    await john.wait_message(contains="What is your name?")
    [contact] = await contacts(app)
    assert contact.telegram_id == john.id and contact.consent_version == "2025-01"


async def test_an_unknown_or_tampered_source_is_recorded_as_unknown(
    tg: FakeTelegram, app: Application, admin: FakeUser
) -> None:
    await join_team(tg, admin, "Менеджер", "Иван")
    await leave_request(tg.user("Борис"), source="ads_vk<script>", phone="+7 903 000-00-01")
    await leave_request(tg.user("Вера"), source="no_such_campaign", phone="+7 903 000-00-02")
    assert [d.source for d in await deals(app)] == ["unknown", "unknown"]


async def test_the_same_person_twice_is_one_contact_and_one_deal(
    tg: FakeTelegram, app: Application, admin: FakeUser
) -> None:
    manager = await join_team(tg, admin, "Менеджер", "Иван")
    anna = tg.user("Анна")
    await leave_request(anna)
    await manager.wait_message(contains="Новая заявка №1")
    again = await leave_request(
        anna,
        need="Ещё вопрос про интеграцию с 1С",
        phone="+7 903 765-43-21",
        first_time=False,
    )
    assert "Мы добавили это к вашей заявке №1" in again.text
    assert "менеджер свяжется с вами сегодня до" in again.text  # nobody has answered yet
    assert len(await deals(app)) == 1 and len(await contacts(app)) == 1
    # Not a second new request: the manager learns what was added, with the phone she gave now.
    added = await manager.wait_message(contains="Клиент дополнил заявку №1")
    assert "➕ Дополнение: Ещё вопрос про интеграцию с 1С" in added.text
    assert "💬 Внедрение CRM под ключ" in added.text and "+79037654321" in added.text
    assert added.has_button("✅ Взять в работу")
    await manager.expect_no_message()

    # Once the manager has answered, the next addition promises no time: he is on it.
    await manager.press("✅ Взять в работу", message_id=added.message_id)
    third = await leave_request(anna, need="И обучение", company=None, first_time=False)
    assert third.text == (
        "Спасибо, Анна! Мы добавили это к вашей заявке №1: менеджер уже работает с ней и "
        "увидит это."
    )
    taken = await manager.wait_message(contains="➕ Дополнение: И обучение")
    assert "Клиент дополнил заявку №1" in taken.text
    assert not taken.has_button("✅ Взять в работу")
    assert "🏢 ООО Ромашка" in taken.text  # "Пропустить" does not erase the company given before

    # The same phone, shared by Telegram's button from another account of hers (Telegram
    # vouches it is her number): still the same contact and deal.
    other_account = tg.user("Анна (рабочий)")
    await leave_request(other_account, phone="79161234567", share_phone=True)
    assert len(await deals(app)) == 1
    [contact] = await contacts(app)
    assert contact.telegram_id == other_account.id

    # Once the deal is closed, a returning lead opens a new one.
    await close_as_lost(app, 1)
    returned = await leave_request(other_account, need="Подписка на облачную CRM", first_time=False)
    assert "Заявка №2 принята" in returned.text
    stored = await deals(app)
    assert [(d.status, d.contact_id) for d in stored] == [
        ("lost", contact.id),
        ("open", contact.id),
    ]
    assert stored[1].pipeline_id == "subscription_small"


async def test_a_returning_lead_answers_the_name_and_company_they_gave_with_a_tap(
    tg: FakeTelegram, app: Application, admin: FakeUser
) -> None:
    await join_team(tg, admin, "Менеджер", "Иван")
    anna = tg.user("Анна")
    await leave_request(anna, name="Анна Петрова", company="ООО «Ромашка»")
    await close_as_lost(app, 1)

    await anna.send("/start site")
    asked = await anna.wait_message(contains="Как к вам обращаться")
    assert asked.reply_buttons == [["Анна Петрова"], ["◀️ Назад"]]
    await anna.tap_reply_button("Анна Петрова")
    await anna.wait_message(contains="Ваш телефон")
    await anna.send("+7 916 123-45-67")
    company = await anna.wait_message(contains="компания")
    assert company.reply_buttons == [["ООО «Ромашка»"], ["Пропустить"], ["◀️ Назад"]]
    # Folded once tapped: a quick double tap cannot answer the next question too.
    assert company.reply_markup is not None and company.reply_markup["one_time_keyboard"]
    await anna.tap_reply_button("ООО «Ромашка»")
    await anna.wait_message(contains="Что вас интересует")
    await anna.send("Подписка на облачную CRM")
    await anna.wait_message(contains="Заявка №2 принята")
    [_, second] = await deals(app)
    [contact] = await contacts(app)
    assert (contact.name, contact.company, second.contact_id) == (
        "Анна Петрова",
        "ООО «Ромашка»",
        contact.id,
    )

    # Someone new gets no such buttons: nothing is known about them.
    boris = tg.user("Борис")
    await boris.send("/start site")
    await boris.press("✅ Согласен(на)")
    first = await boris.wait_message(contains="Как к вам обращаться")
    assert first.reply_buttons == [["◀️ Назад"]]


async def test_round_robin_skips_a_manager_who_blocked_the_bot(
    tg: FakeTelegram, app: Application, admin: FakeUser
) -> None:
    ivan = await join_team(tg, admin, "Менеджер", "Иван")
    petr = await join_team(tg, admin, "Менеджер", "Пётр")
    await leave_request(tg.user("Лид 1"), phone="+7 903 000-00-11")
    await leave_request(tg.user("Лид 2"), phone="+7 903 000-00-12")
    await ivan.wait_message(contains="Новая заявка №1")
    await petr.wait_message(contains="Новая заявка №2")

    await ivan.block_bot()
    await leave_request(tg.user("Лид 3"), phone="+7 903 000-00-13")
    await petr.wait_message(contains="Новая заявка №3")
    assert [d.manager_id for d in await deals(app)] == [ivan.id, petr.id, petr.id]
    await leave_request(tg.user("Лид 4"), phone="+7 903 000-00-14")
    await petr.wait_message(contains="Новая заявка №4")  # Иван is skipped from now on


async def test_with_no_manager_the_lead_is_answered_and_supervisors_told(
    tg: FakeTelegram, app: Application, admin: FakeUser
) -> None:
    maria = await join_team(tg, admin, "Руководитель", "Мария")
    confirmation = await leave_request(tg.user("Анна"))
    assert "Заявка №1 принята" in confirmation.text
    queued = await maria.wait_message(contains="ждёт в очереди")
    assert "Анна" in queued.text
    assert queued.button_texts[:2] == ["✅ Взять в работу", "👤 Назначить менеджера"]
    [deal] = await deals(app)
    assert deal.manager_id is None
    boris = tg.user("Борис")
    await leave_request(boris, name="Борис", phone="+7 903 000-00-21")
    second = await maria.wait_message(contains="Заявка №2 ждёт в очереди")
    # Answered by the supervisor meanwhile, it is still nobody's: its next card can be assigned.
    await maria.press("✉️ Написать клиенту", message_id=second.message_id)
    await maria.wait_message(contains="Напишите сообщение клиенту")
    await maria.send("Борис, подбираем вам менеджера")
    await boris.wait_message(exact="Борис, подбираем вам менеджера")
    await leave_request(
        boris, name="Борис", phone="+7 903 000-00-21", need="И интеграция с 1С", first_time=False
    )
    second = await maria.wait_message(contains="➕ Дополнение: И интеграция с 1С")
    assert second.button_texts[0] == "👤 Назначить менеджера"

    ivan = await join_team(tg, admin, "Менеджер", "Иван")
    # The supervisor gives the second one to the manager who has just joined, from its card.
    await maria.press("👤 Назначить менеджера", message_id=second.message_id)
    await maria.wait_message(contains="Кому передать сделку №2")
    await maria.press("Иван (открытых: 0)")
    await ivan.wait_message(contains="Вам передана сделка №2")
    assert [d.manager_id for d in await deals(app)] == [None, ivan.id]
    await ivan.press_data(
        next(
            b.callback_data
            for row in queued.inline_keyboard
            for b in row
            if b.callback_data and b.callback_data.startswith("deal:take")
        )
        or ""
    )
    claimed, _ = await deals(app)
    assert claimed.manager_id == ivan.id and claimed.taken_at is not None


async def test_forget_me_erases_the_person_but_keeps_the_deal(
    tg: FakeTelegram, app: Application, admin: FakeUser
) -> None:
    manager = await join_team(tg, admin, "Менеджер", "Иван")
    anna = tg.user("Анна", username="anna_k")
    await leave_request(anna)
    await anna.send("Мой второй номер +7 999 111-22-33")
    await manager.wait_message(contains="второй номер")

    await anna.send("/help")
    await anna.press("🗑 Удалить мои данные")
    confirm = await anna.wait_message(contains="Удалить ваши персональные данные?")
    erase = confirm.button("Да, удалить").callback_data
    assert erase is not None
    for _ in range(2):  # a double tap: one erasure, one "Готово"
        await anna.press_data(erase, message_id=confirm.message_id, wait_answer=False)
    await anna.wait_message(contains="ваши персональные данные удалены")
    await manager.wait_message(contains="Клиент по заявке №1 удалил свои персональные данные")
    await tg.settle()
    assert len([m for m in anna.messages if "данные удалены" in m.text]) == 1

    [contact] = await contacts(app)
    assert (contact.name, contact.phone, contact.company, contact.username) == (None,) * 4
    assert contact.telegram_id is None and contact.erased_at is not None
    [deal] = await deals(app)
    assert deal.status == "open" and deal.need is None and deal.lead_chat_id is None
    assert deal.pipeline_id == "implementation_mid" and deal.source == "ads_vk"
    assert all(m.text is None for m in await deal_messages(app, deal.id))
    async with app.session_factory() as session:
        history = await session.scalar(
            select(func.count())
            .select_from(StageTransitionRow)
            .where(StageTransitionRow.deal_id == deal.id)
        )
    assert history == 1

    await manager.send("/deal 1")  # nobody left to write to
    erased_card = await manager.wait_message(contains="Сделка №1")
    assert "✉️ Написать клиенту" not in erased_card.button_texts

    manager.mark_seen()
    await anna.send("Алло?")  # no longer relayed: the chat with the company has ended
    await anna.wait_message(contains="Чтобы оставить заявку, нажмите «✅ Согласен(на)»")
    await manager.expect_no_message()


async def test_forget_me_in_the_middle_of_the_form_takes_the_forms_keyboard_away(
    tg: FakeTelegram, app: Application
) -> None:
    anna = tg.user("Анна")
    await anna.send("/start ads_vk")
    await anna.press("✅ Согласен(на)")
    await anna.send("Анна")
    await anna.wait_message(contains="Ваш телефон")
    assert anna.reply_keyboard == [["📱 Отправить мой номер"], ["◀️ Назад"]]

    await anna.send("/forget_me")
    await anna.press("Да, удалить")
    await anna.wait_message(contains="ваши персональные данные удалены")
    assert anna.reply_keyboard is None  # no "send my number" left for a form that is gone
    [contact] = await contacts(app)
    assert contact.name is None and contact.erased_at is not None
    assert await deals(app) == []


async def test_a_saturday_request_is_promised_for_monday(
    tg: FakeTelegram, app: Application, admin: FakeUser, clock: FixedClock
) -> None:
    await join_team(tg, admin, "Менеджер", "Иван")
    clock.set(moscow(2026, 3, 14, 14, 0))
    confirmation = await leave_request(tg.user("Анна"))
    assert "Менеджер свяжется с вами в понедельник до 09:15" in confirmation.text


async def test_a_late_evening_request_is_promised_for_the_next_morning(
    tg: FakeTelegram, app: Application, admin: FakeUser, clock: FixedClock
) -> None:
    await join_team(tg, admin, "Менеджер", "Иван")
    clock.set(moscow(2026, 3, 4, 22, 40))
    confirmation = await leave_request(tg.user("Анна"))
    assert "Менеджер свяжется с вами завтра до 09:15" in confirmation.text


async def test_too_many_requests_a_day_are_refused_politely(
    tg: FakeTelegram, app: Application, admin: FakeUser, clock: FixedClock
) -> None:
    await join_team(tg, admin, "Менеджер", "Иван")
    anna = tg.user("Анна")
    for number in range(1, app.settings.max_requests_per_day + 1):
        await leave_request(anna, first_time=number == 1)
        await close_as_lost(app, number)
    await anna.send("/start ads_vk")  # refused at once, not after four questions
    refused = await anna.wait_message(contains="Вы уже оставили")
    assert "Вы уже оставили 3 заявки за сутки" in refused.text
    assert len(await deals(app)) == 3
    clock.advance(dt.timedelta(days=1, minutes=1))
    accepted = await leave_request(anna, first_time=False)
    assert "Заявка №4 принята" in accepted.text


class TestThrottling:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return settings.model_copy(update={"throttle_burst": 3, "throttle_rate": 0.01})

    async def test_an_over_eager_user_is_told_to_slow_down_once(
        self, tg: FakeTelegram, app: Application
    ) -> None:
        spammer = tg.user("Спамер")
        for _ in range(6):
            await spammer.send("/help")
        await spammer.wait_message(contains="Не так быстро")
        await tg.settle()
        texts = [m.text for m in spammer.messages]
        assert sum("Не так быстро" in text for text in texts) == 1
        assert sum("Я бот отдела продаж" in text for text in texts) == 3


async def test_the_phone_button_shares_ones_own_number_only(
    tg: FakeTelegram, app: Application, admin: FakeUser
) -> None:
    await join_team(tg, admin, "Менеджер", "Иван")
    anna = tg.user("Анна")
    await anna.send("/start site")
    await anna.press("✅ Согласен(на)")
    await anna.send("Анна")
    await anna.wait_message(contains="Ваш телефон")
    await anna.send_sticker()
    await anna.wait_message(contains="Не похоже на номер телефона")
    await anna.share_contact("+7 912 000-00-00", first_name="Муж", user_id=None)
    await anna.wait_message(contains="Это чужой контакт")
    await anna.share_contact("79035550101")  # Telegram sends it without the plus
    await anna.wait_message(contains="компания")
    await anna.tap_reply_button("◀️ Назад")  # back one step: the phone is asked again
    await anna.wait_message(contains="Ваш телефон")
    await anna.share_contact("79035550101")
    await anna.wait_message(contains="компания")
    await anna.tap_reply_button("Пропустить")
    await anna.wait_message(contains="Что вас интересует")
    await anna.tap_reply_button("Подписка на облачную CRM")
    await anna.wait_message(contains="Заявка №1 принята")
    [contact] = await contacts(app)
    assert (contact.phone, contact.company) == ("+79035550101", None)
    [deal] = await deals(app)
    assert deal.pipeline_id == "subscription_small" and deal.source == "site"
