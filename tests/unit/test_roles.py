from __future__ import annotations

import itertools

import pytest

from domain.errors import PermissionDenied
from domain.roles import PERMISSIONS, Action, Role, can, least_role, require

STAFF_ADMIN = {Action.CREATE_INVITE, Action.DEACTIVATE_STAFF}


def test_admin_can_do_everything() -> None:
    assert all(can(Role.ADMIN, action) for action in Action)


def test_supervisor_can_do_everything_but_staff_administration() -> None:
    for action in Action:
        assert can(Role.SUPERVISOR, action) == (action not in STAFF_ADMIN)


def test_manager_works_own_deals_only() -> None:
    assert can(Role.MANAGER, Action.VIEW_OWN_DEALS)
    assert can(Role.MANAGER, Action.UPDATE_OWN_DEALS)
    for action in (
        Action.VIEW_ALL_DEALS,
        Action.UPDATE_ANY_DEAL,
        Action.OVERRIDE_EXIT_CRITERIA,
        Action.REASSIGN,
        Action.REOPEN_DEAL,
        Action.RECEIVE_DIGEST,
        Action.CREATE_INVITE,
    ):
        assert not can(Role.MANAGER, action)


@pytest.mark.parametrize("role", [Role.LEAD, None])
def test_leads_and_strangers_have_no_staff_powers(role: Role | None) -> None:
    assert not any(can(role, action) for action in Action)


def test_more_privileged_roles_can_do_at_least_as_much() -> None:
    ordered = sorted(Role, key=lambda role: role.rank)
    for lower, higher in itertools.pairwise(ordered):
        assert PERMISSIONS[lower] <= PERMISSIONS[higher]
        assert higher.is_at_least(lower)
        assert not lower.is_at_least(higher)


def test_require_raises_with_action_and_role() -> None:
    require(Role.SUPERVISOR, Action.REASSIGN)
    with pytest.raises(PermissionDenied) as raised:
        require(Role.MANAGER, Action.REASSIGN)
    assert (raised.value.action, raised.value.role) == (Action.REASSIGN, Role.MANAGER)


def test_roles_are_stable_strings_for_storage() -> None:
    assert [role.value for role in Role] == ["lead", "manager", "supervisor", "admin"]
    assert Role("supervisor") is Role.SUPERVISOR
    assert Role.LEAD.is_staff is False
    assert Role.MANAGER.is_staff is True


def test_the_least_role_that_may_act_is_named_for_a_refusal() -> None:
    assert least_role(Action.VIEW_SCRIPTS) is Role.MANAGER
    assert least_role(Action.RECEIVE_DIGEST) is Role.SUPERVISOR
    assert least_role(Action.CREATE_INVITE) is Role.ADMIN
