from __future__ import annotations

import dataclasses
import datetime as dt
import re

import pytest

from domain import sales_book
from domain.errors import InviteInvalid, InviteRoleNotAllowed
from domain.invites import (
    DEFAULT_INVITE_TTL,
    INVITE_PREFIX,
    hash_token,
    is_invite_payload,
    new_invite,
    redeem,
)
from domain.roles import Role

NOW = dt.datetime(2026, 5, 22, 9, 0, tzinfo=dt.UTC)
ADMIN_ID = 111
NEW_MANAGER_ID = 222

# Telegram accepts at most 64 characters of this alphabet after ?start=.
START_PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def test_token_fits_a_telegram_start_payload() -> None:
    for _ in range(50):
        token, _invite = new_invite(Role.MANAGER, ADMIN_ID, NOW)
        assert START_PAYLOAD.fullmatch(token)
        assert token.startswith(INVITE_PREFIX)
        assert is_invite_payload(token)


def test_tokens_are_unique() -> None:
    tokens = {new_invite(Role.MANAGER, ADMIN_ID, NOW)[0] for _ in range(200)}
    assert len(tokens) == 200


def test_only_the_hash_is_stored() -> None:
    token, invite = new_invite(Role.SUPERVISOR, ADMIN_ID, NOW, label="Ivan")
    assert invite.token_hash == hash_token(token)
    assert re.fullmatch(r"[0-9a-f]{64}", invite.token_hash)
    assert token not in repr(invite)
    assert (invite.role, invite.created_by, invite.label) == (Role.SUPERVISOR, ADMIN_ID, "Ivan")
    assert invite.created_at == NOW
    assert invite.expires_at == NOW + DEFAULT_INVITE_TTL
    assert (invite.used_by, invite.used_at) == (None, None)


def test_lead_sources_are_not_invite_payloads() -> None:
    assert not is_invite_payload("ads_vk")
    assert not is_invite_payload("")


def test_the_sales_book_reserves_the_invite_prefix_for_invites() -> None:
    assert sales_book.RESERVED_SOURCE_PREFIX == INVITE_PREFIX


@pytest.mark.parametrize("role", [Role.ADMIN, Role.LEAD])
def test_only_managers_and_supervisors_are_invited(role: Role) -> None:
    with pytest.raises(InviteRoleNotAllowed):
        new_invite(role, ADMIN_ID, NOW)


def test_ttl_must_be_positive() -> None:
    with pytest.raises(ValueError):
        new_invite(Role.MANAGER, ADMIN_ID, NOW, ttl=dt.timedelta(0))


def test_redeeming_marks_the_invite_used() -> None:
    _token, invite = new_invite(Role.MANAGER, ADMIN_ID, NOW)
    used_at = NOW + dt.timedelta(hours=3)
    used = redeem(invite, NEW_MANAGER_ID, used_at)
    assert (used.used_by, used.used_at) == (NEW_MANAGER_ID, used_at)
    assert dataclasses.replace(used, used_by=None, used_at=None) == invite
    assert invite.used_by is None  # the original is untouched


def test_an_invite_works_once() -> None:
    _token, invite = new_invite(Role.MANAGER, ADMIN_ID, NOW)
    used = redeem(invite, NEW_MANAGER_ID, NOW)
    with pytest.raises(InviteInvalid) as raised:
        redeem(used, 333, NOW)
    assert raised.value.reason == "used"


def test_an_invite_expires_at_its_expiry_instant() -> None:
    _token, invite = new_invite(Role.MANAGER, ADMIN_ID, NOW, ttl=dt.timedelta(days=1))
    redeem(invite, NEW_MANAGER_ID, invite.expires_at - dt.timedelta(microseconds=1))
    with pytest.raises(InviteInvalid) as raised:
        redeem(invite, NEW_MANAGER_ID, invite.expires_at)
    assert raised.value.reason == "expired"


def test_a_used_and_expired_invite_reports_used() -> None:
    _token, invite = new_invite(Role.MANAGER, ADMIN_ID, NOW)
    used = redeem(invite, NEW_MANAGER_ID, NOW)
    with pytest.raises(InviteInvalid) as raised:
        redeem(used, 333, NOW + dt.timedelta(days=30))
    assert raised.value.reason == "used"


def test_naive_times_are_rejected() -> None:
    with pytest.raises(ValueError):
        new_invite(Role.MANAGER, ADMIN_ID, dt.datetime(2026, 5, 22, 9, 0))
