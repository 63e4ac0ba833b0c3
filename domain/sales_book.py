"""The sales book: the company's sales methodology as validated data.

One YAML file describes products, segments, pipelines and their stages, the working calendar,
qualification frameworks, lost reasons, the plan and the digest. This module holds `SalesBook`
and the models of its core sections; the larger sections have their own modules
(`book_working_hours`, `book_qualification`, `book_motivation`, `book_proposals`). Turning YAML
text into a `SalesBook`, with every mistake named by line and field, is
`domain.book_loading.parse_sales_book`; reading the file is the caller's job: the domain does no
I/O.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import Field, field_validator, model_validator

from domain.book_fields import (
    ActivityKindName,
    BookModel,
    BookProblems,
    ClockTime,
    Identifier,
    Loc,
    NonEmptyText,
    Share,
    duplicate_ids,
)
from domain.book_motivation import ActivityTargets, PayScheme
from domain.book_proposals import ProposalTemplate
from domain.book_qualification import QualificationFramework
from domain.book_working_hours import WorkingHours

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

SOURCE_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
"""Telegram's deep-link payload alphabet and length, so a source id fits in `?start=`."""
CURRENCY_PATTERN = r"^[A-Z]{3}$"
TELEGRAM_ID_PATTERN = re.compile(r"^[1-9][0-9]{0,19}$")


class Product(BookModel):
    id: Identifier
    name: str = Field(min_length=1)


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
    ticked_by: dict[ActivityKindName, NonEmptyText] = Field(default_factory=dict)
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
        problems = duplicate_ids("stages", stage_ids)
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


class Plan(BookModel):
    monthly_revenue: Decimal = Field(gt=0)
    per_manager: dict[str, Annotated[Decimal, Field(ge=0)]] = Field(default_factory=dict)
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


class Economics(BookModel):
    """What the unit economics per lead source (`domain/unit_economics.py`) need from the
    book beyond the deals and the marketing spend."""

    margin: Decimal = Field(gt=0, le=1)
    """Gross margin as a share of revenue (0.35 = 35 %): what a won deal leaves to pay back
    the marketing that brought it."""


class Digest(BookModel):
    time: ClockTime
    on_days_off: bool = False


ConsentText = Annotated[str, Field(min_length=1, max_length=TELEGRAM_MESSAGE_LIMIT)]
LANGUAGE_PATTERN = r"^[a-z]{2}$"
LanguageCode = Annotated[str, Field(pattern=LANGUAGE_PATTERN)]


class ConsentPolicy(BookModel):
    """What a lead agrees to before any personal data is stored (152-FZ)."""

    version: str = Field(min_length=1, max_length=64)
    """Stored with each consent, so it is known which text a lead agreed to."""
    text: ConsentText
    translations: dict[LanguageCode, ConsentText] = Field(default_factory=dict)
    """The same text in other languages ("en": ...), for leads whose Telegram speaks them; the
    version covers them all."""

    def text_in(self, language: str | None) -> str:
        """The text in `language` where the book has it, else the book's own."""
        return self.translations.get(language or "", self.text)


class BusinessChats(BookModel):
    """Chats in the managers' own Telegram accounts (Telegram Business)."""

    auto_create: bool = False
    """A client with no open deal writes: the deal opens by itself in the first stage (source
    `telegram_business`). False: the manager is asked "make a deal?" first."""
    notice: str | None = Field(default=None, max_length=TELEGRAM_MESSAGE_LIMIT - 1000)
    """What clients are told about their chats with managers being kept (the consent text of
    this channel): shown to a manager who connects, to put into the account's greeting
    message, since the bot writes nothing in those chats."""


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
    sources: list[LeadSource] = Field(default_factory=list)
    kpis: list[Identifier] = Field(min_length=1)
    plan: Plan
    digest: Digest
    consent: ConsentPolicy
    business: BusinessChats = BusinessChats()
    reminders: StageReminders = StageReminders()
    follow_up: list[FollowUpStep] = Field(default_factory=list)
    proposals: list[ProposalTemplate] = Field(default_factory=list)
    motivation: dict[Literal["manager", "supervisor"], PayScheme] = Field(default_factory=dict)
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
        problems += duplicate_ids("products", [item.id for item in self.products])
        problems += duplicate_ids("segments", [item.id for item in self.segments])
        problems += duplicate_ids("pipelines", [item.id for item in self.pipelines])
        problems += duplicate_ids("qualification", [item.id for item in self.qualification])
        problems += duplicate_ids("lost_reasons", [item.id for item in self.lost_reasons])
        problems += duplicate_ids("sources", [item.id for item in self.sources])
        problems += duplicate_ids("follow_up", [item.id for item in self.follow_up])

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
        problems = duplicate_ids("proposals", [item.id for item in self.proposals])
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
