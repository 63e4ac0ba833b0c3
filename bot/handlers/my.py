"""/my: a manager's month (plan, fact, commission, bonus, what one more deal adds) and today's
activity against the targets; for a supervisor the team's table and the payroll estimate, with
a button into each manager."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiogram import Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.types import CallbackQuery, Message

from bot.screens.motivation_screens import person_screen, team_screen
from bot.telegram.callbacks import MyPerson
from bot.telegram.filters import STAFF_ROLES, HasRole
from bot.telegram.i18n import t, tp
from bot.telegram.repeated_presses import ONE_PER_TAP
from config.settings import Settings
from domain.clock import Clock
from domain.errors import PermissionDenied
from domain.forecast import PlanMonth
from domain.roles import Action, can
from domain.sales_book import SalesBook
from domain.working_time import WorkingCalendar
from services.motivation import my_month, team_month
from services.staff import Actor, StaffError
from storage.unit_of_work import UnitOfWork


async def show_my(
    message: Message,
    command: CommandObject,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    settings: Settings,
) -> None:
    month = PlanMonth(clock.now(), calendar, ZoneInfo(settings.timezone))
    if can(actor.role, Action.VIEW_REPORTS):
        text, markup = team_screen(await team_month(uow, book, actor, month), book)
        await message.answer(text, reply_markup=markup)
        return
    if command.args:  # someone else's month: a manager sees only their own
        await message.answer(t("my.only_own"))
        return
    person = await my_month(uow, book, actor, month)
    await message.answer(person_screen(person, book, own=True))


async def show_person(
    query: CallbackQuery,
    callback_data: MyPerson,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    settings: Settings,
) -> None:
    month = PlanMonth(clock.now(), calendar, ZoneInfo(settings.timezone))
    try:
        person = await my_month(uow, book, actor, month, callback_data.staff_id)
    except PermissionDenied:
        await query.answer(tp("my.only_own"), show_alert=True)
        return
    except StaffError:
        await query.answer(tp("error.stale_button"), show_alert=True)
        return
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(person_screen(person, book, own=False))


def create_router() -> Router:
    router = Router(name="my")
    router.message.filter(HasRole(*STAFF_ROLES))
    router.callback_query.filter(HasRole(*STAFF_ROLES))
    router.message.register(show_my, Command("my"), StateFilter("*"))
    router.callback_query.register(show_person, MyPerson.filter(), flags=ONE_PER_TAP)
    return router
