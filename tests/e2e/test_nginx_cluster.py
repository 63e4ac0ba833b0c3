"""Three `run_bot.py` instances in webhook mode behind a real nginx, on PostgreSQL and Redis:
leads file requests at once, one instance is killed with `kill -9` in the middle, and
Telegram's retries (nginx's, first) reach the others. Then reminders and the morning digest
fall due, and the surviving instances' sweepers race for them.

`SALESBOT_CLUSTER_LEADS` sets how many leads (40 by default: about half a minute when the
kill cuts no flow short, longer while cut flows wait out `STEP_TIMEOUT`; the issue's figure is
500, `bench/burst --webhook` runs it) and `SALESBOT_CLUSTER_INSTANCES` how many instances (3; with
1 nothing is killed). The figures of the run are printed (`pytest -s`)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import re
import shutil
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Interval, literal, select, update
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from config.settings import Settings
from domain.reminders import Audience, ReminderKind, ReminderStatus, plan_digest
from services.reminders import LEASE
from storage.models import ContactRow, DealRow, ReminderRow
from storage.unit_of_work import UnitOfWork
from tests.db import POSTGRES_URL, fresh_database
from tests.e2e.conftest import ADMIN_ID, TOKEN
from tests.e2e.nginx_cluster import busiest_second, nginx_cluster
from tests.e2e.scenario import join_team
from tests.fake_telegram import FakeTelegram, FakeUser, ScenarioError, running_fake_telegram

REDIS_URL = os.environ.get("TEST_REDIS_URL", "")
LEADS = int(os.environ.get("SALESBOT_CLUSTER_LEADS", "40"))
INSTANCES = int(os.environ.get("SALESBOT_CLUSTER_INSTANCES", "3"))
MANAGERS = 6
"""Enough that the cards and reminders, one a second to each manager's chat, keep up."""
# A chat whose update the killed instance was handling stays locked (its lock in Redis,
# bot/telegram/chat_lock.py) until the lock's 10 s run out: its next update is answered late,
# not lost. And the shared budget answers ~15 steps a second, so a step may wait N/5 seconds in
# a big burst.
STEP_TIMEOUT = max(90.0, LEADS / 5)
MESSAGES = {"sendMessage", "sendPhoto", "sendDocument", "sendContact", "copyMessage"}
CARD = re.compile(r"Новая заявка №(\d+)")
CONFIRMED = re.compile(r"Заявка №(\d+) принята")
OVERDUE = re.compile(r"Просрочена сделка №(\d+)")
QUIET = 5.0
"""Longer than any pause of a working cluster: a sweep (1 s), a 429's retry_after (1 s)."""

# Skipped on a developer's machine without them; in CI (CI=true) it runs, and fails without them.
pytestmark = pytest.mark.skipif(
    not os.environ.get("CI")
    and (shutil.which("nginx") is None or not POSTGRES_URL or not REDIS_URL),
    reason="needs nginx, TEST_DATABASE_URL and TEST_REDIS_URL",
)


async def file_request(
    lead: FakeUser, n: int, latencies: list[float], last_step: dict[int, str]
) -> float | None:
    """The lead's six steps, each waiting for the bot's next question; None if a step got
    no answer (its update was in the killed instance's hands); when it ended otherwise.
    `last_step`: what the lead did last, by lead."""
    steps = [
        ("send", "/start ads_vk", "Согласен"),
        ("press", "✅ Согласен(на)", "Как к вам обращаться"),
        ("send", f"Клиент {n}", "Ваш телефон"),
        ("send", f"+7 916 {n // 10000 % 1000:03d}-{n // 100 % 100:02d}-{n % 100:02d}", "компания"),
        ("send", "Пропустить", "Что вас интересует"),
        ("send", "Внедрение CRM", "Спасибо"),
    ]
    for action, value, expect in steps:
        seen = len(lead.tg.messages_in(lead.id))
        started = time.perf_counter()
        last_step[lead.id] = value
        if action == "send":
            await lead.send(value)
        else:
            await lead.press(value)
        try:
            await lead.tg.wait_for(
                _answered(lead, seen, expect), timeout=STEP_TIMEOUT, what=f"{expect!r}"
            )
        except ScenarioError:
            return None
        latencies.append(time.perf_counter() - started)
    return time.perf_counter()


async def walk(tg: FakeTelegram, flows: list[asyncio.Task[float | None]]) -> list[float | None]:
    """Every flow to its end, or until the bots have gone quiet with some still waiting:
    nothing to deliver, nothing sent for `QUIET` seconds, so what a flow waits for will not
    come (and the test need not wait out `STEP_TIMEOUT` for each)."""
    everything = asyncio.create_task(_ended(flows))
    quiet = asyncio.create_task(_gone_quiet(tg))
    await asyncio.wait({everything, quiet}, return_when=asyncio.FIRST_COMPLETED)
    everything.cancel()
    quiet.cancel()
    for flow in flows:
        flow.cancel()
    ended = await asyncio.gather(*flows, return_exceptions=True)
    for outcome in ended:
        if isinstance(outcome, Exception):
            raise outcome
    return [end if isinstance(end, float) else None for end in ended]


async def _ended(flows: list[asyncio.Task[float | None]]) -> None:
    await asyncio.wait(flows)


async def _gone_quiet(tg: FakeTelegram) -> None:
    while True:
        with contextlib.suppress(ScenarioError):
            await tg.settle(quiet=QUIET, timeout=STEP_TIMEOUT)
            return


def _answered(lead: FakeUser, seen: int, expect: str) -> Callable[[], bool | None]:
    def probe() -> bool | None:
        later = lead.tg.messages_in(lead.id)[seen:]
        return any(expect in (message.text or "") for message in later) or None

    return probe


async def make_due(database_url: str) -> int:
    """What the clock reaching the deadlines would do, without a test clock in the product:
    the rows in `reminders` are the source of truth, so the manager's overdue reminder of every
    deal filed so far and the admin's digest of today become due now, and the sweepers of the
    running instances claim them (`FOR UPDATE SKIP LOCKED`) at their next tick. The digest is
    planned here as the daily job plans it (idempotent by its key): on a day off the book
    plans none. Returns how many rows became due."""
    now = dt.datetime.now(dt.UTC)
    today = now.astimezone(ZoneInfo(Settings.model_fields["timezone"].default)).date()
    engine = create_async_engine(database_url)
    try:
        uow = UnitOfWork(async_sessionmaker(engine, expire_on_commit=False))
        async with uow:
            await uow.reminders.plan([plan_digest(ADMIN_ID, today, now)], now)
            await uow.commit()
        async with engine.begin() as connection:
            made = await connection.execute(
                update(ReminderRow)
                .where(
                    ReminderRow.status == ReminderStatus.PENDING.value,
                    (
                        (ReminderRow.kind == ReminderKind.OVERDUE.value)
                        & (ReminderRow.audience == Audience.MANAGER.value)
                    )
                    | (
                        (ReminderRow.kind == ReminderKind.DIGEST.value)
                        & (ReminderRow.staff_id == ADMIN_ID)
                    ),
                )
                .values(due_at=now)
            )
            return made.rowcount
    finally:
        await engine.dispose()


async def leases_run_out(
    database_url: str, killed_at: dt.datetime, aged: list[int], cards_in_hand: set[int]
) -> None:
    """What five minutes after the kill would do to what the killed instance had claimed and
    not marked (cards, reminders): its lease runs out and a survivor's sweep claims it again.
    The killed instance is the one claimant that claims nothing after the kill, told once the
    others have shown themselves; its claims are moved back by the lease (`aged` counts them;
    `cards_in_hand` gets the deals of the cards among them) once a second, until cancelled."""
    engine = create_async_engine(database_url)
    try:
        while True:
            async with engine.begin() as connection:
                alive = set(
                    await connection.scalars(
                        select(ReminderRow.claimed_by)
                        .where(ReminderRow.claimed_at > killed_at)
                        .distinct()
                    )
                )
                if len(alive) == INSTANCES - 1:
                    moved = await connection.execute(
                        update(ReminderRow)
                        .where(
                            ReminderRow.status == ReminderStatus.CLAIMED.value,
                            ReminderRow.claimed_by.not_in(alive),
                            ReminderRow.claimed_at <= killed_at,
                            ReminderRow.claimed_at > killed_at - LEASE,  # not moved yet
                        )
                        .values(claimed_at=ReminderRow.claimed_at - literal(LEASE, Interval()))
                        .returning(ReminderRow.kind, ReminderRow.deal_id)
                    )
                    released = moved.all()
                    aged.append(len(released))
                    cards_in_hand.update(
                        deal for kind, deal in released if kind == ReminderKind.CARD.value and deal
                    )
            await asyncio.sleep(1.0)
    finally:
        await engine.dispose()


async def stored(
    database_url: str,
) -> tuple[dict[int, list[int]], dict[int, int], Counter[str]]:
    """Each lead's deals, each assigned deal's manager, and the overdue reminders by status."""
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            deals = (
                await connection.execute(
                    select(ContactRow.telegram_id, DealRow.id, DealRow.manager_id).join(
                        DealRow, DealRow.contact_id == ContactRow.id
                    )
                )
            ).all()
            statuses = await connection.scalars(
                select(ReminderRow.status).where(
                    ReminderRow.kind == ReminderKind.OVERDUE.value,
                    ReminderRow.audience == Audience.MANAGER.value,
                )
            )
            overdue = Counter(statuses)
    finally:
        await engine.dispose()
    per_lead: dict[int, list[int]] = {}
    for lead_id, deal_id, _ in deals:
        per_lead.setdefault(lead_id, []).append(deal_id)
    assigned = {deal_id: manager for _, deal_id, manager in deals if manager is not None}
    return per_lead, assigned, overdue


def sent_texts(tg: FakeTelegram, pattern: re.Pattern[str]) -> Counter[tuple[int, int]]:
    """(chat, deal number) of every message Telegram accepted whose text matches."""
    return Counter(
        (call.params["chat_id"], int(found.group(1)))
        for call in tg.calls_to("sendMessage")
        if call.ok and (found := pattern.search(call.params["text"]))
    )


async def test_three_instances_behind_nginx_survive_a_kill_9(tmp_path: Path) -> None:
    prefix = f"cluster-{uuid.uuid4().hex[:8]}"
    began = time.perf_counter()
    async with (
        fresh_database("postgresql", tmp_path) as database_url,
        running_fake_telegram(TOKEN, default_timeout=STEP_TIMEOUT, check_violations=False) as tg,
        # A sweep a second: the reminders made due are claimed within the test's patience.
        nginx_cluster(
            tg, tmp_path, database_url, REDIS_URL, prefix, INSTANCES, REMINDER_TICK_SECONDS="1"
        ) as cluster,
    ):
        ready = time.perf_counter()
        admin = tg.user("Ольга", user_id=ADMIN_ID)
        await admin.send("/start")
        await admin.wait_message(contains="Вы — администратор")
        managers = [
            await join_team(tg, admin, "Менеджер", f"Менеджер {n}") for n in range(MANAGERS)
        ]
        await tg.settle(timeout=STEP_TIMEOUT)
        leads = [tg.user(f"Клиент {n}") for n in range(LEADS)]
        lead_ids = {lead.id for lead in leads}
        # Telegram's 30 a second overall; one chat's replies are not held to its 1 a second.
        tg.enforce_flood_limits(per_second=30, per_chat_per_second=100)
        latencies: list[float] = []
        last_step: dict[int, str] = {}
        started = time.perf_counter()
        flows = [
            asyncio.create_task(file_request(lead, n, latencies, last_step))
            for n, lead in enumerate(leads)
        ]

        def confirmed() -> int:
            return sum(
                1 for lead in leads for m in tg.messages_in(lead.id) if "Спасибо" in (m.text or "")
            )

        await tg.wait_for(lambda: confirmed() >= LEADS // 2 or None, timeout=STEP_TIMEOUT * 5)
        in_hand = tg.webhook_in_flight  # only these can be cut short by the kill
        due = 0
        aged: list[int] = []
        cards_in_hand: set[int] = set()
        lease = asyncio.create_task(asyncio.sleep(0))
        if INSTANCES > 1:
            victim = cluster.instances[1].process
            victim.kill()  # kill -9, in the middle of the burst
            await victim.wait()
            lease = asyncio.create_task(
                leases_run_out(database_url, dt.datetime.now(dt.UTC), aged, cards_in_hand)
            )
            # While the burst goes on: the reminders of the deals filed so far, and the digest.
            due += await make_due(database_url)
        completed = await walk(tg, flows)
        # The burst: until the last flow the kill did not cut short had its answer.
        elapsed = max((end for end in completed if end is not None), default=started) - started
        await tg.settle(timeout=STEP_TIMEOUT)
        walked = time.perf_counter()
        due += await make_due(database_url)  # the deals filed after the kill
        updates = sum(1 for d in tg.deliveries if d.ok and d.chat_id in lead_ids)
        per_lead, manager_of, _ = await stored(database_url)

        def reminded() -> bool | None:
            overdue = sent_texts(tg, OVERDUE)
            digest = tg.calls_to("sendPhoto", chat_id=ADMIN_ID)
            done = all(overdue[(manager_of[deal], deal)] for deal in manager_of)
            return (done and any(call.ok for call in digest)) or None

        with contextlib.suppress(ScenarioError):  # what is missing is asserted below
            await tg.wait_for(reminded, timeout=STEP_TIMEOUT, what="the reminders and digest")
        # A reminder sent twice would come right after the first: a quiet moment to see it.
        await tg.settle(quiet=3.0, timeout=STEP_TIMEOUT)
        lease.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await lease
        _, _, overdue_rows = await stored(database_url)
        reminders_took = time.perf_counter() - walked

    told: dict[int, list[int]] = {}
    for (chat, deal), times in sent_texts(tg, CONFIRMED).items():
        told.setdefault(chat, []).extend([deal] * times)
    manager_ids = {manager.id for manager in managers}
    cards: Counter[int] = Counter()
    for (chat, deal), times in sent_texts(tg, CARD).items():
        if chat in manager_ids:
            cards[deal] += times
    overdue = sent_texts(tg, OVERDUE)
    digests = [call for call in tg.calls_to("sendPhoto", chat_id=ADMIN_ID) if call.ok]
    deals = {deal for filed in per_lead.values() for deal in filed}
    busiest = busiest_second([c.at for c in tg.calls if c.method in MESSAGES and c.ok])
    disturbed = [lead.id for lead, end in zip(leads, completed, strict=True) if end is None]
    stalls = [f"{lead_id} after {last_step[lead_id]!r}" for lead_id in disturbed]
    no_deal = [lead_id for lead_id in lead_ids if lead_id not in per_lead]
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1] if latencies else 0.0
    print(
        f"\n{LEADS} leads, {INSTANCES} instances behind nginx, one killed if several: "
        f"{updates} updates in {elapsed:.1f} s ({updates / elapsed:.0f}/s), reply p50 "
        f"{latencies[len(latencies) // 2] * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms; "
        f"{in_hand} updates in hand at the kill, {len(disturbed)} flows cut by it "
        f"({len(no_deal)} without a deal), {sum(aged)} of its claims released; "
        f"{len(deals)} deals, {len(told)} leads confirmed, "
        f"{len(cards)} cards, {due} reminder rows made due, {sum(overdue.values())} overdue "
        f"reminders sent, {len(digests)} digests; busiest second: {busiest} messages; "
        f"{tg.flood_429s} 429s; stalled: {stalls}; seconds: {ready - began:.0f} to start, "
        f"{started - ready:.0f} to join, {walked - started:.0f} for the flows, "
        f"{reminders_took:.0f} for the reminders, {time.perf_counter() - began:.0f} in all"
    )
    # A button press redelivered after the kill is answered late, as it would be by Telegram.
    late = "query is too old"
    assert [v for v in tg.violations if late not in v] == [], tg.violations
    assert not tg.internal_errors
    # Telegram's limit, kept by all instances together.
    assert tg.flood_429s == 0
    assert busiest <= 30
    # Whatever the kill did: each deal given to a manager, its card sent once.
    assert set(manager_of) == deals
    # Once each; a card the killed instance held may come twice: sent the moment it died, before
    # it could mark it sent, then sent again by a survivor when its lease ran out (the outbox
    # is at-least-once: a lost card is a lost lead, a second one is only noise).
    assert {
        deal: times for deal, times in cards.items() if deal not in cards_in_hand
    } == dict.fromkeys(deals - cards_in_hand, 1)
    assert all(cards[deal] in (1, 2) for deal in cards_in_hand), cards
    # Each reminder once across the instances, to the deal's manager; the digest once.
    assert overdue == Counter({(manager_of[deal], deal): 1 for deal in deals})
    assert overdue_rows == Counter({ReminderStatus.SENT.value: len(deals)})
    assert len(digests) == 1
    # Every lead: one deal, and told once that it was accepted, with its number.
    assert no_deal == [], stalls
    assert {lead_id: filed for lead_id, filed in per_lead.items() if len(filed) != 1} == {}
    assert {
        lead_id: told.get(lead_id) for lead_id in lead_ids if told.get(lead_id) != per_lead[lead_id]
    } == {}, stalls
