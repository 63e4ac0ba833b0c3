"""An objection answer shown to a manager (one A/B variant) and whether it helped: joined with the
deal's later result, these tell which variant wins (`domain.abtest`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ScriptUse:
    objection_id: str
    variant_id: str
    staff_id: int
    deal_id: int | None
    at: dt.datetime
    id: int | None = None
    """None until stored."""
    outcome: str | None = None
    """The manager's feedback (`domain.scripts.Feedback`), once given."""
    outcome_at: dt.datetime | None = None
