"""One-time staff invites, stored by the hash of their token."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.invites import Invite
from domain.roles import Role
from storage.models import InviteRow


class InviteRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, invite: Invite) -> None:
        self._session.add(
            InviteRow(
                token_hash=invite.token_hash,
                role=invite.role.value,
                label=invite.label,
                created_by=invite.created_by,
                created_at=invite.created_at,
                expires_at=invite.expires_at,
                used_by=invite.used_by,
                used_at=invite.used_at,
            )
        )

    async def get_by_hash(self, token_hash: str) -> Invite | None:
        row = await self._row(token_hash)
        return _invite_from_row(row) if row else None

    async def mark_used(self, invite: Invite) -> bool:
        """Record the redemption; False if somebody else redeemed it first (single use holds
        even when two people press the same link at once)."""
        result = await self._session.execute(
            update(InviteRow)
            .where(InviteRow.token_hash == invite.token_hash, InviteRow.used_by.is_(None))
            .values(used_by=invite.used_by, used_at=invite.used_at)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def pending(self, now: dt.datetime) -> list[Invite]:
        query = (
            select(InviteRow)
            .where(InviteRow.used_by.is_(None), InviteRow.expires_at > now)
            .order_by(InviteRow.created_at)
        )
        return [_invite_from_row(row) for row in await self._session.scalars(query)]

    async def _row(self, token_hash: str) -> InviteRow | None:
        row: InviteRow | None = await self._session.scalar(
            select(InviteRow).where(InviteRow.token_hash == token_hash)
        )
        return row


def _invite_from_row(row: InviteRow) -> Invite:
    return Invite(
        token_hash=row.token_hash,
        role=Role(row.role),
        created_by=row.created_by,
        created_at=row.created_at,
        expires_at=row.expires_at,
        used_by=row.used_by,
        used_at=row.used_at,
        label=row.label,
    )
