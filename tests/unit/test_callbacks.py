"""Callback data stays within Telegram's 64 bytes even in the worst case."""

from __future__ import annotations

from bot.telegram.callbacks import (
    BookPipeline,
    CardAction,
    Consent,
    DealAction,
    DealActionKind,
    DealCard,
    DealsPage,
    ForgetMe,
    ForgetStep,
    Handover,
    InviteCancel,
    InviteRole,
    MergeStep,
    ReminderAction,
    ReminderStep,
    ReportExport,
    ReportPeriod,
    SamePhoneMerge,
    ScriptFeedback,
    ScriptOpen,
    TeamAction,
    TeamMember,
)
from domain.roles import Role

TELEGRAM_CALLBACK_LIMIT = 64
LARGEST_TELEGRAM_ID = 2**52  # Telegram promises ids fit in 52 bits
LARGEST_DEAL_ID = 10**9


def test_the_longest_callback_data_fits() -> None:
    worst = [
        InviteRole(role=Role.SUPERVISOR).pack(),
        InviteCancel().pack(),
        BookPipeline(pipeline_id="p" * 32).pack(),  # ids are at most 32 characters
        *(TeamMember(action=a, staff_id=-LARGEST_TELEGRAM_ID).pack() for a in TeamAction),
        Consent(accept=False, source=999).pack(),
        *(ForgetMe(step=step).pack() for step in ForgetStep),
        *(DealAction(action=a, deal_id=LARGEST_DEAL_ID).pack() for a in DealActionKind),
        DealsPage(
            page=9999, stage="s" * 32, overdue=True, manager=LARGEST_TELEGRAM_ID, pick="m"
        ).pack(),
        *(
            DealCard(
                deal_id=LARGEST_DEAL_ID,
                action=action,
                ticked=2**10 - 1,  # ten exit criteria, all ticked
                arg="q" * 32 + ".9",  # a question id and an option: the longest argument
            ).pack()
            for action in CardAction
        ),
        DealCard(
            deal_id=LARGEST_DEAL_ID,
            action=CardAction.REASSIGN,
            ticked=2**10 - 1,
            arg=str(-LARGEST_TELEGRAM_ID),  # a manager's id
        ).pack(),
        Handover(from_id=-LARGEST_TELEGRAM_ID, to_id=-LARGEST_TELEGRAM_ID, confirmed=True).pack(),
        *(ReminderAction(reminder_id=10**12, step=step).pack() for step in ReminderStep),
        ScriptOpen(objection_id="o" * 32, deal_id=LARGEST_DEAL_ID).pack(),
        ScriptFeedback(use_id=10**12, helped=False).pack(),
        ReportPeriod(name="last_month").pack(),
        ReportExport(start=2**40, end=2**40).pack(),  # far beyond any date of this century
        *(SamePhoneMerge(deal_id=LARGEST_DEAL_ID, step=step).pack() for step in MergeStep),
    ]
    for data in worst:
        assert len(data.encode()) <= TELEGRAM_CALLBACK_LIMIT, data


def test_callback_data_round_trips() -> None:
    packed = TeamMember(action=TeamAction.CONFIRM_DEACTIVATE, staff_id=123).pack()
    assert TeamMember.unpack(packed) == TeamMember(
        action=TeamAction.CONFIRM_DEACTIVATE, staff_id=123
    )
