"""Steps that several scenarios share, written as a person would do them."""

from __future__ import annotations

import re

from sqlalchemy import select

from bot.app import Application
from storage.models import InviteRow, StaffMember
from tests.fake_telegram import FakeUser

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


async def staff_row(app: Application, telegram_id: int) -> StaffMember | None:
    async with app.session_factory() as session:
        return await session.get(StaffMember, telegram_id)


async def invite_rows(app: Application) -> list[InviteRow]:
    async with app.session_factory() as session:
        return list(await session.scalars(select(InviteRow).order_by(InviteRow.id)))
