"""/deals and the deal card: the manager's "what do I do now", from a phone.

The card edits itself in place. Every button re-checks in the service that the deal is the
person's to see or change: callback data comes from the client and can be forged.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import CardAction, DealCard, DealsPage
from bot.filters import STAFF_ROLES, HasRole
from bot.handlers.scripts import stage_scripts
from bot.i18n import join_within_limit, t, tp
from bot.settings import Settings
from domain.clock import Clock
from domain.deal import MAX_COMMENT_LENGTH, parse_amount
from domain.errors import (
    CommentRequired,
    DealClosed,
    DomainError,
    ExitCriteriaNotMet,
    InvalidAmount,
    PermissionDenied,
)
from domain.qualification import QualificationLevel
from domain.roles import Action, Role, can
from domain.sales_book import SalesBook
from domain.scripts import ScriptLibrary
from domain.urgency import Urgency
from domain.working_time import WorkingCalendar
from services.deals import DealNotFound, advance_deal, lose_deal, move_deal_back, win_deal
from services.qualification import QualificationStep, answer, current_step
from services.staff import Actor
from services.workspace import ActivityKind, DealView, log_activity, open_deals, view_deal
from storage.unit_of_work import UnitOfWork

ACTIVITY_ICONS = {
    ActivityKind.CALL: "📞",
    ActivityKind.MEETING: "🤝",
    ActivityKind.NOTE: "📝",
    ActivityKind.PROPOSAL: "📄",
}


class CardInput(StatesGroup):
    back_comment = State()
    activity_comment = State()
    won_amount = State()
    lost_comment = State()


# --- the list ---------------------------------------------------------------------------------


async def deals_command(
    message: Message,
    state: FSMContext,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    settings: Settings,
) -> None:
    await state.clear()
    text, markup = await _deals_screen(uow, clock, book, calendar, settings, actor, DealsPage())
    await message.answer(text, reply_markup=markup)


async def deals_page(
    query: CallbackQuery,
    callback_data: DealsPage,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    settings: Settings,
) -> None:
    if callback_data.stage and callback_data.stage not in _stage_ids(book):
        await query.answer(tp("error.stale_button"), show_alert=True)
        return
    if callback_data.pick == "s":
        text, markup = _stage_picker(book, callback_data)
    elif callback_data.pick == "m" and can(actor.role, Action.VIEW_ALL_DEALS):
        text, markup = await _manager_picker(uow, callback_data)
    else:
        text, markup = await _deals_screen(
            uow, clock, book, calendar, settings, actor, callback_data
        )
    await _edit(query, text, markup)
    await query.answer()


def _stage_picker(book: SalesBook, view: DealsPage) -> tuple[str, InlineKeyboardMarkup]:
    keyboard = InlineKeyboardBuilder()
    keyboard.button(
        text=tp("deals.every_stage"),
        callback_data=view.model_copy(update={"stage": "", "pick": ""}),
    )
    seen: set[str] = set()
    for pipeline in book.pipelines:
        for stage in pipeline.stages:
            if stage.id not in seen:
                seen.add(stage.id)
                keyboard.button(
                    text=stage.name,
                    callback_data=view.model_copy(
                        update={"stage": stage.id, "pick": "", "page": 0}
                    ),
                )
    keyboard.adjust(2)
    return t("deals.pick_stage"), keyboard.as_markup()


async def _manager_picker(uow: UnitOfWork, view: DealsPage) -> tuple[str, InlineKeyboardMarkup]:
    async with uow:
        managers = await uow.staff.active_with_role(Role.MANAGER)
    keyboard = InlineKeyboardBuilder()
    keyboard.button(
        text=tp("deals.every_manager"),
        callback_data=view.model_copy(update={"manager": 0, "pick": ""}),
    )
    for member in managers:
        keyboard.button(
            text=member.first_name or str(member.telegram_id),
            callback_data=view.model_copy(
                update={"manager": member.telegram_id, "pick": "", "page": 0}
            ),
        )
    keyboard.adjust(2)
    return t("deals.pick_manager"), keyboard.as_markup()


async def _deals_screen(
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    settings: Settings,
    actor: Actor,
    view: DealsPage,
) -> tuple[str, InlineKeyboardMarkup]:
    page = await open_deals(
        uow,
        clock,
        book,
        calendar,
        actor,
        page=view.page,
        stage_id=view.stage or None,
        overdue_only=view.overdue,
        manager_id=view.manager or None,
    )
    zone = ZoneInfo(settings.timezone)
    title = t("deals.title", total=page.total, page=page.page + 1, pages=page.pages)
    if not page.lines:
        title += "\n\n" + t("deals.empty")
    lines = [title]
    keyboard = InlineKeyboardBuilder()
    for line in page.lines:
        deal = line.urgency.deal
        assert deal.id is not None
        stage = book.pipeline(deal.pipeline_id).stage(deal.stage_id).name
        lines.append(
            t(
                "deals.line",
                deal_id=deal.id,
                client=line.client,
                stage=stage,
                when=_urgency_text(line.urgency, zone),
            )
        )
        keyboard.button(
            text=tp("deals.open_button", deal_id=deal.id, client=line.client[:24]),
            callback_data=DealCard(deal_id=deal.id),
        )
    keyboard.adjust(2)
    navigation = InlineKeyboardBuilder()
    if page.page > 0:
        navigation.button(text="◀️", callback_data=view.model_copy(update={"page": page.page - 1}))
    if page.page + 1 < page.pages:
        navigation.button(text="▶️", callback_data=view.model_copy(update={"page": page.page + 1}))
    navigation.button(
        text=tp("deals.all_button") if view.overdue else tp("deals.overdue_button"),
        callback_data=view.model_copy(update={"overdue": not view.overdue, "page": 0}),
    )
    navigation.button(
        text=tp("deals.stage_button"), callback_data=view.model_copy(update={"pick": "s"})
    )
    if can(actor.role, Action.VIEW_ALL_DEALS):
        navigation.button(
            text=tp("deals.manager_button"),
            callback_data=view.model_copy(update={"pick": "m"}),
        )
    keyboard.attach(navigation)
    return join_within_limit(lines, "list.more"), keyboard.as_markup()


# --- the card ---------------------------------------------------------------------------------


async def card(
    query: CallbackQuery,
    callback_data: DealCard,
    state: FSMContext,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    settings: Settings,
    scripts: ScriptLibrary,
) -> None:
    action = callback_data.action
    deal_id = callback_data.deal_id
    try:
        view = await view_deal(uow, clock, book, calendar, actor, deal_id)
        if action is CardAction.VIEW:
            await state.clear()
            await _edit(query, *_card_screen(view, book, settings))
            await query.answer()
        elif action in (CardAction.ADVANCE, CardAction.TICK):
            await _edit(query, *_checklist_screen(view, book, callback_data.ticked))
            await query.answer()
        elif action is CardAction.CONFIRM_ADVANCE:
            ticked = _bits(callback_data.ticked)
            await advance_deal(uow, clock, book, actor, deal_id, ticked)
            view = await view_deal(uow, clock, book, calendar, actor, deal_id)
            await _edit(query, *_card_screen(view, book, settings))
            await query.answer(tp("card.moved"))
        elif action is CardAction.BACK:
            await _edit(query, *_back_screen(view, book))
            await query.answer()
        elif action is CardAction.BACK_TO:
            await _ask(
                query,
                state,
                CardInput.back_comment,
                deal_id,
                t("card.ask_back_comment"),
                arg=callback_data.arg,
            )
        elif action is CardAction.ACTIVITY:
            kind = ActivityKind(callback_data.arg)
            await _ask(
                query,
                state,
                CardInput.activity_comment,
                deal_id,
                t("card.ask_activity_comment", kind=t(f"activity.{kind.value}")),
                arg=kind.value,
                skip=True,
            )
        elif action is CardAction.WON:
            await _ask(
                query,
                state,
                CardInput.won_amount,
                deal_id,
                t("card.ask_amount", currency=book.currency),
            )
        elif action is CardAction.LOST:
            await _edit(query, *_lost_screen(view, book))
            await query.answer()
        elif action is CardAction.SCRIPTS:
            await stage_scripts(query, deal_id, actor, uow, book, scripts)
        elif action is CardAction.QUALIFY:
            await _qualify(query, callback_data, actor, uow, clock, book, calendar, settings)
        elif action is CardAction.LOST_REASON:
            book.lost_reason(callback_data.arg)
            await _ask(
                query,
                state,
                CardInput.lost_comment,
                deal_id,
                t("card.ask_lost_comment"),
                arg=callback_data.arg,
                skip=True,
            )
    except (DealNotFound, KeyError, ValueError):
        await query.answer(tp("error.stale_button"), show_alert=True)
    except PermissionDenied:
        await query.answer(tp("deal.not_yours"), show_alert=True)
    except DealClosed:
        await query.answer(tp("card.closed"), show_alert=True)
    except ExitCriteriaNotMet as error:
        await query.answer(tp("card.criteria_missing", count=len(error.missing)), show_alert=True)


async def _qualify(
    query: CallbackQuery,
    callback_data: DealCard,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    settings: Settings,
) -> None:
    deal_id = callback_data.deal_id
    if callback_data.arg:
        question_id, _, option = callback_data.arg.rpartition(".")
        step = await answer(uow, clock, book, actor, deal_id, question_id, int(option))
    else:
        step = await current_step(uow, book, actor, deal_id)
    if step.question is not None:
        await _edit(query, *_question_screen(deal_id, step))
        await query.answer()
        return
    view = await view_deal(uow, clock, book, calendar, actor, deal_id)
    level = step.result.level
    if level is QualificationLevel.DISQUALIFIED and view.deal.is_open:
        text, markup = _lost_screen(view, book)
        await _edit(query, t("qualification.disqualified") + "\n\n" + text, markup)
    else:
        await _edit(query, *_card_screen(view, book, settings))
    await query.answer(
        tp(
            "qualification.result",
            level=(level.value if level else "").upper(),
            points=step.result.points,
            max_points=step.result.max_points,
        ),
        show_alert=True,
    )


def _question_screen(deal_id: int, step: QualificationStep) -> tuple[str, InlineKeyboardMarkup]:
    question = step.question
    assert question is not None
    keyboard = InlineKeyboardBuilder()
    for index, option in enumerate(question.options):
        keyboard.button(
            text=option.text,
            callback_data=DealCard(
                deal_id=deal_id, action=CardAction.QUALIFY, arg=f"{question.id}.{index}"
            ),
        )
    keyboard.button(text=tp("card.to_card"), callback_data=DealCard(deal_id=deal_id))
    keyboard.adjust(1)
    text = t(
        "qualification.question",
        framework=step.framework.name,
        number=step.result.answered + 1,
        total=step.result.total,
        question=question.text,
    )
    return text, keyboard.as_markup()


async def card_input(
    message: Message,
    state: FSMContext,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    settings: Settings,
) -> None:
    if message.text is None:
        await message.answer(t("input.text_expected"))
        return
    text = message.text.strip()
    if len(text) > MAX_COMMENT_LENGTH:
        await message.answer(t("input.too_long", limit=MAX_COMMENT_LENGTH))
        return
    problem = await _complete_input(state, actor, uow, clock, book, text or None)
    if problem is not None:
        await message.answer(t(problem, currency=book.currency))
        return
    deal_id = (await state.get_data())["deal_id"]
    await state.clear()
    view = await view_deal(uow, clock, book, calendar, actor, deal_id)
    text_out, markup = _card_screen(view, book, settings)
    await message.answer(text_out, reply_markup=markup)


async def skip_comment(
    query: CallbackQuery,
    callback_data: DealCard,
    state: FSMContext,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    settings: Settings,
) -> None:
    """ "No comment" on an activity or a loss: do it without one."""
    data = await state.get_data()
    if data.get("deal_id") != callback_data.deal_id or await state.get_state() not in (
        CardInput.activity_comment.state,
        CardInput.lost_comment.state,
    ):
        await query.answer(tp("error.stale_button"), show_alert=True)
        return
    problem = await _complete_input(state, actor, uow, clock, book, None)
    if problem is not None:
        await query.answer(tp(problem), show_alert=True)
        return
    await state.clear()
    view = await view_deal(uow, clock, book, calendar, actor, callback_data.deal_id)
    await _edit(query, *_card_screen(view, book, settings))
    await query.answer(tp("card.saved"))


async def _complete_input(
    state: FSMContext,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    text: str | None,
) -> str | None:
    """Carry out what the card asked the person to type (None: no comment). Returns the text
    key of what is wrong; the conversation ends unless the person can simply try again."""
    current = await state.get_state()
    data = await state.get_data()
    deal_id: int = data["deal_id"]
    arg: str = data.get("arg", "")
    try:
        if current == CardInput.back_comment.state:
            await move_deal_back(uow, clock, book, actor, deal_id, arg, text)
        elif current == CardInput.activity_comment.state:
            await log_activity(uow, clock, actor, deal_id, ActivityKind(arg), text)
        elif current == CardInput.won_amount.state:
            await win_deal(uow, clock, book, actor, deal_id, parse_amount(text or ""))
        elif current == CardInput.lost_comment.state:
            await lose_deal(uow, clock, book, actor, deal_id, arg, text)
    except InvalidAmount:
        return "card.bad_amount"
    except CommentRequired:
        return "card.comment_required"
    except (DealNotFound, PermissionDenied, DealClosed):
        await state.clear()
        return "deal.unavailable_plain"
    except DomainError:
        await state.clear()
        return "error.stale_button"
    return None


async def _ask(
    query: CallbackQuery,
    state: FSMContext,
    step: State,
    deal_id: int,
    question: str,
    *,
    arg: str = "",
    skip: bool = False,
) -> None:
    await state.set_state(step)
    await state.set_data({"deal_id": deal_id, "arg": arg})
    await query.answer()
    keyboard = InlineKeyboardBuilder()
    if skip:
        keyboard.button(text=tp("card.skip_comment"), callback_data=_skip_data(deal_id))
    keyboard.button(text=tp("button.cancel"), callback_data=DealCard(deal_id=deal_id))
    keyboard.adjust(1)
    if isinstance(query.message, Message):
        await query.message.answer(question, reply_markup=keyboard.as_markup())


def _skip_data(deal_id: int) -> str:
    return DealCard(deal_id=deal_id, action=CardAction.VIEW, arg="skip").pack()


# --- screens ----------------------------------------------------------------------------------


def _card_screen(
    view: DealView, book: SalesBook, settings: Settings
) -> tuple[str, InlineKeyboardMarkup]:
    deal = view.deal
    assert deal.id is not None
    pipeline = book.pipeline(deal.pipeline_id)
    stage = pipeline.stage(deal.stage_id)
    zone = ZoneInfo(settings.timezone)
    contact = view.contact
    lines = [
        t("dcard.title", deal_id=deal.id, client=(contact.name if contact else None) or "—"),
        t(
            "dcard.contact",
            phone=(contact.phone if contact else None) or "—",
            company=(contact.company if contact else None) or "—",
        ),
        t(
            "dcard.stage",
            pipeline=pipeline.name,
            stage=stage.name,
            number=pipeline.stage_index(stage.id) + 1,
            total=len(pipeline.stages),
        ),
    ]
    if view.urgency is not None:
        lines.append(
            t("dcard.deadline", when=_urgency_text(view.urgency, zone), sla=f"{stage.sla_hours:g}")
        )
    else:
        lines.append(t(f"dcard.status.{deal.status.value}"))
    if deal.qualification_level is not None:
        lines.append(
            t(
                "dcard.qualification",
                level=deal.qualification_level.value.upper(),
                points=deal.qualification_points or 0,
            )
        )
    if deal.amount is not None:
        lines.append(t("dcard.amount", amount=_money(deal.amount), currency=deal.currency or ""))
    if view.activities:
        lines.append(t("dcard.activities"))
        for activity in view.activities:
            lines.append(
                t(
                    "dcard.activity",
                    icon=ACTIVITY_ICONS[ActivityKind(activity.kind)],
                    at=activity.at.astimezone(zone).strftime("%d.%m %H:%M"),
                    kind=t(f"activity.{activity.kind}"),
                    comment=activity.comment or "",
                )
            )
    keyboard = InlineKeyboardBuilder()
    if deal.is_open:
        if pipeline.stage_index(stage.id) + 1 < len(pipeline.stages):
            keyboard.button(
                text=tp("card.next_stage"),
                callback_data=DealCard(deal_id=deal.id, action=CardAction.ADVANCE),
            )
        if pipeline.stage_index(stage.id) > 0:
            keyboard.button(
                text=tp("card.back_stage"),
                callback_data=DealCard(deal_id=deal.id, action=CardAction.BACK),
            )
        for kind, icon in ACTIVITY_ICONS.items():
            keyboard.button(
                text=f"{icon} {tp(f'activity.{kind.value}')}",
                callback_data=DealCard(deal_id=deal.id, action=CardAction.ACTIVITY, arg=kind.value),
            )
        keyboard.button(
            text=tp("card.scripts"),
            callback_data=DealCard(deal_id=deal.id, action=CardAction.SCRIPTS),
        )
        keyboard.button(
            text=tp("card.qualify"),
            callback_data=DealCard(deal_id=deal.id, action=CardAction.QUALIFY),
        )
        keyboard.button(
            text=tp("card.won"), callback_data=DealCard(deal_id=deal.id, action=CardAction.WON)
        )
        keyboard.button(
            text=tp("card.lost"), callback_data=DealCard(deal_id=deal.id, action=CardAction.LOST)
        )
    keyboard.button(text=tp("card.to_list"), callback_data=DealsPage())
    keyboard.adjust(2)
    return join_within_limit(lines, "list.more"), keyboard.as_markup()


def _checklist_screen(
    view: DealView, book: SalesBook, ticked: int
) -> tuple[str, InlineKeyboardMarkup]:
    deal = view.deal
    assert deal.id is not None
    stage = book.pipeline(deal.pipeline_id).stage(deal.stage_id)
    keyboard = InlineKeyboardBuilder()
    for index, criterion in enumerate(stage.exit_criteria):
        mark = "☑️" if ticked & (1 << index) else "⬜️"
        keyboard.button(
            text=f"{mark} {criterion}"[:64],
            callback_data=DealCard(
                deal_id=deal.id, action=CardAction.TICK, ticked=ticked ^ (1 << index)
            ),
        )
    keyboard.button(
        text=tp("card.confirm_move"),
        callback_data=DealCard(deal_id=deal.id, action=CardAction.CONFIRM_ADVANCE, ticked=ticked),
    )
    keyboard.button(text=tp("button.cancel"), callback_data=DealCard(deal_id=deal.id))
    keyboard.adjust(1)
    lines = [t("card.checklist", stage=stage.name)]
    lines += [t("book.criterion", text=c) for c in stage.exit_criteria]
    return "\n".join(lines), keyboard.as_markup()


def _back_screen(view: DealView, book: SalesBook) -> tuple[str, InlineKeyboardMarkup]:
    deal = view.deal
    assert deal.id is not None
    pipeline = book.pipeline(deal.pipeline_id)
    keyboard = InlineKeyboardBuilder()
    for stage in pipeline.stages[: pipeline.stage_index(deal.stage_id)]:
        keyboard.button(
            text=stage.name,
            callback_data=DealCard(deal_id=deal.id, action=CardAction.BACK_TO, arg=stage.id),
        )
    keyboard.button(text=tp("button.cancel"), callback_data=DealCard(deal_id=deal.id))
    keyboard.adjust(1)
    return t("card.back_to"), keyboard.as_markup()


def _lost_screen(view: DealView, book: SalesBook) -> tuple[str, InlineKeyboardMarkup]:
    deal = view.deal
    assert deal.id is not None
    keyboard = InlineKeyboardBuilder()
    for reason in book.lost_reasons:
        keyboard.button(
            text=reason.name,
            callback_data=DealCard(deal_id=deal.id, action=CardAction.LOST_REASON, arg=reason.id),
        )
    keyboard.button(text=tp("button.cancel"), callback_data=DealCard(deal_id=deal.id))
    keyboard.adjust(1)
    return t("card.lost_reason"), keyboard.as_markup()


def _urgency_text(urgency: Urgency, zone: ZoneInfo) -> str:
    left = urgency.left
    if urgency.is_overdue:
        return t("urgency.overdue", span=_span(-left))
    return t(
        "urgency.left",
        span=_span(left),
        at=urgency.deadline.astimezone(zone).strftime("%d.%m %H:%M"),
    )


def _span(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return tp("span.days_hours", days=days, hours=hours)
    if hours:
        return tp("span.hours_minutes", hours=hours, minutes=minutes)
    return tp("span.minutes", minutes=minutes)


def _money(amount: Decimal) -> str:
    return f"{amount:,.2f}".replace(",", " ").replace(".00", "")


def _bits(mask: int) -> list[int]:
    return [index for index in range(mask.bit_length()) if mask & (1 << index)]


def _stage_ids(book: SalesBook) -> set[str]:
    return {stage.id for pipeline in book.pipelines for stage in pipeline.stages}


async def _edit(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup) -> None:
    if not isinstance(query.message, Message):
        return
    if query.message.html_text == text and query.message.reply_markup == markup:
        return  # Telegram refuses an edit that changes nothing
    await query.message.edit_text(text, reply_markup=markup)


def create_router() -> Router:
    router = Router(name="deals")
    router.message.filter(HasRole(*STAFF_ROLES))
    router.callback_query.filter(HasRole(*STAFF_ROLES))
    router.message.register(deals_command, Command("deals"), StateFilter("*"))
    router.callback_query.register(deals_page, DealsPage.filter())
    router.callback_query.register(
        skip_comment, DealCard.filter((F.action == CardAction.VIEW) & (F.arg == "skip"))
    )
    router.callback_query.register(card, DealCard.filter())
    router.message.register(card_input, StateFilter(*CardInput.__all_states__))
    return router
