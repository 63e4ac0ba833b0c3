"""The scripts library: stage scripts and objection handling as validated data.

The library lives in YAML files (the bundled ones are in `bot/scripts/`; an admin adds more by
dropping files in). Each file may hold

- `stage_scripts`: for a stage of the sales book, its goal, talking points and questions
  (`pipeline:` optionally narrows a script to one pipeline; otherwise it serves the stage with
  that id in every pipeline);
- `objections`: an objection ("дорого", "подумаю" ...) with the words a client says it with and
  one to three answer variants, each written in a named selling style. Two or more variants
  make an A/B comparison: the bot shows them in turn (`pick_variant`) and stores whether each
  helped.

This module holds the models of a file (`ScriptFile`) and the merged `ScriptLibrary`, with
search and the check against the sales book. Reading the YAML, with every mistake named by
line and field, is `domain.script_loading`; matching words by their Russian forms is
`domain.script_search`.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Self

from pydantic import Field, model_validator

from domain.book_fields import BookModel, BookProblems, Identifier, duplicate_ids
from domain.sales_book import SalesBook
from domain.script_search import PhraseIndex, search_words
from domain.yaml_source import YamlProblem

MAX_TEXT_LENGTH = 1500
"""An answer variant (and any single script text) is at most this long, so the bot can send the
objection's title, the style and one variant in one Telegram message with room to spare."""

MAX_STAGE_SCRIPT_LENGTH = 3500
"""A stage script's goal, talking points and questions together, so that with the stage's name
and headings it fits one Telegram message (4096 characters)."""

MAX_VARIANTS = 3
MAX_TITLE_LENGTH = 100
MAX_KEYWORD_LENGTH = 100


class Style(enum.StrEnum):
    """The selling style an answer is written in (the methodology behind it)."""

    SPIN = "spin"
    """Questions about the Situation, Problem, Implication and Need-payoff."""
    CHALLENGER = "challenger"
    """Teach the client something about their business, tailor it, take control."""
    SNAP = "snap"
    """For busy clients: keep it Simple, iNvaluable, Aligned, a Priority."""
    SOLUTION = "solution"
    """Solution selling: the pain, the vision of the result, the cost of doing nothing."""

    @property
    def label(self) -> str:
        """The style's name as the methodology calls it, for showing next to an answer."""
        return _STYLE_LABELS[self]


_STYLE_LABELS = {
    Style.SPIN: "SPIN",
    Style.CHALLENGER: "Challenger",
    Style.SNAP: "SNAP",
    Style.SOLUTION: "Solution selling",
}


class Feedback(enum.StrEnum):
    """What the manager says about a variant after using it (stored with the deal)."""

    HELPED = "helped"
    NOT_HELPED = "not_helped"


ScriptText = Annotated[str, Field(min_length=1, max_length=MAX_TEXT_LENGTH)]
Keyword = Annotated[str, Field(min_length=1, max_length=MAX_KEYWORD_LENGTH)]


# --- Models ----------------------------------------------------------------------------


class Variant(BookModel):
    """One way to answer an objection, in one style."""

    id: Identifier
    style: Style
    text: ScriptText


class Objection(BookModel):
    """Something a client says against buying, with the answers to it."""

    id: Identifier
    title: str = Field(min_length=1, max_length=MAX_TITLE_LENGTH)
    keywords: list[Keyword] = Field(min_length=1)
    """Words and phrases a client says this objection with; search matches them by word forms."""
    stages: list[Identifier] = Field(default_factory=list)
    """Stage ids where this objection typically comes up: it is listed on those stages' scripts.
    Empty: it is found by search only."""
    variants: list[Variant] = Field(min_length=1, max_length=MAX_VARIANTS)
    """One to three answers; with two or more the bot rotates them for an A/B comparison."""

    @model_validator(mode="after")
    def _check(self) -> Self:
        problems = duplicate_ids("variants", [variant.id for variant in self.variants])
        for index, stage in enumerate(self.stages):
            if stage in self.stages[:index]:
                problems.append((("stages", index), f"stage {stage!r} is listed twice"))
        for index, keyword in enumerate(self.keywords):
            if not search_words(keyword):
                problems.append(
                    (
                        ("keywords", index),
                        f"{keyword!r} has no word that search can use (only common words like "
                        "'нет', 'не', 'уже' or punctuation); write what the client says, "
                        "like 'нет денег'",
                    )
                )
        if problems:
            raise BookProblems(problems)
        return self

    @property
    def is_ab(self) -> bool:
        """True when there are variants to compare."""
        return len(self.variants) > 1

    def variant(self, variant_id: str) -> Variant:
        for variant in self.variants:
            if variant.id == variant_id:
                return variant
        raise KeyError(variant_id)


class StageScript(BookModel):
    stage: Identifier
    """The stage id; the same id in every pipeline unless `pipeline` is given."""
    pipeline: Identifier | None = None
    """Only for this pipeline; such a script wins over one without a pipeline."""
    goal: ScriptText
    talking_points: list[ScriptText] = Field(min_length=1)
    questions: list[ScriptText] = Field(default_factory=list)

    @model_validator(mode="after")
    def _fits_a_message(self) -> Self:
        length = self.length
        if length > MAX_STAGE_SCRIPT_LENGTH:
            raise BookProblems(
                [
                    (
                        (),
                        f"goal, talking points and questions together must be at most "
                        f"{MAX_STAGE_SCRIPT_LENGTH} characters to fit one Telegram message, "
                        f"got {length}; shorten them",
                    )
                ]
            )
        return self

    @property
    def length(self) -> int:
        """Characters of the texts, with a line break between them."""
        texts = [self.goal, *self.talking_points, *self.questions]
        return sum(len(text) + 1 for text in texts)


class ScriptFile(BookModel):
    """One file of the library."""

    stage_scripts: list[StageScript] = Field(default_factory=list)
    objections: list[Objection] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> Self:
        problems = duplicate_ids("objections", [item.id for item in self.objections])
        seen: dict[tuple[str, str | None], int] = {}
        for index, script in enumerate(self.stage_scripts):
            key = (script.stage, script.pipeline)
            if key in seen:
                problems.append(
                    (
                        ("stage_scripts", index, "stage"),
                        f"stage_scripts[{seen[key]}] is already the script for stage "
                        f"{describe_stage(*key)}; keep one",
                    )
                )
            else:
                seen[key] = index
        if not self.stage_scripts and not self.objections:
            problems.append(
                ((), "the file has neither stage_scripts nor objections, so it adds nothing")
            )
        if problems:
            raise BookProblems(problems)
        return self


def describe_stage(stage: str, pipeline: str | None) -> str:
    """The stage of a stage script in messages: 'proposal' of pipeline 'crm'."""
    return f"{stage!r}" + ("" if pipeline is None else f" of pipeline {pipeline!r}")


# --- The library ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Origin:
    """Where an item of the library was written: file, line and field path."""

    source: str
    line: int | None
    path: str

    def render(self, message: str) -> str:
        return YamlProblem(self.line, self.path, message).render(self.source)


@dataclass(frozen=True, slots=True)
class StageScripts:
    """What the deal card's "scripts" shows for a stage."""

    script: StageScript | None
    """The stage script (the pipeline's own if there is one), or None when there is none."""
    objections: tuple[Objection, ...]
    """Objections that typically come up on this stage, in library order."""


class ScriptLibrary:
    """All stage scripts and objections, with search. Immutable once built."""

    def __init__(
        self,
        stage_scripts: Iterable[StageScript] = (),
        objections: Iterable[Objection] = (),
        *,
        stage_origins: Mapping[tuple[str, str | None], Origin] | None = None,
        objection_origins: Mapping[str, Origin] | None = None,
    ) -> None:
        """Raises ValueError on a duplicate objection id or (stage, pipeline) script.

        The origins, keyed by (stage, pipeline) and by objection id, say where each item was
        written, for messages; `domain.script_loading` fills them in.
        """
        self.stage_scripts: tuple[StageScript, ...] = tuple(stage_scripts)
        self.objections: tuple[Objection, ...] = tuple(objections)
        self._stage_origins = dict(stage_origins or {})
        self._objection_origins = dict(objection_origins or {})
        self._by_id: dict[str, Objection] = {}
        for objection in self.objections:
            if objection.id in self._by_id:
                raise ValueError(f"duplicate objection id {objection.id!r}")
            self._by_id[objection.id] = objection
        self._by_stage: dict[tuple[str, str | None], StageScript] = {}
        for script in self.stage_scripts:
            key = (script.stage, script.pipeline)
            if key in self._by_stage:
                raise ValueError(f"duplicate stage script for stage {describe_stage(*key)}")
            self._by_stage[key] = script
        self._index = PhraseIndex(
            (objection.title, *objection.keywords) for objection in self.objections
        )

    # --- Look-ups

    def objection(self, objection_id: str) -> Objection:
        return self._by_id[objection_id]

    def origin_of_objection(self, objection_id: str) -> Origin | None:
        """Where the objection was written (file, line, path), if known."""
        return self._objection_origins.get(objection_id)

    def origin_of_stage_script(self, stage_id: str, pipeline_id: str | None) -> Origin | None:
        """Where the script for exactly this stage and pipeline (None: shared) was written."""
        return self._stage_origins.get((stage_id, pipeline_id))

    def stage_script(self, stage_id: str, pipeline_id: str | None = None) -> StageScript | None:
        """The pipeline's own script for the stage if there is one, else the shared one."""
        if pipeline_id is not None and (stage_id, pipeline_id) in self._by_stage:
            return self._by_stage[(stage_id, pipeline_id)]
        return self._by_stage.get((stage_id, None))

    def for_stage(self, stage_id: str, pipeline_id: str | None = None) -> StageScripts:
        """The stage script and the objections typical of the stage, for the deal card."""
        return StageScripts(
            self.stage_script(stage_id, pipeline_id),
            tuple(objection for objection in self.objections if stage_id in objection.stages),
        )

    # --- Search

    def search(self, query: str, limit: int = 5) -> list[Objection]:
        """Objections whose title or keywords share words with `query`, best first.

        Words are compared by their Russian stems, case- and ё-insensitive, ignoring punctuation
        and stop words; a stem that starts another ("дороговат" / "дор") counts a little less
        than the same stem. Each query word adds its best match in the objection, weighted by
        how rare the matched word is in the library (a word in four objections says less than
        a word in one). On equal scores an objection with a whole keyword phrase in the query
        ranks first, then library order. A query with nothing in common returns [].
        """
        return [self.objections[position] for position in self._index.search(query, limit)]

    # --- Checking against a sales book

    def check_against(self, book: SalesBook) -> list[str]:
        """Problems between the library and the sales book: a script for a stage or pipeline
        the book does not have, an objection listed on an unknown stage, and any stage of any
        pipeline without a stage script. Empty when they fit together."""
        problems: list[str] = []
        all_stages = {stage.id for pipeline in book.pipelines for stage in pipeline.stages}
        pipelines = {pipeline.id: pipeline for pipeline in book.pipelines}
        known_stages = ", ".join(sorted(all_stages))
        for script in self.stage_scripts:
            origin = self.origin_of_stage_script(script.stage, script.pipeline)
            message: str | None = None
            field = "stage"
            if script.pipeline is not None and script.pipeline not in pipelines:
                field = "pipeline"
                message = (
                    f"unknown pipeline {script.pipeline!r}; the sales book's pipelines are: "
                    f"{', '.join(pipelines)}"
                )
            elif script.pipeline is not None:
                stage_ids = [stage.id for stage in pipelines[script.pipeline].stages]
                if script.stage not in stage_ids:
                    message = (
                        f"pipeline {script.pipeline!r} has no stage {script.stage!r}; its "
                        f"stages are: {', '.join(stage_ids)}"
                    )
            elif script.stage not in all_stages:
                message = (
                    f"no pipeline of the sales book has stage {script.stage!r}; the stages "
                    f"are: {known_stages}"
                )
            if message is not None:
                problems.append(_render(origin, field, message))
        for objection in self.objections:
            origin = self.origin_of_objection(objection.id)
            for stage_id in objection.stages:
                if stage_id not in all_stages:
                    problems.append(
                        _render(
                            origin,
                            "stages",
                            f"objection {objection.id!r} lists stage {stage_id!r}, which no "
                            f"pipeline of the sales book has; the stages are: {known_stages}",
                        )
                    )
        for pipeline in book.pipelines:
            for stage in pipeline.stages:
                if self.stage_script(stage.id, pipeline.id) is None:
                    problems.append(
                        f"scripts: no stage script for stage {stage.id!r} ({stage.name}) of "
                        f"pipeline {pipeline.id!r}; add one to stage_scripts"
                    )
        return problems


def _render(origin: Origin | None, field: str, message: str) -> str:
    if origin is None:
        return f"scripts: {message}"
    path = f"{origin.path}.{field}" if field else origin.path
    return YamlProblem(origin.line, path, message).render(origin.source)


# --- A/B rotation -----------------------------------------------------------------------


def pick_variant(objection: Objection, uses_so_far: Mapping[str, int]) -> Variant:
    """The variant to show next: the least used one, ties broken by order in the file.

    `uses_so_far` maps variant ids to how many times each was shown (the caller counts them in
    storage, for the whole team or one manager as it sees fit); missing ids count as 0 and
    unknown ids are ignored. Deterministic, and over many calls each variant is shown equally
    often, so their "helped" rates can be compared.
    """
    return min(
        enumerate(objection.variants),
        key=lambda item: (uses_so_far.get(item[1].id, 0), item[0]),
    )[1]
