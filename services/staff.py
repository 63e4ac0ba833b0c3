"""Use cases about people: who is who, invites, the team."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.clock import Clock
from domain.errors import InviteInvalid, PermissionDenied
from domain.invites import Invite, hash_token, new_invite, redeem
from domain.roles import Action, Role, require
from domain.staff import StaffMember
from services.unit_of_work import UnitOfWork


class StaffError(Exception):
    """A request about the team that cannot be carried out; `reason` names which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Actor:
    """The person behind an update, with the role the database (or `ADMIN_IDS`) gives them."""

    user_id: int
    role: Role
    first_name: str
    username: str | None
    language_code: str | None
    timezone: str | None = None
    """A staff member's own time zone (`/timezone`), None for the team's."""

    @property
    def is_staff(self) -> bool:
        return self.role is not Role.LEAD


@dataclass(frozen=True, slots=True)
class Profile:
    """What Telegram tells about a person on every update."""

    user_id: int
    first_name: str
    username: str | None
    language_code: str | None


async def identify(
    uow: UnitOfWork, clock: Clock, profile: Profile, admin_ids: Collection[int]
) -> Actor:
    """Resolve the role of the person behind an update. Admins from settings are enrolled on
    their first update; nothing is stored about anybody else until they join or consent."""
    async with uow:
        member = await uow.staff.get(profile.user_id)
        stored = dataclasses.replace(member) if member is not None else None
        if profile.user_id in admin_ids:
            if member is None:
                member = _new_member(profile, Role.ADMIN, clock.now())
            elif member.role is not Role.ADMIN or not member.is_active:
                member.role = Role.ADMIN
                member.is_active = True
                member.deactivated_at = None
        if member is not None and member.is_active and not member.is_reachable:
            member.is_reachable = True  # writing to the bot again: they unblocked it
        if member is None or not member.is_active:
            return Actor(
                profile.user_id,
                Role.LEAD,
                profile.first_name,
                profile.username,
                profile.language_code,
            )
        _refresh_profile(member, profile)
        if stored is None:
            await uow.staff.add(member)
            await uow.commit()
        elif member != stored:
            await uow.staff.save(member)
            await uow.commit()
        return Actor(
            profile.user_id,
            member.role,
            member.first_name,
            member.username,
            member.language_code,
            member.timezone,
        )


@dataclass(frozen=True, slots=True)
class IssuedInvite:
    token: str
    role: Role
    expires_at: dt.datetime


async def create_invite(
    uow: UnitOfWork, clock: Clock, actor: Actor, role: Role, label: str, ttl: dt.timedelta
) -> IssuedInvite:
    require(actor.role, Action.CREATE_INVITE)
    async with uow:
        token, invite = new_invite(role, actor.user_id, clock.now(), ttl=ttl, label=label)
        uow.invites.add(invite)
        await uow.commit()
    return IssuedInvite(token=token, role=role, expires_at=invite.expires_at)


async def join_by_invite(
    uow: UnitOfWork, clock: Clock, profile: Profile, token: str, pipeline_ids: Sequence[str]
) -> Role:
    """Redeem a one-time invite; the person becomes staff with the invite's role. A new manager
    serves every pipeline until an admin says otherwise."""
    async with uow:
        invite = await uow.invites.get_by_hash(hash_token(token))
        if invite is None:
            raise InviteInvalid("unknown")
        now = clock.now()
        member = await uow.staff.get(profile.user_id)
        if member is not None and member.is_active:
            raise StaffError("already_staff")
        used = redeem(invite, profile.user_id, now)
        if not await uow.invites.mark_used(used):
            raise InviteInvalid("used")
        if member is None:
            await uow.staff.add(_new_member(profile, used.role, now))
        else:
            member.role = used.role
            member.is_active = True
            member.is_reachable = True
            member.deactivated_at = None
            member.joined_at = now
            _refresh_profile(member, profile)
            await uow.staff.save(member)
        if used.role is Role.MANAGER:
            await uow.staff.set_pipelines(profile.user_id, pipeline_ids)
        await uow.commit()
        return used.role


@dataclass(frozen=True, slots=True)
class Team:
    members: Sequence[StaffMember]
    pending_invites: Sequence[Invite]
    open_deals: dict[int, int]
    """Open deals per member who has any."""
    former_with_deals: Sequence[StaffMember]
    """Deactivated people who still hold open deals: someone must take those over."""


async def team(uow: UnitOfWork, clock: Clock, actor: Actor) -> Team:
    require(actor.role, Action.VIEW_TEAM)
    async with uow:
        members = await uow.staff.members(active_only=True)
        open_deals = await uow.deals.open_counts_by_manager()
        active_ids = {member.telegram_id for member in members}
        former = [
            member
            for member_id in sorted(open_deals.keys() - active_ids)
            if (member := await uow.staff.get(member_id)) is not None
        ]
        return Team(
            members=members,
            pending_invites=await uow.invites.pending(clock.now()),
            open_deals=open_deals,
            former_with_deals=former,
        )


async def deactivate(
    uow: UnitOfWork, clock: Clock, actor: Actor, target_id: int, admin_ids: Collection[int]
) -> StaffMember:
    """Take a person's staff role away. Admins named in settings cannot be deactivated from the
    bot (they would be re-enrolled on their next message anyway), nor can one deactivate oneself."""
    require(actor.role, Action.DEACTIVATE_STAFF)
    if target_id == actor.user_id:
        raise StaffError("cannot_deactivate_self")
    if target_id in admin_ids:
        raise StaffError("cannot_deactivate_owner")
    async with uow:
        member = await uow.staff.get(target_id)
        if member is None or not member.is_active:
            raise StaffError("not_staff")
        if member.role is Role.ADMIN and actor.role is not Role.ADMIN:
            raise PermissionDenied(Action.DEACTIVATE_STAFF, actor.role)
        member.is_active = False
        member.deactivated_at = clock.now()
        await uow.staff.save(member)
        await uow.commit()
        return member


def personal_zone(name: str | None, team_zone: ZoneInfo) -> ZoneInfo:
    """A staff member's own time zone (`/timezone`), the team's when they chose none or the
    stored name is no longer in the zone database."""
    try:
        return ZoneInfo(name) if name else team_zone
    except (ZoneInfoNotFoundError, ValueError):
        return team_zone


def zone_of(actor: Actor, team_zone: str) -> ZoneInfo:
    """Where a person reads and types times (a card's deadline, "напомни завтра в 11"): their
    own zone, else the team's."""
    return personal_zone(actor.timezone, ZoneInfo(team_zone))


async def time_zone(uow: UnitOfWork, actor: Actor) -> str | None:
    """The person's own time zone (None: the team's)."""
    async with uow:
        member = await uow.staff.get(actor.user_id)
        return member.timezone if member else None


async def set_time_zone(uow: UnitOfWork, actor: Actor, zone: str | None) -> str | None:
    """Keep a staff member's time zone (an IANA name; None: the team's): their morning digest or
    nudge arrives in it, and the times they read and type are in it. Raises
    StaffError("unknown_zone") for a name the zone database lacks."""
    require(actor.role, Action.VIEW_OWN_DEALS)
    if zone is not None:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise StaffError("unknown_zone") from None
    async with uow:
        member = await uow.staff.get(actor.user_id)
        if member is None:
            raise StaffError("not_staff")
        member.timezone = zone
        await uow.staff.save(member)
        await uow.commit()
    return zone


async def staff_members(uow: UnitOfWork) -> list[tuple[int, Role, str | None]]:
    """Every active staff member: id, role and language (for the command menus at start)."""
    async with uow:
        return [
            (m.telegram_id, m.role, m.language_code)
            for m in await uow.staff.members(active_only=True)
        ]


async def member_name(uow: UnitOfWork, staff_id: int) -> str:
    """How colleagues call someone in messages: their first name (or their id)."""
    async with uow:
        member = await uow.staff.get(staff_id)
    return member.first_name if member and member.first_name else str(staff_id)


def _new_member(profile: Profile, role: Role, now: dt.datetime) -> StaffMember:
    return StaffMember(
        telegram_id=profile.user_id,
        role=role,
        first_name=profile.first_name,
        username=profile.username,
        language_code=profile.language_code,
        is_active=True,
        is_reachable=True,
        joined_at=now,
    )


def _refresh_profile(member: StaffMember, profile: Profile) -> None:
    if member.first_name != profile.first_name:
        member.first_name = profile.first_name
    if member.username != profile.username:
        member.username = profile.username
    if profile.language_code and member.language_code != profile.language_code:
        member.language_code = profile.language_code
