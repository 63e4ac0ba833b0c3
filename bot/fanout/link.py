"""The line between the poller and a worker: one socket, one message a line.

To a worker: an update (its JSON, which starts with "{"), or `WAKE` (a change in another worker
owes messages: the first worker, which alone sends the outbox, sends them now). From a worker:
`READY` with the update kinds it handles once it is up, then `WAKE` for the poller to pass on.
The poller closes its side to stop a worker; a worker reads the close of a poller that died
the same way."""

from __future__ import annotations

import asyncio
import json

WAKE = b"wake\n"
READY = b"ready "
LINE_LIMIT = 4 * 1024 * 1024
"""The longest line either side reads: far above any update Telegram sends."""


class WorkerFailed(Exception):
    """A worker stopped before it was ready: at the start, or started again after it died."""


def ready_line(update_kinds: list[str]) -> bytes:
    return READY + json.dumps(update_kinds).encode() + b"\n"


def update_kinds_of(line: bytes) -> list[str] | None:
    """The update kinds a worker's `READY` line names; None for any other line."""
    if not line.startswith(READY):
        return None
    kinds = json.loads(line[len(READY) :])
    return [str(kind) for kind in kinds]


class PollerLink:
    """A worker's side of the line: it tells the poller that messages are owed."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer

    def wake_outbox(self) -> None:
        if not self._writer.is_closing():
            self._writer.write(WAKE)
