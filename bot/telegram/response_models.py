"""Keep aiogram's parsed-response models alive for the life of the process.

`BaseSession.check_response` builds `Response[method.__returning__]` on every Bot API call, and
pydantic caches parametrised generic models only weakly: once the garbage collector drops one,
the next call rebuilds the class, a 4-10 ms stall in the middle of a handler (measured in
`bench/RESULTS.md`). Building each model once at start and holding a strong reference turns
every later call into a cache hit.
"""

from __future__ import annotations

import inspect
from typing import Any

from aiogram import methods
from aiogram.methods.base import Response, TelegramMethod

_PINNED: dict[str, Any] = {}


def pin_response_models() -> int:
    """Build (once) the response model of every Bot API method; returns how many are held."""
    if not _PINNED:
        for _, method in inspect.getmembers(methods, inspect.isclass):
            if issubclass(method, TelegramMethod) and method is not TelegramMethod:
                returning = method.__returning__
                _PINNED.setdefault(repr(returning), Response[returning])  # type: ignore[valid-type]
    return len(_PINNED)
