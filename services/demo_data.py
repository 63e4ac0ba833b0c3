"""Demo data: a believable sales department in the database, for demos, tests and benchmarks.

    python -m services.demo_data --managers 5 --supervisors 1 --deals 400 --days 90 --seed 1 \\
        [--database-url URL] [--sales-book PATH] [--now 2026-11-23T09:00:00+03:00] [--replace]

The database is migrated, then filled with managers and supervisors (Telegram ids in a reserved
fake range, so they never collide with real people), contacts who gave consent, and deals that
lived through the last `days` days: each is created at a working moment, assigned round robin,
walks its pipeline stage by stage with roughly the book's target conversions and SLA-sized
delays in working time (some longer than the SLA, so some deals are overdue), sometimes goes
back a stage, and ends won, lost or still open (an open deal past its key stage carries the
amount it is expected to bring, for the forecast). Calls, meetings, notes and proposals are logged
along the way, and qualification answers where the pipeline has a qualification stage.

Every change goes through the domain (`open_deal`, `Deal.advance` with all exit criteria ticked,
`move_back`, `win`, `lose`, `record_qualification`) and the repositories, so demo data obeys the
rules real data obeys. Each deal's life is simulated in memory first and stored once, in its final
state, with its whole history; deals are committed in batches. The result depends only on the
book, the arguments, the seed and `now`, never on the clock, and nothing lies after `now`.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import datetime as dt
import hashlib
import math
import random
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import delete, func, insert, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.settings import Settings
from domain.assignment import pick_next_manager
from domain.book_loading import SalesBookError, parse_sales_book
from domain.book_qualification import QualificationFramework
from domain.deal import Deal, DealStatus, StageTransition, open_deal, with_deal_id
from domain.qualification import QualificationLevel, level_for, score
from domain.roles import Role
from domain.sales_book import Pipeline, SalesBook
from domain.working_time import WorkingCalendar
from storage.database import create_engine, create_session_factory, migrate
from storage.models import (
    ActivityRow,
    ContactRow,
    DealRow,
    QualificationAnswerRow,
    StaffPipeline,
    StaffRow,
    StageTransitionRow,
)
from storage.unit_of_work import UnitOfWork

# --- ids -------------------------------------------------------------------------------------

DEMO_ID_FIRST = 9_000_000_000
DEMO_ID_END = 10_000_000_000
"""Telegram ids in [DEMO_ID_FIRST, DEMO_ID_END) belong to demo people: staff from
`DEMO_STAFF_BASE`, contacts from `DEMO_CONTACT_BASE`. Nobody real has them yet, and demo data is
recognised (and replaced) by them."""
DEMO_STAFF_BASE = DEMO_ID_FIRST
DEMO_CONTACT_BASE = DEMO_ID_FIRST + 100_000_000

DEFAULT_BATCH_SIZE = 100
"""Deals per transaction."""

# --- the shape of a sales department's life ----------------------------------------------------

ACTIVITY_CALL = "call"
ACTIVITY_MEETING = "meeting"
ACTIVITY_NOTE = "note"
ACTIVITY_PROPOSAL = "proposal"

MINUTE = 60
HOUR = 60 * MINUTE

BACK_MOVE_SHARE = 0.07
"""Chance that a deal in the key stage or later goes back a stage instead of moving on."""
MAX_BACK_MOVES = 1
RETRY_CONVERSION = 0.85
"""A deal that went back usually regains the stage it had already reached."""
REPEAT_CONTACT_SHARE = 0.06
"""Share of deals from a returning contact rather than a new one."""
MIN_DELAY = 10 * MINUTE

# Time spent in a stage, as a share of its SLA: log-normal, (median, sigma). With a median of
# 0.45 about one move in eight comes after the SLA ran out.
DELAY_FORWARD = (0.45, 0.65)
DELAY_BACK = (0.6, 0.6)
DELAY_LOSE = (0.9, 0.7)
MAX_DELAY_FACTOR = 6.0
STALL_SHARE = 0.05
STALL_FACTOR = (1.5, 20.0)
"""Now and then a deal stalls in a stage for many times its SLA (the client went quiet, the
manager forgot it): these are the overdue deals of the supervisor's digest."""
WIN_DELAY_MINUTES = (10, 180)
"""From entering the last stage (the payment has arrived) to closing the deal as won."""

AMOUNT_RANGES: dict[str, tuple[int, int]] = {
    "implementation": (80_000, 2_000_000),
    "subscription": (15_000, 200_000),
}
"""Won amounts per product id, in the book's currency; others get `DEFAULT_AMOUNT_RANGE`."""
DEFAULT_AMOUNT_RANGE = (30_000, 600_000)

PIPELINE_WEIGHTS: dict[str, float] = {"subscription": 3.0, "implementation": 2.0}
"""How many leads each product brings, relative to others (default 2)."""

SOURCE_WEIGHTS: dict[str, float] = {
    "ads_yandex": 30,
    "site": 25,
    "ads_vk": 20,
    "referral": 15,
    "partner_integrator": 10,
}

LOST_REASON_WEIGHTS: dict[str, tuple[float, float]] = {
    # reason id: (weight before the key stage, weight from the key stage on)
    "no_response": (10, 6),
    "not_relevant": (6, 1),
    "spam": (5, 0),
    "no_budget": (4, 4),
    "product_mismatch": (4, 2),
    "postponed": (3, 5),
    "too_expensive": (1, 10),
    "competitor": (1, 7),
    "no_decision": (1, 4),
}
"""Weights of the default book's reasons; a book's other reasons get a weight that falls with
their position in the list, so the first few dominate."""
LOST_COMMENT_SHARE = 0.4

# --- words -----------------------------------------------------------------------------------

MALE_NAMES = (
    "Александр", "Алексей", "Андрей", "Антон", "Артём", "Борис", "Вадим", "Виктор", "Владимир",
    "Григорий", "Денис", "Дмитрий", "Евгений", "Егор", "Иван", "Игорь", "Илья", "Кирилл",
    "Константин", "Максим", "Михаил", "Никита", "Олег", "Павел", "Роман", "Сергей", "Станислав",
    "Тимур", "Фёдор", "Юрий", "Ярослав",
)  # fmt: skip
FEMALE_NAMES = (
    "Алина", "Алёна", "Анастасия", "Анна", "Валентина", "Вера", "Виктория", "Галина", "Дарья",
    "Екатерина", "Елена", "Ирина", "Ксения", "Людмила", "Марина", "Мария", "Надежда", "Наталья",
    "Оксана", "Ольга", "Полина", "Светлана", "Софья", "Татьяна", "Юлия", "Яна",
)  # fmt: skip
SURNAMES = (
    "Абрамов", "Алексеев", "Андреев", "Антонов", "Белов", "Беляев", "Богданов", "Борисов",
    "Васильев", "Виноградов", "Волков", "Воробьёв", "Гаврилов", "Голубев", "Григорьев", "Гусев",
    "Давыдов", "Денисов", "Дмитриев", "Егоров", "Ефимов", "Жуков", "Зайцев", "Захаров", "Иванов",
    "Ильин", "Калинин", "Карпов", "Киселёв", "Ковалёв", "Козлов", "Комаров", "Королёв", "Крылов",
    "Кузнецов", "Кузьмин", "Лебедев", "Макаров", "Максимов", "Медведев", "Миронов", "Михайлов",
    "Морозов", "Никитин", "Николаев", "Новиков", "Орлов", "Павлов", "Петров", "Поляков", "Попов",
    "Романов", "Семёнов", "Сергеев", "Смирнов", "Соболев", "Соколов", "Сорокин", "Степанов",
    "Тарасов", "Титов", "Фёдоров", "Фомин", "Фролов", "Чернов", "Яковлев",
)  # fmt: skip
COMPANY_ROOTS = (
    "Альфа", "Балтика", "Вектор", "Волга", "Гранит", "Дельта", "Енисей", "Зенит", "Импульс",
    "Кедр", "Лидер", "Меридиан", "Норд", "Ориент", "Полюс", "Прогресс", "Ресурс", "Сибирь",
    "Скиф", "Спектр", "Старт", "Таврия", "Урал", "Факел", "Эталон", "Янтарь",
)  # fmt: skip
COMPANY_TRADES = (
    "Агро", "Групп", "Дом", "Инвест", "Логистик", "Маркет", "Медтех", "Мебель", "Окна", "Опт",
    "Профи", "Сервис", "Строй", "Техно", "Торг", "Трейд", "Фарм", "Эко",
)  # fmt: skip
NEED_TEMPLATES = (
    "Интересует «{product}»: в компании {people} сотрудников, нужна консультация",
    "Просим рассчитать стоимость «{product}» на {users} пользователей",
    "Сейчас ведём клиентов в таблицах, хотим узнать про «{product}»",
    "Нужно предложение по «{product}», начать хотим {when}",
    "Перезвоните, пожалуйста: вопрос по «{product}»",
    "Хотим сменить текущую систему, рассматриваем «{product}»",
)
WHEN = ("в этом месяце", "до конца квартала", "с начала следующего года", "как можно скорее")
CALL_COMMENTS = (
    "Созвонились, уточнили задачу и сроки",
    "Созвонились, договорились о следующем шаге",
    "Не дозвонился, перезвоню завтра",
    "Клиент попросил перезвонить после обеда",
    "Уточнили число пользователей и бюджет",
    "Обсудили интеграцию с 1С и телефонией",
    "Напомнил о договорённостях",
    "Клиент согласовывает внутри, ждём ответа",
)
FIRST_CALL_COMMENTS = (
    "Первый звонок: представился, договорились о разговоре",
    "Ответили на заявку, клиент ждёт звонка с подробностями",
    "Связались в чате, клиент оставил удобное время для звонка",
)
MEETING_COMMENTS = (
    "Провели демонстрацию, на встрече был ЛПР",
    "Встреча в офисе клиента, показали воронку на их процессах",
    "Онлайн-демонстрация, клиент задал вопросы по отчётам",
)
NOTE_COMMENTS = (
    "Клиент сравнивает нас с двумя конкурентами",
    "ЛПР — коммерческий директор, решение за ним",
    "Бюджет согласуют в конце месяца",
    "Просили скидку за оплату на год вперёд",
    "Важна интеграция с телефонией",
    "Клиент в отпуске до следующей недели",
)
BACK_COMMENTS = (
    "Клиент попросил пересчитать предложение",
    "Сменилось контактное лицо, проходим этап заново",
    "Клиент взял паузу, возвращаемся на шаг назад",
    "ЛПР не согласовал условия, нужна повторная встреча",
    "Изменились требования клиента",
)
LOST_COMMENTS: dict[str, tuple[str, ...]] = {
    "too_expensive": ("Бюджет клиента вдвое меньше", "Просили скидку 30 %, не смогли дать"),
    "competitor": ("Выбрали конкурента: у них уже есть нужная интеграция",),
    "no_response": ("Три звонка и два сообщения без ответа",),
    "postponed": ("Вернуться к разговору в следующем квартале",),
    "no_budget": ("Бюджет на этот год уже распределён",),
    "spam": ("Дубль заявки",),
}


# --- the result ------------------------------------------------------------------------------


class DemoDataError(Exception):
    """The demo data cannot be generated as asked; the message says why."""


@dataclass(frozen=True)
class DemoSummary:
    company: str
    currency: str
    seed: int
    since: dt.datetime
    until: dt.datetime
    manager_ids: tuple[int, ...]
    manager_names: tuple[str, ...]
    supervisor_ids: tuple[int, ...]
    pipelines: int
    contacts: int
    deals: int
    open: int
    overdue: int
    """Open deals past their current stage's SLA at `until`."""
    won: int
    lost: int
    revenue: Decimal
    transitions: int
    activities: int
    qualification_answers: int
    top_lost_reason: str | None
    top_lost_count: int
    fingerprint: str
    """A hash of everything generated: equal fingerprints mean identical data."""

    @property
    def managers(self) -> int:
        return len(self.manager_ids)

    @property
    def supervisors(self) -> int:
        return len(self.supervisor_ids)

    def describe(self) -> str:
        names = ", ".join(self.manager_names[:8]) + (", …" if self.managers > 8 else "")
        lost_detail = (
            f" (most often: {self.top_lost_reason}, {_number(self.top_lost_count)})"
            if self.top_lost_reason
            else ""
        )
        return (
            f"Demo data for {self.company}: {_plural(self.managers, 'manager')} ({names}) "
            f"serving {_plural(self.pipelines, 'pipeline')} and "
            f"{_plural(self.supervisors, 'supervisor')}; {_plural(self.contacts, 'contact')}; "
            f"{_plural(self.deals, 'deal')} created between {self.since:%Y-%m-%d %H:%M} and "
            f"{self.until:%Y-%m-%d %H:%M} UTC: {_number(self.open)} open "
            f"({_number(self.overdue)} overdue), {_number(self.won)} won, "
            f"{_number(self.lost)} lost{lost_detail}; revenue {_number(self.revenue)} "
            f"{self.currency}; "
            f"{_plural(self.transitions, 'stage-history entry', 'stage-history entries')}, "
            f"{_plural(self.activities, 'activity', 'activities')} and "
            f"{_plural(self.qualification_answers, 'qualification answer')}. "
            f"Seed {self.seed}, fingerprint {self.fingerprint[:12]}."
        )


# --- the generator ---------------------------------------------------------------------------


async def generate_demo_data(
    session_factory: async_sessionmaker[AsyncSession],
    book: SalesBook,
    *,
    managers: int,
    supervisors: int,
    deals: int,
    days: int,
    seed: int,
    now: dt.datetime,
    replace: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> DemoSummary:
    """Fill an already migrated database with demo staff, contacts and deals.

    Raises DemoDataError on impossible arguments, and when the database already holds demo data
    and `replace` is false (with `replace`, the previous demo data is deleted first).
    """
    if managers < 1:
        raise DemoDataError("at least one manager is needed to work the deals")
    if supervisors < 0 or deals < 0:
        raise DemoDataError("the numbers of supervisors and deals cannot be negative")
    if days < 1:
        raise DemoDataError("the period must be at least one day")
    if batch_size < 1:
        raise DemoDataError("the batch size must be at least one deal")
    if managers + supervisors >= DEMO_CONTACT_BASE - DEMO_STAFF_BASE:
        raise DemoDataError("too many demo staff")
    if now.tzinfo is None or now.utcoffset() is None:
        raise DemoDataError("`now` must be a timezone-aware instant")
    until = now.astimezone(dt.UTC)
    since = until - dt.timedelta(days=days)

    calendar = WorkingCalendar.from_book(
        book.working_hours, years=range(since.year, until.year + 1)
    )
    timeline = _Timeline(calendar, since, until)
    if timeline.offset(until) <= timeline.offset(since):
        raise DemoDataError(
            f"the {days} days before {until:%Y-%m-%d %H:%M} UTC hold no working time, so no deal "
            "could have been created in them; choose more days"
        )

    rng = random.Random(seed)
    team = _make_team(rng, book, managers, supervisors, since)
    simulator = _Simulator(rng, book, timeline, team.manager_ids, since, until)
    plans = simulator.deals(deals)

    uow = UnitOfWork(session_factory)
    async with uow:
        await _clear_demo_data(uow, replace)
        for member in team.members:
            uow.session.add(member)
        await uow.session.flush()
        pipeline_ids = [pipeline.id for pipeline in book.pipelines]
        for manager_id in team.manager_ids:
            await uow.staff.set_pipelines(manager_id, pipeline_ids)
        await uow.commit()

    contact_ids: dict[int, int] = {}
    for first in range(0, len(plans), batch_size):
        async with uow:
            await _store_batch(uow, plans[first : first + batch_size], contact_ids, book, calendar)
            await uow.commit()

    async with uow:
        for pipeline_id, manager_id in simulator.last_assigned.items():
            await uow.staff.remember_round_robin(pipeline_id, manager_id)
        await uow.commit()

    return _summarise(book, calendar, seed, since, until, team, plans, len(contact_ids))


# --- staff -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Team:
    members: list[StaffRow]
    manager_ids: list[int]
    manager_names: list[str]
    supervisor_ids: list[int]


def _make_team(
    rng: random.Random, book: SalesBook, managers: int, supervisors: int, since: dt.datetime
) -> _Team:
    names = [*MALE_NAMES, *FEMALE_NAMES]
    rng.shuffle(names)
    members: list[StaffRow] = []
    manager_ids: list[int] = []
    manager_names: list[str] = []
    supervisor_ids: list[int] = []
    for index in range(managers + supervisors):
        telegram_id = DEMO_STAFF_BASE + 1 + index
        name = names[index % len(names)]
        if index >= len(names):
            name = f"{name} {index // len(names) + 1}"
        is_manager = index < managers
        members.append(
            StaffRow(
                telegram_id=telegram_id,
                role=(Role.MANAGER if is_manager else Role.SUPERVISOR).value,
                first_name=name,
                username=None,
                language_code="ru",
                timezone=book.working_hours.timezone,
                is_active=True,
                is_reachable=True,
                joined_at=since,
            )
        )
        if is_manager:
            manager_ids.append(telegram_id)
            manager_names.append(name)
        else:
            supervisor_ids.append(telegram_id)
    return _Team(members, manager_ids, manager_names, supervisor_ids)


async def _clear_demo_data(uow: UnitOfWork, replace: bool) -> None:
    session = uow.session
    demo_staff = StaffRow.telegram_id.between(DEMO_ID_FIRST, DEMO_ID_END - 1)
    demo_deals = await session.scalar(
        select(func.count()).select_from(DealRow).where(DealRow.is_demo.is_(True))
    )
    staff = await session.scalar(select(func.count()).select_from(StaffRow).where(demo_staff))
    if not demo_deals and not staff:
        return
    if not replace:
        raise DemoDataError(
            f"the database already holds demo data ({demo_deals} deals, {staff} staff); "
            "pass --replace to delete it and generate anew"
        )
    real_deals_of_demo_staff = await session.scalar(
        select(func.count())
        .select_from(DealRow)
        .where(
            DealRow.is_demo.is_(False),
            DealRow.manager_id.between(DEMO_ID_FIRST, DEMO_ID_END - 1),
        )
    )
    if real_deals_of_demo_staff:
        raise DemoDataError(
            f"{real_deals_of_demo_staff} real deals are assigned to demo managers; reassign "
            "them before replacing the demo data"
        )
    # Stage history, activities, messages and answers go with their deals (ON DELETE CASCADE).
    await session.execute(delete(DealRow).where(DealRow.is_demo.is_(True)))
    await session.execute(
        delete(ContactRow).where(ContactRow.telegram_id.between(DEMO_ID_FIRST, DEMO_ID_END - 1))
    )
    await session.execute(
        delete(StaffPipeline).where(StaffPipeline.staff_id.between(DEMO_ID_FIRST, DEMO_ID_END - 1))
    )
    await session.execute(delete(StaffRow).where(demo_staff))


# --- working time as a line ------------------------------------------------------------------


class _Timeline:
    """The calendar's working periods around [since, until] laid end to end, so that "a working
    moment" and "this much working time later" are a bisect away instead of a walk over days.

    Offsets are whole seconds of working time. `at(offset)` maps back to the instant, with the
    calendar's convention that a period is [open, close).
    """

    def __init__(self, calendar: WorkingCalendar, since: dt.datetime, until: dt.datetime) -> None:
        zone = calendar.tz
        day = since.astimezone(zone).date() - dt.timedelta(days=1)
        last = until.astimezone(zone).date() + dt.timedelta(days=1)
        self._opens: list[dt.datetime] = []
        self._closes: list[dt.datetime] = []
        self._starts: list[int] = []
        total = 0
        while day <= last:
            period = calendar.working_period(day)
            if period is not None:
                opens, closes = period
                self._opens.append(opens)
                self._closes.append(closes)
                self._starts.append(total)
                total += (closes - opens) // dt.timedelta(seconds=1)
            day += dt.timedelta(days=1)
        self._total = total

    def offset(self, instant: dt.datetime) -> int:
        """Working seconds from the start of the line to `instant`."""
        index = bisect.bisect_right(self._closes, instant)
        if index == len(self._closes):
            return self._total
        opens = self._opens[index]
        if instant <= opens:
            return self._starts[index]
        return self._starts[index] + (instant - opens) // dt.timedelta(seconds=1)

    def at(self, offset: int) -> dt.datetime:
        """The working moment `offset` working seconds from the start of the line."""
        if not 0 <= offset < self._total:
            raise ValueError(f"offset {offset} is outside the timeline")
        index = bisect.bisect_right(self._starts, offset) - 1
        return self._opens[index] + dt.timedelta(seconds=offset - self._starts[index])


# --- one deal's life -------------------------------------------------------------------------


class _Move(StrEnum):
    FORWARD = "forward"
    BACK = "back"
    WIN = "win"
    LOSE = "lose"


@dataclass(frozen=True)
class _Activity:
    kind: str
    at: dt.datetime
    comment: str


@dataclass(frozen=True)
class _Answer:
    framework_id: str
    question_id: str
    option_index: int
    at: dt.datetime


@dataclass
class _NewContact:
    telegram_id: int
    name: str
    phone: str
    company: str | None
    consent_version: str
    at: dt.datetime


@dataclass
class _Plan:
    deal: Deal
    transitions: list[StageTransition]
    contact_index: int
    """Index of the contact (in creation order) that made the request."""
    new_contact: _NewContact | None
    """Set when this deal's request created the contact."""
    activities: list[_Activity] = field(default_factory=list)
    answers: list[_Answer] = field(default_factory=list)


class _Simulator:
    """Deals in creation order, each lived from its creation until it closed or `until` came."""

    def __init__(
        self,
        rng: random.Random,
        book: SalesBook,
        timeline: _Timeline,
        manager_ids: Sequence[int],
        since: dt.datetime,
        until: dt.datetime,
    ) -> None:
        self._rng = rng
        self._book = book
        self._timeline = timeline
        self._manager_ids = list(manager_ids)
        self._since = since
        self._first_offset = timeline.offset(since)
        self._until_offset = timeline.offset(until)
        self.last_assigned: dict[str, int] = {}
        self._contacts = 0
        self._phones: set[str] = set()
        self._pipeline_weights = [
            PIPELINE_WEIGHTS.get(pipeline.product, 2.0) for pipeline in book.pipelines
        ]
        self._source_weights = [
            SOURCE_WEIGHTS.get(source.id, 10.0 / (index + 1))
            for index, source in enumerate(book.sources)
        ]

    def deals(self, count: int) -> list[_Plan]:
        # Creation moments are drawn up front and sorted, so deal ids follow creation time and
        # the round robin sees the leads in the order they came.
        moments = sorted(
            self._rng.randrange(self._first_offset, self._until_offset) for _ in range(count)
        )
        return [self._deal(offset) for offset in moments]

    def _deal(self, created_offset: int) -> _Plan:
        rng = self._rng
        created_at = self._timeline.at(created_offset)

        pipeline = rng.choices(self._book.pipelines, self._pipeline_weights)[0]
        manager_id = pick_next_manager(self._manager_ids, self.last_assigned.get(pipeline.id))
        assert manager_id is not None  # there is at least one manager
        self.last_assigned[pipeline.id] = manager_id

        contact_index, new_contact = self._contact(created_at)
        source = (
            rng.choices(self._book.sources, self._source_weights)[0].id
            if self._book.sources
            else None
        )
        deal, created = open_deal(
            pipeline,
            created_at,
            manager_id=manager_id,
            source=source,
            need=self._need(pipeline),
        )
        plan = _Plan(deal, [created], contact_index, new_contact)
        self._live(plan, pipeline, manager_id, created_offset)
        return plan

    # --- the walk ----------------------------------------------------------------------------

    def _live(self, plan: _Plan, pipeline: Pipeline, manager_id: int, offset: int) -> None:
        rng, book, deal = self._rng, self._book, plan.deal
        stages = pipeline.stages
        key_index = pipeline.stage_index(pipeline.key_stage)
        qualification_index = _qualification_stage(pipeline)
        amount = _amount(rng, pipeline)
        index = reached = back_moves = 0
        while True:
            stage = stages[index]
            sla = round(stage.sla_hours * HOUR)
            move = self._next_move(pipeline, index, reached, back_moves, key_index)
            leaves = offset + self._delay(sla, move)
            still_here = leaves >= self._until_offset
            self._activities(
                plan, pipeline, index, offset, min(leaves, self._until_offset), amount, still_here
            )
            if still_here:
                if index >= key_index:  # past the key stage the client has named a budget
                    deal.expect(amount, currency=book.currency)
                return
            at = self._timeline.at(leaves)
            if (
                index == qualification_index
                and move in (_Move.FORWARD, _Move.LOSE)
                and not plan.answers  # asked once; a deal sent back keeps its answers
            ):
                self._qualify(plan, pipeline, offset, leaves, passed=move is _Move.FORWARD)
            if move is _Move.FORWARD:
                ticked = range(len(stage.exit_criteria))
                plan.transitions.append(deal.advance(pipeline, ticked, manager_id, at))
                index += 1
                reached = max(reached, index)
            elif move is _Move.BACK:
                target = index - 1 if index < 3 or rng.random() < 0.8 else index - 2
                comment = rng.choice(BACK_COMMENTS)
                plan.transitions.append(
                    deal.move_back(pipeline, stages[target].id, manager_id, at, comment)
                )
                index = target
                back_moves += 1
            elif move is _Move.WIN:
                plan.transitions.append(deal.win(amount, manager_id, at, currency=book.currency))
                return
            else:
                reason = self._lost_reason(index, key_index)
                comments = LOST_COMMENTS.get(reason, ())
                detail = (
                    rng.choice(comments) if comments and rng.random() < LOST_COMMENT_SHARE else None
                )
                plan.transitions.append(deal.lose(book, reason, manager_id, at, detail))
                return
            offset = leaves

    def _next_move(
        self, pipeline: Pipeline, index: int, reached: int, back_moves: int, key_index: int
    ) -> _Move:
        rng = self._rng
        if index == len(pipeline.stages) - 1:
            # The last stage is reached once the client has paid: the deal is won.
            return _Move.WIN
        if (
            index >= max(key_index, 1)
            and back_moves < MAX_BACK_MOVES
            and rng.random() < BACK_MOVE_SHARE
        ):
            return _Move.BACK
        conversion = pipeline.stages[index].target_conversion
        if index < reached:
            conversion = max(conversion, RETRY_CONVERSION)
        return _Move.FORWARD if rng.random() < conversion else _Move.LOSE

    def _delay(self, sla: int, move: _Move) -> int:
        rng = self._rng
        if move is _Move.WIN:
            low, high = WIN_DELAY_MINUTES
            return rng.randint(low, high) * MINUTE
        if rng.random() < STALL_SHARE:
            factor = rng.uniform(*STALL_FACTOR)
        else:
            median, sigma = {
                _Move.FORWARD: DELAY_FORWARD,
                _Move.BACK: DELAY_BACK,
                _Move.LOSE: DELAY_LOSE,
            }[move]
            factor = min(rng.lognormvariate(math.log(median), sigma), MAX_DELAY_FACTOR)
        return max(MIN_DELAY, round(sla * factor))

    def _lost_reason(self, index: int, key_index: int) -> str:
        reasons = self._book.lost_reasons
        early = index < key_index
        weights = [
            LOST_REASON_WEIGHTS.get(reason.id, (8 / (position + 1), 8 / (position + 1)))[
                0 if early else 1
            ]
            for position, reason in enumerate(reasons)
        ]
        if sum(weights) <= 0:
            weights = [1.0] * len(reasons)
        return self._rng.choices(reasons, weights)[0].id

    # --- what happens inside a stage ---------------------------------------------------------

    def _activities(
        self,
        plan: _Plan,
        pipeline: Pipeline,
        index: int,
        start: int,
        end: int,
        amount: Decimal,
        still_here: bool,
    ) -> None:
        """A few activities at working moments while the deal is in a stage: calls mostly, the
        meeting in a meeting stage, the proposal in a proposal stage, now and then a note."""
        rng = self._rng
        stage_id = pipeline.stages[index].id
        kinds: list[tuple[str, str]] = []
        if index == 0 and not plan.activities:
            if not still_here or rng.random() < 0.5:  # a fresh lead may not be called yet
                kinds.append((ACTIVITY_CALL, rng.choice(FIRST_CALL_COMMENTS)))
        elif "meet" in stage_id or "demo" in stage_id:
            if rng.random() < 0.5:
                kinds.append((ACTIVITY_CALL, rng.choice(CALL_COMMENTS)))
            kinds.append((ACTIVITY_MEETING, rng.choice(MEETING_COMMENTS)))
        elif "proposal" in stage_id or "offer" in stage_id:
            kinds.append(
                (
                    ACTIVITY_PROPOSAL,
                    f"Отправили предложение на {_number(amount)} {self._book.currency}",
                )
            )
            if rng.random() < 0.6:
                kinds.append((ACTIVITY_CALL, rng.choice(CALL_COMMENTS)))
        else:
            for _ in range(rng.choices((0, 1, 2), (2, 5, 2))[0]):
                kinds.append((ACTIVITY_CALL, rng.choice(CALL_COMMENTS)))
        if rng.random() < 0.2:
            kinds.append((ACTIVITY_NOTE, rng.choice(NOTE_COMMENTS)))
        if end <= start:
            return
        moments = sorted(rng.randrange(start, end) for _ in kinds)
        for (kind, comment), moment in zip(kinds, moments, strict=True):
            plan.activities.append(_Activity(kind, self._timeline.at(moment), comment))

    def _qualify(self, plan: _Plan, pipeline: Pipeline, start: int, end: int, passed: bool) -> None:
        """Answer the pipeline's questionnaire during the stage: a lead that moves on is SQL
        (the stage's exit criteria say so), one that is lost here is MQL or disqualified."""
        rng = self._rng
        framework = self._book.framework_for(pipeline.id)
        wanted = (
            {QualificationLevel.SQL}
            if passed
            else {QualificationLevel.MQL, QualificationLevel.DISQUALIFIED}
        )
        answers = _answers(rng, framework, wanted)
        plan.deal.record_qualification(score(framework, answers))
        moment = self._timeline.at(rng.randrange(start, end))
        plan.answers.extend(
            _Answer(framework.id, question_id, option, moment)
            for question_id, option in answers.items()
        )

    # --- people ------------------------------------------------------------------------------

    def _contact(self, created_at: dt.datetime) -> tuple[int, _NewContact | None]:
        rng = self._rng
        if self._contacts and rng.random() < REPEAT_CONTACT_SHARE:
            return rng.randrange(self._contacts), None
        female = rng.random() < 0.45
        first = rng.choice(FEMALE_NAMES if female else MALE_NAMES)
        surname = rng.choice(SURNAMES)
        if female:
            surname += "а"
        name = f"{first} {surname}" if rng.random() < 0.7 else first
        phone = self._phone()
        company: str | None = None
        roll = rng.random()
        if roll < 0.65:
            root, trade = rng.choice(COMPANY_ROOTS), rng.choice(COMPANY_TRADES)
            joined = f"{root}-{trade}" if rng.random() < 0.5 else f"{root}{trade.lower()}"
            company = f"{rng.choice(('ООО', 'ООО', 'ООО', 'АО'))} «{joined}»"
        elif roll < 0.85:
            company = f"ИП {surname} {first[0]}. {rng.choice(MALE_NAMES)[0]}."
        # The lead gave consent and filled in the card a few minutes before the request.
        consent_at = max(self._since, created_at - dt.timedelta(seconds=rng.randint(60, 900)))
        contact = _NewContact(
            telegram_id=DEMO_CONTACT_BASE + self._contacts,
            name=name,
            phone=phone,
            company=company,
            consent_version=self._book.consent.version,
            at=consent_at,
        )
        self._contacts += 1
        return self._contacts - 1, contact

    def _phone(self) -> str:
        while True:
            code = self._rng.choice((900, 903, 905, 909, 915, 916, 921, 925, 926, 977, 985, 999))
            phone = f"+7{code}{self._rng.randrange(10_000_000):07d}"
            if phone not in self._phones:
                self._phones.add(phone)
                return phone

    def _need(self, pipeline: Pipeline) -> str:
        rng = self._rng
        segment = pipeline.segment
        if "small" in segment:
            people = rng.randint(5, 49)
        elif "mid" in segment:
            people = rng.randint(50, 250)
        else:
            people = rng.randint(10, 500)
        return rng.choice(NEED_TEMPLATES).format(
            product=self._book.product(pipeline.product).name,
            people=people,
            users=max(2, people // rng.randint(3, 8)),
            when=rng.choice(WHEN),
        )


def _qualification_stage(pipeline: Pipeline) -> int | None:
    for index, stage in enumerate(pipeline.stages):
        if "qualif" in stage.id:
            return index
    return None


def _answers(
    rng: random.Random, framework: QualificationFramework, wanted: set[QualificationLevel]
) -> dict[str, int]:
    """Answers whose score lands in one of the wanted levels (or the closest extreme)."""
    good = QualificationLevel.SQL in wanted
    ranked = {
        question.id: sorted(
            range(len(question.options)),
            key=[-option.points for option in question.options].__getitem__,
        )
        for question in framework.questions
    }
    for _ in range(20):
        answers: dict[str, int] = {}
        for question_id, options in ranked.items():
            weights = [2.0**-rank for rank in range(len(options))]
            if not good:
                weights.reverse()
            answers[question_id] = rng.choices(options, weights)[0]
        if level_for(framework.thresholds, score(framework, answers).points) in wanted:
            return answers
    pick = 0 if good else -1
    return {question_id: options[pick] for question_id, options in ranked.items()}


def _amount(rng: random.Random, pipeline: Pipeline) -> Decimal:
    low, high = AMOUNT_RANGES.get(pipeline.product, DEFAULT_AMOUNT_RANGE)
    # Log-scale and skewed towards the low end: many modest deals, a few large ones.
    value = low * (high / low) ** (rng.random() ** 1.4)
    step = 1000 if value >= 100_000 else 100
    return Decimal(max(step, round(value / step) * step))


# --- storing ---------------------------------------------------------------------------------


async def _store_batch(
    uow: UnitOfWork,
    plans: Sequence[_Plan],
    contact_ids: dict[int, int],
    book: SalesBook,
    calendar: WorkingCalendar,
) -> None:
    """Store a batch of simulated deals: contacts, then each deal through the repository (which
    gives it its id), then its history through the repository, its activities and answers.

    Only deals need their ids back. SQLite cannot return the ids of a multi-row INSERT in a
    guaranteed order, so there the ORM's flush sends one INSERT per row, which would take
    minutes for a large demo; every other row therefore goes in with one multi-row INSERT per
    table (contacts are then looked up by their unique demo Telegram id).
    """
    session = uow.session
    cards = [plan.new_contact for plan in plans if plan.new_contact is not None]
    if cards:
        await session.execute(
            insert(ContactRow).execution_options(render_nulls=True),
            [
                {
                    "telegram_id": card.telegram_id,
                    "name": card.name,
                    "phone": card.phone,
                    "company": card.company,
                    "username": None,
                    "language_code": "ru",
                    "consent_at": card.at,
                    "consent_version": card.consent_version,
                    "created_at": card.at,
                    "erased_at": None,
                }
                for card in cards
            ],
        )
        stored = await session.execute(
            select(ContactRow.telegram_id, ContactRow.id).where(
                ContactRow.telegram_id.in_([card.telegram_id for card in cards])
            )
        )
        ids_by_telegram_id: dict[int | None, int] = {row[0]: row[1] for row in stored}
        for plan in plans:
            if plan.new_contact is not None:
                contact_ids[plan.contact_index] = ids_by_telegram_id[plan.new_contact.telegram_id]

    for plan in plans:
        plan.deal.contact_id = contact_ids[plan.contact_index]
        plan.deal.refresh_deadline(calendar, book.pipeline(plan.deal.pipeline_id))
        await uow.deals.add(plan.deal, is_demo=True)

    activities: list[dict[str, object]] = []
    answers: list[dict[str, object]] = []
    for plan in plans:
        deal_id = plan.deal.id
        assert deal_id is not None
        for transition in plan.transitions:
            uow.deals.record(with_deal_id(transition, deal_id))
        activities.extend(
            {
                "deal_id": deal_id,
                "kind": activity.kind,
                "author_id": plan.deal.manager_id,
                "at": activity.at,
                "comment": activity.comment,
            }
            for activity in plan.activities
        )
        answers.extend(
            {
                "deal_id": deal_id,
                "framework_id": answer.framework_id,
                "question_id": answer.question_id,
                "option_index": answer.option_index,
                "comment": None,
                "answered_by": plan.deal.manager_id,
                "at": answer.at,
            }
            for answer in plan.answers
        )
    await _insert_recorded_history(session)
    if activities:
        await session.execute(insert(ActivityRow).execution_options(render_nulls=True), activities)
    if answers:
        await session.execute(
            insert(QualificationAnswerRow).execution_options(render_nulls=True), answers
        )


async def _insert_recorded_history(session: AsyncSession) -> None:
    """Insert the stage-history rows `DealRepository.record` added to the session with one
    multi-row INSERT rather than the flush's one per row: the rows are taken out of the session
    as the repository built them and inserted column for column, in the order recorded."""
    recorded = [item for item in session.new if isinstance(item, StageTransitionRow)]
    if not recorded:
        return
    columns = [
        attribute.key
        for attribute in sa_inspect(StageTransitionRow).column_attrs
        if not attribute.columns[0].primary_key
    ]
    rows = [{key: getattr(item, key) for key in columns} for item in recorded]
    # Out of the session before the statement runs, or its autoflush would insert them too.
    for item in recorded:
        session.expunge(item)
    await session.execute(insert(StageTransitionRow).execution_options(render_nulls=True), rows)


# --- summary ---------------------------------------------------------------------------------


def _summarise(
    book: SalesBook,
    calendar: WorkingCalendar,
    seed: int,
    since: dt.datetime,
    until: dt.datetime,
    team: _Team,
    plans: Sequence[_Plan],
    contacts: int,
) -> DemoSummary:
    status = Counter(plan.deal.status for plan in plans)
    overdue = sum(
        plan.deal.is_overdue(calendar, book.pipeline(plan.deal.pipeline_id), until)
        for plan in plans
    )
    revenue = sum(
        (plan.deal.amount or Decimal(0) for plan in plans if plan.deal.status is DealStatus.WON),
        Decimal(0),
    )
    reasons = Counter(plan.deal.lost_reason_id for plan in plans if plan.deal.lost_reason_id)
    top = reasons.most_common(1)
    return DemoSummary(
        company=book.company,
        currency=book.currency,
        seed=seed,
        since=since,
        until=until,
        manager_ids=tuple(team.manager_ids),
        manager_names=tuple(team.manager_names),
        supervisor_ids=tuple(team.supervisor_ids),
        pipelines=len(book.pipelines),
        contacts=contacts,
        deals=len(plans),
        open=status[DealStatus.OPEN],
        overdue=overdue,
        won=status[DealStatus.WON],
        lost=status[DealStatus.LOST],
        revenue=revenue,
        transitions=sum(len(plan.transitions) for plan in plans),
        activities=sum(len(plan.activities) for plan in plans),
        qualification_answers=sum(len(plan.answers) for plan in plans),
        top_lost_reason=book.lost_reason(top[0][0]).name if top else None,
        top_lost_count=top[0][1] if top else 0,
        fingerprint=_fingerprint(team, plans),
    )


def _fingerprint(team: _Team, plans: Sequence[_Plan]) -> str:
    digest = hashlib.sha256()
    for member in team.members:
        digest.update(f"{member.telegram_id}|{member.role}|{member.first_name}\n".encode())
    for plan in plans:
        deal = plan.deal
        digest.update(
            f"{deal.pipeline_id}|{deal.stage_id}|{deal.status}|{deal.manager_id}|"
            f"{plan.contact_index}|{deal.source}|{deal.need}|{deal.amount}|{deal.lost_reason_id}|"
            f"{deal.close_comment}|{deal.qualification_level}|{deal.qualification_points}|"
            f"{deal.created_at.isoformat()}|{deal.stage_entered_at.isoformat()}|"
            f"{deal.closed_at.isoformat() if deal.closed_at else None}\n".encode()
        )
        if plan.new_contact:
            card = plan.new_contact
            digest.update(f"{card.name}|{card.phone}|{card.company}|{card.at}\n".encode())
        for transition in plan.transitions:
            digest.update(
                f"{transition.kind}|{transition.from_stage}|{transition.to_stage}|"
                f"{transition.actor_id}|{transition.at.isoformat()}|{transition.comment}\n".encode()
            )
        for activity in plan.activities:
            digest.update(
                f"{activity.kind}|{activity.at.isoformat()}|{activity.comment}\n".encode()
            )
        for answer in plan.answers:
            digest.update(f"{answer.question_id}|{answer.option_index}\n".encode())
    return digest.hexdigest()


def _number(value: int | Decimal) -> str:
    """Thousands grouped with spaces, the Russian way: 1 250 000."""
    text = f"{value:,.2f}" if isinstance(value, Decimal) and value % 1 else f"{value:,.0f}"
    return text.replace(",", " ")


def _plural(count: int, singular: str, plural: str | None = None) -> str:
    return f"{_number(count)} {singular if count == 1 else plural or singular + 's'}"


# --- command line ----------------------------------------------------------------------------


def _instant(text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO 8601 date and time: {text!r} (e.g. 2026-11-23T09:00:00+03:00)"
        ) from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} has no UTC offset; write it like 2026-11-23T09:00:00+03:00"
        )
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m services.demo_data",
        description="Fill the bot's database with realistic demo staff, contacts and deals.",
    )
    parser.add_argument("--managers", type=int, default=5, help="managers (default 5)")
    parser.add_argument("--supervisors", type=int, default=1, help="supervisors (default 1)")
    parser.add_argument("--deals", type=int, default=400, help="deals (default 400)")
    parser.add_argument(
        "--days", type=int, default=90, help="deals are spread over this many days (default 90)"
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument(
        "--now",
        type=_instant,
        default=None,
        help="the moment the data ends, with a UTC offset (default: the current time); "
        "the same seed and --now give the same data",
    )
    parser.add_argument(
        "--database-url", default=None, help="database URL (default: the bot's DATABASE_URL)"
    )
    parser.add_argument(
        "--sales-book", type=Path, default=None, help="sales book (default: the bot's SALES_BOOK)"
    )
    parser.add_argument(
        "--replace", action="store_true", help="delete earlier demo data first instead of failing"
    )
    parser.add_argument(
        "--batch-size", type=int, default=DEFAULT_BATCH_SIZE, help=argparse.SUPPRESS
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    database_url: str | None = args.database_url
    book_path: Path | None = args.sales_book
    if database_url is None or book_path is None:
        try:
            settings = Settings()
        except ValidationError as error:
            print(f"The bot's settings are not valid:\n{error}", file=sys.stderr)
            return 2
        database_url = database_url or settings.database_url
        book_path = book_path or settings.sales_book
    try:
        book = parse_sales_book(book_path.read_text(encoding="utf-8"), source=str(book_path))
    except (OSError, SalesBookError) as error:
        print(f"Cannot read the sales book:\n{error}", file=sys.stderr)
        return 2
    now: dt.datetime = args.now or dt.datetime.now(dt.UTC).replace(microsecond=0)
    started = time.perf_counter()
    try:
        summary = asyncio.run(
            _run(
                database_url,
                book,
                managers=args.managers,
                supervisors=args.supervisors,
                deals=args.deals,
                days=args.days,
                seed=args.seed,
                now=now,
                replace=args.replace,
                batch_size=args.batch_size,
            )
        )
    except DemoDataError as error:
        print(f"No demo data generated: {error}", file=sys.stderr)
        return 1
    elapsed = time.perf_counter() - started
    shown_url = make_url(database_url).render_as_string(hide_password=True)
    print(f"{summary.describe()} Database: {shown_url}; took {elapsed:.1f} s.")
    return 0


async def _run(
    database_url: str,
    book: SalesBook,
    *,
    managers: int,
    supervisors: int,
    deals: int,
    days: int,
    seed: int,
    now: dt.datetime,
    replace: bool,
    batch_size: int,
) -> DemoSummary:
    engine = create_engine(database_url)
    try:
        await migrate(engine)
        return await generate_demo_data(
            create_session_factory(engine),
            book,
            managers=managers,
            supervisors=supervisors,
            deals=deals,
            days=days,
            seed=seed,
            now=now,
            replace=replace,
            batch_size=batch_size,
        )
    finally:
        await engine.dispose()


if __name__ == "__main__":
    raise SystemExit(main())
