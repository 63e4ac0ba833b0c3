"""The first answer to a lead, whichever face gives it: the take, a message or the proposal
through the bot, a reply from the manager's own Telegram. The first one stops the
first-response clock and its reminders (the SLA the supervisors are told about and the digest
counts); the later ones are only messages."""

from __future__ import annotations

import datetime as dt

from domain.clock import Clock
from domain.deal import Deal
from domain.reminders import ReminderKind
from services.staff import Actor
from services.unit_of_work import UnitOfWork


async def answer_client(
    uow: UnitOfWork, clock: Clock, actor: Actor, deal_id: int, kind: str, text: str | None
) -> None:
    """A staff member's message reached the client through the bot: kept on the deal's history,
    and the first one answers the lead as a take would (the first-response clock stops)."""
    async with uow:
        now = clock.now()
        deal = await uow.deals.get(deal_id)
        if deal is not None:
            await client_answered(uow, deal, now)
        uow.deals.log_message(deal_id, "out", actor.user_id, kind, text, now)
        await uow.commit()


async def client_answered(uow: UnitOfWork, deal: Deal, now: dt.datetime) -> bool:
    """The one rule for every face (a take, the bot's relay, a proposal, the manager's own
    Telegram): the first answer to the client stops the first-response clock and its reminders.
    True if this was it."""
    if not deal.answer_client(now):
        return False
    assert deal.id is not None
    await uow.reminders.drop_pending(deal.id, [ReminderKind.FIRST_RESPONSE.value])
    await uow.deals.save(deal)
    return True
