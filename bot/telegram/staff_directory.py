"""Who is staff, kept in memory so an update from a lead (most updates) needs no database read
to learn that its sender is nobody's colleague.

The staff table is small and changes through the bot (an invite redeemed, someone
deactivated: their handlers call `forget()`); the refresh period covers anything changed
behind the bot's back, such as the demo-data command. With several instances, `forget()` also
moves the team's version in Redis, and every instance reads the team again when it sees the
version move (one GET per update that asks).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.telegram.shared_state import TeamVersion
from domain.clock import Clock
from services.staff import staff_members
from storage.unit_of_work import UnitOfWork

REFRESH_EVERY = dt.timedelta(seconds=30)


class StaffDirectory:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        clock: Clock,
        refresh_every: dt.timedelta = REFRESH_EVERY,
        *,
        team_version: TeamVersion | None = None,
    ) -> None:
        self._session_factory = session_factory
        self._clock = clock
        self._refresh_every = refresh_every
        self._active_ids: frozenset[int] = frozenset()
        self._loaded_at: dt.datetime | None = None
        self._team_version = team_version
        self._version_seen = 0

    async def may_be_staff(self, user_id: int) -> bool:
        """False only for someone who is surely not active staff; True means "ask the database"
        (a deactivated person stays listed until the next refresh, and the database says no)."""
        now = self._clock.now()
        if self._team_version is not None:
            version = await self._team_version.current()
            if version != self._version_seen:
                self._version_seen = version
                self._loaded_at = None
        if self._loaded_at is None or now - self._loaded_at >= self._refresh_every:
            members = await staff_members(UnitOfWork(self._session_factory))
            self._active_ids = frozenset(member_id for member_id, _, _ in members)
            self._loaded_at = now
        return user_id in self._active_ids

    async def forget(self) -> None:
        """The team changed: read it again on the next update, here and on every instance."""
        self._loaded_at = None
        if self._team_version is not None:
            await self._team_version.bump()
