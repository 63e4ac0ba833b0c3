"""YAML written by a person, read so that every mistake can be shown at its line.

The sales book and the scripts library are both YAML files an admin edits by hand. This module
reads such a file (`read_yaml_mapping`) keeping the node tree, which knows the line of every
key and item, and finds keys written twice, which plain YAML loading silently merges. When
pydantic then rejects the data, `explain_validation_error` places each error at its line and
names its field in the file's own terms (`pipelines[crm].stages[proposal].sla_hours`: list
items by their id where they have a unique one). Each mistake is a `YamlProblem`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from domain.book_fields import BookProblems, Loc, show_value


@dataclass(frozen=True)
class YamlProblem:
    """One mistake in a YAML file."""

    line: int | None
    """1-based line in the YAML text; None when there is no place to point at (an empty file,
    a missing top-level section)."""
    path: str
    """Field path in the file's own terms, e.g. `pipelines[crm].stages[proposal].sla_hours`."""
    message: str

    def render(self, source: str) -> str:
        """The problem as one line naming the file `source`, the line and the field."""
        place = source if self.line is None else f"{source}, line {self.line}"
        return f"{place}, {self.path}: {self.message}" if self.path else f"{place}: {self.message}"


class YamlReadError(Exception):
    """The text is not YAML, or not the mapping the file must hold; `problem` says where."""

    def __init__(self, problem: YamlProblem) -> None:
        self.problem = problem
        super().__init__(problem.message)


@dataclass(frozen=True)
class YamlDocument:
    """A YAML mapping as data, with the node tree it came from."""

    root: yaml.Node
    """The node tree: where each key and item was written (see `locate`)."""
    data: dict[Any, Any]
    duplicate_keys: list[YamlProblem]
    """Keys written twice in one mapping; the data holds only the last of each."""


try:  # libyaml parses about ten times faster; the pure-Python loader behaves the same
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]


class _Yaml12Loader(_SafeLoader):
    """SafeLoader with YAML 1.2 plain scalars.

    YAML 1.1 reads `18:00` as the number 1080, `NO` (Norway) as false and `2025-13-01` as a
    crash; here they stay text, so pydantic reports them with a path and a line.
    """


_Yaml12Loader.yaml_implicit_resolvers = {}
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
    _Yaml12Loader.add_implicit_resolver(
        f"tag:yaml.org,2002:{_tag}", re.compile(_pattern), list(_first)
    )


def read_yaml_mapping(text: str, *, empty_message: str, top_level_rule: str) -> YamlDocument:
    """Read `text`, which must hold one mapping, or raise `YamlReadError`.

    `empty_message` is the error for a file with nothing in it; `top_level_rule` says what the
    top level must be (", got ..." is added when it is not a mapping).
    """
    loader: _Yaml12Loader | None = None
    try:
        loader = _Yaml12Loader(text)
        root = loader.get_single_node()
        # Duplicate keys must be seen before construction merges `<<:` keys into mappings.
        duplicates = list(_duplicate_keys(root, "", set())) if root is not None else []
        data = loader.construct_document(root) if root is not None else None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        message = f"invalid YAML: character #x{exc.character:04x} is not allowed in a YAML file"
        raise YamlReadError(YamlProblem(line, "", message)) from None
    except yaml.MarkedYAMLError as exc:
        raise YamlReadError(_syntax_problem(exc)) from None
    except yaml.YAMLError as exc:
        raise YamlReadError(YamlProblem(None, "", f"invalid YAML: {exc}")) from None
    finally:
        if loader is not None:
            loader.dispose()
    if root is None:
        raise YamlReadError(YamlProblem(None, "", empty_message))
    if not isinstance(data, dict):
        message = f"{top_level_rule}, got {show_value(data)}"
        raise YamlReadError(YamlProblem(root.start_mark.line + 1, "", message))
    return YamlDocument(root, data, duplicates)


def _syntax_problem(exc: yaml.MarkedYAMLError) -> YamlProblem:
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
    return YamlProblem(line, "", f"invalid YAML{column}: {what}{context}{hint}")


def _duplicate_keys(node: yaml.Node, path: str, visited: set[int]) -> Iterator[YamlProblem]:
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
                yield YamlProblem(
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


def locate(root: yaml.Node, loc: Loc) -> tuple[str, int | None]:
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


def explain_validation_error(
    exc: ValidationError, root: yaml.Node, describe: Callable[[ErrorDetails, Loc], str]
) -> Iterator[YamlProblem]:
    """Each error of `exc` located in the YAML (line and path) and worded by `describe`.

    A `BookProblems` raised by a model validator gives one problem per field it names, worded
    by the validator itself.
    """
    for error in exc.errors(include_url=False):
        loc: Loc = tuple(error["loc"])
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, BookProblems):
            for relative, message in cause.problems:
                path, line = locate(root, loc + relative)
                yield YamlProblem(line, path, message)
        else:
            path, line = locate(root, loc)
            yield YamlProblem(line, path, describe(error, loc))
