"""Loading the scripts library: YAML texts -> `ScriptLibrary`, with every mistake reported.

`parse_script_file` turns one file's text into a `ScriptFile` or raises `ScriptFileError`
naming the line and field path of every mistake (in the style of the sales book), and
`load_script_library` merges several files, skipping bad ones and reporting them, so one broken
file does not stop the bot. Reading the folder is the caller's job (`services/scripts.py`).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from domain.book_fields import ID_PATTERN, ID_PATTERN_HINT, Loc, show_value
from domain.scripts import (
    Objection,
    Origin,
    ScriptFile,
    ScriptLibrary,
    StageScript,
    Style,
    describe_stage,
)
from domain.validation_wording import describe_error
from domain.yaml_source import (
    YamlProblem,
    YamlReadError,
    explain_validation_error,
    locate,
    read_yaml_mapping,
)


class ScriptFileError(Exception):
    """A scripts file is not valid; `problems` has one readable line per mistake (naming the
    file, line and field) and `details` the same as data."""

    def __init__(self, source: str, details: Sequence[YamlProblem]) -> None:
        self.source = source
        self.details: list[YamlProblem] = list(details)
        self.problems: list[str] = [problem.render(source) for problem in self.details]
        super().__init__("\n".join(self.problems))


class LibraryLoad(NamedTuple):
    library: ScriptLibrary
    problems: list[str]
    """One line per problem ("file, line N, field: what is wrong"); the files or items named
    were skipped, everything else is in the library."""


def parse_script_file(text: str, source: str = "scripts") -> ScriptFile:
    """Parse and validate one scripts file; `source` names it in error messages."""
    return _parse(text, source)[0]


def load_script_library(files: Iterable[tuple[str, str]]) -> LibraryLoad:
    """Build the library from (file name, YAML text) pairs, in the order given.

    A file that is not valid is skipped whole and each of its mistakes reported. An objection
    id or a (stage, pipeline) script already defined by an earlier file is reported and that
    item skipped; the rest of its file still loads.
    """
    stage_scripts: list[StageScript] = []
    objections: list[Objection] = []
    stage_origins: dict[tuple[str, str | None], Origin] = {}
    objection_origins: dict[str, Origin] = {}
    problems: list[str] = []
    for source, text in files:
        try:
            script_file, root = _parse(text, source)
        except ScriptFileError as exc:
            count = len(exc.problems)
            problems += exc.problems
            problems.append(
                f"{source}: not loaded because of the {count} problem"
                f"{'' if count == 1 else 's'} above; the other files are loaded"
            )
            continue
        for index, script in enumerate(script_file.stage_scripts):
            path, line = locate(root, ("stage_scripts", index))
            origin = Origin(source, line, path)
            stage_key = (script.stage, script.pipeline)
            if stage_key in stage_origins:
                first = stage_origins[stage_key]
                problems.append(
                    origin.render(
                        f"stage {describe_stage(*stage_key)} already has a script in "
                        f"{first.source} (line {first.line}); this one is skipped"
                    )
                )
                continue
            stage_origins[stage_key] = origin
            stage_scripts.append(script)
        for index, objection in enumerate(script_file.objections):
            path, line = locate(root, ("objections", index))
            origin = Origin(source, line, path)
            if objection.id in objection_origins:
                first = objection_origins[objection.id]
                problems.append(
                    origin.render(
                        f"duplicate objection id {objection.id!r}: {first.source} (line "
                        f"{first.line}) already uses it; this one is skipped"
                    )
                )
                continue
            objection_origins[objection.id] = origin
            objections.append(objection)
    library = ScriptLibrary(
        stage_scripts,
        objections,
        stage_origins=stage_origins,
        objection_origins=objection_origins,
    )
    return LibraryLoad(library, problems)


def _parse(text: str, source: str) -> tuple[ScriptFile, yaml.Node]:
    try:
        document = read_yaml_mapping(
            text,
            empty_message="the file is empty; a scripts file has stage_scripts: and/or objections:",
            top_level_rule="the top level must be a mapping with stage_scripts: and/or objections:",
        )
    except YamlReadError as exc:
        raise ScriptFileError(source, [exc.problem]) from None
    details = list(document.duplicate_keys)
    script_file: ScriptFile | None = None
    try:
        script_file = ScriptFile.model_validate(document.data)
    except ValidationError as exc:
        details += explain_validation_error(exc, document.root, _describe_error)
    if details or script_file is None:
        details.sort(key=lambda problem: problem.line or 0)
        raise ScriptFileError(source, details)
    return script_file, document.root


def _describe_error(error: ErrorDetails, loc: Loc) -> str:
    kind = error["type"]
    ctx: dict[str, Any] = error.get("ctx") or {}
    value = error.get("input")
    if kind == "enum":
        styles = ", ".join(f"{style.value} ({style.label})" for style in Style)
        close = difflib.get_close_matches(str(value).lower(), [s.value for s in Style], n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"unknown style {show_value(value)}; the styles are: {styles}{hint}"
    if kind == "string_type" and isinstance(value, dict):
        return (
            "must be text, but YAML read it as a mapping because it contains ': '; put the "
            'text in double quotes, or write it on the next lines after ">-"'
        )
    if kind == "too_long":
        return f"must have at most {ctx.get('max_length')} items (got {ctx.get('actual_length')})"
    if kind == "string_too_long":
        return (
            f"must be at most {ctx.get('max_length')} characters (got {len(str(value))}) so that "
            "it fits one Telegram message; shorten it"
        )
    return describe_error(error, loc, ScriptFile, {ID_PATTERN: ID_PATTERN_HINT})
