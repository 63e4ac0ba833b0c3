"""The unit of work: one session, one transaction, rolled back unless committed."""

from __future__ import annotations

import datetime as dt
from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.repositories.activities import ActivityRepository
from storage.repositories.business import BusinessRepository
from storage.repositories.contacts import ContactRepository
from storage.repositories.deals import DealRepository
from storage.repositories.inbox import InboxRepository
from storage.repositories.invites import InviteRepository
from storage.repositories.reminders import ReminderRepository
from storage.repositories.reports import ReportRepository
from storage.repositories.script_uses import ScriptUseRepository
from storage.repositories.spend import SpendRepository
from storage.repositories.staff import StaffRepository
from storage.repositories.training import TrainingRepository


class UnitOfWork:
    """`async with uow: ...; await uow.commit()`. Repositories never commit; services do.

    Nested blocks are one transaction: a use case composed of others (a change, then the
    screen it leaves) wraps them in its own `async with uow`, and their commits take effect
    when the outermost block ends without an error (or commits itself)."""

    session: AsyncSession
    staff: StaffRepository
    invites: InviteRepository
    contacts: ContactRepository
    deals: DealRepository
    activities: ActivityRepository
    reminders: ReminderRepository
    trainings: TrainingRepository
    script_uses: ScriptUseRepository
    business: BusinessRepository
    spend: SpendRepository
    reports: ReportRepository

    def __init__(
        self, session_factory: async_sessionmaker[AsyncSession], *, update_id: int | None = None
    ) -> None:
        self._session_factory = session_factory
        self._depth = 0
        self._commit_pending = False
        self.owes_messages = False
        """A commit of this unit of work wrote outbox messages: whoever ran it wakes the sender."""
        self.update_id = update_id
        """The update this unit of work handles (webhook mode): its first commit records the
        id in the inbox, in the same transaction, or raises `UpdateAlreadyHandled`."""
        self.update_recorded = False

    async def __aenter__(self) -> Self:
        # Re-entrant, so a service can be called from inside another service's transaction.
        if self._depth == 0:
            self.session = self._session_factory()
            self.staff = StaffRepository(self.session)
            self.invites = InviteRepository(self.session)
            self.contacts = ContactRepository(self.session)
            self.deals = DealRepository(self.session)
            self.activities = ActivityRepository(self.session)
            self.reminders = ReminderRepository(self.session)
            self.trainings = TrainingRepository(self.session)
            self.script_uses = ScriptUseRepository(self.session)
            self.business = BusinessRepository(self.session)
            self.spend = SpendRepository(self.session)
            self.reports = ReportRepository(self.session)
        self._depth += 1
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._depth -= 1
        if self._depth == 0:
            try:
                if self._commit_pending and exc_type is None:
                    await self._commit_now()
            finally:
                self._commit_pending = False
                # Closing rolls back whatever was not committed. Unlike rollback(), it leaves
                # loaded objects readable (detached, not expired) for the handler to render.
                await self.session.close()

    async def commit(self) -> None:
        if self._depth > 1:
            await self.session.flush()  # seen by the rest of the transaction, committed with it
            self._commit_pending = True
            return
        await self._commit_now()

    async def _commit_now(self) -> None:
        self._commit_pending = False
        if self.update_id is not None and not self.update_recorded:
            try:
                await InboxRepository(self.session).record(self.update_id, dt.datetime.now(dt.UTC))
            except BaseException:
                await self.session.rollback()
                raise
            await self.session.commit()
            self.update_recorded = True
        else:
            await self.session.commit()
        if self.reminders.owes_messages:
            self.owes_messages = True
            self.reminders.owes_messages = False

    async def rollback(self) -> None:
        await self.session.rollback()


async def already_handled(uow: UnitOfWork, update_id: int) -> bool:
    async with uow:
        return await InboxRepository(uow.session).seen(update_id)


async def record_handled(uow: UnitOfWork, update_id: int) -> None:
    """An update whose handler committed nothing: its id on its own, after it."""
    async with uow:
        await InboxRepository(uow.session).record_if_new(update_id, dt.datetime.now(dt.UTC))
        await uow.session.commit()
    uow.update_recorded = True


async def forget_handled_updates(uow: UnitOfWork, before: dt.datetime) -> int:
    """Telegram stops delivering an update a day after it was sent: older ids can go."""
    async with uow:
        forgotten = await InboxRepository(uow.session).forget_before(before)
        await uow.session.commit()
    return forgotten


async def reminder_depths(uow: UnitOfWork) -> tuple[int, int]:
    """Reminders due and not yet sent, and the outbox's unsent messages (for the metrics)."""
    async with uow:
        return await uow.reminders.depths(dt.datetime.now(dt.UTC))
