"""Roles and what each may do.

The table is the single answer to "may this person do that kind of thing?"; `may_see` and
`may_change` are the single answer for one deal: one's own deal, or the team's, and a /training
deal for its trainee alone. Every face asks them through `services.access.load_deal`, because
a button's deal id comes from the client and can be forged.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from domain.errors import PermissionDenied


class Role(StrEnum):
    LEAD = "lead"
    MANAGER = "manager"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"

    # `<` on a StrEnum compares the strings ("admin" < "lead"), so privilege has its own name.
    @property
    def rank(self) -> int:
        return _RANKS[self]

    def is_at_least(self, other: Role) -> bool:
        return self.rank >= other.rank

    @property
    def is_staff(self) -> bool:
        return self is not Role.LEAD


_RANKS = {Role.LEAD: 0, Role.MANAGER: 1, Role.SUPERVISOR: 2, Role.ADMIN: 3}


class Action(StrEnum):
    # Own work (managers).
    VIEW_OWN_DEALS = "view_own_deals"
    UPDATE_OWN_DEALS = "update_own_deals"
    """Move stages, qualify, log calls, close won/lost, message the lead."""
    CLAIM_LEAD = "claim_lead"
    """Take an unassigned lead from the queue."""
    VIEW_SCRIPTS = "view_scripts"
    # The team's work (supervisors).
    VIEW_ALL_DEALS = "view_all_deals"
    UPDATE_ANY_DEAL = "update_any_deal"
    OVERRIDE_EXIT_CRITERIA = "override_exit_criteria"
    REASSIGN = "reassign"
    REOPEN_DEAL = "reopen_deal"
    VIEW_TEAM = "view_team"
    VIEW_REPORTS = "view_reports"
    EXPORT_REPORTS = "export_reports"
    RECEIVE_DIGEST = "receive_digest"
    RECEIVE_SLA_ESCALATIONS = "receive_sla_escalations"
    ENTER_MARKETING_SPEND = "enter_marketing_spend"
    """Enter what each lead source cost a month (/spend), for the unit economics."""
    # Staff administration (admins).
    CREATE_INVITE = "create_invite"
    DEACTIVATE_STAFF = "deactivate_staff"


_MANAGER_ACTIONS = frozenset(
    {Action.VIEW_OWN_DEALS, Action.UPDATE_OWN_DEALS, Action.CLAIM_LEAD, Action.VIEW_SCRIPTS}
)
_STAFF_ADMIN_ACTIONS = frozenset({Action.CREATE_INVITE, Action.DEACTIVATE_STAFF})

PERMISSIONS: dict[Role, frozenset[Action]] = {
    # Leads talk to the company; they have no staff powers at all.
    Role.LEAD: frozenset(),
    Role.MANAGER: _MANAGER_ACTIONS,
    # Supervisors run the deals of the whole team but do not hire or fire.
    Role.SUPERVISOR: frozenset(Action) - _STAFF_ADMIN_ACTIONS,
    Role.ADMIN: frozenset(Action),
}


def can(role: Role | None, action: Action) -> bool:
    """None stands for a user without any role (a stranger who is not even a lead yet)."""
    if role is None:
        return False
    return action in PERMISSIONS[role]


def least_role(action: Action) -> Role | None:
    """The lowest role that may do `action` (None: nobody may), for telling someone refused
    who could."""
    allowed = [role for role in Role if action in PERMISSIONS[role]]
    return min(allowed, key=lambda role: role.rank, default=None)


def require(role: Role | None, action: Action) -> None:
    if not can(role, action):
        raise PermissionDenied(action, role)


class DealAccess(Protocol):
    """What the access rule needs to know about a deal."""

    @property
    def manager_id(self) -> int | None: ...

    @property
    def is_sandbox(self) -> bool: ...


def is_hidden_from(deal: DealAccess, person_id: int) -> bool:
    """A /training deal is its trainee's alone: to anyone else it does not exist."""
    return deal.is_sandbox and deal.manager_id != person_id


def deal_action(deal: DealAccess, person_id: int, *, write: bool) -> Action:
    """What seeing (or changing) this deal takes: one's own deal is a manager's work, anyone
    else's is the team's (a supervisor's)."""
    own = deal.manager_id == person_id
    if write:
        return Action.UPDATE_OWN_DEALS if own else Action.UPDATE_ANY_DEAL
    return Action.VIEW_OWN_DEALS if own else Action.VIEW_ALL_DEALS


def may_see(role: Role | None, person_id: int, deal: DealAccess) -> bool:
    return not is_hidden_from(deal, person_id) and can(
        role, deal_action(deal, person_id, write=False)
    )


def may_change(role: Role | None, person_id: int, deal: DealAccess) -> bool:
    return not is_hidden_from(deal, person_id) and can(
        role, deal_action(deal, person_id, write=True)
    )
