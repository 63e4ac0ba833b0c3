"""/training: a new colleague walks the real screens on a sandbox deal of their own: open it,
qualify it, use a script, move it a stage, set a reminder, close it. Progress is read from what
the sandbox deal has been through, so it is kept by itself; the sandbox deal is seen by its
trainee only and counted by no list, report or reminder (`Deal.is_sandbox`)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from domain.clock import Clock
from domain.contact import Contact
from domain.deal import TransitionKind, open_deal, with_deal_id
from domain.roles import Action, require
from domain.sales_book import SalesBook
from domain.training import Training
from domain.working_time import WorkingCalendar
from services.staff import Actor
from services.unit_of_work import UnitOfWork

STEPS = ("open", "qualify", "script", "move", "remind", "close")
"""The walk, in order: each a real screen of the bot."""


@dataclass(frozen=True, slots=True)
class TrainingStatus:
    deal_id: int | None
    done: dict[str, bool]
    started_at: dt.datetime
    completed_at: dt.datetime | None

    @property
    def next_step(self) -> str | None:
        return next((step for step in STEPS if not self.done[step]), None)

    @property
    def steps_done(self) -> int:
        return sum(self.done.values())


async def start_training(
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    actor: Actor,
    *,
    client_name: str,
    client_company: str,
    need: str,
) -> TrainingStatus:
    """A fresh sandbox deal for this person (a finished or abandoned walk starts over)."""
    require(actor.role, Action.VIEW_OWN_DEALS)
    now = clock.now()
    pipeline = book.pipelines[0]
    async with uow:
        contact = await uow.contacts.add(
            Contact(name=client_name, company=client_company, created_at=now)
        )
        deal, created = open_deal(
            pipeline,
            now,
            actor_id=actor.user_id,
            manager_id=actor.user_id,
            contact_id=contact.id,
            source="training",
            need=need,
        )
        deal.is_sandbox = True
        deal.taken_at = now  # nobody waits for a first response from a sandbox client
        deal.refresh_deadline(calendar, pipeline)
        await uow.deals.add(deal)
        assert deal.id is not None
        uow.deals.record(with_deal_id(created, deal.id))
        await uow.trainings.start(actor.user_id, deal.id, now)
        await uow.commit()
    status = await training_status(uow, clock, actor.user_id)
    assert status is not None
    return status


async def training_status(uow: UnitOfWork, clock: Clock, staff_id: int) -> TrainingStatus | None:
    """Where this person's walk stands (None: never started); the walk's last step marks it
    completed."""
    async with uow:
        training = await uow.trainings.get(staff_id)
        if training is None:
            return None
        status = await _status(uow, training)
        if status.next_step is None and training.completed_at is None:
            training = dataclasses.replace(training, completed_at=clock.now())
            await uow.trainings.save(training)
            await uow.commit()
            status = await _status(uow, training)
    return status


async def deal_opened(uow: UnitOfWork, clock: Clock, staff_id: int, deal_id: int) -> None:
    """The trainee opened their sandbox deal's card: the walk's first step."""
    async with uow:
        training = await uow.trainings.get(staff_id)
        if training is not None and training.deal_id == deal_id and training.opened_at is None:
            await uow.trainings.save(dataclasses.replace(training, opened_at=clock.now()))
            await uow.commit()


async def team_training(
    uow: UnitOfWork, clock: Clock, staff_ids: Sequence[int]
) -> dict[int, TrainingStatus]:
    """Each given person's walk, for the supervisor's /team."""
    statuses = {}
    for staff_id in staff_ids:
        status = await training_status(uow, clock, staff_id)
        if status is not None:
            statuses[staff_id] = status
    return statuses


async def _status(uow: UnitOfWork, training: Training) -> TrainingStatus:
    done = dict.fromkeys(STEPS, False)
    deal_id = training.deal_id
    deal = await uow.deals.get(deal_id) if deal_id is not None else None
    if deal is not None and deal_id is not None:
        moves = await uow.deals.history(deal_id)
        done["open"] = training.opened_at is not None
        done["qualify"] = deal.qualification_level is not None
        done["script"] = await uow.script_uses.used_on(deal_id)
        done["move"] = any(move.kind is TransitionKind.FORWARD for move in moves)
        done["remind"] = await uow.reminders.has_personal(deal_id)
        done["close"] = not deal.is_open
    if training.completed_at is not None:
        done = dict.fromkeys(STEPS, True)
    return TrainingStatus(deal_id, done, training.started_at, training.completed_at)
