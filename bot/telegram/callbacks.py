"""Callback data factories. Every field is small (ids, enums), never free text, so packed data
stays under Telegram's 64 bytes; buttons can be forged, so handlers re-check everything."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

from domain.roles import Role

INT64 = (-(2**63), 2**63 - 1)
Number = Annotated[int, Field(ge=INT64[0], le=INT64[1])]
"""A number a database column holds: a forged button's twenty-digit id fails to unpack, so no
handler takes it (the stale-button answer does), instead of reaching SQL."""


def number_arg(text: str) -> int:
    """A number carried in a button's free-text argument, held to what `Number` allows;
    ValueError otherwise."""
    value = int(text)
    if not INT64[0] <= value <= INT64[1]:
        raise ValueError(text)
    return value


class InviteRole(CallbackData, prefix="inv"):
    role: Role


class InviteCancel(CallbackData, prefix="invx"):
    pass


class TeamAction(StrEnum):
    ASK_DEACTIVATE = "ask"
    CONFIRM_DEACTIVATE = "yes"
    KEEP = "no"


class TeamPage(CallbackData, prefix="tpg"):
    page: Number


class TeamMember(CallbackData, prefix="team"):
    action: TeamAction
    staff_id: Number


class ReminderStep(StrEnum):
    MOVE = "mv"
    CANCEL = "x"


class ReminderAction(CallbackData, prefix="rem"):
    reminder_id: Number
    step: ReminderStep


class ReportPeriod(CallbackData, prefix="rp"):
    name: str
    """One of `domain.kpi.NAMED_PERIODS`, "custom" to type the dates, or "pick" to choose
    again (the button under a report)."""


class ReportExport(CallbackData, prefix="rx"):
    """The report's period as UTC seconds since the epoch, [start, end)."""

    start: Number
    end: Number


class DrillKind(StrEnum):
    MANAGERS = "t"
    MANAGER = "m"
    PIPELINE = "p"
    SOURCES = "s"
    """The unit economics per lead source."""


class DigestDrill(CallbackData, prefix="dd"):
    """From the digest into the team's managers, one manager, or one pipeline."""

    kind: DrillKind
    key: Number = 0
    """The manager's Telegram id, or the pipeline's position in the sales book."""


class ReportSources(CallbackData, prefix="rs"):
    """The unit economics per lead source for a report's period, as UTC seconds since the
    epoch, [start, end)."""

    start: Number
    end: Number


class SpendPick(CallbackData, prefix="sp"):
    """/spend: a lead source and a month to enter the spend for."""

    source: Number = -1
    """The source's position in the sales book; -1 for the list of sources."""
    month: Number = 0
    """The month as YYYYMM (202603); 0 to pick the month."""


class StaffZone(CallbackData, prefix="tz"):
    index: Number
    """Position in `bot.handlers.profile.ZONES`; -1 for the team's time zone."""


class Handover(CallbackData, prefix="ho"):
    """All open deals of one manager to another, from /team: pick (to_id 0, a page of the
    colleagues), confirm, do."""

    from_id: Number
    to_id: Number = 0
    confirmed: bool = False
    page: Number = 0


class BookPipeline(CallbackData, prefix="book"):
    pipeline_id: str


class Consent(CallbackData, prefix="consent"):
    accept: bool
    source: Number
    """Index of the lead source in the sales book, -1 for unknown: nothing about the person is
    stored before they consent, so the source travels in the button."""


class ForgetStep(StrEnum):
    ASK = "ask"
    CONFIRM = "yes"
    KEEP = "no"


class ForgetMe(CallbackData, prefix="forget"):
    step: ForgetStep


class DealActionKind(StrEnum):
    TAKE = "take"
    WRITE = "write"


class DealAction(CallbackData, prefix="deal"):
    action: DealActionKind
    deal_id: Number


class MergeStep(StrEnum):
    ASK = "ask"
    CONFIRM = "yes"
    KEEP = "no"


class SamePhoneMerge(CallbackData, prefix="sph"):
    """A request that typed another client's phone: merge the two clients, after a look at
    both chats."""

    deal_id: Number
    step: MergeStep


class DealsPage(CallbackData, prefix="dl"):
    page: Number = 0
    stage: str = ""
    """A stage id to filter by, "" for every stage."""
    overdue: bool = False
    manager: Number = 0
    """A supervisor's filter by manager, 0 for everyone."""
    pick: str = ""
    """"s" (stage) or "m" (manager): show the choices for that filter instead of the list."""


class CardAction(StrEnum):
    VIEW = "v"
    ADVANCE = "adv"
    TICK = "tick"
    CONFIRM_ADVANCE = "go"
    BACK = "back"
    BACK_TO = "to"
    ACTIVITY = "act"
    WON = "won"
    LOST = "lost"
    LOST_REASON = "why"
    QUALIFY = "q"
    SCRIPTS = "s"
    OVERRIDE = "ovr"
    """A supervisor moves the deal on despite unticked criteria (asks why)."""
    REOPEN = "ro"
    REASSIGN = "ra"
    """Without `arg`: pick the manager; with a manager's id in `arg`: hand the deal over."""
    REMIND = "rm"
    SNOOZE = "zz"
    WAKE = "wk"
    AMOUNT = "amt"
    """Asks the expected amount of an open deal (the forecast weighs it by the stage)."""


class DealCard(CallbackData, prefix="dc"):
    deal_id: Number
    action: CardAction = CardAction.VIEW
    ticked: Number = 0
    """Ticked exit criteria as a bit mask (criterion i is bit i)."""
    arg: str = ""
    """A stage id, an activity kind, a lost reason id or a manager's id, depending on the
    action (REASSIGN: "p2" shows the third page of the managers to pick from)."""


class TrainingStart(CallbackData, prefix="tr"):
    """Start (or start over) /training on a fresh sandbox deal."""

    again: bool = False


class MyPerson(CallbackData, prefix="my"):
    """A supervisor opens one manager's month from the team's table."""

    staff_id: Number


class ProposalStep(StrEnum):
    OPEN = "o"
    """Ask the missing figures, then show the PDF."""
    SEND = "s"
    """Send the previewed PDF to the client."""
    REDO = "r"
    """Forget the figures and ask them again."""


class ProposalAction(CallbackData, prefix="kp"):
    deal_id: Number
    step: ProposalStep = ProposalStep.OPEN


class ScriptOpen(CallbackData, prefix="so"):
    objection_id: str
    deal_id: Number = 0
    """The deal the script is used on, 0 when opened from /scripts."""


class ScriptFeedback(CallbackData, prefix="sf"):
    use_id: Number
    helped: bool


class BusinessChatAnswer(StrEnum):
    MAKE_DEAL = "deal"
    NOT_A_CLIENT = "no"


class BusinessChatAction(CallbackData, prefix="bz"):
    """The manager's answer to "a new client in your Telegram: make a deal?"."""

    chat_id: Number
    answer: BusinessChatAnswer
