"""What a manager did on a deal (a call, a meeting, a note, a proposal sent): the card lists the
latest, the checklist ticks criteria by them, the daily targets count them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Activity:
    deal_id: int
    kind: str
    """One of `services.workspace.ActivityKind`."""
    author_id: int | None
    at: dt.datetime
    comment: str | None = None
