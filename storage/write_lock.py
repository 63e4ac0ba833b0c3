"""The lock a process's SQLite writers queue on (storage/sqlite_in_loop.py), free to whoever
asks while it is free.

asyncio's own `Lock` is fair: once a task waits for it, a release hands it to that task, which
takes it only when the loop next runs it, and every task asking in between queues behind. A
writer here holds the lock for microseconds without yielding, so a queue forms only when one
holder waits on the loop (another worker process holding the file, WORKERS > 1); from then on
an asyncio `Lock` passes to one writer a turn of the loop, and in an ad burst a turn is tens of
milliseconds with a hundred updates in hand and more than one write asked for in each: the
queue did not drain, and form steps waited 200-300 ms for a lock nobody was using
(bench/RESULTS.md).

So a free lock is taken at once, whoever waits; a release wakes every waiter, each tries again
when the loop runs it, and the first to find it free takes it. A waiter that finds it taken
again waits in its first place in the queue."""

from __future__ import annotations

import asyncio
import heapq
import itertools


class WriteLock:
    def __init__(self) -> None:
        self._held = False
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._tickets = itertools.count()

    def locked(self) -> bool:
        return self._held

    async def acquire(self) -> None:
        ticket = next(self._tickets)
        while self._held:
            waiter = asyncio.get_running_loop().create_future()
            heapq.heappush(self._waiters, (ticket, waiter))
            try:
                await waiter
            except asyncio.CancelledError:
                self._forget(waiter)
                raise
        self._held = True

    def release(self) -> None:
        if not self._held:
            raise RuntimeError("the write lock is not held")
        self._held = False
        waiters, self._waiters = self._waiters, []
        for _, waiter in sorted(waiters):
            if not waiter.done():
                waiter.set_result(None)

    def _forget(self, waiter: asyncio.Future[None]) -> None:
        self._waiters = [entry for entry in self._waiters if entry[1] is not waiter]
        heapq.heapify(self._waiters)
