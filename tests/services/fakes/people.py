"""Staff, invites and contacts in memory."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from domain.contact import Contact
from domain.invites import Invite
from domain.roles import Role
from domain.staff import StaffMember
from tests.services.fakes.copies import copied, existing


class FakeStaff:
    def __init__(self) -> None:
        self.members_by_id: dict[int, StaffMember] = {}
        self.pipelines: dict[int, list[str]] = {}
        self.last_assigned: dict[str, int] = {}

    async def get(self, telegram_id: int) -> StaffMember | None:
        return copied(self.members_by_id.get(telegram_id))

    async def names(self, telegram_ids: Sequence[int]) -> dict[int, str | None]:
        return {i: m.first_name for i, m in self.members_by_id.items() if i in telegram_ids}

    async def many(self, telegram_ids: Sequence[int]) -> dict[int, StaffMember]:
        return {i: copied(m) for i, m in self.members_by_id.items() if i in telegram_ids}

    async def add(self, member: StaffMember) -> None:
        self.members_by_id[member.telegram_id] = copied(member)

    async def save(self, member: StaffMember) -> None:
        existing(self.members_by_id, member.telegram_id)
        self.members_by_id[member.telegram_id] = copied(member)

    async def members(self, *, active_only: bool = False) -> list[StaffMember]:
        found = [m for m in self.members_by_id.values() if m.is_active or not active_only]
        return copied(sorted(found, key=lambda m: (m.role.value, m.joined_at)))

    async def active_with_role(self, role: Role) -> list[StaffMember]:
        found = [m for m in self.members_by_id.values() if m.role is role and m.is_active]
        return copied(sorted(found, key=lambda m: m.telegram_id))

    async def set_pipelines(self, telegram_id: int, pipeline_ids: Sequence[str]) -> None:
        self.pipelines[telegram_id] = list(pipeline_ids)

    async def round_robin_candidates(
        self, pipeline_id: str
    ) -> tuple[dict[int, str | None], int | None]:
        serving = sorted(
            (
                m
                for m in self.members_by_id.values()
                if pipeline_id in self.pipelines.get(m.telegram_id, [])
            ),
            key=lambda m: m.telegram_id,
        )
        languages = {
            m.telegram_id: m.language_code
            for m in serving
            if m.role is Role.MANAGER and m.is_active and m.is_reachable
        }
        return languages, self.last_assigned.get(pipeline_id)

    async def remember_round_robin(self, pipeline_id: str, manager_id: int) -> None:
        self.last_assigned[pipeline_id] = manager_id


class FakeInvites:
    def __init__(self) -> None:
        self.by_hash: dict[str, Invite] = {}

    def add(self, invite: Invite) -> None:
        self.by_hash[invite.token_hash] = invite

    async def get_by_hash(self, token_hash: str) -> Invite | None:
        return self.by_hash.get(token_hash)

    async def mark_used(self, invite: Invite) -> bool:
        if self.by_hash[invite.token_hash].used_by is not None:
            return False
        self.by_hash[invite.token_hash] = invite
        return True

    async def pending(self, now: dt.datetime) -> list[Invite]:
        waiting = [i for i in self.by_hash.values() if i.used_by is None and i.expires_at > now]
        return sorted(waiting, key=lambda invite: invite.created_at)


class FakeContacts:
    def __init__(self) -> None:
        self.by_id: dict[int, Contact] = {}

    async def add(self, contact: Contact) -> Contact:
        contact.id = max(self.by_id, default=0) + 1
        self.by_id[contact.id] = copied(contact)
        return contact

    async def save(self, contact: Contact) -> None:
        existing(self.by_id, contact.id)
        assert contact.id is not None
        self.by_id[contact.id] = copied(contact)

    async def remove(self, contact: Contact) -> None:
        if contact.id is not None:
            self.by_id.pop(contact.id, None)

    async def get(self, contact_id: int) -> Contact | None:
        return copied(self.by_id.get(contact_id))

    async def by_telegram_id(self, telegram_id: int) -> Contact | None:
        return copied(next((c for c in self.by_id.values() if c.telegram_id == telegram_id), None))

    async def same_client(self, contact: Contact) -> list[Contact]:
        root = contact.merged_into_id or contact.id
        together = [
            copied(c) for key, c in sorted(self.by_id.items()) if root in (key, c.merged_into_id)
        ]
        return together if any(c.id == contact.id for c in together) else [contact, *together]

    async def by_telegram_id_and_phone(
        self, telegram_id: int, phone: str
    ) -> tuple[Contact | None, Contact | None]:
        ordered = [self.by_id[key] for key in sorted(self.by_id)]
        own = next((c for c in ordered if c.telegram_id == telegram_id), None)
        other = next(
            (c for c in ordered if c.phone == phone and c is not own and c.merged_into_id is None),
            None,
        )
        if other is None and own is not None and own.phone == phone:
            mine = copied(own)
            return mine, mine
        return copied(own), copied(other)

    async def names(self, contact_ids: Sequence[int]) -> dict[int, str | None]:
        return {i: c.name for i, c in self.by_id.items() if i in contact_ids}

    async def many(self, contact_ids: Sequence[int]) -> dict[int, Contact]:
        return {i: copied(c) for i, c in self.by_id.items() if i in contact_ids}
