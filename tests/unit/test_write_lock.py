"""The SQLite writers' lock (`storage.write_lock.WriteLock`): a queue that formed while a holder
waited on the loop drains in one turn, where asyncio's fair `Lock` passes one writer a turn."""

from __future__ import annotations

import asyncio

import pytest

from storage.write_lock import WriteLock


async def _turn() -> None:
    """One turn of the loop: what was made ready before it has run."""
    await asyncio.sleep(0)


async def _write(lock: WriteLock, done: list[str], name: str) -> None:
    await lock.acquire()
    try:
        done.append(name)  # a write: microseconds, no yield
    finally:
        lock.release()


async def _held_with_waiters(
    *names: str,
) -> tuple[WriteLock, list[str], list[asyncio.Task[None]]]:
    """A held lock and a writer waiting for it under each name."""
    lock = WriteLock()
    await lock.acquire()
    done: list[str] = []
    waiting = [asyncio.create_task(_write(lock, done, name)) for name in names]
    await _turn()
    return lock, done, waiting


async def test_a_queue_formed_behind_a_waiting_holder_drains_in_one_turn() -> None:
    # Held by a writer that waits on the loop (another process had the file).
    lock, done, writers = await _held_with_waiters(*(f"w{i}" for i in range(20)))
    assert done == []
    lock.release()
    await _turn()
    await _turn()
    assert done == [f"w{i}" for i in range(20)]  # asyncio.Lock: ["w0"], one a turn
    await asyncio.gather(*writers)


async def test_a_free_lock_is_taken_at_once_while_woken_waiters_have_not_run() -> None:
    lock = WriteLock()
    await lock.acquire()
    done: list[str] = []
    waiting = asyncio.create_task(_write(lock, done, "waiter"))
    await _turn()
    lock.release()  # the waiter is woken, and runs on the loop's next turn
    # A writer that asks now takes it without a turn of its own (asyncio.Lock: queued behind).
    asking = lock.acquire()
    with pytest.raises(StopIteration):
        asking.send(None)  # the coroutine finished without suspending
    assert lock.locked()
    done.append("now")
    lock.release()
    await waiting
    assert done == ["now", "waiter"]


async def test_a_waiter_that_finds_it_taken_again_keeps_its_place() -> None:
    lock, done, (first, second) = await _held_with_waiters("first", "second")
    lock.release()
    await lock.acquire()  # taken again before the woken waiters ran
    third = asyncio.create_task(_write(lock, done, "third"))
    await _turn()
    await _turn()
    assert done == []
    lock.release()
    await asyncio.gather(first, second, third)
    assert done == ["first", "second", "third"]


async def test_a_cancelled_waiter_leaves_the_lock_working() -> None:
    lock, done, (cancelled, kept) = await _held_with_waiters("cancelled", "kept")
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    lock.release()
    await kept
    assert done == ["kept"]
    assert not lock.locked()
    with pytest.raises(RuntimeError):
        lock.release()
