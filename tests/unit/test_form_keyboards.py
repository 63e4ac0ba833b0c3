"""The request form's keyboards are built once per question, language and sales book, and a
returning lead's own (their earlier answer on top) is never shared."""

from __future__ import annotations

from aiogram.types import ReplyKeyboardMarkup

from bot.lead_form import STEPS, _keyboard
from bot.telegram.i18n import create_i18n
from tests.unit.book_factory import book_data, make_book

NEED = [step.name for step in STEPS].index("need")


def labels(keyboard: ReplyKeyboardMarkup) -> list[list[str]]:
    return [[button.text for button in row] for row in keyboard.keyboard]


def test_a_question_keyboard_is_shared_within_a_book_and_a_language() -> None:
    i18n = create_i18n("ru")
    book = make_book()
    with i18n.context(), i18n.use_locale("ru"):
        first = _keyboard(book, NEED, None)
        assert _keyboard(book, NEED, None) is first
        assert labels(first) == [["CRM"], ["◀️ Назад"]]
        with i18n.use_locale("en"):
            assert labels(_keyboard(book, NEED, None)) == [["CRM"], ["◀️ Back"]]


def test_another_book_gets_its_own_products() -> None:
    i18n = create_i18n("ru")
    data = book_data()
    data["products"] = [{"id": "crm", "name": "CRM"}, {"id": "bi", "name": "BI"}]
    with i18n.context(), i18n.use_locale("ru"):
        assert labels(_keyboard(make_book(), NEED, None)) == [["CRM"], ["◀️ Назад"]]
        assert labels(_keyboard(make_book(data), NEED, None)) == [["CRM"], ["BI"], ["◀️ Назад"]]


def test_a_returning_leads_earlier_answer_stays_theirs() -> None:
    i18n = create_i18n("ru")
    book = make_book()
    with i18n.context(), i18n.use_locale("ru"):
        shared = _keyboard(book, 0, None)
        own = _keyboard(book, 0, "Анна")
        assert labels(own) == [["Анна"], ["◀️ Назад"]]
        assert labels(_keyboard(book, 0, None)) == [["◀️ Назад"]]
        assert _keyboard(book, 0, None) is shared
