"""The request form's questions: each one's keyboard and how its answer is read, and where a
lead's form stands (kept in their conversation, so a restart resumes it)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from aiogram.types import KeyboardButton, Message, ReplyKeyboardMarkup

from bot.telegram.i18n import locale_now, t, tp
from domain.lead import (
    COMPANY_MAX_LENGTH,
    NAME_MAX_LENGTH,
    NEED_MAX_LENGTH,
    InvalidPhone,
    normalize_phone,
)
from domain.sales_book import SalesBook


class FormInputError(Exception):
    def __init__(self, key: str, **values: Any) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


@dataclasses.dataclass(frozen=True)
class Step:
    """One question of the request form: its text, its keyboard and how to read the answer."""

    name: str
    keyboard: Callable[[SalesBook], list[list[KeyboardButton]]]
    read: Callable[[Message, SalesBook], Any]


def _text(message: Message, limit: int) -> str:
    text = (message.text or "").strip()
    if message.text is None:
        raise FormInputError("input.text_expected")
    if not text:
        raise FormInputError("form.empty")
    if len(text) > limit:
        raise FormInputError("input.too_long", limit=limit)
    return text


def _read_phone(message: Message, book: SalesBook) -> dict[str, str | bool]:
    """The phone, and whether Telegram vouches for it: only the sender's own contact card,
    shared through the button, is verified; a typed number is a claim."""
    if message.contact is not None:
        if message.contact.user_id != (message.from_user.id if message.from_user else None):
            raise FormInputError("form.phone.not_yours")
        raw, verified = message.contact.phone_number, True
    elif message.text is not None:
        raw, verified = message.text, False
    else:
        raise FormInputError("form.phone.invalid")
    try:
        return {"number": normalize_phone(raw), "verified": verified}
    except InvalidPhone:
        raise FormInputError("form.phone.invalid") from None


def _read_company(message: Message, book: SalesBook) -> str | None:
    if message.text == tp("form.skip"):
        return None
    return _text(message, COMPANY_MAX_LENGTH)


def _read_need(message: Message, book: SalesBook) -> dict[str, str | None]:
    for product in book.products:
        if message.text == product.name:
            return {"need": product.name, "product_id": product.id}
    return {"need": _text(message, NEED_MAX_LENGTH), "product_id": None}


def _back_row() -> list[KeyboardButton]:
    return [KeyboardButton(text=tp("form.back"))]


STEPS: tuple[Step, ...] = (
    Step("name", lambda book: [_back_row()], lambda m, book: _text(m, NAME_MAX_LENGTH)),
    Step(
        "phone",
        lambda book: [
            [KeyboardButton(text=tp("form.share_phone"), request_contact=True)],
            _back_row(),
        ],
        _read_phone,
    ),
    Step(
        "company",
        lambda book: [[KeyboardButton(text=tp("form.skip"))], _back_row()],
        _read_company,
    ),
    Step(
        "need",
        lambda book: [[KeyboardButton(text=p.name)] for p in book.products] + [_back_row()],
        _read_need,
    ),
)


@dataclasses.dataclass(frozen=True)
class FormState:
    """Where the form stands, as its conversation keeps it."""

    step: int
    answers: dict[str, Any]
    source: str
    asked_by: int
    """The update whose handling asked the current question: delivered again (webhook retries
    after a crash), it is answered with that question, not read as the answer to it."""
    known: dict[str, str] = dataclasses.field(default_factory=dict)
    """A returning lead's earlier answers by step ("name", "company"): a button each."""
    open_deal: int | None = None
    """Their request still open, which this form adds to: the first question says so, and
    going back from it leaves that request as it is."""

    def data(self) -> dict[str, Any]:
        # Not `dataclasses.asdict`, whose deep copy showed in every form step's profile: the
        # storage keeps a copy of its own of what it is given.
        return {
            "step": self.step,
            "answers": self.answers,
            "source": self.source,
            "asked_by": self.asked_by,
            "known": self.known,
            "open_deal": self.open_deal,
        }


async def ask_question(
    message: Message,
    book: SalesBook,
    step: int,
    known: dict[str, str] | None = None,
    open_deal: int | None = None,
) -> None:
    earlier = (known or {}).get(STEPS[step].name)
    keyboard = _keyboard(book, step, earlier)
    # Someone with a request in work who pressed /start may only have wanted to write.
    opening = (
        t("form.adds_to_request", deal_id=open_deal) + "\n\n" if open_deal and not step else ""
    )
    await message.answer(
        opening
        + t("form.progress", current=step + 1, total=len(STEPS))
        + "\n"
        + t(f"form.ask.{STEPS[step].name}"),
        reply_markup=keyboard,
    )


_SHARED_KEYBOARDS: dict[tuple[int, str], tuple[SalesBook, ReplyKeyboardMarkup]] = {}
"""Each question's keyboard per locale, built once: in an ad burst every lead gets the same four,
and building their pydantic models showed in every form step's profile. Kept with the book they
came from: another book (other products) builds them again."""


def _keyboard(book: SalesBook, step: int, earlier: str | None) -> ReplyKeyboardMarkup:
    if earlier:  # the answer last time, one tap away: this person's own keyboard
        return _form_keyboard([[KeyboardButton(text=earlier)], *STEPS[step].keyboard(book)])
    key = (step, locale_now())
    shared = _SHARED_KEYBOARDS.get(key)
    if shared is None or shared[0] is not book:
        shared = _SHARED_KEYBOARDS[key] = (book, _form_keyboard(STEPS[step].keyboard(book)))
    return shared[1]


def _form_keyboard(rows: list[list[KeyboardButton]]) -> ReplyKeyboardMarkup:
    # One tap each: the keyboard folds once tapped, so a quick double tap of "Пропустить"
    # cannot send a second "Пропустить" as the answer to the next question. Every question
    # comes with its own keyboard.
    return ReplyKeyboardMarkup(keyboard=rows, resize_keyboard=True, one_time_keyboard=True)
