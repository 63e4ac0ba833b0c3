"""`python run_bot.py` with WORKERS=2: one process polls, two handle the updates, and to the
people using it it is the same bot. Leads handled by either worker are answered and their cards
reach the manager once; a stop stops them all; a kill -9 of the poller takes the workers with it
and a restart goes on from where the people were; a worker killed is started again."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from tests.e2e.conftest import ADMIN_ID, TOKEN
from tests.e2e.scenario import join_team, leave_request
from tests.e2e.test_run_bot import (
    STARTUP_TIMEOUT,
    ConsoleOutput,
    bot_environment,
    closed_port,
    spawn_run_bot,
    start_bot,
    stopped_at_start,
)
from tests.fake_telegram import FakeTelegram, FakeUser
from tests.init_data import signed_init_data

ODD_LEAD, EVEN_LEAD = 5_001, 5_002
"""Leads whose updates go to the second and to the first worker (user id modulo 2)."""


@dataclass
class RunningBot:
    process: asyncio.subprocess.Process
    console: ConsoleOutput

    def workers(self) -> dict[int, int]:
        """Worker index -> pid, of the worker processes alive now."""
        found: dict[int, int] = {}
        for pid in _children(self.process.pid):
            arguments = _command_line(pid)
            if "bot.fanout.worker" in arguments and _alive(pid):
                found[int(arguments[arguments.index("bot.fanout.worker") + 1])] = pid
        return found

    async def stop(self) -> str:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(self.process.wait(), timeout=STARTUP_TIMEOUT)
        return await self.console.finish()


@asynccontextmanager
async def bot_with_workers(
    tg: FakeTelegram, tmp_path: Path, **settings: str
) -> AsyncIterator[RunningBot]:
    # The sweeps' ticks far apart: a card that arrives came with the change, not a tick.
    process = await start_bot(
        tmp_path, tg.base_url, WORKERS="2", REMINDER_TICK_SECONDS="600", **settings
    )
    bot = RunningBot(process, ConsoleOutput(process))
    try:
        await bot.console.wait_for("2 workers are up; polling")
        yield bot
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_two_workers_answer_every_lead_and_send_each_card_once(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    port = closed_port()
    web = f"http://127.0.0.1:{port}"
    app_url = "https://crm.example.test/app/"
    async with bot_with_workers(tg, tmp_path, WEB_PORT=str(port), WEB_APP_URL=app_url) as bot:
        assert sorted(bot.workers()) == [0, 1]
        manager = await _manager(tg)
        anna, boris = tg.user("Анна", user_id=ODD_LEAD), tg.user("Борис", user_id=EVEN_LEAD)
        await asyncio.gather(
            leave_request(anna, name="Анна Петрова"),
            leave_request(boris, name="Борис Иванов", phone="+7 916 765-43-21"),
        )
        # Анна's request was filed by the second worker; only the first sends the outbox, and
        # it was woken for her card (the next sweep is ten minutes away).
        card = await manager.wait_message(contains="Анна Петрова", timeout=10)
        await manager.wait_message(contains="Борис Иванов", timeout=10)
        await _the_first_serves_the_mini_app(web, manager, card.message_id, anna)
        await tg.settle()
        # /metrics counts both workers' updates: each lead's button press went to its own.
        pressed = await _metric(
            web, 'salesbot_updates_total{outcome="handled",type="callback_query"}'
        )
        assert pressed == len(tg.callback_queries) >= 3
        workers = bot.workers()
        log = await bot.stop()
    assert bot.process.returncode == 0, log
    sent = [call.params["text"] for call in tg.calls_to("sendMessage", chat_id=manager.id)]
    cards = [text for text in sent if "Новая заявка" in text]
    assert sum("Анна Петрова" in text for text in cards) == 1
    assert sum("Борис Иванов" in text for text in cards) == 1
    # Both workers handled updates, and a stop stopped them.
    assert "[worker 0]" in log and "[worker 1]" in log
    assert not any(_alive(pid) for pid in workers.values())
    assert "Traceback" not in log and TOKEN.split(":")[1] not in log


async def test_a_killed_poller_takes_its_workers_along_and_a_restart_goes_on(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    anna = tg.user("Анна", user_id=ODD_LEAD)
    async with bot_with_workers(tg, tmp_path) as bot:
        manager = await _manager(tg)
        await anna.send("/start site")
        await anna.press("✅ Согласен(на)")
        await anna.wait_message(contains="Как к вам обращаться")
        await anna.send("Анна Петрова")
        await anna.wait_message(contains="Ваш телефон")
        await tg.settle()
        workers = bot.workers()
        bot.process.kill()  # kill -9: no stop, no goodbye
        await bot.process.wait()
        # The workers read the closed line and stop on their own.
        await _until(lambda: not any(_alive(pid) for pid in workers.values()))
        first_log = await bot.console.finish()

    async with bot_with_workers(tg, tmp_path) as bot:
        await anna.send("+7 916 123-45-67")
        await anna.wait_message(contains="компания", timeout=10)
        await anna.send("ООО Ромашка")
        await anna.wait_message(contains="Что вас интересует")
        await anna.send("CRM")
        await anna.wait_message(contains="Спасибо")
        await manager.wait_message(contains="Анна Петрова", timeout=10)
        log = await bot.stop()
    assert bot.process.returncode == 0, log
    assert "Traceback" not in first_log + log


async def test_a_killed_worker_is_started_again_and_its_people_are_answered(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    anna = tg.user("Анна", user_id=ODD_LEAD)
    async with bot_with_workers(tg, tmp_path) as bot:
        manager = await _manager(tg)
        killed = bot.workers()[1]
        os.kill(killed, signal.SIGKILL)
        await bot.console.wait_for("worker 1 died")
        # Its start takes seconds (imports, the book, the database): what the lead sends
        # meanwhile waits for it, held by the poller.
        await anna.send("/start ads_vk")
        await bot.console.wait_for("worker 1 is up again")
        assert bot.workers().get(1) not in (None, killed)
        await anna.press("✅ Согласен(на)")  # the /start held meanwhile was answered
        await leave_request(anna, name="Анна Петрова", first_time=False)
        await manager.wait_message(contains="Анна Петрова", timeout=10)
        log = await bot.stop()
    assert bot.process.returncode == 0, log


async def test_workers_are_for_long_polling_only(tmp_path: Path) -> None:
    environment = bot_environment(
        tmp_path,
        BOT_TOKEN=TOKEN,
        WORKERS="2",
        WEBHOOK_URL="https://bot.example.test",
        WEBHOOK_SECRET="secret",
    )
    explanation, _ = await stopped_at_start(
        await spawn_run_bot(tmp_path, environment, stderr_apart=True)
    )
    assert "WORKERS" in explanation and "instances" in explanation


async def _metric(web: str, sample: str) -> float:
    """One sample of what the first worker's /metrics says (a line starting with `sample`)."""
    async with aiohttp.ClientSession() as session, session.get(f"{web}/metrics") as response:
        assert response.status == 200
        text = await response.text()
    [value] = [line.split()[-1] for line in text.splitlines() if line.startswith(sample + " ")]
    return float(value)


async def _the_first_serves_the_mini_app(
    web: str, manager: FakeUser, card_id: int, lead: FakeUser
) -> None:
    """/healthz and the board from the first worker, with the deal the second one filed (the
    lead's card `card_id`); a move made in the app, then the lead's message through the second
    worker reaches the manager."""
    await manager.press("✅ Взять в работу", message_id=card_id)
    init_data = signed_init_data(
        TOKEN, manager.id, dt.datetime.now(dt.UTC), first_name=manager.first_name
    )
    headers = {"Authorization": f"tma {init_data}"}
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{web}/healthz") as health:
            assert health.status == 200
        async with session.get(f"{web}/app/api/board", headers=headers) as answer:
            assert answer.status == 200
            board = await answer.json()
        cards = {card["client"]: card for stage in board["stages"] for card in stage["cards"]}
        deal = f"{web}/app/api/deals/{cards['Анна Петрова']['id']}"
        async with session.get(deal, headers=headers) as answer:
            criteria = (await answer.json())["stage"]["exit_criteria"]
        ticked = {"ticked": list(range(len(criteria)))}
        async with session.post(f"{deal}/next-stage", headers=headers, json=ticked) as moved:
            assert moved.status == 200, await moved.text()
    await lead.send("Когда позвоните?")
    await manager.wait_message(contains="Когда позвоните?", timeout=10)


async def _manager(tg: FakeTelegram) -> FakeUser:
    """Иван, invited by the admin (whose updates the first worker handles)."""
    return await join_team(tg, tg.user("Ольга", user_id=ADMIN_ID), "Менеджер", "Иван")


def _children(pid: int) -> list[int]:
    try:
        listed = Path(f"/proc/{pid}/task/{pid}/children").read_text("ascii")
    except OSError:
        return []
    return [int(child) for child in listed.split()]


def _command_line(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    except OSError:
        return []


def _alive(pid: int) -> bool:
    """Running (a zombie nobody reaped yet is not)."""
    try:
        status = Path(f"/proc/{pid}/stat").read_text("ascii")
    except OSError:
        return False
    return status.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


async def _until(condition: Callable[[], bool]) -> None:
    """Processes come and go with nothing to await: /proc is looked at again and again."""
    async with asyncio.timeout(STARTUP_TIMEOUT):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.05)
