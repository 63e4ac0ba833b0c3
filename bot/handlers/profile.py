"""/timezone: a staff member's own time zone, in which their morning digest arrives. Russia's
zones are one tap away; any other is typed as its IANA name ("Asia/Dubai", with the command or
after it), and Russia's also by city ("Екатеринбург")."""

from __future__ import annotations

import datetime as dt
import functools
import re
from zoneinfo import ZoneInfo, available_timezones

from aiogram import F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.handlers.reminders import typed_reminder
from bot.screens.in_place import edit_screen
from bot.telegram.callbacks import StaffZone
from bot.telegram.filters import STAFF_ROLES, HasRole
from bot.telegram.fsm_storage import end_conversation, enter_conversation
from bot.telegram.i18n import t, tp
from config.settings import Settings
from domain.clock import Clock
from domain.sales_book import SalesBook
from services.staff import Actor, StaffError, set_time_zone, time_zone
from storage.unit_of_work import UnitOfWork

ZONES = (
    "Europe/Kaliningrad",
    "Europe/Moscow",
    "Europe/Samara",
    "Asia/Yekaterinburg",
    "Asia/Omsk",
    "Asia/Novosibirsk",
    "Asia/Krasnoyarsk",
    "Asia/Irkutsk",
    "Asia/Yakutsk",
    "Asia/Vladivostok",
    "Asia/Magadan",
    "Asia/Kamchatka",
)


ZONE_NAME_SHOWN = 64
_OFFSET = re.compile(r"\(UTC[^)]*\)\s*$")


class TimeZoneInput(StatesGroup):
    name = State()
    """After /timezone: a zone's name may be typed instead of picked."""


async def show_time_zone(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    settings: Settings,
) -> None:
    if command.args:
        typed = command.args.strip()
        await _choose(message, actor, uow, clock, settings, zone_named(typed) or typed)
        return
    await enter_conversation(state, TimeZoneInput.name, {})
    own = await time_zone(uow, actor)
    await message.answer(
        t(
            "tz.current_own" if own else "tz.current_team",
            zone=_label(own or settings.timezone, clock.now()),
        ),
        reply_markup=_keyboard(clock.now()),
    )


async def zone_typed(
    message: Message,
    state: FSMContext,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    settings: Settings,
) -> None:
    """The answer to /timezone. Text that names no zone was meant otherwise (a reminder, most
    likely, long after the question): the question is over and the text read as it would be."""
    typed = (message.text or "").strip()
    zone = zone_named(typed)
    if zone is None and "/" not in typed:
        await end_conversation(state)
        try:
            await typed_reminder(message, actor, uow, clock, book, settings)
        except SkipHandler:
            await message.answer(t("tz.unknown", typed=_shown(typed)))
        return
    if await _choose(message, actor, uow, clock, settings, zone or typed):
        await end_conversation(state)


def zone_named(typed: str) -> str | None:
    """The IANA zone `typed` names, in any case ("asia/dubai"), or a city of the buttons in the
    person's language or in English ("Екатеринбург", "yekaterinburg", a button's label copied
    with its offset too); None if none."""
    wanted = _OFFSET.sub("", typed).strip().casefold()
    for zone in ZONES:
        if wanted in (tp(f"tz.city.{zone}").casefold(), zone.rsplit("/", 1)[-1].casefold()):
            return zone
    return _zones_by_folded_name().get(wanted)


def _shown(typed: str) -> str:
    """What was typed, as echoed back: a zone's name is short, a paste may not be."""
    return typed if len(typed) <= ZONE_NAME_SHOWN else typed[: ZONE_NAME_SHOWN - 1] + "…"


@functools.cache
def _zones_by_folded_name() -> dict[str, str]:
    return {zone.casefold(): zone for zone in available_timezones()}


async def zone_picked(
    query: CallbackQuery,
    callback_data: StaffZone,
    state: FSMContext,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    settings: Settings,
) -> None:
    if not -1 <= callback_data.index < len(ZONES):
        await query.answer(tp("error.stale_button"), show_alert=True)
        return
    await end_conversation(state)
    zone = None if callback_data.index == -1 else ZONES[callback_data.index]
    await set_time_zone(uow, actor, zone)
    await query.answer(tp("tz.saved"))
    await edit_screen(query, _saved_text(zone, settings, clock.now()), None)


async def _choose(
    message: Message,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    settings: Settings,
    typed: str,
) -> bool:
    try:
        await set_time_zone(uow, actor, typed)
    except StaffError:
        await message.answer(t("tz.unknown", typed=_shown(typed)))
        return False
    await message.answer(_saved_text(typed, settings, clock.now()))
    return True


def _saved_text(zone: str | None, settings: Settings, now: dt.datetime) -> str:
    effective = zone or settings.timezone
    local = now.astimezone(ZoneInfo(effective)).strftime("%H:%M")
    return t("tz.set", zone=_label(effective, now), time=local)


def _keyboard(now: dt.datetime) -> InlineKeyboardMarkup:
    keyboard = InlineKeyboardBuilder()
    for index, zone in enumerate(ZONES):
        keyboard.button(text=_label(zone, now), callback_data=StaffZone(index=index))
    keyboard.button(text=tp("tz.team"), callback_data=StaffZone(index=-1))
    keyboard.adjust(2)
    return keyboard.as_markup()


def _label(zone: str, now: dt.datetime) -> str:
    """ "Москва (UTC+3)": the city from the locale file where it has one, the offset now."""
    offset = now.astimezone(ZoneInfo(zone)).utcoffset() or dt.timedelta(0)
    hours, rest = divmod(abs(int(offset.total_seconds())) // 60, 60)
    sign = "+" if offset >= dt.timedelta(0) else "-"
    shift = f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")
    city = tp(f"tz.city.{zone}") if zone in ZONES else zone
    return f"{city} ({shift})"


def create_router() -> Router:
    router = Router(name="profile")
    router.message.filter(HasRole(*STAFF_ROLES))
    router.callback_query.filter(HasRole(*STAFF_ROLES))
    router.message.register(show_time_zone, Command("timezone"), StateFilter("*"))
    router.message.register(zone_typed, TimeZoneInput.name, F.text)
    router.callback_query.register(zone_picked, StaffZone.filter())
    return router
