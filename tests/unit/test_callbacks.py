"""Callback data stays within Telegram's 64 bytes even in the worst case."""

from __future__ import annotations

from bot.callbacks import BookPipeline, InviteCancel, InviteRole, TeamAction, TeamMember
from domain.roles import Role

TELEGRAM_CALLBACK_LIMIT = 64
LARGEST_TELEGRAM_ID = 2**52  # Telegram promises ids fit in 52 bits


def test_the_longest_callback_data_fits() -> None:
    worst = [
        InviteRole(role=Role.SUPERVISOR).pack(),
        InviteCancel().pack(),
        BookPipeline(pipeline_id="p" * 32).pack(),  # ids are at most 32 characters
        *(TeamMember(action=a, staff_id=-LARGEST_TELEGRAM_ID).pack() for a in TeamAction),
    ]
    for data in worst:
        assert len(data.encode()) <= TELEGRAM_CALLBACK_LIMIT, data


def test_callback_data_round_trips() -> None:
    packed = TeamMember(action=TeamAction.CONFIRM_DEACTIVATE, staff_id=123).pack()
    assert TeamMember.unpack(packed) == TeamMember(
        action=TeamAction.CONFIRM_DEACTIVATE, staff_id=123
    )
