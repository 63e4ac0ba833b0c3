"""A command always works: typed while the bot waits for an answer (an amount, a comment, a date,
a figure, a name, a form field), it leaves that prompt and does its own job; it is never read as
the answer (nothing stored, no "not a number"), and afterwards a plain text no longer goes to
the prompt. The exceptions are a lead's side questions in the middle of the request form
(/help, /forget_me): answered, and the form goes on.

Table-driven, through the fake Bot API: `PROMPTS` says how a person gets into each conversation
state by the real buttons, `STAFF_COMMANDS` and `LEAD_COMMANDS` what each command answers. Every
state of every `StatesGroup` in `bot/handlers` and every command of every role's menu
(`bot.telegram.menus`, plus `/deal N`) must have a row, so a new prompt or command is covered the
day it is added. (The training walk, a reassignment and `/timezone Asia/Dubai` keep no state: the
walk goes through the card's prompts, which are here; the others are buttons and command
arguments.)

One bot and one database for the module (a fresh bot per case would take minutes): each case
enters its prompt afresh and leaves the person outside any, which it checks.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass

import pytest
import pytest_asyncio
from aiogram.fsm.state import State, StatesGroup
from sqlalchemy import func, select

import bot.handlers
from bot.app import Application
from bot.handlers.deals import CardInput
from bot.handlers.lead import LeadForm
from bot.handlers.profile import TimeZoneInput
from bot.handlers.proposals import ProposalInput
from bot.handlers.relay import WritingToLead
from bot.handlers.reminders import ReminderInput
from bot.handlers.reports import ReportInput
from bot.handlers.scripts import ScriptSearch
from bot.handlers.staff import InviteForm
from bot.handlers.unit_economics import SpendInput
from bot.telegram.menus import COMMANDS_BY_ROLE
from config.settings import Settings
from domain.clock import FixedClock
from domain.reminders import ReminderKind
from domain.roles import Role
from storage.models import (
    ActivityRow,
    DealMessageRow,
    DealRow,
    InviteRow,
    MarketingSpendRow,
    ProposalFigureRow,
    QualificationAnswerRow,
    ReminderRow,
    StageTransitionRow,
)
from tests.e2e.conftest import ADMIN_ID, MONDAY_10_MSK, TOKEN, running_bot
from tests.e2e.scenario import join_team, leave_request
from tests.fake_telegram import BotMessage, FakeTelegram, FakeUser, running_fake_telegram

PLAIN_TEXT = "просто текст"
"""Sent after each command: an answer to any prompt, but outside one only "not understood"."""
NOT_UNDERSTOOD_STAFF = "Не понял."
NOT_UNDERSTOOD_LEAD = "Чтобы оставить заявку, нажмите /start"


# --- the people and deals every case works on -----------------------------------------------


@dataclass(frozen=True)
class Cast:
    app: Application
    olga: FakeUser
    """The admin: every supervisor's prompt too."""
    ivan: FakeUser
    """The manager whose deals these are."""
    vera: FakeUser
    """A lead who agreed to the policy and has not filed a request yet."""
    open_deal: int
    """Ivan's, on its second stage, so it can go back too."""
    lost_deal: int
    new_deal_card: int
    """The message that told Ivan about the open deal, with "write to the client" on it."""

    def person(self, role: Role) -> FakeUser:
        return {Role.ADMIN: self.olga, Role.MANAGER: self.ivan, Role.LEAD: self.vera}[role]


async def reply_to(person: FakeUser, sent: int, shows: str, kind: str = "text") -> BotMessage:
    """The bot's message, sent after the person's message `sent`, with `shows` in it."""
    return await person.wait_message(
        contains=shows, kind=kind, where=lambda message: message.message_id > sent
    )


async def _screen(person: FakeUser, text: str, shows: str) -> int:
    """Send `text`, wait for the screen it opens; its message id."""
    return (await reply_to(person, await person.send(text), shows)).message_id


async def _on_card(person: FakeUser, deal_id: int, *buttons: str) -> None:
    """Open the deal's card and press `buttons` one after another (the card edits in place)."""
    card = await _screen(person, f"/deal {deal_id}", f"Сделка №{deal_id}")
    for button in buttons:
        await person.press(button, message_id=card)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def tg() -> AsyncIterator[FakeTelegram]:
    async with running_fake_telegram(TOKEN) as fake:
        yield fake


@pytest.fixture(scope="module")
def clock() -> FixedClock:
    return FixedClock(MONDAY_10_MSK)


@pytest.fixture(scope="module")
def settings(tg: FakeTelegram, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    database = tmp_path_factory.mktemp("commands") / "bot.sqlite3"
    return Settings(
        _env_file=None,
        bot_token=TOKEN,
        telegram_api_url=tg.base_url,
        database_url=f"sqlite+aiosqlite:///{database}",
        admin_ids=frozenset({ADMIN_ID}),
        throttle_burst=1000,
        reminder_tick_seconds=0,
    )


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def app(
    tg: FakeTelegram, settings: Settings, clock: FixedClock
) -> AsyncIterator[Application]:
    async with running_bot(tg, settings, clock) as application:
        yield application


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def cast(tg: FakeTelegram, app: Application) -> Cast:
    olga = tg.user("Ольга", user_id=ADMIN_ID, username="olga_admin")
    ivan = await join_team(tg, olga, "Менеджер", "Иван")
    await leave_request(tg.user("Анна"))
    card = await ivan.wait_message(contains="Новая заявка №1")
    await ivan.press("✅ Взять в работу", message_id=card.message_id)
    await leave_request(
        tg.user("Борис"), name="Борис", phone="+7 903 555-12-34", company="ООО Лютик"
    )
    await ivan.press(
        "✅ Взять в работу",
        message_id=(await ivan.wait_message(contains="Новая заявка №2")).message_id,
    )

    first_stage = app.book.pipeline("implementation_mid").stages[0]
    await _on_card(ivan, 1, "➡️ Следующий этап")
    for criterion in first_stage.exit_criteria:
        await ivan.press(criterion[:20])
    await ivan.press("➡️ Перевести")
    await ivan.wait_message(contains="(2/8)")
    await _on_card(ivan, 2, "❌ Проиграна", app.book.lost_reasons[0].name)
    await ivan.wait_message(contains="Добавьте комментарий к проигрышу")
    await ivan.press("Без комментария")
    await ivan.wait_message(contains="❌ Проиграна")
    await _screen(ivan, "перезвонить завтра в 11", "Напомню")
    vera = tg.user("Вера")
    await vera.send("/start")
    await vera.press("✅ Согласен(на)")
    await vera.wait_message(contains="Как к вам обращаться")
    await _screen(vera, "/cancel", "Отменено.")
    return Cast(app, olga, ivan, vera, 1, 2, card.message_id)


async def what_prompts_store(app: Application) -> tuple[object, ...]:
    """Everything a prompt would write had a command, or the text after it, been taken as its
    answer: the deals (sandbox ones aside, /training makes one), their history, figures and
    messages, personal reminders, spend and invites."""
    async with app.session_factory() as session:
        deals = (
            await session.execute(
                select(
                    DealRow.id,
                    DealRow.stage_id,
                    DealRow.status,
                    DealRow.amount,
                    DealRow.close_comment,
                    DealRow.snoozed_until,
                ).where(DealRow.is_sandbox.is_(False))
            )
        ).all()
        ids = [deal.id for deal in deals]
        on_deals = [
            await session.scalar(select(func.count()).where(deal_id.in_(ids)))
            for deal_id in (
                StageTransitionRow.deal_id,
                ActivityRow.deal_id,
                QualificationAnswerRow.deal_id,
                ProposalFigureRow.deal_id,
                DealMessageRow.deal_id,
            )
        ]
        reminders = (
            await session.execute(
                select(ReminderRow.id, ReminderRow.due_at, ReminderRow.status).where(
                    ReminderRow.kind == ReminderKind.PERSONAL
                )
            )
        ).all()
        others = [
            await session.scalar(select(func.count()).select_from(table))
            for table in (MarketingSpendRow, InviteRow)
        ]
    return (deals, on_deals, reminders, others)


# --- how a person gets into each prompt -----------------------------------------------------


async def _back_comment(cast: Cast) -> None:
    first_stage = cast.app.book.pipeline("implementation_mid").stages[0]
    await _on_card(cast.ivan, cast.open_deal, "⬅️ Вернуть на этап", first_stage.name)
    await cast.ivan.wait_message(contains="Почему сделка возвращается?")


async def _activity_comment(cast: Cast) -> None:
    await _on_card(cast.ivan, cast.open_deal, "📞 Звонок")
    await cast.ivan.wait_message(contains="Звонок: добавьте комментарий")


async def _won_amount(cast: Cast) -> None:
    await _on_card(cast.ivan, cast.open_deal, "✅ Выиграна")
    await cast.ivan.wait_message(contains="Сумма сделки в RUB?")


async def _expected_amount(cast: Cast) -> None:
    await _on_card(cast.ivan, cast.open_deal, "💰 Сумма")
    await cast.ivan.wait_message(contains="Какую сумму ожидаете")


async def _lost_comment(cast: Cast) -> None:
    reason = cast.app.book.lost_reasons[0].name
    await _on_card(cast.ivan, cast.open_deal, "❌ Проиграна", reason)
    await cast.ivan.wait_message(contains="Добавьте комментарий к проигрышу")


async def _override_comment(cast: Cast) -> None:
    await _on_card(cast.olga, cast.open_deal, "➡️ Следующий этап", "⚠️ Перевести без отметок")
    await cast.olga.wait_message(contains="переходит дальше без всех критериев")


async def _reopen_comment(cast: Cast) -> None:
    await _on_card(cast.olga, cast.lost_deal, "↩️ Переоткрыть")
    await cast.olga.wait_message(contains="Почему сделка открывается снова?")


async def _qualification_comment(cast: Cast) -> None:
    await _on_card(cast.ivan, cast.open_deal, "🎯 Квалификация")
    await cast.ivan.wait_message(contains="Можно написать комментарий к ответу")


async def _reminder_for_deal(cast: Cast) -> None:
    await _on_card(cast.ivan, cast.open_deal, "🔔 Напомнить")
    await cast.ivan.wait_message(contains="Когда напомнить и о чём?")


async def _snooze(cast: Cast) -> None:
    await _on_card(cast.ivan, cast.open_deal, "💤 Отложить")
    await cast.ivan.wait_message(contains="До какой даты отложить сделку")


async def _moving_reminder(cast: Cast) -> None:
    listing = await _screen(cast.ivan, "/reminders", "Ваши напоминания")
    await cast.ivan.press("✏️ Перенести 1", message_id=listing)
    await cast.ivan.wait_message(contains="На когда перенести")


async def _proposal_figure(cast: Cast) -> None:
    await _on_card(cast.ivan, cast.open_deal, "🧾 Составить КП")
    await cast.ivan.wait_message(contains="цифра 1 из 3")


async def _spend_amount(cast: Cast) -> None:
    screen = await _screen(cast.olga, "/spend", "Расходы на маркетинг")
    await cast.olga.press(cast.app.book.sources[0].name, message_id=screen)
    await cast.olga.press("март 2026", message_id=screen)
    await cast.olga.wait_message(contains="Сколько потрачено на")


async def _script_search(cast: Cast) -> None:
    await _screen(cast.ivan, "/scripts", "Что говорит клиент?")


async def _invite_label(cast: Cast) -> None:
    roles = await _screen(cast.olga, "/invite", "Кого приглашаете?")
    await cast.olga.press("Менеджер", message_id=roles)
    await cast.olga.wait_message(contains="Как зовут сотрудника?")


async def _writing_to_lead(cast: Cast) -> None:
    await cast.ivan.press("✉️ Написать клиенту", message_id=cast.new_deal_card)
    await cast.ivan.wait_message(contains="Напишите сообщение клиенту по заявке №1")


async def _report_dates(cast: Cast) -> None:
    periods = await _screen(cast.ivan, "/report", "За какой период")
    await cast.ivan.press("📅 Свои даты", message_id=periods)
    await cast.ivan.wait_message(contains="Напишите две даты")


async def _time_zone_name(cast: Cast) -> None:
    await _screen(cast.ivan, "/timezone", "напишите его название")


async def _request_form(cast: Cast) -> None:
    await _screen(cast.vera, "/start", "Как к вам обращаться")
    await _screen(cast.vera, "Вера", "Ваш телефон")


@dataclass(frozen=True)
class Prompt:
    role: Role
    """Whose prompt it is: the manager, the admin (for what only supervisors may), a lead."""
    enter: Callable[[Cast], Awaitable[None]]


PROMPTS: dict[State, Prompt] = {
    CardInput.back_comment: Prompt(Role.MANAGER, _back_comment),
    CardInput.activity_comment: Prompt(Role.MANAGER, _activity_comment),
    CardInput.won_amount: Prompt(Role.MANAGER, _won_amount),
    CardInput.expected_amount: Prompt(Role.MANAGER, _expected_amount),
    CardInput.lost_comment: Prompt(Role.MANAGER, _lost_comment),
    CardInput.override_comment: Prompt(Role.ADMIN, _override_comment),
    CardInput.reopen_comment: Prompt(Role.ADMIN, _reopen_comment),
    CardInput.qualification_comment: Prompt(Role.MANAGER, _qualification_comment),
    ReminderInput.for_deal: Prompt(Role.MANAGER, _reminder_for_deal),
    ReminderInput.snooze: Prompt(Role.MANAGER, _snooze),
    ReminderInput.moving: Prompt(Role.MANAGER, _moving_reminder),
    ProposalInput.figure: Prompt(Role.MANAGER, _proposal_figure),
    SpendInput.amount: Prompt(Role.ADMIN, _spend_amount),
    ScriptSearch.query: Prompt(Role.MANAGER, _script_search),
    InviteForm.label: Prompt(Role.ADMIN, _invite_label),
    WritingToLead.message: Prompt(Role.MANAGER, _writing_to_lead),
    ReportInput.dates: Prompt(Role.MANAGER, _report_dates),
    LeadForm.answering: Prompt(Role.LEAD, _request_form),
    TimeZoneInput.name: Prompt(Role.MANAGER, _time_zone_name),
}


# --- what each command answers ---------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    shows: str | Mapping[Role, str]
    """A piece of the command's one reply (by the role where it differs)."""
    kind: str = "text"
    opens: State | None = None
    """The prompt the command itself opens (None: the person is left outside any)."""
    then: str | None = None
    """What the plain text gets afterwards, if not "not understood"."""

    def shown_to(self, role: Role) -> str:
        return self.shows if isinstance(self.shows, str) else self.shows[role]


STAFF_COMMANDS: dict[str, Answer] = {
    "start": Answer("здравствуйте! Вы —"),
    "help": Answer("Команды"),
    "cancel": Answer("Отменено."),
    "deals": Answer("Открытые сделки"),
    "deal": Answer("Сделка №1"),
    "reminders": Answer({Role.MANAGER: "Ваши напоминания", Role.ADMIN: "Напоминаний нет"}),
    "scripts": Answer("Что говорит клиент?", opens=ScriptSearch.query, then="Ничего не нашлось"),
    "report": Answer("За какой период показать отчёт?"),
    "my": Answer({Role.MANAGER: "Мой месяц", Role.ADMIN: "Команда за месяц"}),
    "book": Answer("Книга продаж"),
    "training": Answer("Обучение"),
    "timezone": Answer(
        "часовой пояс", opens=TimeZoneInput.name, then="Не знаю часового пояса «просто текст»"
    ),
    "digest": Answer("Сводка", kind="photo"),
    "ab": Answer("Пока нет возражений"),
    "team": Answer("Команда ("),
    "spend": Answer("Расходы на маркетинг"),
    "invite": Answer("Кого приглашаете?"),
}
STAFF_COMMANDS_OUTSIDE_MENUS = ("deal",)

LEAD_COMMANDS: dict[str, Answer] = {
    "start": Answer("Как к вам обращаться", opens=LeadForm.answering, then="Ваш телефон"),
    # Side questions in the middle of the form: answered, and the form goes on (its keyboard is
    # still on screen), so the plain text after them is read as the phone it was waiting for.
    "help": Answer("Я бот отдела продаж", opens=LeadForm.answering, then="Не похоже на номер"),
    "cancel": Answer("Отменено."),
    "forget_me": Answer(
        "Удалить ваши персональные данные?", opens=LeadForm.answering, then="Не похоже на номер"
    ),
}


def commands_of(role: Role) -> tuple[str, ...]:
    if role is Role.LEAD:
        return COMMANDS_BY_ROLE[role]
    return COMMANDS_BY_ROLE[role] + STAFF_COMMANDS_OUTSIDE_MENUS


def cases() -> list[object]:
    return [
        pytest.param(state, command, id=f"{state.state}-/{command}")
        for state, prompt in PROMPTS.items()
        for command in commands_of(prompt.role)
    ]


def states_in_handlers() -> set[str]:
    found: set[str] = set()
    for module_info in pkgutil.iter_modules(bot.handlers.__path__):
        module = importlib.import_module(f"{bot.handlers.__name__}.{module_info.name}")
        for _, group in inspect.getmembers(module, inspect.isclass):
            if issubclass(group, StatesGroup) and group.__module__ == module.__name__:
                found |= {state.state for state in group.__all_states__ if state.state}
    return found


def test_every_prompt_and_command_is_in_the_table() -> None:
    assert {state.state for state in PROMPTS} == states_in_handlers()
    staff_roles = {prompt.role for prompt in PROMPTS.values()} - {Role.LEAD}
    for role in staff_roles | {Role.SUPERVISOR}:
        assert set(commands_of(role)) <= set(STAFF_COMMANDS), role
    assert set(commands_of(Role.LEAD)) == set(LEAD_COMMANDS)
    # Every staff command is sent from some prompt: the admin's menu has all but /training.
    assert set(commands_of(Role.MANAGER)) | set(commands_of(Role.ADMIN)) == set(STAFF_COMMANDS)


async def conversation_state(app: Application, person: FakeUser) -> str | None:
    context = app.dispatcher.fsm.get_context(app.bot, chat_id=person.id, user_id=person.id)
    return await context.get_state()


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(("state", "command"), cases())
async def test_a_command_leaves_the_prompt_and_does_its_job(
    cast: Cast, state: State, command: str
) -> None:
    prompt = PROMPTS[state]
    person = cast.person(prompt.role)
    answer = (LEAD_COMMANDS if prompt.role is Role.LEAD else STAFF_COMMANDS)[command]
    person.mark_seen()
    await prompt.enter(cast)
    assert await conversation_state(cast.app, person) == state.state
    stored = await what_prompts_store(cast.app)

    text = f"/deal {cast.open_deal}" if command == "deal" else f"/{command}"
    sent = await person.send(text)
    reply = await reply_to(person, sent, answer.shown_to(prompt.role), answer.kind)
    opened = answer.opens.state if answer.opens else None
    assert await conversation_state(cast.app, person) == opened

    typed = await person.send(PLAIN_TEXT)
    fallback = NOT_UNDERSTOOD_LEAD if prompt.role is Role.LEAD else NOT_UNDERSTOOD_STAFF
    then = await reply_to(person, typed, answer.then or fallback)
    # The command's reply and the plain text's, nothing else (no "not a number", no card), and
    # nothing stored: neither was taken as the prompt's answer.
    answered = [m.message_id for m in person.messages if m.message_id > sent]
    assert answered == [reply.message_id, then.message_id], [
        m.describe() for m in person.messages if m.message_id > sent
    ]
    assert await what_prompts_store(cast.app) == stored
