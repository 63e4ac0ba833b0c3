"""The in-memory unit of work keeps the real one's promises, or the service tests would prove
nothing: a change is kept only when saved and committed, and nested blocks are one transaction."""

from __future__ import annotations

import pytest

from domain.clock import FixedClock
from domain.roles import Role
from domain.staff import StaffMember
from services.unit_of_work import UnitOfWork
from tests.services.fakes import FakeUnitOfWork


def member(clock: FixedClock, name: str = "Иван") -> StaffMember:
    return StaffMember(10, Role.MANAGER, clock.now(), first_name=name)


async def test_what_a_block_does_is_undone_unless_it_commits(
    uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    async with uow:
        await uow.staff.add(member(clock))
    assert await uow.staff.get(10) is None

    with pytest.raises(RuntimeError):
        async with uow:
            await uow.staff.add(member(clock))
            await uow.commit()
            await uow.staff.save(member(clock, "Пётр"))
            raise RuntimeError("after the commit")
    stored = await uow.staff.get(10)
    assert stored is not None and stored.first_name == "Иван"
    assert uow.commits == 1


async def test_a_change_to_what_was_read_is_kept_only_when_saved(
    uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    async with uow:
        await uow.staff.add(member(clock))
        await uow.commit()
    async with uow:
        read = await uow.staff.get(10)
        assert read is not None
        read.first_name = "Пётр"
        await uow.commit()
    unsaved = await uow.staff.get(10)
    assert unsaved is not None and unsaved.first_name == "Иван"


async def test_nested_blocks_commit_with_the_outermost_and_not_without_it(
    uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    async def hire(unit_of_work: UnitOfWork) -> None:  # a use case, called inside another
        async with unit_of_work:
            await unit_of_work.staff.add(member(clock))
            await unit_of_work.commit()

    with pytest.raises(RuntimeError):
        async with uow:
            await hire(uow)
            raise RuntimeError("the outer block fails")
    assert await uow.staff.get(10) is None

    async with uow:
        await hire(uow)
        assert uow.commits == 0  # not yet: with the outermost block
    assert await uow.staff.get(10) is not None
    assert uow.commits == 1
