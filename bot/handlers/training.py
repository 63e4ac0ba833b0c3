"""/training: the walk through the real screens on a sandbox deal of one's own, its progress as a
checklist, and where to go next; offered to a new manager when they join."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiogram import Router
from aiogram.filters import Command, StateFilter
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.telegram.callbacks import DealCard, TrainingStart
from bot.telegram.filters import STAFF_ROLES, HasRole
from bot.telegram.i18n import join_within_limit, t, tp
from config.settings import Settings
from domain.clock import Clock
from domain.sales_book import SalesBook
from domain.working_time import WorkingCalendar
from services.staff import Actor
from services.training import STEPS, TrainingStatus, start_training, training_status
from storage.unit_of_work import UnitOfWork


async def show_training(
    message: Message,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    settings: Settings,
) -> None:
    status = await training_status(uow, clock, actor.user_id)
    if status is None:
        status = await _start(actor, uow, clock, book, calendar)
    text, markup = _screen(status, settings)
    await message.answer(text, reply_markup=markup)


async def training_pressed(
    query: CallbackQuery,
    callback_data: TrainingStart,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    settings: Settings,
) -> None:
    status = await training_status(uow, clock, actor.user_id)
    if status is None or callback_data.again:
        status = await _start(actor, uow, clock, book, calendar)
    await query.answer()
    if isinstance(query.message, Message):
        text, markup = _screen(status, settings)
        await query.message.answer(text, reply_markup=markup)


async def _start(
    actor: Actor, uow: UnitOfWork, clock: Clock, book: SalesBook, calendar: WorkingCalendar
) -> TrainingStatus:
    return await start_training(
        uow,
        clock,
        book,
        calendar,
        actor,
        client_name=tp("training.client"),
        client_company=tp("training.company"),
        need=tp("training.need"),
    )


def _screen(status: TrainingStatus, settings: Settings) -> tuple[str, InlineKeyboardMarkup]:
    lines = [t("training.title")]
    for number, name in enumerate(STEPS, start=1):
        mark = "✅" if status.done[name] else "⬜️"
        lines.append(f"{mark} {number}. {t(f'training.step.{name}')}")
    keyboard = InlineKeyboardBuilder()
    if status.completed_at is not None:
        finished = status.completed_at.astimezone(ZoneInfo(settings.timezone))
        lines.append(t("training.completed", date=finished.strftime("%d.%m.%Y")))
        keyboard.button(text=tp("training.again"), callback_data=TrainingStart(again=True))
    else:
        step = status.next_step
        lines.append(t("training.next", instruction=t(f"training.how.{step}")))
        if status.deal_id is not None:
            keyboard.button(
                text=tp("training.open"), callback_data=DealCard(deal_id=status.deal_id)
            )
    keyboard.adjust(1)
    return join_within_limit(lines, "list.more"), keyboard.as_markup()


def create_router() -> Router:
    router = Router(name="training")
    router.message.filter(HasRole(*STAFF_ROLES))
    router.callback_query.filter(HasRole(*STAFF_ROLES))
    router.message.register(show_training, Command("training"), StateFilter("*"))
    router.callback_query.register(training_pressed, TrainingStart.filter())
    return router
