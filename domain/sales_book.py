"""The sales book: the company's sales methodology as validated data.

One YAML file describes products, segments, pipelines and their stages, the working calendar,
qualification frameworks, lost reasons, the plan and the digest. This module holds the pydantic
models and `parse_sales_book`, which turns YAML text into a `SalesBook` or raises
`SalesBookError` naming the field path (and line) of every mistake. Reading the file is the
caller's job: the domain does no I/O.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import re
import types
import zoneinfo
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal, Self, Union, get_args, get_origin

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

DEFAULT_SALES_BOOK_PATH = Path(__file__).resolve().parent.parent / "sales_books" / "default.yaml"
"""The bundled default sales book; the admin copies it and points the bot to the copy."""

RESERVED_SOURCE_PREFIX = "inv_"
"""Deep-link payloads starting with this are staff invitations, so no lead source may use it."""

KNOWN_KPIS: tuple[str, ...] = (
    "new_leads",
    "key_stage_conversion",
    "average_deal",
    "sales_cycle",
    "plan_fulfilment",
)
"""KPI ids the digest knows how to compute; `SalesBook.kpis` picks from these."""

TELEGRAM_MESSAGE_LIMIT = 4096

ID_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"
SOURCE_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
"""Telegram's deep-link payload alphabet and length, so a source id fits in `?start=`."""
CURRENCY_PATTERN = r"^[A-Z]{3}$"
TELEGRAM_ID_PATTERN = re.compile(r"^[1-9][0-9]{0,19}$")

Identifier = Annotated[str, Field(pattern=ID_PATTERN)]
"""Ids are short, lowercase and stable: they are stored in the database and in callback data."""

Share = Annotated[float, Field(ge=0, le=1)]

NonEmptyText = Annotated[str, Field(min_length=1)]

Loc = tuple[str | int, ...]

_CLOCK_TIME = re.compile(r"^([01]?[0-9]|2[0-3]):([0-5][0-9])(?::([0-5][0-9]))?$")


def _clock_time(value: object) -> object:
    # pydantic alone would read an integer as seconds after midnight and accept "09:00+03:00";
    # a sales book means a local wall-clock time, written as text.
    if isinstance(value, dt.time):
        if value.tzinfo is not None:
            raise ValueError('must be a local time without a time zone, like "09:00"')
        return value
    if isinstance(value, str):
        match = _CLOCK_TIME.match(value.strip())
        if match:
            hours, minutes, seconds = match.groups()
            return dt.time(int(hours), int(minutes), int(seconds or 0))
    raise ValueError(f'must be a time of day like "09:00" (got {_show(value)})')


ClockTime = Annotated[dt.time, BeforeValidator(_clock_time)]


class BookProblems(ValueError):
    """Several problems found at once, each at a location relative to the model that found it.

    pydantic keeps the raised exception in the error context, so `parse_sales_book` can join
    the model's own location with each relative one and point at the exact field and line.
    """

    def __init__(self, problems: Sequence[tuple[Loc, str]]) -> None:
        self.problems = list(problems)
        super().__init__(
            "; ".join(
                f"{_plain_path(loc)}: {message}" if loc else message
                for loc, message in self.problems
            )
        )


def _plain_path(loc: Loc) -> str:
    path = ""
    for element in loc:
        if isinstance(element, int):
            path += f"[{element}]"
        else:
            path += f".{element}" if path else element
    return path


def _duplicate_ids(field: str, ids: Sequence[str], what: str = "id") -> list[tuple[Loc, str]]:
    first_index: dict[str, int] = {}
    problems: list[tuple[Loc, str]] = []
    for index, item_id in enumerate(ids):
        if item_id in first_index:
            problems.append(
                (
                    (field, index, what),
                    f"duplicate {what} {item_id!r}: {field}[{first_index[item_id]}] already "
                    f"uses it, and {what}s must be unique within {field}",
                )
            )
        else:
            first_index[item_id] = index
    return problems


@functools.cache
def _holiday_countries() -> frozenset[str]:
    import holidays  # imported with the first book read, not with every module that names a type

    return frozenset(holidays.list_supported_countries())


class BookModel(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, str_strip_whitespace=True, allow_inf_nan=False
    )


class Product(BookModel):
    id: Identifier
    name: str = Field(min_length=1)


ActivityKindName = Literal["call", "meeting", "note", "proposal"]
"""The activities a manager logs on a deal (`services.workspace.ActivityKind`)."""


class Segment(BookModel):
    id: Identifier
    name: str = Field(min_length=1)


class Stage(BookModel):
    id: Identifier
    name: str = Field(min_length=1)
    goal: str = ""
    exit_criteria: list[NonEmptyText] = Field(min_length=1)
    target_conversion: Share
    """Share of deals expected to move from this stage to the next (for the last stage: the
    share of won deals that are handed over)."""
    sla_hours: float = Field(gt=0)
    """Maximum time in this stage, counted in working hours."""
    probability: Share
    """Win probability of a deal in this stage, for the weighted forecast."""
    ticked_by: dict[ActivityKindName, NonEmptyText] = {}
    """Exit criteria an activity logged in this stage ticks by itself: {"proposal": "КП
    отправлено клиенту"} ticks that criterion once a proposal has been sent from the bot."""

    @model_validator(mode="after")
    def _check_ticked_by(self) -> Self:
        problems: list[tuple[Loc, str]] = [
            (
                ("ticked_by", kind),
                f"must be one of this stage's exit criteria, word for word, got {criterion!r}",
            )
            for kind, criterion in self.ticked_by.items()
            if criterion not in self.exit_criteria
        ]
        if problems:
            raise BookProblems(problems)
        return self


class Pipeline(BookModel):
    id: Identifier
    name: str = Field(min_length=1)
    product: Identifier
    segment: Identifier
    stages: list[Stage] = Field(min_length=2)
    key_stage: Identifier
    framework: Identifier | None = None
    """Id of the qualification framework for this pipeline's leads; None means the book's
    first framework (see `SalesBook.framework_for`)."""

    @model_validator(mode="after")
    def _check_stages(self) -> Self:
        stage_ids = [stage.id for stage in self.stages]
        problems = _duplicate_ids("stages", stage_ids)
        if self.key_stage not in stage_ids:
            problems.append(
                (
                    ("key_stage",),
                    f"must be the id of one of this pipeline's stages ({', '.join(stage_ids)}), "
                    f"got {self.key_stage!r}",
                )
            )
        for index in range(1, len(self.stages)):
            previous, stage = self.stages[index - 1], self.stages[index]
            if stage.probability < previous.probability:
                problems.append(
                    (
                        ("stages", index, "probability"),
                        f"must not be lower than the previous stage's probability "
                        f"({previous.id}: {previous.probability}), because a later stage is "
                        f"not less likely to be won (got {stage.probability})",
                    )
                )
        if problems:
            raise BookProblems(problems)
        return self

    def stage(self, stage_id: str) -> Stage:
        for stage in self.stages:
            if stage.id == stage_id:
                return stage
        raise KeyError(stage_id)

    def stage_index(self, stage_id: str) -> int:
        for index, stage in enumerate(self.stages):
            if stage.id == stage_id:
                return index
        raise KeyError(stage_id)

    def next_stage(self, stage_id: str) -> Stage | None:
        """The stage after `stage_id`, or None after the last one."""
        index = self.stage_index(stage_id) + 1
        return self.stages[index] if index < len(self.stages) else None


class WorkingHours(BookModel):
    timezone: str
    start: ClockTime
    end: ClockTime
    weekdays: list[Annotated[int, Field(ge=1, le=7)]] = Field(min_length=1)
    """ISO weekdays that are working days: 1 is Monday, 7 is Sunday."""
    holidays_country: str | None = "RU"
    """Public holidays of this country (the `holidays` package) are days off."""
    extra_days_off: list[dt.date] = []
    extra_working_days: list[dt.date] = []
    """Transferred working days (e.g. a Saturday that is worked), which override days off."""

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
            if not zoneinfo.available_timezones():
                raise ValueError(
                    f"cannot check time zone {value!r}: this system has no time zone "
                    "database (install the tzdata package)"
                ) from None
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name such as Europe/Moscow, "
                "Europe/Kaliningrad or Asia/Yekaterinburg"
            ) from None
        return value

    @field_validator("holidays_country")
    @classmethod
    def _known_country(cls, value: str | None) -> str | None:
        if value is None or value in _holiday_countries():
            return value
        hint = (
            f" (country codes are in capitals: {value.upper()!r})"
            if value.upper() in _holiday_countries()
            else ""
        )
        raise ValueError(
            f"unknown country {value!r} for public holidays{hint}; use a country code such as "
            "RU, BY or KZ, or null for no public holidays"
        )

    @model_validator(mode="after")
    def _check_calendar(self) -> Self:
        problems: list[tuple[Loc, str]] = []
        if self.start >= self.end:
            problems.append(
                (
                    ("end",),
                    f"must be later than start ({self.start:%H:%M}); got {self.end:%H:%M} "
                    "(a working day cannot cross midnight)",
                )
            )
        seen: set[int] = set()
        for index, day in enumerate(self.weekdays):
            if day in seen:
                problems.append((("weekdays", index), f"day {day} is listed twice"))
            seen.add(day)
        days_off = set(self.extra_days_off)
        for index, date in enumerate(self.extra_working_days):
            if date in days_off:
                problems.append(
                    (
                        ("extra_working_days", index),
                        f"{date.isoformat()} is also in extra_days_off; a day cannot be both",
                    )
                )
        if problems:
            raise BookProblems(problems)
        return self

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


class AnswerOption(BookModel):
    text: str = Field(min_length=1)
    points: int = Field(ge=0)


class Question(BookModel):
    id: Identifier
    text: str = Field(min_length=1)
    options: list[AnswerOption] = Field(min_length=2)
    lost_reason: Identifier | None = None
    """The lost reason (an id from `lost_reasons`) a disqualified lead most likely has when this
    question is its weakest answer: budget -> no budget."""

    @model_validator(mode="after")
    def _check_options(self) -> Self:
        problems = _duplicate_ids("options", [option.text for option in self.options], "text")
        if problems:
            raise BookProblems(problems)
        return self

    @property
    def max_points(self) -> int:
        return max(option.points for option in self.options)


class QualificationThresholds(BookModel):
    mql: int = Field(ge=0)
    """Points from which a lead is marketing-qualified; below it the lead is disqualified."""
    sql: int = Field(ge=0)
    """Points from which a lead is sales-qualified."""


class QualificationFramework(BookModel):
    id: Identifier
    name: str = Field(min_length=1)
    questions: list[Question] = Field(min_length=1)
    thresholds: QualificationThresholds

    @model_validator(mode="after")
    def _check_thresholds(self) -> Self:
        problems = _duplicate_ids("questions", [question.id for question in self.questions])
        mql, sql, best = self.thresholds.mql, self.thresholds.sql, self.max_points
        if mql > sql:
            problems.append(
                (("thresholds", "mql"), f"must not be greater than sql ({sql}), got {mql}")
            )
        if sql > best:
            problems.append(
                (
                    ("thresholds", "sql"),
                    f"can never be reached: the most a lead can score in this framework is "
                    f"{best} (the best answer to every question), got {sql}",
                )
            )
        if problems:
            raise BookProblems(problems)
        return self

    @property
    def max_points(self) -> int:
        return sum(question.max_points for question in self.questions)


class LostReason(BookModel):
    id: Identifier
    name: str = Field(min_length=1)


class LeadSource(BookModel):
    id: Annotated[str, Field(pattern=SOURCE_ID_PATTERN)]
    name: str = Field(min_length=1)

    @field_validator("id")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value.lower().startswith(RESERVED_SOURCE_PREFIX):
            raise ValueError(
                f"must not start with {RESERVED_SOURCE_PREFIX!r}: that prefix is reserved for "
                f"staff invitation links (got {value!r})"
            )
        return value


class BonusStep(BookModel):
    at: Decimal = Field(gt=0)
    """Plan fulfilment from which this bonus is earned: 1.0 is the plan made, 1.2 is 120 %."""
    amount: Decimal = Field(ge=0)


class PayScheme(BookModel):
    """A role's pay for a month: the fixed part, a commission on won revenue (by product where
    the book says so), and the bonus of the highest plan-fulfilment step reached."""

    fixed: Decimal = Field(ge=0)
    commission: Share
    """Share of won revenue: the deals a manager won, the team's for a supervisor."""
    commission_by_product: dict[Identifier, Share] = {}
    bonuses: list[BonusStep] = []

    @model_validator(mode="after")
    def _check_steps(self) -> Self:
        steps = [step.at for step in self.bonuses]
        if steps != sorted(set(steps)):
            raise BookProblems(
                [(("bonuses",), f"steps must rise from one to the next, got {steps}")]
            )
        return self


class ActivityTargets(BookModel):
    """Daily targets of logged activities per role, and the end-of-day nudge."""

    daily: dict[Literal["manager", "supervisor"], dict[str, int]] = {}
    """Per role, per activity kind (`ActivityKindName`), how many a working day."""
    nudge: bool = True
    """Remind a manager below target once, near the end of the working day."""
    nudge_at: ClockTime = dt.time(17, 0)

    @model_validator(mode="after")
    def _check_targets(self) -> Self:
        kinds = get_args(ActivityKindName)
        problems: list[tuple[Loc, str]] = [
            (("daily", role, kind), f"must be a whole number from 1 to 500, got {target}")
            for role, targets in self.daily.items()
            for kind, target in targets.items()
            if not 1 <= target <= 500
        ]
        problems += [
            (("daily", role, kind), f"unknown activity; the activities are: {', '.join(kinds)}")
            for role, targets in self.daily.items()
            for kind in targets
            if kind not in kinds
        ]
        if problems:
            raise BookProblems(problems)
        return self


class Plan(BookModel):
    monthly_revenue: Decimal = Field(gt=0)
    per_manager: dict[str, Annotated[Decimal, Field(ge=0)]] = {}
    """Optional monthly plan per manager, keyed by the manager's Telegram id."""

    @field_validator("per_manager", mode="before")
    @classmethod
    def _ids_as_text(cls, value: object) -> object:
        # Telegram ids are naturally written unquoted, which YAML reads as integers.
        if isinstance(value, dict):
            return {
                str(key) if isinstance(key, int) and not isinstance(key, bool) else key: amount
                for key, amount in value.items()
            }
        return value

    @field_validator("per_manager")
    @classmethod
    def _telegram_ids(cls, value: dict[str, Decimal]) -> dict[str, Decimal]:
        problems: list[tuple[Loc, str]] = [
            (
                (key,),
                f"must be keyed by a manager's Telegram user id (digits only, like 123456789), "
                f"got {key!r}",
            )
            for key in value
            if not TELEGRAM_ID_PATTERN.match(key)
        ]
        if problems:
            raise BookProblems(problems)
        return value


class StageReminders(BookModel):
    before_deadline: Share = 0.75
    """Remind the manager once this share of the stage's SLA has passed (0 turns it off)."""
    overdue_to_supervisor: bool = True
    """At the deadline the supervisors are told too, not only the manager."""


class FollowUpStep(BookModel):
    """A step after a won deal: a message to the client, or a task for the manager."""

    id: Identifier
    after_days: int = Field(gt=0, le=3650)
    to: Literal["client", "manager"]
    text: NonEmptyText = Field(max_length=TELEGRAM_MESSAGE_LIMIT - 200)
    enabled: bool = True


ValueResult = Literal["cost_saved", "time_saved", "revenue_gained"]
"""What a value argument promises: lower costs, faster work or more revenue."""

EFFECT_INPUTS: tuple[str, ...] = ("team_size", "hours_lost_weekly", "hourly_cost")
"""The figures a manager enters per deal for the economic effect, in the order they are asked;
each is a field of `EffectAssumptions` holding its bounds."""

# Length limits of a proposal's texts: with the item counts below they keep even a template
# that uses every limit within two printed A4 pages.
PROPOSAL_TITLE_LIMIT = 120
PROPOSAL_ARGUMENT_LIMIT = 250
PROPOSAL_STORY_CLIENT_LIMIT = 120
PROPOSAL_STORY_RESULT_LIMIT = 300
PROPOSAL_PRICE_NOTE_LIMIT = 300


class ValueArgument(BookModel):
    """One reason to buy, stated as a concrete result for the client."""

    result: ValueResult
    text: NonEmptyText = Field(max_length=PROPOSAL_ARGUMENT_LIMIT)


class SuccessStory(BookModel):
    client: NonEmptyText = Field(max_length=PROPOSAL_STORY_CLIENT_LIMIT)
    """Who the client is, e.g. "Производитель упаковки, 120 сотрудников"."""
    result: NonEmptyText = Field(max_length=PROPOSAL_STORY_RESULT_LIMIT)


class InputBounds(BookModel):
    """The range of believable values for one figure the manager enters; anything outside it
    is a typo (an extra zero, a phone number) rather than a client."""

    min: Decimal = Field(gt=0)
    max: Decimal = Field(gt=0)

    @model_validator(mode="after")
    def _check_order(self) -> Self:
        if self.min > self.max:
            raise BookProblems(
                [(("min",), f"must not be greater than max ({self.max}), got {self.min}")]
            )
        return self

    def contains(self, value: Decimal) -> bool:
        return self.min <= value <= self.max


class EffectAssumptions(BookModel):
    """The fixed model of the economic effect: the client's team loses hours on manual work,
    and the product gives a share of them back.

    The manager enters team_size, hours_lost_weekly and hourly_cost for each deal; the book
    says how much of the lost time the product recovers and which figures are believable.
    """

    recovered_share: Decimal = Field(gt=0, le=1)
    """Share of the lost hours the product gives back (0.4 = 40 %)."""
    weeks_per_year: int = Field(default=48, gt=0, le=53)
    """Working weeks in a year, without holidays and vacations."""
    team_size: InputBounds
    """People who do the manual work."""
    hours_lost_weekly: InputBounds
    """Hours one person loses on manual work in a week."""
    hourly_cost: InputBounds
    """What an hour of one person's work costs the client, in the book's currency."""

    def bounds(self, input_id: str) -> InputBounds:
        """The bounds of one of the manager's inputs; KeyError for an unknown input."""
        if input_id not in EFFECT_INPUTS:
            raise KeyError(input_id)
        bounds: InputBounds = getattr(self, input_id)
        return bounds


class ProposalTemplate(BookModel):
    """A commercial proposal for one product (and optionally one segment): value arguments,
    the economic-effect model, the price and success stories."""

    id: Identifier
    product: Identifier
    segment: Identifier | None = None
    """None: the proposal for every segment that has no template of its own."""
    title: NonEmptyText = Field(max_length=PROPOSAL_TITLE_LIMIT)
    arguments: list[ValueArgument] = Field(min_length=1, max_length=6)
    effect: EffectAssumptions
    price: Decimal = Field(gt=0, decimal_places=2)
    """One-off price in the book's currency."""
    price_note: str = Field(default="", max_length=PROPOSAL_PRICE_NOTE_LIMIT)
    stories: list[SuccessStory] = Field(min_length=1, max_length=2)


class Economics(BookModel):
    """What the unit economics per lead source (`domain/unit_economics.py`) need from the
    book beyond the deals and the marketing spend."""

    margin: Decimal = Field(gt=0, le=1)
    """Gross margin as a share of revenue (0.35 = 35 %): what a won deal leaves to pay back
    the marketing that brought it."""


class Digest(BookModel):
    time: ClockTime
    on_days_off: bool = False


class ConsentPolicy(BookModel):
    """What a lead agrees to before any personal data is stored (152-FZ)."""

    version: str = Field(min_length=1, max_length=64)
    """Stored with each consent, so it is known which text a lead agreed to."""
    text: str = Field(min_length=1, max_length=TELEGRAM_MESSAGE_LIMIT)


class SalesBook(BookModel):
    company: str = Field(min_length=1)
    currency: str = Field(pattern=CURRENCY_PATTERN)
    products: list[Product] = Field(min_length=1)
    segments: list[Segment] = Field(min_length=1)
    pipelines: list[Pipeline] = Field(min_length=1)
    first_response_minutes: int = Field(gt=0)
    """A new lead must be answered within this many working minutes."""
    working_hours: WorkingHours
    qualification: list[QualificationFramework] = Field(min_length=1)
    lost_reasons: list[LostReason] = Field(min_length=1)
    sources: list[LeadSource] = []
    kpis: list[Identifier] = Field(min_length=1)
    plan: Plan
    digest: Digest
    consent: ConsentPolicy
    reminders: StageReminders = StageReminders()
    follow_up: list[FollowUpStep] = []
    proposals: list[ProposalTemplate] = []
    motivation: dict[Literal["manager", "supervisor"], PayScheme] = {}
    """Each role's pay scheme; a role without one sees no pay figures in /my."""
    activity_targets: ActivityTargets = ActivityTargets()
    economics: Economics | None = None
    """None: no margin is known, so ROMI and the CAC payback are not computed."""

    @model_validator(mode="after")
    def _check_motivation(self) -> Self:
        product_ids = [product.id for product in self.products]
        problems: list[tuple[Loc, str]] = [
            (
                ("motivation", role, "commission_by_product", product),
                f"unknown product {product!r}; the products are: {', '.join(product_ids)}",
            )
            for role, scheme in self.motivation.items()
            for product in scheme.commission_by_product
            if product not in product_ids
        ]
        if problems:
            raise BookProblems(problems)
        return self

    @model_validator(mode="after")
    def _check_references(self) -> Self:
        problems: list[tuple[Loc, str]] = []
        problems += _duplicate_ids("products", [item.id for item in self.products])
        problems += _duplicate_ids("segments", [item.id for item in self.segments])
        problems += _duplicate_ids("pipelines", [item.id for item in self.pipelines])
        problems += _duplicate_ids("qualification", [item.id for item in self.qualification])
        problems += _duplicate_ids("lost_reasons", [item.id for item in self.lost_reasons])
        problems += _duplicate_ids("sources", [item.id for item in self.sources])
        problems += _duplicate_ids("follow_up", [item.id for item in self.follow_up])

        product_ids = [product.id for product in self.products]
        segment_ids = [segment.id for segment in self.segments]
        framework_ids = [framework.id for framework in self.qualification]
        pairs: dict[tuple[str, str], str] = {}
        for index, pipeline in enumerate(self.pipelines):
            if pipeline.product not in product_ids:
                problems.append(
                    (
                        ("pipelines", index, "product"),
                        f"unknown product {pipeline.product!r}; the products are: "
                        f"{', '.join(product_ids)}",
                    )
                )
            if pipeline.segment not in segment_ids:
                problems.append(
                    (
                        ("pipelines", index, "segment"),
                        f"unknown segment {pipeline.segment!r}; the segments are: "
                        f"{', '.join(segment_ids)}",
                    )
                )
            if pipeline.framework is not None and pipeline.framework not in framework_ids:
                problems.append(
                    (
                        ("pipelines", index, "framework"),
                        f"unknown qualification framework {pipeline.framework!r}; the "
                        f"frameworks are: {', '.join(framework_ids)}",
                    )
                )
            pair = (pipeline.product, pipeline.segment)
            if pair in pairs:
                problems.append(
                    (
                        ("pipelines", index),
                        f"pipeline {pairs[pair]!r} already serves product {pair[0]!r} for "
                        f"segment {pair[1]!r}; there is at most one pipeline per pair",
                    )
                )
            else:
                pairs[pair] = pipeline.id

        seen_kpis: set[str] = set()
        for index, kpi in enumerate(self.kpis):
            if kpi in seen_kpis:
                problems.append((("kpis", index), f"KPI {kpi!r} is listed twice"))
            elif kpi not in KNOWN_KPIS:
                problems.append(
                    (
                        ("kpis", index),
                        f"unknown KPI {kpi!r}; the KPIs the bot computes are: "
                        f"{', '.join(KNOWN_KPIS)}",
                    )
                )
            seen_kpis.add(kpi)

        reason_ids = [reason.id for reason in self.lost_reasons]
        for f_index, framework in enumerate(self.qualification):
            for q_index, question in enumerate(framework.questions):
                if question.lost_reason is not None and question.lost_reason not in reason_ids:
                    problems.append(
                        (
                            ("qualification", f_index, "questions", q_index, "lost_reason"),
                            f"unknown lost reason {question.lost_reason!r}; the reasons are: "
                            f"{', '.join(reason_ids)}",
                        )
                    )
        problems += self._proposal_problems(product_ids, segment_ids)
        if problems:
            raise BookProblems(problems)
        return self

    def _proposal_problems(
        self, product_ids: list[str], segment_ids: list[str]
    ) -> list[tuple[Loc, str]]:
        problems = _duplicate_ids("proposals", [item.id for item in self.proposals])
        pairs: dict[tuple[str, str | None], str] = {}
        for index, template in enumerate(self.proposals):
            if template.product not in product_ids:
                problems.append(
                    (
                        ("proposals", index, "product"),
                        f"unknown product {template.product!r}; the products are: "
                        f"{', '.join(product_ids)}",
                    )
                )
            if template.segment is not None and template.segment not in segment_ids:
                problems.append(
                    (
                        ("proposals", index, "segment"),
                        f"unknown segment {template.segment!r}; the segments are: "
                        f"{', '.join(segment_ids)}, or leave it out for every segment",
                    )
                )
            # The bot picks the proposal by product and segment, so two for one pair would
            # leave the choice to the order of the file.
            pair = (template.product, template.segment)
            if pair in pairs:
                whom = "every segment" if pair[1] is None else f"segment {pair[1]!r}"
                problems.append(
                    (
                        ("proposals", index),
                        f"proposal {pairs[pair]!r} already covers product {pair[0]!r} for "
                        f"{whom}; there is at most one proposal per pair",
                    )
                )
            else:
                pairs[pair] = template.id
        return problems

    def pipeline(self, pipeline_id: str) -> Pipeline:
        for pipeline in self.pipelines:
            if pipeline.id == pipeline_id:
                return pipeline
        raise KeyError(pipeline_id)

    def pipeline_for(self, product_id: str, segment_id: str) -> Pipeline:
        for pipeline in self.pipelines:
            if pipeline.product == product_id and pipeline.segment == segment_id:
                return pipeline
        raise KeyError((product_id, segment_id))

    def product(self, product_id: str) -> Product:
        for product in self.products:
            if product.id == product_id:
                return product
        raise KeyError(product_id)

    def segment(self, segment_id: str) -> Segment:
        for segment in self.segments:
            if segment.id == segment_id:
                return segment
        raise KeyError(segment_id)

    def framework(self, framework_id: str) -> QualificationFramework:
        for framework in self.qualification:
            if framework.id == framework_id:
                return framework
        raise KeyError(framework_id)

    def framework_for(self, pipeline_id: str) -> QualificationFramework:
        """The framework that qualifies this pipeline's leads (the book's first by default)."""
        framework_id = self.pipeline(pipeline_id).framework
        return self.qualification[0] if framework_id is None else self.framework(framework_id)

    def lost_reason(self, reason_id: str) -> LostReason:
        for reason in self.lost_reasons:
            if reason.id == reason_id:
                return reason
        raise KeyError(reason_id)

    def source(self, source_id: str) -> LeadSource:
        for source in self.sources:
            if source.id == source_id:
                return source
        raise KeyError(source_id)

    def proposal(self, template_id: str) -> ProposalTemplate:
        for template in self.proposals:
            if template.id == template_id:
                return template
        raise KeyError(template_id)


# --- Parsing: YAML text -> SalesBook, or SalesBookError with paths and line numbers ---------


@dataclass(frozen=True)
class SalesBookProblem:
    line: int | None
    """1-based line in the YAML text; None when there is no place to point at (an empty file,
    a missing top-level section)."""
    path: str
    """Field path in the book's own terms, e.g. `pipelines[crm].stages[proposal].sla_hours`."""
    message: str

    def render(self, source: str) -> str:
        place = source if self.line is None else f"{source}, line {self.line}"
        return f"{place}, {self.path}: {self.message}" if self.path else f"{place}: {self.message}"


class SalesBookError(Exception):
    """The sales book is not valid; `problems` has one readable line per mistake and
    `details` the same problems as data (empty when raised with text only)."""

    def __init__(
        self, problems: str | Sequence[str], details: Sequence[SalesBookProblem] = ()
    ) -> None:
        self.problems: list[str] = [problems] if isinstance(problems, str) else list(problems)
        self.details: list[SalesBookProblem] = list(details)
        super().__init__("\n".join(self.problems))

    @classmethod
    def of(cls, source: str, details: Sequence[SalesBookProblem]) -> SalesBookError:
        return cls([problem.render(source) for problem in details], details)


try:  # libyaml parses about ten times faster; the pure-Python loader behaves the same
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]


class _BookLoader(_SafeLoader):
    """SafeLoader with YAML 1.2 plain scalars.

    YAML 1.1 reads `18:00` as the number 1080, `NO` (Norway) as false and `2025-13-01` as a
    crash; here they stay text, so pydantic reports them with a path and a line.
    """


_BookLoader.yaml_implicit_resolvers = {}
for _tag, _pattern, _first in (
    ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("int", r"^(?:[-+]?(?:0|[1-9][0-9_]*)|0x[0-9a-fA-F_]+)$", "-+0123456789"),
    (
        "float",
        r"^[-+]?(?:(?:[0-9][0-9_]*)?\.[0-9][0-9_]*(?:[eE][-+]?[0-9]+)?"
        r"|[0-9][0-9_]*\.(?:[eE][-+]?[0-9]+)?|[0-9][0-9_]*[eE][-+]?[0-9]+)$",
        "-+0123456789.",
    ),
    ("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("merge", r"^(?:<<)$", "<"),
):
    _BookLoader.add_implicit_resolver(
        f"tag:yaml.org,2002:{_tag}", re.compile(_pattern), list(_first)
    )


def parse_sales_book(text: str, source: str = "sales book") -> SalesBook:
    """Parse and validate a sales book; `source` names the file in error messages."""
    root, data, details = _load_yaml(text, source)
    try:
        book = SalesBook.model_validate(data)
    except ValidationError as exc:
        details += _explain(exc, root)
    if details:
        details.sort(key=lambda problem: problem.line or 0)
        raise SalesBookError.of(source, details)
    return book


def _load_yaml(text: str, source: str) -> tuple[yaml.Node, dict[Any, Any], list[SalesBookProblem]]:
    loader: _BookLoader | None = None
    try:
        loader = _BookLoader(text)
        root = loader.get_single_node()
        # Duplicate keys must be seen before construction merges `<<:` keys into mappings.
        duplicates = list(_duplicate_keys(root, "", set())) if root is not None else []
        data = loader.construct_document(root) if root is not None else None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        message = f"invalid YAML: character #x{exc.character:04x} is not allowed in a YAML file"
        raise SalesBookError.of(source, [SalesBookProblem(line, "", message)]) from None
    except yaml.MarkedYAMLError as exc:
        raise SalesBookError.of(source, [_syntax_problem(exc)]) from None
    except yaml.YAMLError as exc:
        problem = SalesBookProblem(None, "", f"invalid YAML: {exc}")
        raise SalesBookError.of(source, [problem]) from None
    finally:
        if loader is not None:
            loader.dispose()
    if root is None:
        message = "the sales book is empty; copy the bundled sales_books/default.yaml and edit it"
        raise SalesBookError.of(source, [SalesBookProblem(None, "", message)])
    if not isinstance(data, dict):
        message = (
            "the top level of the sales book must be a mapping of sections (company:, "
            f"products:, pipelines: ...), got {_show(data)}"
        )
        problem = SalesBookProblem(root.start_mark.line + 1, "", message)
        raise SalesBookError.of(source, [problem])
    return root, data, duplicates


def _syntax_problem(exc: yaml.MarkedYAMLError) -> SalesBookProblem:
    mark = exc.problem_mark or exc.context_mark
    column = "" if mark is None else f" at column {mark.column + 1}"
    what = exc.problem or exc.context or "cannot be read"
    context = ""
    if exc.context and exc.problem:
        context = f" ({exc.context}"
        if exc.context_mark is not None and exc.context_mark.line != getattr(mark, "line", None):
            context += f" on line {exc.context_mark.line + 1}"
        context += ")"
    hint = ""
    if isinstance(exc, yaml.scanner.ScannerError | yaml.parser.ParserError):
        hint = (
            "; check the indentation (spaces, not tabs) and put text containing ': ' or ' #' "
            "in quotes"
        )
    line = None if mark is None else mark.line + 1
    return SalesBookProblem(line, "", f"invalid YAML{column}: {what}{context}{hint}")


def _duplicate_keys(node: yaml.Node, path: str, visited: set[int]) -> Iterator[SalesBookProblem]:
    if id(node) in visited:  # an alias: already checked where its anchor is
        return
    visited.add(id(node))
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            child_path = f"{path}.{key}" if path else key
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            if key in seen:
                yield SalesBookProblem(
                    line,
                    child_path,
                    f"is written twice in the same mapping (first on line {seen[key]}); "
                    "keep only one",
                )
            else:
                seen[key] = line
            yield from _duplicate_keys(value_node, child_path, visited)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _duplicate_keys(item, f"{path}[{_item_label(node, index)}]", visited)


def _mapping_get(node: yaml.Node | None, key: str) -> tuple[yaml.Node, yaml.Node] | None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in reversed(node.value):
            if isinstance(key_node, yaml.ScalarNode) and str(key_node.value) == key:
                return key_node, value_node
    return None


_LABEL = re.compile(r"^[A-Za-z0-9_-]+$")


def _item_label(sequence: yaml.SequenceNode, index: int) -> str:
    """The item's id when it has a unique one (`stages[proposal]`), else its index."""

    def item_id(item: yaml.Node) -> str | None:
        found = _mapping_get(item, "id")
        if found is not None and isinstance(found[1], yaml.ScalarNode):
            value = str(found[1].value)
            return value if _LABEL.match(value) else None
        return None

    if 0 <= index < len(sequence.value):
        label = item_id(sequence.value[index])
        if label is not None and [item_id(item) for item in sequence.value].count(label) == 1:
            return label
    return str(index)


def _locate(root: yaml.Node, loc: Loc) -> tuple[str, int | None]:
    """The display path of `loc` and the line of its value, or of the nearest parent found.

    A missing top-level section has no line: its parent is the whole file.
    """
    path = ""
    node: yaml.Node | None = root
    line: int | None = None
    for element in loc:
        if isinstance(element, int) and isinstance(node, yaml.SequenceNode):
            path += f"[{_item_label(node, element)}]"
            node = node.value[element] if 0 <= element < len(node.value) else None
            if node is not None:
                line = node.start_mark.line + 1
        elif isinstance(element, int) and not isinstance(node, yaml.MappingNode):
            path += f"[{element}]"
            node = None
        else:
            key = str(element)
            path += f".{key}" if path else key
            found = _mapping_get(node, key)
            if found is None:
                node = None
            else:
                key_node, node = found
                line = key_node.start_mark.line + 1
    return path, line


def _explain(
    exc: ValidationError,
    root: yaml.Node,
    describe: Callable[[Any, Loc], str] | None = None,
) -> Iterator[SalesBookProblem]:
    """Each validation error located in the YAML (line and path), worded by `describe` (the
    book's wording by default; the scripts library brings its own)."""
    describe = describe or _describe
    for error in exc.errors(include_url=False):
        loc: Loc = tuple(error["loc"])
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, BookProblems):
            for relative, message in cause.problems:
                path, line = _locate(root, loc + relative)
                yield SalesBookProblem(line, path, message)
        else:
            path, line = _locate(root, loc)
            yield SalesBookProblem(line, path, describe(error, loc))


_PATTERN_HINTS = {
    ID_PATTERN: "must be an id: lowercase latin letters, digits and '_', starting with a "
    "letter, at most 32 characters",
    SOURCE_ID_PATTERN: "must be 1-64 latin letters, digits, '_' or '-' (it goes into the "
    "t.me/<bot>?start= link)",
    CURRENCY_PATTERN: "must be a three-letter currency code in capitals, like RUB",
}


def _describe(error: ErrorDetails, loc: Loc) -> str:
    kind: str = error["type"]
    ctx: dict[str, Any] = error.get("ctx") or {}
    value = error.get("input")
    got = f" (got {_show(value)})"
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return _unknown_field(loc)
    if kind == "value_error" and "error" in ctx:
        return str(ctx["error"])
    if kind == "greater_than":
        return f"must be greater than {_show(ctx['gt'])}{got}"
    if kind == "greater_than_equal":
        return f"must be at least {_show(ctx['ge'])}{got}"
    if kind in ("less_than_equal", "less_than"):
        bound = ctx.get("le", ctx.get("lt"))
        share = "; shares are fractions, so 30% is written 0.3" if bound == 1 else ""
        words = "at most" if kind == "less_than_equal" else "less than"
        return f"must be {words} {_show(bound)}{got}{share}"
    if kind == "too_short":
        count = ctx.get("min_length")
        actual = ctx.get("actual_length")
        return f"must have at least {count} item{'' if count == 1 else 's'} (got {actual})"
    if kind == "too_long":
        count = ctx.get("max_length")
        actual = ctx.get("actual_length")
        return f"must have at most {count} item{'' if count == 1 else 's'} (got {actual})"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters (got {len(str(value))})"
    if kind == "string_pattern_mismatch":
        return _PATTERN_HINTS.get(ctx.get("pattern", ""), "has the wrong form") + got
    if kind == "string_type":
        quote = "; put it in quotes" if isinstance(value, int | float) else ""
        return f"must be text{got}{quote}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"must be a whole number{got}"
    if kind in ("float_type", "float_parsing", "decimal_type", "decimal_parsing"):
        return f"must be a number{got}"
    if kind in ("finite_number", "decimal_not_finite"):
        return f"must be a finite number{got}"
    if kind in ("bool_type", "bool_parsing"):
        return f"must be true or false{got}"
    if kind == "list_type":
        return f"must be a list, one '- ' item per line{got}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"must be a mapping of fields (name: value){got}"
    if kind.startswith("date"):
        return f"must be a date like 2025-01-01{got}"
    return f"{error['msg']}{got}"


def _unknown_field(loc: Loc, root: type[BaseModel] | None = None) -> str:
    """An unknown key at `loc` (in the model tree under `root`, the book by default), with
    the likely spelling."""
    key = str(loc[-1]) if loc else ""
    model = _model_at(loc[:-1], root or SalesBook)
    if model is None:
        return f"unknown field {key!r}"
    allowed = list(model.model_fields)
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    if close:
        return f"unknown field {key!r}; did you mean {close[0]!r}?"
    return f"unknown field {key!r}; the fields here are: {', '.join(allowed)}"


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            options = [arg for arg in get_args(annotation) if arg is not type(None)]
            if len(options) != 1:
                return annotation
            annotation = options[0]
        else:
            return annotation


def _model_at(loc: Loc, root: type[BaseModel]) -> type[BaseModel] | None:
    current: Any = root
    for element in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(element))
            if field is None:
                return None
            current = field.annotation
        elif get_origin(current) is list and isinstance(element, int):
            current = get_args(current)[0]
        elif get_origin(current) is dict:
            current = get_args(current)[1]
        else:
            return None
    current = _unwrap(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _show(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return type(value).__name__
