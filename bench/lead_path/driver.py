"""Driving a dispatcher: feeding one update after another and timing each, per step.

`echo_lead` and `walk_lead_path` are what one person does with each bot; both check that the
bot answered as it should, so a run that measured a broken path fails instead.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.types import Update

from bench.lead_path.common import CONFIRMED, SOURCE, STEPS, BenchError
from bench.lead_path.fake_session import FakeSession
from bench.lead_path.people import Lead, Updates


@dataclass
class Timings:
    per_step: dict[str, list[int]] = field(default_factory=dict)
    wall_ns: int = 0

    @property
    def all(self) -> list[int]:
        return [ns for values in self.per_step.values() for ns in values]


class Driver:
    def __init__(self, dispatcher: Dispatcher, bot: Bot, session: FakeSession) -> None:
        self.dispatcher = dispatcher
        self.bot = bot
        self.session = session
        self.updates = Updates()
        self.timings = Timings()
        self.step = ""

    async def feed(self, step: str, raw: dict[str, Any]) -> None:
        self.step = step
        started = time.perf_counter_ns()
        update = Update.model_validate(raw, context={"bot": self.bot})
        await self.dispatcher.feed_update(self.bot, update)
        self.timings.per_step.setdefault(step, []).append(time.perf_counter_ns() - started)


LeadRunner = Callable[[Driver, Lead], Coroutine[Any, Any, None]]


async def echo_lead(driver: Driver, lead: Lead) -> None:
    for step, text in zip(STEPS, lead.texts(), strict=True):
        await driver.feed(step, driver.updates.text(lead, text))
        answer = driver.session.last_sent.get(lead.user_id)
        if answer is None or answer.get("text") != text:
            raise BenchError(f"the echo bot did not echo {text!r}")
    driver.session.forget(lead.user_id)


async def walk_lead_path(driver: Driver, lead: Lead) -> None:
    updates, session = driver.updates, driver.session
    await driver.feed("start", updates.text(lead, f"/start {SOURCE}"))
    policy = session.last_sent.get(lead.user_id)
    if policy is None:
        raise BenchError(f"no consent message for {lead.user_id}")
    await driver.feed("consent", updates.button(lead, policy, _accept_button(policy)))
    await driver.feed("name", updates.text(lead, lead.name))
    phone = updates.contact(lead) if lead.shares_contact else updates.text(lead, lead.phone)
    await driver.feed("phone", phone)
    await driver.feed("company", updates.text(lead, lead.company))
    await driver.feed("need", updates.text(lead, lead.need))
    confirmation = session.last_sent.get(lead.user_id, {}).get("text", "")
    if CONFIRMED not in confirmation:
        raise BenchError(f"lead {lead.user_id} got no confirmation, last: {confirmation!r}")
    # The manager's card is owed by a row committed with the request (the outbox) and sent
    # after the lead's answer, at Telegram's pace for one chat: `verify` counts the rows.
    session.forget(lead.user_id)


def _accept_button(message: dict[str, Any]) -> str:
    from bot.telegram.callbacks import Consent

    for row in message.get("reply_markup", {}).get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data")
            if data and data.startswith(Consent.__prefix__) and Consent.unpack(data).accept:
                return str(data)
    raise BenchError(f"no consent button in {message!r}")


async def drive(driver: Driver, leads: Sequence[Lead], run_lead: LeadRunner) -> Timings:
    driver.timings = Timings()
    started = time.perf_counter_ns()
    for lead in leads:
        await run_lead(driver, lead)
    driver.timings.wall_ns = time.perf_counter_ns() - started
    return driver.timings
