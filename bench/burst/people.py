"""The people of the burst: who they are, and how each walks the form as a person does, sending
the next update only when the bot's answer to the previous one has arrived.

A step's latency runs from the moment the person's update is queued for getUpdates to the moment
the bot's answer for that step reaches the judge (`Call.at`, the fake server's clock, taken as
the request arrives). "The answer" is what the person needs to go on:

| step | the bot (run_bot.py) | the echo bot |
|---|---|---|
| start (`/start ads_vk`) | the message with the consent button | the echo |
| consent (button press) | the question "Как к вам обращаться?" (the spinner's answerCallbackQuery is timed apart) | answerCallbackQuery |
| name | "Ваш телефон…" | the echo |
| phone (typed, or a shared contact) | "Как называется ваша компания?…" | the echo |
| company (or "Пропустить") | "Что вас интересует?…" | the echo |
| need (a product button or free text) | "Заявка №N принята" | the echo |
"""  # noqa: E501

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from bench.burst.common import (
    ACCEPT,
    ASK_COMPANY,
    ASK_NAME,
    ASK_NEED,
    ASK_PHONE,
    CONFIRMED,
    CONSENT_ANSWERED,
    FIRST_LEAD_ID,
    SOURCE,
)
from bench.burst.judge import Judge
from bench.lead_path.people import COMPANIES, FREE_NEEDS, NAMES
from tests.fake_telegram import Call, UserRecord
from tests.fake_telegram.formatting import bot_command_entities

ECHO_PRODUCTS = ("Внедрение CRM под ключ", "Подписка на облачную CRM")
"""What the echo bot's people type for a product (the real bot's people tap its buttons)."""


Expect = Callable[[Call, Any], bool]


@dataclass(frozen=True, slots=True)
class Lead:
    user_id: int
    first_name: str
    name: str
    phone: str
    """As typed, "+7 916 123-45-67"; distinct per lead (one phone is one contact)."""
    shares_contact: bool
    company: str
    product: int | None
    """Which product button to tap (modulo the buttons shown); None: the need is typed."""
    free_need: str


def make_leads(rng: random.Random, number: int) -> list[Lead]:
    leads = []
    for index in range(number):
        first_name = rng.choice(NAMES)
        digits = f"{index:07d}"
        typed_need = rng.random() < 0.3
        leads.append(
            Lead(
                user_id=FIRST_LEAD_ID + index,
                first_name=first_name,
                name=f"{first_name} {rng.choice(('Иванова', 'Смирнов', 'Кузнецова', 'Попов'))}",
                phone=f"+7 916 {digits[:3]}-{digits[3:5]}-{digits[5:]}",
                shares_contact=rng.random() < 0.5,
                company=rng.choice(COMPANIES),
                product=None if typed_need else rng.randrange(100),
                free_need=rng.choice(FREE_NEEDS),
            )
        )
    return leads


class Stuck(Exception):
    """A person waited for an answer that did not come."""


@dataclass
class Timings:
    per_step: dict[str, list[float]] = field(default_factory=dict)
    """step -> latencies in seconds"""
    last_reply: float = 0.0
    """The judge's clock at the latest answer that ended a step."""

    def add(self, step: str, seconds: float, at: float) -> None:
        self.per_step.setdefault(step, []).append(seconds)
        self.last_reply = max(self.last_reply, at)


class Person:
    """One lead in a private chat with the bot."""

    def __init__(self, judge: Judge, lead: Lead, timings: Timings, timeout: float) -> None:
        self.judge = judge
        self.lead = lead
        self.timings = timings
        self.timeout = timeout
        self.updates = 0
        self.confirmations: list[tuple[int, float]] = []
        """(deal number, when) of every "Заявка №N принята" this person got, whenever."""
        self.last_text = ""
        self._expect: Expect | None = None
        self._answer: asyncio.Future[tuple[Call, Any]] | None = None
        self._pressed_at: float | None = None
        judge.add_user(UserRecord(id=lead.user_id, first_name=lead.first_name, language_code="ru"))
        judge.listen(lead.user_id, self._observe)

    def _observe(self, call: Call, result: Any) -> None:
        if call.method == "sendMessage":
            self.last_text = result.get("text", "")
            if found := CONFIRMED.search(self.last_text):
                self.confirmations.append((int(found.group(1)), call.at))
        elif call.method == "answerCallbackQuery" and self._pressed_at is not None:
            self.timings.add(CONSENT_ANSWERED, call.at - self._pressed_at, call.at)
            self._pressed_at = None
        answer = self._answer
        if answer is not None and not answer.done() and self._expect and self._expect(call, result):
            answer.set_result((call, result))

    async def step(self, name: str, act: Callable[[], object], expect: Expect) -> tuple[Call, Any]:
        """Do `act` (queue one update) and wait for the answer `expect` recognises: the call
        and its result (the message as sent, or True for answerCallbackQuery)."""
        loop = asyncio.get_running_loop()
        self._answer = loop.create_future()
        self._expect = expect
        queued = loop.time()
        act()
        self.updates += 1
        try:
            call, result = await asyncio.wait_for(self._answer, self.timeout)
        except TimeoutError:
            # Said without the lead, so the report can count the leads stuck alike.
            last = self.last_text.split("\n", 1)[0][:70]
            raise Stuck(
                f"leads with no answer to {name!r} in {self.timeout:g} s, the last message "
                f"they got: {last!r}"
            ) from None
        finally:
            self._expect = self._answer = None
        self.timings.add(name, call.at - queued, call.at)
        return call, result

    # What a person does (each queues exactly one update).

    def send(self, text: str) -> Callable[[], object]:
        fields: dict[str, Any] = {"text": text}
        if entities := bot_command_entities(text):
            fields["entities"] = entities
        return lambda: self.judge.user_message(self.lead.user_id, "text", **fields)

    def share_contact(self) -> Callable[[], object]:
        contact = {
            "phone_number": "".join(ch for ch in self.lead.phone if ch.isdigit()),
            "first_name": self.lead.first_name,
            "user_id": self.lead.user_id,
        }
        return lambda: self.judge.user_message(self.lead.user_id, "contact", contact=contact)

    def press(self, data: str, message_id: int) -> Callable[[], object]:
        def act() -> None:
            self._pressed_at = asyncio.get_running_loop().time()
            self.judge.callback_query(self.lead.user_id, data, message_id)

        return act


Walk = Callable[[Person], Coroutine[Any, Any, None]]


async def walk_form(person: Person) -> None:
    """The real bot's request form, as tests/e2e/scenario.leave_request walks it."""
    lead = person.lead
    _, policy = await person.step("start", person.send(f"/start {SOURCE}"), sent_button(ACCEPT))
    data = inline_button(policy, ACCEPT)
    await person.step("consent", person.press(data, policy["message_id"]), sent(ASK_NAME))
    await person.step("name", person.send(lead.name), sent(ASK_PHONE))
    phone = person.share_contact() if lead.shares_contact else person.send(lead.phone)
    await person.step("phone", phone, sent(ASK_COMPANY))
    question, _ = await person.step("company", person.send(lead.company), sent(ASK_NEED))
    # The product buttons of the reply keyboard, all rows but the last ("◀️ Назад").
    rows = question.params["reply_markup"]["keyboard"][:-1]
    products = [row[0]["text"] for row in rows]
    choice = products[lead.product % len(products)] if lead.product is not None else None
    await person.step("need", person.send(choice or lead.free_need), sent_confirmation)


async def walk_echo(person: Person) -> None:
    """The same six updates to the echo bot: five messages answered by their echo, and a press
    on the button of the first echo, answered by answerCallbackQuery."""
    lead = person.lead
    _, first = await person.step("start", person.send(f"/start {SOURCE}"), sent(SOURCE))
    await person.step("consent", person.press("consent", first["message_id"]), answered)
    await person.step("name", person.send(lead.name), sent(lead.name))
    if lead.shares_contact:
        digits = "".join(ch for ch in lead.phone if ch.isdigit())
        await person.step("phone", person.share_contact(), sent(digits))
    else:
        await person.step("phone", person.send(lead.phone), sent(lead.phone))
    await person.step("company", person.send(lead.company), sent(lead.company))
    need = ECHO_PRODUCTS[lead.product % 2] if lead.product is not None else lead.free_need
    await person.step("need", person.send(need), sent(need))


def sent(fragment: str) -> Expect:
    return lambda call, result: call.method == "sendMessage" and fragment in result["text"]


def sent_button(text: str) -> Expect:
    def expect(call: Call, result: Any) -> bool:
        return call.method == "sendMessage" and _has_button(result, text)

    return expect


def sent_confirmation(call: Call, result: Any) -> bool:
    return call.method == "sendMessage" and CONFIRMED.search(result["text"]) is not None


def answered(call: Call, result: Any) -> bool:
    return call.method == "answerCallbackQuery"


def _has_button(message: dict[str, Any], text: str) -> bool:
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return any(button.get("text") == text for row in rows for button in row)


def inline_button(message: dict[str, Any], text: str) -> str:
    for row in message.get("reply_markup", {}).get("inline_keyboard", []):
        for button in row:
            if button.get("text") == text and "callback_data" in button:
                return str(button["callback_data"])
    raise Stuck(f"no {text!r} button in {message.get('text', '')[:80]!r}")
