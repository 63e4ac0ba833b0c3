"""Plain-function filters run in place, not in a thread.

aiogram awaits a coroutine callback and hands any other callable to `asyncio.to_thread`: a
`State` used as a filter (`LeadForm.answering`), every magic filter (`F.text`), a lambda. Each
such check then costs a trip to the thread pool and back through the event loop, about as much
as the rest of an echo bot's update, for a test that takes a microsecond. None of ours block
(they compare values already in hand), so they are made coroutines once the routers are built.
Handlers are left as aiogram runs them: a plain-function handler may be one that blocks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import wraps
from typing import Any

from aiogram import Router
from aiogram.dispatcher.event.handler import CallableObject


def run_filters_inline(root: Router) -> int:
    """Every plain-function filter under `root` becomes a coroutine; returns how many."""
    changed = 0
    for callable_object in _filters(root):
        if not callable_object.awaitable:
            callable_object.callback = _as_coroutine(callable_object.callback)
            callable_object.awaitable = True
            changed += 1
    return changed


def _filters(root: Router) -> Iterator[CallableObject]:
    for router in root.chain_tail:
        for observer in router.observers.values():
            # The router-wide filters (`router.message.filter(...)`) live on this handler.
            yield from observer._handler.filters or []
            for handler in observer.handlers:
                yield from handler.filters or []


def _as_coroutine(function: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(function)
    async def inline(*args: Any, **kwargs: Any) -> Any:
        return function(*args, **kwargs)

    return inline
