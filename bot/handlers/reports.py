"""/digest: the morning digest, now, for whoever may see the team's figures."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiogram import Router
from aiogram.filters import Command, StateFilter
from aiogram.types import BufferedInputFile, Message

from bot.digest import caption, chart
from bot.filters import HasRole
from bot.settings import Settings
from domain.clock import Clock
from domain.roles import Role
from domain.sales_book import SalesBook
from services.digest import digest
from services.staff import Actor
from storage.unit_of_work import UnitOfWork


async def digest_now(
    message: Message,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    settings: Settings,
) -> None:
    figures = await digest(uow, clock, book, actor, ZoneInfo(settings.timezone))
    png = await chart(figures, book)
    await message.answer_photo(
        BufferedInputFile(png, filename="digest.png"), caption=caption(figures, book)
    )


def create_router() -> Router:
    router = Router(name="reports")
    router.message.filter(HasRole(Role.SUPERVISOR, Role.ADMIN))
    router.message.register(digest_now, Command("digest"), StateFilter("*"))
    return router
