"""The sweeper: every tick (APScheduler's only job besides the digest), claim what is due, send it
through the paced sender in each recipient's language, and mark it. Run once at start, it sends
what fell due while the bot was down, marked as late and one message per deal."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import uuid
from asyncio import FIRST_COMPLETED
from collections.abc import Callable
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardMarkup, ReplyKeyboardRemove
from aiogram.utils.i18n import I18n
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.screens.business import new_client_screen, open_deal_markup
from bot.screens.digest import caption, chart, digest_keyboard
from bot.screens.motivation_screens import progress_parts
from bot.screens.notify import card_message, request_reply
from bot.telegram.callbacks import CardAction, DealCard
from bot.telegram.i18n import pick_locale, t, tp
from bot.telegram.sender import PacedSender
from config.settings import Settings
from domain.clock import Clock
from domain.deal import Deal
from domain.reminders import OUTBOX_KINDS, REMINDER_KINDS, Audience, Reminder, ReminderKind
from domain.roles import Role
from domain.sales_book import SalesBook
from domain.working_time import WorkingCalendar
from services.backup import plan_backup_today, run_due_backup
from services.business import new_client
from services.digest import digest, plan_digests
from services.leads import lead_card, supervisors
from services.motivation import needs_nudge, plan_nudges
from services.reminders import (
    Delivery,
    Outcome,
    SweepTally,
    claim_due,
    complete,
    prepare,
)
from services.staff import Actor, member_name, personal_zone
from storage.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

BATCH = 200


class ReminderSweeper:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        sender: PacedSender,
        book: SalesBook,
        calendar: WorkingCalendar,
        settings: Settings,
        clock: Clock,
        i18n: I18n,
        *,
        claimant: str | None = None,
        batch: int = BATCH,
    ) -> None:
        self._session_factory = session_factory
        self._sender = sender
        self._book = book
        self._calendar = calendar
        self._settings = settings
        self._clock = clock
        self._i18n = i18n
        self._zone = ZoneInfo(settings.timezone)
        self.claimant = claimant or f"bot-{uuid.uuid4().hex[:12]}"
        """Who this sweeper is in the rows it claims (one per process start)."""
        self.batch = batch
        self._lock = asyncio.Lock()
        self._planning = asyncio.Lock()
        self._outbox_wanted = False
        self._outbox_run: asyncio.Task[None] | None = None
        self._stopping = False
        self.on_sweep: Callable[[bool, SweepTally], None] | None = None
        """Told after each sweep (outbox or not) what it did: the metrics."""

    async def tick(self) -> SweepTally:
        """Send the reminders due now; a tick already running makes this one wait its turn.
        (The outbox has its own sweep, `wake_outbox`, so a change's messages never wait for
        a tick.)"""
        async with self._lock:
            return await self._sweep(REMINDER_KINDS)

    def wake_outbox(self) -> None:
        """A change committed messages it owes someone (the outbox): send them now, without
        waiting for the next tick or behind a tick that is sending reminders. Wakes while a
        flush runs make it look once more, so a burst of changes costs a few claims, not one
        each."""
        if self._stopping:
            return
        self._outbox_wanted = True
        if self._outbox_run is None or self._outbox_run.done():
            self._outbox_run = asyncio.create_task(self._flush_outbox(), name="outbox")

    async def send_owed(self) -> None:
        """Send what the outbox owes now and return when it is sent (tests, and a start)."""
        self.wake_outbox()
        if self._outbox_run is not None:
            await self._outbox_run

    async def _flush_outbox(self) -> None:
        while self._outbox_wanted and not self._stopping:
            self._outbox_wanted = False
            try:
                await self._sweep(OUTBOX_KINDS)
            except Exception:
                log.exception("sending the outbox failed; the next tick retries")

    async def stop(self, grace: float) -> None:
        """Shutting down: claim nothing more, and give what is being sent `grace` seconds to
        go out and be marked; then the sender gives up what is left, which is released (or,
        if even that cannot finish, stays claimed) for the next start to send."""
        self._stopping = True
        try:
            await asyncio.wait_for(self._settled(), timeout=grace)
            return
        except TimeoutError:
            log.info("shutting down with messages still queued; they go out after the restart")
        await self._sender.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._settled(), timeout=grace)

    async def _settled(self) -> None:
        """Nothing of this sweeper is running: the outbox, a tick, the day's planning."""
        if self._outbox_run is not None:
            await asyncio.gather(self._outbox_run, return_exceptions=True)
        async with self._lock, self._planning:
            pass

    async def _sweep(self, kinds: frozenset[ReminderKind]) -> SweepTally:
        """Each message is marked the moment it is sent. The next batch is claimed while the
        last messages of this one are still going out, so the paced sender never waits for the
        database, and no claim is held much longer than its batch takes to send."""
        tally = SweepTally()
        in_flight: set[asyncio.Task[None]] = set()
        while not self._stopping:
            claimed = await claim_due(
                self._uow(), self._clock, self.claimant, self.batch, kinds=kinds
            )
            messages = self._start_backups(claimed, in_flight)
            if messages:
                deliveries = await prepare(
                    self._uow(),
                    self._clock,
                    self.claimant,
                    messages,
                    self._stage_deadline,
                    tally,
                    self._zone,
                )
                in_flight.update(asyncio.create_task(self._deliver(d, tally)) for d in deliveries)
            while len(in_flight) > self.batch // 4:
                _, in_flight = await asyncio.wait(in_flight, return_when=FIRST_COMPLETED)
            if len(claimed) < self.batch:
                break
        if in_flight:
            await asyncio.gather(*in_flight)
        if self.on_sweep is not None:
            self.on_sweep(kinds == OUTBOX_KINDS, tally)
        if tally.sent or tally.failed or tally.retry:
            log.log(
                logging.DEBUG if kinds == OUTBOX_KINDS else logging.INFO,
                "reminders: %d sent (%d late), %d dropped, %d postponed, %d failed, %d to retry",
                tally.sent,
                tally.late,
                tally.dropped,
                tally.postponed,
                tally.failed,
                tally.retry,
            )
        return tally

    async def _deliver(self, delivery: Delivery, tally: SweepTally) -> None:
        outcome = await self._send(delivery)
        if await complete(self._uow(), self._clock, self.claimant, delivery, outcome, tally):
            await self._tell_blocked(delivery.recipient.chat_id)
        if outcome is Outcome.BLOCKED and delivery.kind is ReminderKind.CARD:
            self.wake_outbox()  # the deal went on to the next manager: their card is owed

    async def plan_digests(self) -> int:
        """The daily digest job: plan today's digest of each supervisor (at the book's time in
        their zone); the sweeper sends them when due. Planning again the same day adds nothing."""
        return await plan_digests(self._uow(), self._clock, self._book, self._calendar, self._zone)

    async def plan_nudges(self) -> int:
        """Plan today's end-of-day nudge of each manager (sent only if still below target)."""
        return await plan_nudges(self._uow(), self._clock, self._book, self._calendar, self._zone)

    async def plan_backup(self) -> int:
        """Plan today's backup of a SQLite database (nothing is planned on PostgreSQL)."""
        return await plan_backup_today(
            self._uow(), self._clock, self._zone, self._settings.database_url
        )

    async def plan_daily_logged(self) -> None:
        """The scheduler's minute job: the day's digests, nudges and backup (planning is
        idempotent)."""
        async with self._planning:
            for plan in (self.plan_digests, self.plan_nudges, self.plan_backup):
                if self._stopping:
                    return
                try:
                    await plan()
                except Exception:
                    log.exception("planning today's %s failed; the next run retries", plan.__name__)
                except asyncio.CancelledError:
                    log.info("planning was stopped by the shutdown; the next start plans again")
                    return

    async def tick_logged(self) -> None:
        """The scheduler's job: a failing tick is logged, and the next tick tries again."""
        # The outbox too: what a failed send released, or a dead instance left claimed.
        self.wake_outbox()
        try:
            await self.tick()
        except Exception:
            log.exception("the reminder sweep failed; the next tick will retry")
        except asyncio.CancelledError:
            # Shutdown cut the sweep short (`stop` waited its grace): what it claimed and did
            # not mark is sent after the restart. Nothing else awaits this job.
            log.info("the reminder sweep was stopped by the shutdown")

    def _start_backups(
        self, claimed: list[Reminder], in_flight: set[asyncio.Task[None]]
    ) -> list[Reminder]:
        """A claimed backup row is a job, not a message: it runs beside this tick's sends (the
        tick waits for it). Returns the rest."""
        messages = []
        for row in claimed:
            if row.kind == ReminderKind.BACKUP:
                in_flight.add(asyncio.create_task(self._run_backup(row)))
            else:
                messages.append(row)
        return messages

    async def _run_backup(self, row: Reminder) -> None:
        settings = self._settings
        await run_due_backup(
            self._uow(),
            self._clock,
            self.claimant,
            row,
            settings.database_url,
            settings.backup_dir,
            settings.backup_keep,
        )

    def _uow(self) -> UnitOfWork:
        return UnitOfWork(self._session_factory)

    def _stage_deadline(self, deal: Deal) -> dt.datetime | None:
        if not deal.is_open:
            return None
        return deal.deadline(self._calendar, self._book.pipeline(deal.pipeline_id))

    async def _send(self, delivery: Delivery) -> Outcome:
        locale = pick_locale(delivery.recipient.language, self._settings.default_locale)
        if delivery.kind is ReminderKind.DIGEST:
            return await self._send_digest(delivery.recipient.chat_id, locale)
        if delivery.kind is ReminderKind.NUDGE:
            return await self._send_nudge(delivery.recipient.chat_id, locale)
        if delivery.kind is ReminderKind.CARD:
            return await self._send_card(delivery, locale)
        if delivery.kind is ReminderKind.NOTE:
            payload = delivery.payload or {}
            if "business_chat" in payload:
                return await self._send_new_client(delivery, payload["business_chat"], locale)
            markup: InlineKeyboardMarkup | ReplyKeyboardRemove | None = None
            with self._i18n.context(), self._i18n.use_locale(locale):
                if "promised_at" in payload:  # the lead's answer, its bot died before sending it
                    text = request_reply(payload, self._clock.now(), self._zone)
                    markup = ReplyKeyboardRemove()
                else:
                    text = t(payload["key"], **payload.get("values", {}))
                if "open_deal" in payload:
                    markup = open_deal_markup(payload["open_deal"])
            return await self._sender.send_message(
                delivery.recipient.chat_id, text, reply_markup=markup, urgent=True
            )
        with self._i18n.context(), self._i18n.use_locale(locale):
            text, markup = self._render(delivery)
        return await self._sender.send_message(
            delivery.recipient.chat_id, text, reply_markup=markup
        )

    async def _send_card(self, delivery: Delivery, locale: str) -> Outcome:
        if delivery.deal is None:
            return Outcome.GONE
        card = await lead_card(self._uow(), delivery.deal.deal_id)
        payload = delivery.payload or {}
        title = payload.get("title") or "card.title"
        if delivery.audience is Audience.SUPERVISORS:
            title = "card.queued_title"  # nobody (reachable) manages it: the queue's card
        with self._i18n.context(), self._i18n.use_locale(locale):
            zone = personal_zone(delivery.recipient.timezone, self._zone)
            text, markup = card_message(
                self._book, zone, card, self._clock.now(), title, payload.get("added")
            )
        return await self._sender.send_message(
            delivery.recipient.chat_id, text, reply_markup=markup, urgent=True
        )

    async def _send_new_client(self, delivery: Delivery, chat_id: int, locale: str) -> Outcome:
        """The manager's "new client in your Telegram: make a deal?", from the chat as it is
        now (decided meanwhile, or erased: nothing to ask)."""
        client = await new_client(self._uow(), chat_id)
        if client is None:
            return Outcome.NOT_NEEDED
        with self._i18n.context(), self._i18n.use_locale(locale):
            text, markup = new_client_screen(client)
        return await self._sender.send_message(
            delivery.recipient.chat_id, text, reply_markup=markup, urgent=True
        )

    async def _send_digest(self, chat_id: int, locale: str) -> Outcome:
        # The recipient was chosen by role when the digest was planned (supervisors, or the
        # admins of a team without one); the figures are computed on their behalf.
        recipient = Actor(chat_id, Role.SUPERVISOR, "", None, locale)
        with self._i18n.context(), self._i18n.use_locale(locale):
            figures = await digest(
                self._uow(), self._clock, self._book, self._calendar, recipient, self._zone
            )
            text = caption(figures, self._book)
            png = await chart(figures, self._book)
            keyboard = digest_keyboard(self._book)
        return await self._sender.send_photo(chat_id, png, text, reply_markup=keyboard)

    async def _send_nudge(self, chat_id: int, locale: str) -> Outcome:
        missing = await needs_nudge(self._uow(), self._clock, self._book, chat_id, self._zone)
        if not missing:
            return Outcome.NOT_NEEDED
        with self._i18n.context(), self._i18n.use_locale(locale):
            text = t("nudge.text", missing=progress_parts(missing))
        return await self._sender.send_message(chat_id, text)

    def _render(self, delivery: Delivery) -> tuple[str, InlineKeyboardMarkup | None]:
        if delivery.audience is Audience.CLIENT:
            # The late mark is a note to staff: a client is not told about the bot's downtime.
            return t("reminder.client", text=delivery.text or ""), None
        zone = personal_zone(delivery.recipient.timezone, self._zone)
        lines: list[str] = []
        if delivery.late:
            lines.append(t("reminder.late", due=_local(delivery.due_at, zone)))
        deal = delivery.deal
        keyboard = InlineKeyboardBuilder()
        if deal is not None:
            pipeline = self._book.pipeline(deal.pipeline_id)
            facts = {
                "deal_id": deal.deal_id,
                "client": deal.client or "—",
                "phone": deal.phone or "—",
                "stage": pipeline.stage(deal.stage_id).name,
                "manager": deal.manager_name or t("reminder.no_manager"),
                "deadline": _local(delivery.stage_deadline, zone)
                if delivery.stage_deadline
                else "—",
            }
            kind = delivery.kind
            if kind is ReminderKind.DUE_SOON:
                lines.append(t("reminder.due_soon", **facts))
            elif kind is ReminderKind.OVERDUE and delivery.audience is Audience.SUPERVISORS:
                lines.append(t("reminder.overdue_supervisor", **facts))
            elif kind is ReminderKind.OVERDUE:
                lines.append(t("reminder.overdue", **facts))
            elif kind is ReminderKind.FIRST_RESPONSE:
                promised = deal.first_response_due_at
                lines.append(
                    t(
                        "reminder.first_response",
                        **facts,
                        promised=_local(promised, zone) if promised else "—",
                    )
                )
            elif kind is ReminderKind.PERSONAL:
                lines.append(t("reminder.personal_on_deal", text=delivery.text or "", **facts))
            else:
                lines.append(t("reminder.task", text=delivery.text or "", **facts))
            keyboard.button(
                text=tp("reminder.open_card"), callback_data=DealCard(deal_id=deal.deal_id)
            )
            if delivery.audience is Audience.SUPERVISORS:
                keyboard.button(
                    text=tp("card.reassign"),
                    callback_data=DealCard(deal_id=deal.deal_id, action=CardAction.REASSIGN),
                )
        else:
            lines.append(t("reminder.personal", text=delivery.text or ""))
        keyboard.adjust(2)
        markup = keyboard.as_markup()
        return "\n".join(lines), markup if markup.inline_keyboard else None

    async def _tell_blocked(self, staff_id: int) -> None:
        """A colleague blocked the bot: their reminders stop, and the supervisors should know."""
        name = await member_name(self._uow(), staff_id)
        for supervisor_id, language in await supervisors(self._uow()):
            if supervisor_id == staff_id:
                continue
            locale = pick_locale(language, self._settings.default_locale)
            with self._i18n.context(), self._i18n.use_locale(locale):
                text = t("reminder.staff_blocked", name=name)
            await self._sender.send_message(supervisor_id, text)


def _local(instant: dt.datetime, zone: ZoneInfo) -> str:
    """A time in a message to staff, by the recipient's clock."""
    return instant.astimezone(zone).strftime("%d.%m %H:%M")
