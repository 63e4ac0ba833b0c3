"""The Mini App's board (services.board): whose deals, search, overdue only, and the deal's
details, on the in-memory unit of work."""

from __future__ import annotations

import datetime as dt

import pytest

from domain.clock import FixedClock
from domain.errors import PermissionDenied
from domain.roles import Role
from domain.sales_book import SalesBook
from domain.working_time import WorkingCalendar
from services.board import Board, board, deal_details
from services.staff import Actor
from tests.services.fakes import FakeUnitOfWork
from tests.services.given import ANNA, BORIS, VERA, request_from, team


def shown(found: Board) -> set[int | None]:
    return {card.urgency.deal.id for card in found.cards}


async def test_the_board_shows_whose_deals_the_chat_would_and_finds_them(
    uow: FakeUnitOfWork, clock: FixedClock, book: SalesBook, calendar: WorkingCalendar
) -> None:
    ivan, petr, olga = await team(uow, clock, book)
    ids = [
        (await request_from(uow, clock, book, calendar, lead)).deal_id
        for lead in (ANNA, BORIS, VERA)
    ]
    deals = [deal for deal_id in ids if (deal := await uow.deals.get(deal_id)) is not None]
    pipeline_id = deals[0].pipeline_id
    owners = {deal.id: deal.manager_id for deal in deals}

    args = (uow, clock, book, calendar)
    mine = await board(*args, ivan, pipeline_id=pipeline_id, manager_id=petr.user_id)
    assert shown(mine) == {i for i, owner in owners.items() if owner == ivan.user_id}
    everyone = await board(*args, olga, pipeline_id=pipeline_id)
    assert shown(everyone) == set(ids)
    petrs = await board(*args, olga, pipeline_id=pipeline_id, manager_id=petr.user_id)
    assert shown(petrs) == {i for i, owner in owners.items() if owner == petr.user_id}

    by_phone = await board(*args, olga, pipeline_id=pipeline_id, search="000 05 02")
    assert shown(by_phone) == {ids[1]}
    by_name = await board(*args, olga, pipeline_id=pipeline_id, search="ВЕРА")
    assert shown(by_name) == {ids[2]}
    by_company = await board(*args, olga, pipeline_id=pipeline_id, search="ромашка")
    assert shown(by_company) == set(ids)

    assert shown(await board(*args, olga, pipeline_id=pipeline_id, overdue_only=True)) == set()
    clock.advance(dt.timedelta(days=30))
    late = await board(*args, olga, pipeline_id=pipeline_id, overdue_only=True)
    assert shown(late) == set(ids)


async def test_a_lead_has_no_board_and_the_details_follow_the_access_rule(
    uow: FakeUnitOfWork, clock: FixedClock, book: SalesBook, calendar: WorkingCalendar
) -> None:
    ivan, petr, olga = await team(uow, clock, book)
    deal_id = (await request_from(uow, clock, book, calendar, ANNA)).deal_id
    lead = Actor(ANNA.user_id, Role.LEAD, "Анна", None, "ru")
    pipeline_id = book.pipelines[0].id
    with pytest.raises(PermissionDenied):
        await board(uow, clock, book, calendar, lead, pipeline_id=pipeline_id)

    deal = await uow.deals.get(deal_id)
    assert deal is not None
    owner, other = (ivan, petr) if deal.manager_id == ivan.user_id else (petr, ivan)
    details = await deal_details(uow, clock, book, calendar, owner, deal_id)
    assert details.view.contact is not None and details.view.contact.name == "Анна"
    assert [step.to_stage for step in details.history] == [deal.stage_id]
    assert (await deal_details(uow, clock, book, calendar, olga, deal_id)).view.deal.id == deal_id
    with pytest.raises(PermissionDenied):
        await deal_details(uow, clock, book, calendar, other, deal_id)
