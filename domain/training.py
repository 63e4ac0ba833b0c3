"""A staff member's walk through /training on a sandbox deal of their own."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Training:
    staff_id: int
    deal_id: int | None
    """The sandbox deal (None if it was deleted since)."""
    started_at: dt.datetime
    opened_at: dt.datetime | None = None
    """When the trainee first opened the sandbox deal's card."""
    completed_at: dt.datetime | None = None
