"""A staff member: a person with a role in the team. Leads are not staff: they are contacts, and
only after they consented."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from domain.roles import Role


@dataclass(slots=True)
class StaffMember:
    telegram_id: int
    role: Role
    joined_at: dt.datetime
    first_name: str = ""
    username: str | None = None
    language_code: str | None = None
    timezone: str | None = None
    """Their own IANA zone (`/timezone`); None: the team's."""
    is_active: bool = True
    """False once deactivated: no role, no menus, their open deals wait for a handover."""
    is_reachable: bool = True
    """False once Telegram answered 403: the person blocked the bot."""
    deactivated_at: dt.datetime | None = None

    @property
    def receives_messages(self) -> bool:
        """Still on the team and not blocking the bot: someone the bot writes to."""
        return self.is_active and self.is_reachable
