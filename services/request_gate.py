"""What `/start` needs to know about a person before the request form, read in one
transaction: their consent, the day's limit of new requests, what they told before, and a
request of theirs still open; and, for whatever else a lead writes, their consent alone."""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.clock import Clock
from domain.contact import Contact
from domain.sales_book import SalesBook
from services.leads import DAY
from services.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class RequestGate:
    """What `/start` needs to know about a person before the form: both in one transaction."""

    consented: bool
    """Consented to the current version of the policy."""
    may_file: bool
    """False once they filed the daily limit of new requests in the last 24 hours."""
    known: dict[str, str] = field(default_factory=dict)
    """What a returning lead told us before ("name", "company"), offered as one-tap answers."""
    open_deal_id: int | None = None
    """Their request still open: a new form adds to it."""


async def request_gate(
    uow: UnitOfWork, clock: Clock, book: SalesBook, user_id: int, daily_limit: int
) -> RequestGate:
    async with uow:
        contact = await uow.contacts.by_telegram_id(user_id)
        filed = await uow.deals.count_requests_since(user_id, clock.now() - DAY)
        consented = _consents(contact, book)
        # A newcomer (an ad's burst) has none: asked only of someone who consented before.
        latest = await uow.deals.latest_in_chat(user_id) if consented else None
    known = {"name": contact.name, "company": contact.company} if contact and consented else {}
    return RequestGate(
        consented=consented,
        may_file=filed < daily_limit,
        known={step: answer for step, answer in known.items() if answer},
        open_deal_id=latest.id if latest is not None and latest.is_open else None,
    )


async def has_consented(uow: UnitOfWork, book: SalesBook, user_id: int) -> bool:
    """Whether the person consented to the current version of the policy."""
    async with uow:
        return _consents(await uow.contacts.by_telegram_id(user_id), book)


def _consents(contact: Contact | None, book: SalesBook) -> bool:
    return contact is not None and contact.consent_version == book.consent.version
