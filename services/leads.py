"""The lead's path: consent, the request, duplicates, assignment, the chat relay, erasure."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from domain.assignment import pick_next_manager
from domain.clock import Clock
from domain.contact import Contact
from domain.deal import Deal, open_deal, with_deal_id
from domain.errors import PermissionDenied
from domain.first_response import first_response_deadline
from domain.reminders import (
    PlannedReminder,
    owe_card,
    owe_note,
    owe_reply,
    plan_first_response,
    plan_stage,
)
from domain.roles import Action, Role, require
from domain.sales_book import Pipeline, SalesBook
from domain.working_time import WorkingCalendar
from services.access import DealNotFound, load_deal
from services.first_response import client_answered
from services.staff import Actor, Profile
from services.unit_of_work import UnitOfWork

DAY = dt.timedelta(days=1)


class ConsentMissing(Exception):
    """A request without a recorded consent: nothing may be stored."""


class DailyLimitReached(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit


class DealUnavailable(LookupError):
    """The deal does not exist, or has no lead to talk to any more (erased)."""


@dataclass(frozen=True, slots=True)
class RequestForm:
    name: str
    phone: str
    """E.164."""
    company: str | None
    need: str
    product_id: str | None
    phone_verified: bool = False
    """Shared through Telegram's contact button (the sender's own card), not typed."""


@dataclass(frozen=True, slots=True)
class Submission:
    deal_id: int
    is_new_deal: bool
    manager_id: int | None
    promised_at: dt.datetime
    card: LeadCard | None = None
    """For a new deal: the card its manager (or the supervisors) will get."""
    manager_language: str | None = None
    reply: PlannedReminder | None = None
    """The lead's answer, owed with the request: `take_reply` it, then send it (or, if the bot
    dies first, a sweeper sends it)."""


@dataclass(frozen=True, slots=True)
class LeadCard:
    """What a manager needs to call the lead back."""

    deal_id: int
    name: str | None
    phone: str | None
    company: str | None
    username: str | None
    need: str | None
    source: str
    pipeline_id: str
    promised_at: dt.datetime | None
    manager_id: int | None
    taken_at: dt.datetime | None
    same_phone_as: SamePhone | None = None


@dataclass(frozen=True, slots=True)
class SamePhone:
    """Another client's deal with the phone this request typed."""

    deal_id: int
    name: str | None


@dataclass(frozen=True, slots=True)
class Channel:
    """Where a lead's message goes: the deal and its manager."""

    deal_id: int
    manager_id: int | None
    lead_name: str


async def record_consent(uow: UnitOfWork, clock: Clock, book: SalesBook, profile: Profile) -> None:
    """The first thing stored about a lead: who consented, when, to which policy text."""
    async with uow:
        contact = await uow.contacts.by_telegram_id(profile.user_id)
        known = contact is not None
        if contact is None:
            contact = Contact(telegram_id=profile.user_id, created_at=clock.now())
        contact.username = profile.username
        contact.language_code = profile.language_code
        contact.consent_at = clock.now()
        contact.consent_version = book.consent.version
        contact.erased_at = None
        if known:
            await uow.contacts.save(contact)
        else:
            await uow.contacts.add(contact)
        await uow.commit()


async def submit_request(
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    profile: Profile,
    form: RequestForm,
    source: str,
    daily_limit: int,
) -> Submission:
    """File a completed request. The same Telegram user or the same phone is one contact; an
    open deal of theirs takes the request instead of a clone; otherwise a new deal opens in the
    product's pipeline and goes round robin to its managers (or waits in the queue)."""
    now = clock.now()
    async with uow:
        contact, other_client = await _filing_contact(
            uow, profile.user_id, form.phone, form.phone_verified
        )
        contact.name = form.name
        contact.phone = form.phone
        # "Пропустить" is no answer, not "forget it": a company given before stays.
        contact.company = form.company or contact.company
        contact.username = profile.username
        await uow.contacts.save(contact)
        assert contact.id is not None

        open_deal_now, recent_requests = await uow.deals.open_deal_and_requests_since(
            contact.id, profile.user_id, now - DAY, any_chat=form.phone_verified
        )
        if open_deal_now is not None:
            assert open_deal_now.id is not None
            open_deal_now.lead_chat_id = profile.user_id
            await uow.deals.save(open_deal_now)
            uow.deals.log_message(
                open_deal_now.id, "in", profile.user_id, "request", form.need, now
            )
            promised_at = open_deal_now.first_response_due_at or first_response_deadline(
                calendar, book, now
            )
            # Answered already: the manager is on it, and a promised time would be in the past.
            key = "lead.attached" if open_deal_now.taken_at is None else "lead.attached_in_work"
            reply = _owe_reply(open_deal_now.id, now, key, form, promised_at)
            # Whoever has the deal learns what was added (and sees the contact as it now is).
            added = owe_card(open_deal_now.id, now, title="card.added_title", added=form.need)
            await uow.reminders.plan([reply, added], now)
            await uow.commit()
            return Submission(
                deal_id=open_deal_now.id,
                is_new_deal=False,
                manager_id=open_deal_now.manager_id,
                promised_at=promised_at,
                reply=reply,
            )

        if recent_requests >= daily_limit:
            raise DailyLimitReached(daily_limit)
        pipeline = _pipeline_for(book, form.product_id)
        deal, created = open_deal(
            pipeline, now, contact_id=contact.id, source=source, need=form.need
        )
        deal.lead_chat_id = profile.user_id
        same_phone = await _same_phone(uow, other_client)
        deal.same_phone_as = same_phone.deal_id if same_phone else None
        promised_at = deal.first_response_due_at = first_response_deadline(calendar, book, now)
        deal.manager_id, languages = await _next_manager(uow, pipeline.id)
        deal.refresh_deadline(calendar, pipeline)
        await uow.deals.add(deal)
        assert deal.id is not None
        uow.deals.record(with_deal_id(created, deal.id))
        pipeline_plan = plan_stage(deal, pipeline, calendar, book.reminders)
        reply = _owe_reply(deal.id, now, "lead.confirmed", form, promised_at)
        owed = [*pipeline_plan, *plan_first_response(deal), reply, owe_card(deal.id, now)]
        await uow.reminders.plan(owed, now)
        await uow.commit()
        return Submission(
            deal_id=deal.id,
            is_new_deal=True,
            manager_id=deal.manager_id,
            promised_at=promised_at,
            card=_card(deal, contact, same_phone),
            manager_language=languages.get(deal.manager_id) if deal.manager_id else None,
            reply=reply,
        )


def _owe_reply(
    deal_id: int, now: dt.datetime, key: str, form: RequestForm, promised_at: dt.datetime
) -> PlannedReminder:
    return owe_reply(
        deal_id, now, key, {"name": form.name, "deal_id": deal_id}, promised_at=promised_at
    )


async def take_reply(uow: UnitOfWork, clock: Clock, key: str) -> bool:
    """The bot that filed the request answers the lead itself: True if the owed answer is
    still its to send (False: it took too long and a sweeper sends it)."""
    async with uow:
        taken = await uow.reminders.take(key, clock.now())
        await uow.commit()
    return taken


async def pass_deal_on(uow: UnitOfWork, clock: Clock, deal_id: int, manager_id: int) -> None:
    """The deal's manager blocked the bot before its card reached them: the deal goes to the
    next manager in the round robin, whose card is owed now (with nobody left, the supervisors
    get it as a queued deal). The caller has marked the manager unreachable and commits."""
    async with uow:
        deal = await uow.deals.get(deal_id)
        if deal is None or deal.id is None or deal.manager_id != manager_id:
            return
        deal.manager_id, _ = await _next_manager(uow, deal.pipeline_id)
        await uow.deals.save(deal)
        await uow.reminders.plan([owe_card(deal.id, clock.now())], clock.now())


async def lead_card(uow: UnitOfWork, deal_id: int) -> LeadCard:
    async with uow:
        deal = await uow.deals.get(deal_id)
        if deal is None:
            raise DealUnavailable(deal_id)
        contact = await uow.contacts.get(deal.contact_id) if deal.contact_id else None
        same_phone = None
        if deal.same_phone_as is not None:
            other = await uow.deals.get(deal.same_phone_as)
            if other is not None and other.contact_id is not None:
                same_phone = await _same_phone(uow, await uow.contacts.get(other.contact_id))
        return _card(deal, contact, same_phone)


def _card(deal: Deal, contact: Contact | None, same_phone: SamePhone | None = None) -> LeadCard:
    assert deal.id is not None
    return LeadCard(
        deal_id=deal.id,
        name=contact.name if contact else None,
        phone=contact.phone if contact else None,
        company=contact.company if contact else None,
        username=contact.username if contact else None,
        need=deal.need,
        source=deal.source or "unknown",
        pipeline_id=deal.pipeline_id,
        promised_at=deal.first_response_due_at,
        manager_id=deal.manager_id,
        taken_at=deal.taken_at,
        same_phone_as=same_phone,
    )


async def supervisors(uow: UnitOfWork) -> list[tuple[int, str | None]]:
    """Who hears about unassigned leads: supervisors, or the admins where there are none."""
    async with uow:
        members = await uow.staff.active_with_role(Role.SUPERVISOR)
        if not members:
            members = await uow.staff.active_with_role(Role.ADMIN)
        return [(m.telegram_id, m.language_code) for m in members if m.is_reachable]


async def take_deal(uow: UnitOfWork, clock: Clock, actor: Actor, deal_id: int) -> Deal:
    """A manager takes a new deal: theirs, or an unassigned one from the queue. The first
    response clock stops at the first take."""
    async with uow:
        deal = await uow.deals.get(deal_id)
        if deal is None:
            raise DealUnavailable(deal_id)
        if deal.manager_id is None:
            require(actor.role, Action.CLAIM_LEAD)
            deal.manager_id = actor.user_id
        elif deal.manager_id != actor.user_id:
            raise PermissionDenied(Action.UPDATE_ANY_DEAL, actor.role)
        if await client_answered(uow, deal, clock.now()):
            assert deal.taken_at is not None
            if deal.lead_chat_id is not None:
                taken = owe_note(
                    deal.taken_at,
                    "lead.taken",
                    {"deal_id": deal_id, "manager": actor.first_name},
                    to_client_of=deal_id,
                )
                await uow.reminders.plan([taken], deal.taken_at)
        await uow.deals.save(deal)
        await uow.commit()
        return deal


async def lead_channel(uow: UnitOfWork, user_id: int) -> Channel | None:
    """The deal a lead's chat message belongs to: their newest open deal, else the newest one;
    its manager, unless deactivated (no longer sees clients) or unreachable (blocked the bot):
    then nobody (the supervisors hear the client until the deal is handed over)."""
    async with uow:
        contact = await uow.contacts.by_telegram_id(user_id)
        if contact is None or contact.consent_at is None:
            return None
        deal = await uow.deals.latest_in_chat(user_id)
        if deal is None or deal.id is None:
            return None
        manager_id = deal.manager_id
        if manager_id is not None:
            manager = await uow.staff.get(manager_id)
            if manager is None or not manager.receives_messages:
                manager_id = None
        return Channel(deal_id=deal.id, manager_id=manager_id, lead_name=contact.name or "")


async def log_message(
    uow: UnitOfWork,
    clock: Clock,
    deal_id: int,
    direction: str,
    author_id: int,
    kind: str,
    text: str | None,
    relay: tuple[int, int] | None = None,
) -> None:
    """Keep one relayed message on the deal's history (`relay`: where its copy landed)."""
    async with uow:
        uow.deals.log_message(deal_id, direction, author_id, kind, text, clock.now(), relay)
        await uow.commit()


async def writable_deal(uow: UnitOfWork, actor: Actor, deal_id: int) -> int:
    """The lead's chat of a deal this staff member may write to."""
    async with uow:
        try:
            deal = await load_deal(uow, actor, deal_id, write=True)
        except DealNotFound:
            raise DealUnavailable(deal_id) from None
        if deal.lead_chat_id is None:
            raise DealUnavailable(deal_id)
        return deal.lead_chat_id


async def deal_of_relayed_message(
    uow: UnitOfWork, actor: Actor, chat_id: int, message_id: int
) -> tuple[int, int] | None:
    """(deal id, lead chat) of a relayed message a staff member replies to, if they may."""
    async with uow:
        deal_id = await uow.deals.deal_of_relay(chat_id, message_id)
    if deal_id is None:
        return None
    return deal_id, await writable_deal(uow, actor, deal_id)


async def client_accounts(uow: UnitOfWork, user_id: int) -> list[int]:
    """The Telegram accounts of the client writing from `user_id`: theirs, and those of every
    card a manager merged with it (one person, as the manager confirmed)."""
    async with uow:
        contact = await uow.contacts.by_telegram_id(user_id)
        together = await uow.contacts.same_client(contact) if contact is not None else []
    accounts = [c.telegram_id for c in together if c.telegram_id is not None]
    return accounts if user_id in accounts else [user_id, *accounts]


async def erase_lead(uow: UnitOfWork, clock: Clock, user_id: int) -> list[tuple[int, int | None]]:
    """Forget a lead: name, phone, company, username and every message text, on their card and
    on every card merged with it (a merge made them one client: the person who asks to be
    forgotten is forgotten from all their accounts). The deals stay, anonymised, so the figures
    stay true. Returns (deal, manager) pairs to notify."""
    async with uow:
        contact = await uow.contacts.by_telegram_id(user_id)
        if contact is None or contact.id is None:
            return []
        together = await uow.contacts.same_client(contact)
        deals = await uow.deals.for_contacts_or_chat(
            [c.id for c in together if c.id is not None], user_id
        )
        for deal in deals:
            deal.need = None
            deal.lead_chat_id = None
            await uow.deals.save(deal)
        await uow.deals.erase_message_texts([d.id for d in deals if d.id is not None])
        for card in together:
            card.erase(clock.now())
            await uow.contacts.save(card)
        await uow.reminders.plan(
            [
                owe_note(
                    clock.now(), "erase.manager_notice", {"deal_id": deal.id}, to_staff=manager
                )
                for deal in deals
                if deal.id is not None and (manager := deal.manager_id) is not None
            ],
            clock.now(),
        )
        await uow.commit()
        return [(deal.id, deal.manager_id) for deal in deals if deal.id is not None]


async def _filing_contact(
    uow: UnitOfWork, user_id: int, phone: str, verified: bool
) -> tuple[Contact, Contact | None]:
    """The contact a request is filed under, and another client known by the same phone.

    Only a phone Telegram verified (the sender's own contact card) merges two people into one:
    the client known by that phone now writes from this account. A typed phone is a claim: the
    request stays this person's own, and the other client is returned for the manager to see."""
    contact, same_phone = await uow.contacts.by_telegram_id_and_phone(user_id, phone)
    if contact is None or contact.consent_at is None:
        raise ConsentMissing(user_id)
    if contact.merged_into_id is not None:
        # A manager confirmed this account is that client: file there.
        merged = same_phone if same_phone and same_phone.id == contact.merged_into_id else None
        merged = merged or await uow.contacts.get(contact.merged_into_id)
        if merged is not None:
            return merged, None
    if same_phone is None or same_phone.id == contact.id:
        return contact, None
    if contact.id is None or not verified or await uow.deals.for_contact(contact.id):
        # A typed phone, or two histories: keep them apart rather than guess.
        return contact, same_phone
    # The person we already know by this phone, proven to write from this Telegram account:
    # one contact, carrying this account and this consent.
    consent_at, consent_version = contact.consent_at, contact.consent_version
    await uow.contacts.remove(contact)
    same_phone.telegram_id = user_id
    same_phone.consent_at, same_phone.consent_version = consent_at, consent_version
    same_phone.erased_at = None
    await uow.contacts.save(same_phone)
    return same_phone, None


async def _same_phone(uow: UnitOfWork, other_client: Contact | None) -> SamePhone | None:
    """The other client's latest deal, for the manager's "the same phone as №N (name)"."""
    if other_client is None or other_client.id is None:
        return None
    deal = await uow.deals.latest_for_contact(other_client.id)
    if deal is None or deal.id is None:
        return None
    return SamePhone(deal.id, other_client.name)


def _pipeline_for(book: SalesBook, product_id: str | None) -> Pipeline:
    for pipeline in book.pipelines:
        if pipeline.product == product_id:
            return pipeline
    return book.pipelines[0]


async def _next_manager(
    uow: UnitOfWork, pipeline_id: str
) -> tuple[int | None, dict[int, str | None]]:
    """The round robin's next manager of the pipeline (None: nobody to take it), remembered
    when the cursor moves; with the candidates' languages, for writing to the one chosen."""
    languages, last = await uow.staff.round_robin_candidates(pipeline_id)
    chosen = pick_next_manager(list(languages), last)
    if chosen is not None and chosen != last:
        await uow.staff.remember_round_robin(pipeline_id, chosen)
    return chosen, languages
