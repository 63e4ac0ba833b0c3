"""Qualifying a lead one answer at a time (services.qualification), on the in-memory unit of
work."""

from __future__ import annotations

import pytest

from domain.clock import FixedClock
from domain.errors import UnknownAnswerOption
from domain.qualification import QualificationLevel
from domain.sales_book import SalesBook
from domain.working_time import WorkingCalendar
from services.qualification import answer, current_step
from tests.services.fakes import FakeUnitOfWork
from tests.services.given import ANNA, request_from, team


def best(options_points: list[int]) -> int:
    return options_points.index(max(options_points))


async def test_the_last_answer_puts_the_level_on_the_deal_and_each_answer_is_kept_on_the_way(
    uow: FakeUnitOfWork, clock: FixedClock, book: SalesBook, calendar: WorkingCalendar
) -> None:
    ivan, _, _ = await team(uow, clock, book)
    deal_id = (await request_from(uow, clock, book, calendar, ANNA)).deal_id
    framework = book.framework_for(book.pipelines[0].id)
    *first_questions, last_question = framework.questions

    for question in first_questions:
        chosen = best([option.points for option in question.options])
        step = await answer(uow, clock, book, ivan, deal_id, question.id, chosen, "со слов клиента")
        unfinished = await uow.deals.get(deal_id)
        assert unfinished is not None and unfinished.qualification_level is None
    assert step.question == last_question
    resumed = await current_step(uow, book, ivan, deal_id)
    assert resumed.question == last_question
    assert resumed.result.answered == len(first_questions)

    chosen = best([option.points for option in last_question.options])
    done = await answer(uow, clock, book, ivan, deal_id, last_question.id, chosen)

    assert done.question is None and done.result.is_complete
    assert done.result.points == framework.max_points
    qualified = await uow.deals.get(deal_id)
    assert qualified is not None
    assert qualified.qualification_level is QualificationLevel.SQL
    assert qualified.qualification_points == framework.max_points
    kept = await uow.deals.qualification_answers(deal_id, framework.id)
    assert set(kept) == {question.id for question in framework.questions}
    first_answer = uow.deals.answers[deal_id, framework.id, first_questions[0].id]
    assert (first_answer.answered_by, first_answer.comment) == (ivan.user_id, "со слов клиента")


async def test_an_answer_no_question_offers_stores_nothing(
    uow: FakeUnitOfWork, clock: FixedClock, book: SalesBook, calendar: WorkingCalendar
) -> None:
    ivan, _, _ = await team(uow, clock, book)
    deal_id = (await request_from(uow, clock, book, calendar, ANNA)).deal_id
    question = book.framework_for(book.pipelines[0].id).questions[0]

    with pytest.raises(UnknownAnswerOption):
        await answer(uow, clock, book, ivan, deal_id, question.id, len(question.options))

    assert uow.deals.answers == {}
