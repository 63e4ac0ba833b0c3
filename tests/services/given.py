"""What a service test starts from: people on the team, a lead who filed a request."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from domain.clock import Clock
from domain.roles import Role
from domain.sales_book import SalesBook
from domain.staff import StaffMember
from domain.working_time import WorkingCalendar
from services.leads import RequestForm, Submission, record_consent, submit_request
from services.staff import Actor, Profile
from tests.services.fakes import FakeUnitOfWork

MONDAY_10 = dt.datetime(2026, 3, 2, 7, 0, tzinfo=dt.UTC)
"""10:00 in Moscow, the book's time zone: inside working hours."""
DAILY_LIMIT = 3

ANNA = Profile(user_id=501, first_name="Анна", username="anna", language_code="ru")
BORIS = Profile(user_id=502, first_name="Борис", username=None, language_code="ru")
VERA = Profile(user_id=503, first_name="Вера", username=None, language_code="en")


async def hire(
    uow: FakeUnitOfWork,
    clock: Clock,
    user_id: int,
    role: Role,
    name: str,
    *,
    serving: Sequence[str] = (),
) -> Actor:
    """Someone on the team (a manager serving `serving` pipelines)."""
    async with uow:
        await uow.staff.add(
            StaffMember(user_id, role, clock.now(), first_name=name, language_code="ru")
        )
        await uow.staff.set_pipelines(user_id, serving)
        await uow.commit()
    return Actor(user_id, role, name, None, "ru")


async def team(uow: FakeUnitOfWork, clock: Clock, book: SalesBook) -> tuple[Actor, Actor, Actor]:
    """Two managers serving every pipeline (Иван first in the round robin) and a supervisor."""
    every_pipeline = [pipeline.id for pipeline in book.pipelines]
    ivan = await hire(uow, clock, 10, Role.MANAGER, "Иван", serving=every_pipeline)
    petr = await hire(uow, clock, 20, Role.MANAGER, "Пётр", serving=every_pipeline)
    olga = await hire(uow, clock, 30, Role.SUPERVISOR, "Ольга")
    return ivan, petr, olga


def form(lead: Profile, need: str = "CRM на 10 человек") -> RequestForm:
    """The lead's request, typed: their name and a phone of their own."""
    phone = f"+7916{lead.user_id:07d}"
    return RequestForm(lead.first_name, phone, company="ООО Ромашка", need=need, product_id=None)


async def request_from(
    uow: FakeUnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    lead: Profile,
    request: RequestForm | None = None,
    *,
    consent: bool = True,
    daily_limit: int = DAILY_LIMIT,
) -> Submission:
    """The lead consents (unless told not to) and files a request from an ad."""
    if consent:
        await record_consent(uow, clock, book, lead)
    return await submit_request(
        uow, clock, book, calendar, lead, request or form(lead), "ads_vk", daily_limit
    )
