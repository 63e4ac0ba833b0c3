"""Which worker handles an update.

Everything one person sends goes to the same worker, so their updates keep their order (the
conversation lock, the flood limit and the staff directory's view of their own joining are
each worker's own), and everything of one Telegram Business connection goes to one worker, in
the order it came (bot/telegram/business_order.py keeps a connection's chats in order within a
process)."""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from typing import Any

_PEOPLE = ("from", "user", "chat")
"""Where an update's payload names who it comes from: a message's or a press's sender, a
member update's user, else the chat."""


def worker_for(update: Mapping[str, Any], workers: int) -> int:
    """The index (0 .. workers - 1) of the worker that handles this raw update (its JSON as
    Telegram sent it); an update that names nobody goes to the first."""
    for kind, payload in update.items():
        if kind == "update_id" or not isinstance(payload, Mapping):
            continue
        connection = payload.get("business_connection_id")
        if connection is None and kind == "business_connection":
            connection = payload.get("id")
        if isinstance(connection, str):
            return zlib.crc32(connection.encode()) % workers
        for field in _PEOPLE:
            person = payload.get(field)
            if isinstance(person, Mapping) and isinstance(person.get("id"), int):
                return int(person["id"]) % workers
    return 0
