"""One run: a fresh judge, a fresh bot process (and database), the setup, the timed burst, the
cards, and every check of what the run left behind."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import math
import random
import tempfile
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench.burst.common import (
    ADMIN_ID,
    CARD,
    FIRST_MANAGER_ID,
    INVITE_LINK,
    BenchError,
)
from bench.burst.database import deals_by_lead, deals_per_manager, fresh_database
from bench.burst.fleet import Deployment, Fleet
from bench.burst.judge import TOKEN, CpuMeter, Judge
from bench.burst.people import Person, Stuck, Timings, Walk, make_leads, walk_echo, walk_form
from bench.burst.processes import ConsoleVerdict, Profiler, judge_console
from tests.e2e.nginx_cluster import busiest_second
from tests.fake_telegram import Call, FakeUser, ScenarioError

STARTUP_TIMEOUT = 60.0

SEND_METHODS = ("send", "copy", "forward")


CARD_PACE = 29.0
"""Messages a second the bot's paced sender allows overall (bot/sender.py, `Pace`); each
manager's chat gets one a second."""


@dataclass(frozen=True)
class RunSettings:
    bot: str
    leads: int
    database: str
    postgres_url: str
    managers: int
    seed: int
    step_timeout: float
    card_timeout: float | None
    profile: Path | None = None
    console_log: Path | None = None
    deployment: Deployment = field(default_factory=Deployment)


@dataclass
class Cards:
    """The new-request cards the managers got: deal number -> when each copy arrived."""

    arrived: dict[int, list[float]] = field(default_factory=dict)

    def observe(self, call: Call, result: object) -> None:
        if call.method != "sendMessage" or not isinstance(result, dict):
            return
        if found := CARD.search(result.get("text", "")):
            self.arrived.setdefault(int(found.group(1)), []).append(call.at)


@dataclass
class RunResult:
    bot: str
    database: str | None
    leads: int
    managers: int
    updates: int
    seconds: float
    updates_per_s: float
    latencies: dict[str, list[float]]
    """step -> every latency of the step, in seconds"""
    peak_rss_kib: int | None
    bot_cpu: float
    judge_cpu: float
    completed: int
    """Leads who got every answer they waited for."""
    confirmed_once: int | None = None
    deals_one_each: int | None = None
    cards_delivered: int | None = None
    deals_per_manager: list[int] = field(default_factory=list)
    """How many deals the round robin gave each manager (queued deals not counted)."""
    cards_after_last_reply: float | None = None
    """Seconds from the last answer of the burst to the last card."""
    card_latency: list[float] = field(default_factory=list)
    """Per card: seconds from the lead's confirmation to the card."""
    confirmed_deals: dict[int, list[int]] = field(default_factory=dict)
    """Lead -> the deal numbers the bot confirmed to them."""
    errors: Counter[str] = field(default_factory=Counter)
    console: ConsoleVerdict | None = None
    busiest_second: int = 0
    """Most messages Telegram accepted within one second (its limit is about 30)."""
    deployment: Deployment = field(default_factory=Deployment)


async def run_once(settings: RunSettings) -> RunResult:
    with tempfile.TemporaryDirectory(prefix="salesbot-burst-") as tmp:
        workdir = Path(tmp)
        async with (
            _database(settings, workdir) as url,
            _judge() as judge,
        ):
            environment = {
                "BOT_TOKEN": TOKEN,
                "TELEGRAM_API_URL": judge.base_url,
                "LOG_LEVEL": "WARNING",
            }
            if url is not None:
                environment.update(DATABASE_URL=url, ADMIN_IDS=str(ADMIN_ID))
            fleet = await Fleet.start(
                settings.bot, settings.deployment, workdir, judge, environment
            )
            try:
                result = await _drive(settings, judge, fleet, url)
            finally:
                status, lines = await fleet.stop()
            result.busiest_second = busiest_second(
                [
                    call.at
                    for call in judge.calls
                    if call.ok and call.method.startswith(SEND_METHODS)
                ]
            )
            result.console = console = judge_console(lines)
            result.errors.update(f"the bot's console: {line}" for line in console.logged.elements())
            if console.tracebacks and not console.logged:
                result.errors["tracebacks in the bot's console"] += console.tracebacks
            if settings.console_log:
                _keep_console(settings.console_log, settings, lines)
            if status != 0:
                result.errors[f"the bot exited with status {status}"] += 1
            result.errors.update(judge.client_errors())
            result.errors.update(f"[fake Telegram bug] {bug}" for bug in judge.internal_errors)
            if url is not None:
                _check_deals(result, await deals_by_lead(url))
        return result


def _keep_console(path: Path, settings: RunSettings, lines: list[str]) -> None:
    database = f", {settings.database}" if settings.bot == "lead" else ""
    with path.open("a", encoding="utf-8") as log:
        log.write(f"=== {settings.bot}{database}, {settings.leads} leads\n")
        log.writelines(f"{line}\n" for line in lines)


@asynccontextmanager
async def _database(settings: RunSettings, workdir: Path) -> AsyncIterator[str | None]:
    if settings.bot != "lead":
        yield None
        return
    async with fresh_database(settings.database, workdir, settings.postgres_url) as url:
        yield url


@asynccontextmanager
async def _judge() -> AsyncIterator[Judge]:
    judge = Judge()
    await judge.start()
    try:
        yield judge
    finally:
        await judge.stop()


async def _drive(settings: RunSettings, judge: Judge, fleet: Fleet, url: str | None) -> RunResult:
    """Setup, the burst, then (for the real bot) the cards; the bot is still running after."""
    cards = Cards()
    if settings.bot == "lead":
        for manager in await _enroll_managers(judge, settings.managers):
            judge.listen(manager.id, cards.observe)
    await judge.settle(quiet=0.5, timeout=STARTUP_TIMEOUT)
    timings = Timings()  # shared: the burst's latencies, step by step, and its last answer
    people = [
        Person(judge, lead, timings, settings.step_timeout)
        for lead in make_leads(random.Random(settings.seed), settings.leads)
    ]
    result = await _burst(settings, fleet, people, timings)
    if url is not None:
        assigned = await deals_per_manager(url)
        result.deals_per_manager = [
            assigned.get(FIRST_MANAGER_ID + i, 0) for i in range(settings.managers)
        ]
        if queued := assigned.get(None):
            result.errors["deals left unassigned (no manager to take them)"] += queued
        await _wait_cards(settings, judge, people, cards, result, timings.last_reply)
    result.peak_rss_kib = fleet.peak_rss_kib()
    return result


async def _burst(
    settings: RunSettings,
    fleet: Fleet,
    people: Sequence[Person],
    timings: Timings,
) -> RunResult:
    """Every person walks at once; timed from the first update queued to the last answer."""
    walk: Walk = walk_form if settings.bot == "lead" else walk_echo
    profile = settings.profile
    profiler = await Profiler.attach(fleet.pids[0], profile) if profile else None
    meter = CpuMeter(fleet.pids)
    gc.collect()
    gc.freeze()  # the judge's heap of setup objects is not scanned again during the burst
    meter.start()
    started = asyncio.get_running_loop().time()
    try:
        outcomes = await asyncio.gather(*(walk(p) for p in people), return_exceptions=True)
    finally:
        meter.stop()
        gc.unfreeze()
        if profiler:
            await profiler.detach()
    errors: Counter[str] = Counter()
    for outcome in outcomes:
        if isinstance(outcome, Stuck):
            errors[str(outcome)] += 1
        elif isinstance(outcome, BaseException):
            errors[f"a lead's walk failed: {outcome!r}"] += 1
    seconds = max(timings.last_reply - started, 1e-9)
    updates = sum(person.updates for person in people)
    return RunResult(
        bot=settings.bot,
        database=settings.database if settings.bot == "lead" else None,
        leads=settings.leads,
        managers=settings.managers if settings.bot == "lead" else 0,
        updates=updates,
        seconds=seconds,
        updates_per_s=updates / seconds,
        latencies=timings.per_step,
        peak_rss_kib=None,
        bot_cpu=meter.bot_share,
        judge_cpu=meter.judge_share,
        completed=sum(outcome is None for outcome in outcomes),
        errors=errors,
        deployment=settings.deployment,
    )


async def _enroll_managers(judge: Judge, number: int) -> list[FakeUser]:
    """The admin (from ADMIN_IDS) invites each manager through /invite, and each follows the
    link, as tests/e2e/scenario.join_team does: the cards of new requests have someone to go to
    (the round robin spreads them over every manager)."""
    admin = judge.user("Ольга", user_id=ADMIN_ID, username="olga_admin")
    await admin.send("/start")
    await admin.wait_message(contains="администратор", timeout=STARTUP_TIMEOUT)
    managers = []
    for index in range(number):
        await admin.send("/invite")
        await admin.press("Менеджер")
        await admin.wait_message(contains="Как зовут")
        await admin.send(f"Менеджер {index + 1}")
        created = await admin.wait_message(contains="Перешлите эту ссылку")
        found = INVITE_LINK.search(created.text)
        if found is None:
            raise BenchError(f"no invite link in {created.text!r}")
        manager = judge.user(f"Менеджер {index + 1}", user_id=FIRST_MANAGER_ID + index)
        await manager.send(f"/start {found.group(1)}")
        await manager.wait_message(contains="Добро пожаловать")
        managers.append(manager)
    return managers


async def _wait_cards(
    settings: RunSettings,
    judge: Judge,
    people: Sequence[Person],
    cards: Cards,
    result: RunResult,
    last_reply: float,
) -> None:
    """Cards go out through the outbox after the lead's answer, paced: one a second to each
    manager's chat and CARD_PACE a second overall."""
    confirmed = {deal: at for person in people for deal, at in person.confirmations}
    timeout = settings.card_timeout or _card_timeout(len(confirmed), result.deals_per_manager)
    with contextlib.suppress(ScenarioError):  # reported below, as cards missing
        await judge.wait_for(
            lambda: confirmed.keys() <= cards.arrived.keys() or None,
            timeout=timeout,
            what="every card",
        )
        # A card sent twice would come after the first copies: a quiet second to see it.
        await judge.settle(quiet=1.0, timeout=STARTUP_TIMEOUT)
    missing = confirmed.keys() - cards.arrived.keys()
    doubled = [deal for deal, copies in cards.arrived.items() if len(copies) > 1]
    strangers = cards.arrived.keys() - confirmed.keys()
    if missing:
        result.errors[f"cards not delivered within {timeout:.0f} s"] += len(missing)
    if doubled:
        result.errors["cards delivered twice"] += len(doubled)
    if strangers:
        result.errors["cards of requests nobody was told were accepted"] += len(strangers)
    delivered = confirmed.keys() & cards.arrived.keys()
    result.cards_delivered = len(delivered)
    result.card_latency = [cards.arrived[deal][0] - confirmed[deal] for deal in delivered]
    if delivered:
        result.cards_after_last_reply = max(cards.arrived[d][0] for d in delivered) - last_reply
    result.confirmed_deals = {
        person.lead.user_id: [deal for deal, _ in person.confirmations] for person in people
    }
    once = sum(len(person.confirmations) == 1 for person in people)
    result.confirmed_once = once
    if once != len(people):
        result.errors["leads not confirmed exactly once"] += len(people) - once


def _card_timeout(cards: int, per_manager: Sequence[int]) -> float:
    """Twice what the pace needs at least (the busiest manager's chat at one a second, all of
    them at CARD_PACE a second), and half a minute more."""
    floor = max(max(per_manager, default=0), math.ceil(cards / CARD_PACE))
    return 30.0 + 2 * floor


def _check_deals(result: RunResult, deals: dict[int, list[int]]) -> None:
    """One deal per lead, and it is the one the lead was told about."""
    leads = result.confirmed_deals.keys()
    one_each = sum(len(deals.get(lead, [])) == 1 for lead in leads)
    result.deals_one_each = one_each
    if one_each != len(leads):
        result.errors["leads without exactly one deal in the database"] += len(leads) - one_each
    untrue = sum(
        1 for lead, told in result.confirmed_deals.items() if told and told != deals.get(lead)
    )
    if untrue:
        result.errors["leads told a deal number the database does not hold for them"] += untrue
    strangers = sum(len(found) for lead, found in deals.items() if lead not in leads)
    if strangers:
        result.errors["deals of nobody in this run"] += strangers
