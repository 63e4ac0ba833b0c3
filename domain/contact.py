"""A lead's contact card: who a client is and how to reach them. Personal fields are emptied on
erasure; the card itself stays, so the deals it carried still count in the figures."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(slots=True)
class Contact:
    created_at: dt.datetime
    id: int | None = None
    """None until stored."""
    telegram_id: int | None = None
    """The Telegram account the client writes from (None once erased, or for a sandbox one)."""
    name: str | None = None
    phone: str | None = None
    """E.164."""
    company: str | None = None
    username: str | None = None
    language_code: str | None = None
    consent_at: dt.datetime | None = None
    consent_version: str | None = None
    """The version of the policy text they agreed to."""
    erased_at: dt.datetime | None = None
    merged_into_id: int | None = None
    """A manager confirmed this account is the same client as that contact: its requests are
    filed there (each deal keeps its own chat)."""

    def erase(self, now: dt.datetime) -> None:
        """Forget the person: every personal field and the consent; the card stays."""
        self.telegram_id = None
        self.name = self.phone = self.company = self.username = None
        self.language_code = None
        self.consent_at = None
        self.consent_version = None
        self.erased_at = now
