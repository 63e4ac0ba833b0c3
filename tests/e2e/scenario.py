"""Steps that several scenarios share, written as a person would do them."""

from __future__ import annotations

import re

from sqlalchemy import select

from bot.app import Application
from services.deals import lose_deal
from services.staff import Profile, identify
from storage.models import ContactRow, DealMessageRow, DealRow, InviteRow, StaffRow
from storage.unit_of_work import UnitOfWork
from tests.e2e.conftest import ADMIN_ID
from tests.fake_telegram import BotMessage, FakeTelegram, FakeUser

INVITE_LINK = re.compile(r"https://t\.me/\w+\?start=(inv_[A-Za-z0-9_-]+)")


async def invite(admin: FakeUser, role_button: str, label: str) -> str:
    """The admin makes an invite through /invite; returns the start payload of the link."""
    await admin.send("/invite")
    await admin.press(role_button)
    await admin.wait_message(contains="Как зовут")
    await admin.send(label)
    created = await admin.wait_message(contains="Перешлите эту ссылку")
    found = INVITE_LINK.search(created.text)
    assert found, created.text
    return found.group(1)


async def staff_row(app: Application, telegram_id: int) -> StaffRow | None:
    async with app.session_factory() as session:
        return await session.get(StaffRow, telegram_id)


async def invite_rows(app: Application) -> list[InviteRow]:
    async with app.session_factory() as session:
        return list(await session.scalars(select(InviteRow).order_by(InviteRow.id)))


async def join_team(tg: FakeTelegram, admin: FakeUser, role_button: str, name: str) -> FakeUser:
    """A new colleague, invited by the admin, opens the link and joins."""
    token = await invite(admin, role_button, name)
    person = tg.user(name)
    await person.send(f"/start {token}")
    await person.wait_message(contains="Добро пожаловать")
    return person


async def leave_request(
    lead: FakeUser,
    *,
    source: str = "ads_vk",
    name: str = "Анна",
    phone: str = "+7 916 123-45-67",
    company: str | None = "ООО Ромашка",
    need: str = "Внедрение CRM под ключ",
    first_time: bool = True,
    expect: str = "Спасибо",
    share_phone: bool = False,
) -> BotMessage:
    """A lead follows a source link and fills the form; returns the confirmation. Someone who
    consented before is not asked again (`first_time=False`). The phone is typed, or with
    `share_phone` shared through the button as the lead's own contact card."""
    await lead.send(f"/start {source}")
    if first_time:
        await lead.press("✅ Согласен(на)")
    await lead.wait_message(contains="Как к вам обращаться")
    await lead.send(name)
    await lead.wait_message(contains="Ваш телефон")
    if share_phone:
        await lead.share_contact(phone)
    else:
        await lead.send(phone)
    await lead.wait_message(contains="компания")
    await lead.send(company if company is not None else "Пропустить")
    await lead.wait_message(contains="Что вас интересует")
    await lead.send(need)
    return await lead.wait_message(contains=expect)


async def a_taken_deal(tg: FakeTelegram, admin: FakeUser) -> tuple[FakeUser, BotMessage]:
    """Иван joins, Анна files a request (his, the only manager), he takes it and opens deal
    №1: returns him and its card."""
    ivan = await join_team(tg, admin, "Менеджер", "Иван")
    await leave_request(tg.user("Анна"))
    await ivan.press("✅ Взять в работу")
    await ivan.send("/deal 1")
    return ivan, await ivan.wait_message(contains="Сделка №1")


async def deals(app: Application) -> list[DealRow]:
    async with app.session_factory() as session:
        return list(await session.scalars(select(DealRow).order_by(DealRow.id)))


async def contacts(app: Application) -> list[ContactRow]:
    async with app.session_factory() as session:
        return list(await session.scalars(select(ContactRow).order_by(ContactRow.id)))


async def deal_messages(app: Application, deal_id: int) -> list[DealMessageRow]:
    async with app.session_factory() as session:
        query = select(DealMessageRow).where(DealMessageRow.deal_id == deal_id)
        return list(await session.scalars(query.order_by(DealMessageRow.id)))


async def close_as_lost(app: Application, deal_id: int) -> None:
    """The deal closed as lost (no budget) by the admin, as an arrangement."""
    admin = await identify(
        UnitOfWork(app.session_factory),
        app.clock,
        Profile(ADMIN_ID, "Ольга", None, "ru"),
        admin_ids={ADMIN_ID},
    )
    await lose_deal(
        UnitOfWork(app.session_factory), app.clock, app.book, admin, deal_id, "no_budget"
    )
