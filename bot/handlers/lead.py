"""The lead's side: a source link, consent, the request form, the chat with the manager, and
erasure. Nothing about a person is stored before they press "agree"."""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject, CommandStart, Filter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardRemove,
    Update,
)
from aiogram.utils.i18n import I18n
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.lead_form import STEPS, FormInputError, FormState, ask_question
from bot.screens.in_place import drop_buttons, edit_screen, has_buttons
from bot.screens.notify import message_kind, relay_to_staff, request_reply
from bot.telegram.answered_queries import answer_beside
from bot.telegram.callbacks import Consent, ForgetMe, ForgetStep
from bot.telegram.filters import HasRole
from bot.telegram.fsm_storage import end_conversation, enter_conversation
from bot.telegram.i18n import locale_now, pick_locale, t, tp
from bot.telegram.sender import PacedSender
from config.settings import Settings
from domain.clock import Clock
from domain.lead import (
    UNKNOWN_SOURCE,
    lead_source,
)
from domain.roles import Role
from domain.sales_book import TELEGRAM_MESSAGE_LIMIT, SalesBook
from domain.working_time import WorkingCalendar
from services.business import forget_client
from services.leads import (
    Channel,
    ConsentMissing,
    DailyLimitReached,
    RequestForm,
    Submission,
    lead_channel,
    log_message,
    record_consent,
    submit_request,
    take_reply,
)
from services.request_gate import request_gate
from services.staff import Actor, Profile
from storage.unit_of_work import UnitOfWork


class LeadForm(StatesGroup):
    answering = State()


SIDE_COMMANDS = {LeadForm.answering.state: frozenset({"help", "forget_me"})}
"""Asked in the middle of the form, they answer and the form goes on (its keyboard is still on
screen); erasing the data, once confirmed, ends it."""


class InChatWithCompany(Filter):
    """A lead who has a deal: what they write goes to its manager (`channel`)."""

    async def __call__(
        self, message: Message, uow: UnitOfWork, **_: Any
    ) -> bool | dict[str, Channel]:
        if message.from_user is None:
            return False
        channel = await lead_channel(uow, message.from_user.id)
        return {"channel": channel} if channel else False


async def start(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    settings: Settings,
    actor: Actor,
    event_update: Update,
) -> None:
    gate = await request_gate(uow, clock, book, actor.user_id, settings.max_requests_per_day)
    if not gate.may_file:
        await message.answer(
            t("lead.daily_limit", limit=settings.max_requests_per_day),
            reply_markup=ReplyKeyboardRemove(),
        )
        return
    source = lead_source(command.args, book)
    if gate.consented:
        await _ask(
            message,
            state,
            book,
            FormState(0, {}, source, event_update.update_id, gate.known, gate.open_deal_id),
        )
        return
    source_index = next((i for i, s in enumerate(book.sources) if s.id == source), -1)
    keyboard = _consent_keyboard(source_index, locale_now())
    intro = t("consent.intro", company=book.company)
    policy = t("consent.policy", policy=book.consent.text_in(locale_now()))
    # One message when both fit: the lead waits for one answer, and in an ad burst every call
    # to Telegram counts. A form left with /start keeps its keyboard until the next question
    # (or the refusal) replaces it.
    if len(intro) + len(policy) + 2 <= TELEGRAM_MESSAGE_LIMIT:
        await message.answer(f"{intro}\n\n{policy}", reply_markup=keyboard)
        return
    await message.answer(intro, reply_markup=ReplyKeyboardRemove())
    await message.answer(policy, reply_markup=keyboard)


@lru_cache(maxsize=256)
def _consent_keyboard(source_index: int, locale: str) -> InlineKeyboardMarkup:
    """Agree / decline, built once per source and language: in an ad burst every lead of a
    campaign gets the same one. `locale` is the current one, passed to key the cache."""
    keyboard = InlineKeyboardBuilder()
    keyboard.button(
        text=tp("consent.accept"), callback_data=Consent(accept=True, source=source_index)
    )
    keyboard.button(
        text=tp("consent.decline"), callback_data=Consent(accept=False, source=source_index)
    )
    keyboard.adjust(1)
    return keyboard.as_markup()


async def consent_answered(
    query: CallbackQuery,
    callback_data: Consent,
    state: FSMContext,
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    profile: Profile,
    event_update: Update,
) -> None:
    message = query.message if isinstance(query.message, Message) else None
    if not callback_data.accept:
        await query.answer()
        if message:
            await drop_buttons(message)
            await message.answer(t("consent.declined"), reply_markup=ReplyKeyboardRemove())
        return
    if await _under_way(state, event_update):
        # A second tap of "Согласен" (or one on an older copy of the consent): the form's
        # question is on screen already, and the buttons go with the first tap's answer.
        await query.answer()
        return
    in_range = 0 <= callback_data.source < len(book.sources)
    source = book.sources[callback_data.source].id if in_range else UNKNOWN_SOURCE
    # The form's state before the consent's commit: a bot killed after that commit leaves the
    # first question owed, and the press, delivered again, finds it so (`answer_again`).
    await enter_conversation(
        state, LeadForm.answering, FormState(0, {}, source, event_update.update_id).data()
    )
    await record_consent(uow, clock, book, profile)
    if message is None:
        await query.answer()
        return
    # The question with the press's answer: it is what the lead waits for; the buttons go a
    # moment later.
    await answer_beside(query, ask_question(message, book, 0))
    await drop_buttons(message)


async def _under_way(state: FSMContext, update: Update) -> bool:
    """The form was begun by another update than this one (this very update, delivered again
    after a kill, still owes its first question)."""
    if await state.get_state() != LeadForm.answering.state:
        return False
    return bool((await state.get_data()).get("asked_by") != update.update_id)


async def form_answer(
    message: Message,
    state: FSMContext,
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    settings: Settings,
    profile: Profile,
    sender: PacedSender,
    event_update: Update,
) -> None:
    data = await state.get_data()
    step_index: int = data.get("step", 0)
    answers: dict[str, Any] = data.get("answers", {})
    source: str = data.get("source", UNKNOWN_SOURCE)
    known: dict[str, str] = data.get("known", {})
    open_deal: int | None = data.get("open_deal")
    if data.get("asked_by") == event_update.update_id:
        # Delivered again after this very answer moved the form on (its bot was killed
        # before the next question went out): that question is what it still owes.
        await ask_question(message, book, step_index, known, open_deal)
        return
    if message.text == tp("form.back"):
        if step_index == 0:
            await end_conversation(state)
            left = t("form.left_request", deal_id=open_deal) if open_deal else t("form.cancelled")
            await message.answer(left, reply_markup=ReplyKeyboardRemove())
            return
        back = FormState(step_index - 1, answers, source, event_update.update_id, known, open_deal)
        await _ask(message, state, book, back)
        return
    step = STEPS[step_index]
    try:
        answers[step.name] = step.read(message, book)
    except FormInputError as error:
        await message.answer(t(error.key, **error.values))
        return
    if step_index + 1 < len(STEPS):
        ahead = FormState(step_index + 1, answers, source, event_update.update_id, known, open_deal)
        await _ask(message, state, book, ahead)
        return
    await _submit(
        message, state, uow, clock, book, calendar, settings, profile, sender, answers, source
    )


async def _submit(
    message: Message,
    state: FSMContext,
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    settings: Settings,
    profile: Profile,
    sender: PacedSender,
    answers: dict[str, Any],
    source: str,
) -> None:
    phone = answers["phone"]
    if isinstance(phone, str):  # a form half-filled before phones carried their proof
        phone = {"number": phone, "verified": False}
    form = RequestForm(
        name=answers["name"],
        phone=phone["number"],
        company=answers["company"],
        need=answers["need"]["need"],
        product_id=answers["need"]["product_id"],
        phone_verified=bool(phone["verified"]),
    )
    try:
        submission = await submit_request(
            uow, clock, book, calendar, profile, form, source, settings.max_requests_per_day
        )
    except DailyLimitReached as limit:
        await end_conversation(state)
        await message.answer(
            t("lead.daily_limit", limit=limit.limit), reply_markup=ReplyKeyboardRemove()
        )
        return
    except ConsentMissing:
        await end_conversation(state)
        await message.answer(t("lead.consent_missing"), reply_markup=ReplyKeyboardRemove())
        return
    await end_conversation(state)
    await _confirm(message, uow, clock, settings, sender, submission)


async def _confirm(
    message: Message,
    uow: UnitOfWork,
    clock: Clock,
    settings: Settings,
    sender: PacedSender,
    submission: Submission,
) -> None:
    """The lead's answer first; the manager's card was written with the request and goes out
    right after this update (the outbox), or after a restart if the bot dies in between. So was
    the answer: a bot killed before sending it leaves it to the sweepers."""
    reply = submission.reply
    if reply is None or not reply.payload:
        return
    async with sender.place_for_reply():
        if await take_reply(uow, clock, reply.key):
            await message.answer(
                request_reply(reply.payload, clock.now(), ZoneInfo(settings.timezone)),
                reply_markup=ReplyKeyboardRemove(),
            )


async def _ask(message: Message, state: FSMContext, book: SalesBook, form: FormState) -> None:
    await enter_conversation(state, LeadForm.answering, form.data())
    await ask_question(message, book, form.step, form.known, form.open_deal)


async def lead_writes(
    message: Message, channel: Channel, bot: Bot, uow: UnitOfWork, clock: Clock, settings: Settings
) -> None:
    landed = await relay_to_staff(
        bot, uow, settings, message, channel.deal_id, channel.manager_id, channel.lead_name
    )
    text = message.text if message.text is not None else message.caption
    kind = message_kind(message)
    author = message.from_user.id if message.from_user else 0
    if landed:
        for relay in landed:
            await log_message(uow, clock, channel.deal_id, "in", author, kind, text, relay)
    else:
        await log_message(uow, clock, channel.deal_id, "in", author, kind, text)


async def forget_me(message: Message) -> None:
    await message.answer(t("erase.confirm"), reply_markup=_confirm_forget_keyboard())


async def forget_me_button(
    query: CallbackQuery,
    callback_data: ForgetMe,
    state: FSMContext,
    uow: UnitOfWork,
    clock: Clock,
    profile: Profile,
) -> None:
    await query.answer()
    message = query.message if isinstance(query.message, Message) else None
    if message is None:
        return
    if callback_data.step is ForgetStep.ASK:
        await message.answer(t("erase.confirm"), reply_markup=_confirm_forget_keyboard())
    elif callback_data.step is ForgetStep.KEEP:
        await edit_screen(query, t("erase.kept"), None)
    elif has_buttons(message):  # else a second tap: the first has erased them
        await end_conversation(state)
        await forget_client(uow, clock, profile.user_id)
        # A new message, to take away a form's keyboard ("📱 Отправить мой номер") with it.
        await drop_buttons(message)
        await message.answer(t("erase.done"), reply_markup=ReplyKeyboardRemove())


async def help_for_lead(message: Message) -> None:
    keyboard = InlineKeyboardBuilder()
    keyboard.button(text=tp("button.forget_me"), callback_data=ForgetMe(step=ForgetStep.ASK))
    await message.answer(t("help.lead"), reply_markup=keyboard.as_markup())


def _confirm_forget_keyboard() -> InlineKeyboardMarkup:
    keyboard = InlineKeyboardBuilder()
    keyboard.button(text=tp("erase.button_yes"), callback_data=ForgetMe(step=ForgetStep.CONFIRM))
    keyboard.button(text=tp("erase.button_no"), callback_data=ForgetMe(step=ForgetStep.KEEP))
    keyboard.adjust(1)
    return keyboard.as_markup()


async def answer_again(update: Update, data: dict[str, Any]) -> None:
    """An update delivered again after its first delivery committed (webhook mode; the bot
    that handled it was killed mid-update) is not handled twice; this sends what that bot
    still owed the lead, from the form as it stands:
    - the consent press committed the consent, so the first question is owed;
    - the last answer filed the request (the lead has a deal): the form is over (the lead's
      "request №N accepted" is an outbox row, sent by the sweepers)."""
    state: FSMContext | None = data.get("state")
    if state is None or await state.get_state() != LeadForm.answering.state:
        return
    form = await state.get_data()
    step = int(form.get("step", 0))
    user = data.get("event_from_user")
    if form.get("asked_by") == update.update_id:
        message = update.message or (
            update.callback_query.message if update.callback_query else None
        )
        i18n: I18n = data["i18n"]
        locale = pick_locale(user.language_code if user else None, i18n.default_locale)
        if isinstance(message, Message):
            with i18n.context(), i18n.use_locale(locale):
                await ask_question(
                    message, data["book"], step, form.get("known"), form.get("open_deal")
                )
    elif (
        step == len(STEPS) - 1
        and update.message is not None
        and user is not None
        and await lead_channel(data["uow"], user.id) is not None
    ):
        await end_conversation(state)


def create_router() -> Router:
    router = Router(name="lead")
    router.message.filter(HasRole(Role.LEAD))
    router.callback_query.filter(HasRole(Role.LEAD))
    router.message.register(start, CommandStart())
    router.message.register(help_for_lead, Command("help"))
    router.message.register(forget_me, Command("forget_me"))
    router.callback_query.register(consent_answered, Consent.filter())
    router.callback_query.register(forget_me_button, ForgetMe.filter())
    router.message.register(form_answer, LeadForm.answering)
    router.message.register(lead_writes, ~F.text.startswith("/"), InChatWithCompany())
    return router
