"""An in-memory unit of work for the service tests (cosmicpython's chapter 6): the repositories the
use cases call (`services.unit_of_work`), kept in dicts and lists.

It behaves as the real one where the use cases can tell: a repository hands out copies, so a
change is stored only by `save`; ids are given on `add`; nested blocks are one transaction; and
whatever a block did is rolled back unless it committed. The report queries are left out: they
are aggregate SQL, tested against real databases in tests/integration."""

from __future__ import annotations

import copy
from types import TracebackType
from typing import Self

from services.unit_of_work import UnitOfWork
from tests.services.fakes.deals import FakeActivities, FakeDeals, FakeScriptUses, FakeTrainings
from tests.services.fakes.people import FakeContacts, FakeInvites, FakeStaff
from tests.services.fakes.reminders import FakeReminders

REPOSITORIES = (
    "staff",
    "invites",
    "contacts",
    "deals",
    "activities",
    "reminders",
    "trainings",
    "script_uses",
)


class FakeUnitOfWork:
    """Satisfies `services.unit_of_work.UnitOfWork` (mypy checks every use case called with it)."""

    def __init__(self) -> None:
        self.staff = FakeStaff()
        self.invites = FakeInvites()
        self.contacts = FakeContacts()
        self.deals = FakeDeals()
        self.activities = FakeActivities()
        self.reminders = FakeReminders()
        self.trainings = FakeTrainings()
        self.script_uses = FakeScriptUses()
        self.commits = 0
        """How many transactions committed."""
        self._depth = 0
        self._commit_pending = False
        self._committed: dict[str, object] = {}

    async def __aenter__(self) -> Self:
        if self._depth == 0:
            self._committed = self._state()
        self._depth += 1
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._depth -= 1
        if self._depth > 0:
            return
        if self._commit_pending and exc_type is None:
            self._commit_now()
        self._commit_pending = False
        for name, repository in self._committed.items():  # what was not committed is undone
            setattr(self, name, repository)

    async def commit(self) -> None:
        if self._depth > 1:
            self._commit_pending = True  # with the outermost block, as the real one does
        else:
            self._commit_now()

    def _commit_now(self) -> None:
        self.commits += 1
        self._committed = self._state()

    def _state(self) -> dict[str, object]:
        return {name: copy.deepcopy(getattr(self, name)) for name in REPOSITORIES}


def as_unit_of_work(fake: FakeUnitOfWork) -> UnitOfWork:
    """Where mypy proves the fake has the unit of work's shape, method by method."""
    return fake
