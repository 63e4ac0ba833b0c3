"""Staff invites: one-time deep links `t.me/<bot>?start=<token>` that grant a role.

Only the token's hash is stored, so a leaked database does not hand out roles. The token fits
Telegram's start payload (at most 64 characters of A-Z, a-z, 0-9, _ and -).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from domain.errors import InviteInvalid, InviteRoleNotAllowed
from domain.roles import Role

INVITE_PREFIX = "inv_"
"""Marks a start payload as an invite rather than a lead source; sources must not start so."""

TOKEN_BYTES = 32
"""256 bits of randomness: 43 URL-safe characters, 47 with the prefix."""

DEFAULT_INVITE_TTL = dt.timedelta(days=7)

INVITABLE_ROLES = frozenset({Role.MANAGER, Role.SUPERVISOR})


@dataclass(frozen=True)
class Invite:
    token_hash: str
    role: Role
    created_by: int
    created_at: dt.datetime
    expires_at: dt.datetime
    used_by: int | None = None
    used_at: dt.datetime | None = None
    label: str = ""
    """Who the invite is for, as the admin typed it ("Ivan, sales"), to tell invites apart."""

    @property
    def is_used(self) -> bool:
        return self.used_by is not None

    def is_expired(self, now: dt.datetime) -> bool:
        return now >= self.expires_at


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def is_invite_payload(payload: str) -> bool:
    return payload.startswith(INVITE_PREFIX)


def new_invite(
    role: Role,
    created_by: int,
    now: dt.datetime,
    ttl: dt.timedelta = DEFAULT_INVITE_TTL,
    label: str = "",
) -> tuple[str, Invite]:
    """A fresh token (show it once, in the link) and the invite to store (hash only)."""
    if role not in INVITABLE_ROLES:
        raise InviteRoleNotAllowed(role)
    if now.tzinfo is None:
        raise ValueError("now must be a timezone-aware datetime")
    if ttl <= dt.timedelta(0):
        raise ValueError(f"an invite must live for a positive time, got {ttl}")
    token = INVITE_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    invite = Invite(
        token_hash=hash_token(token),
        role=role,
        created_by=created_by,
        created_at=now,
        expires_at=now + ttl,
        label=label,
    )
    return token, invite


def redeem(invite: Invite, user_id: int, now: dt.datetime) -> Invite:
    """The invite marked as used by `user_id`. An invite works once, before it expires.

    "used" is reported before "expired" because it is the more useful thing to tell someone
    holding an old link: the role was already claimed. An unknown token ("unknown") is the
    caller's finding, since only storage can tell.
    """
    if now.tzinfo is None:
        raise ValueError("now must be a timezone-aware datetime")
    if invite.is_used:
        raise InviteInvalid("used")
    if invite.is_expired(now):
        raise InviteInvalid("expired")
    return dataclasses.replace(invite, used_by=user_id, used_at=now)
