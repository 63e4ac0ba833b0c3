"""Loading the sales book: YAML text -> `SalesBook`, or `SalesBookError` naming every mistake.

Each mistake is reported with the file, the line and the field path in the book's own terms
(`sales_books/my.yaml, line 42, pipelines[b2b_crm].stages[proposal].sla_hours: must be greater
than 0 (got -3)`), all of them at once, in the order of the file. Reading the file is the
caller's job: the domain does no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from domain.book_fields import ID_PATTERN, ID_PATTERN_HINT, Loc
from domain.sales_book import CURRENCY_PATTERN, LANGUAGE_PATTERN, SOURCE_ID_PATTERN, SalesBook
from domain.validation_wording import describe_error
from domain.yaml_source import (
    YamlProblem,
    YamlReadError,
    explain_validation_error,
    read_yaml_mapping,
)


class SalesBookError(Exception):
    """The sales book is not valid; `problems` has one readable line per mistake and
    `details` the same problems as data (empty when raised with text only)."""

    def __init__(self, problems: str | Sequence[str], details: Sequence[YamlProblem] = ()) -> None:
        self.problems: list[str] = [problems] if isinstance(problems, str) else list(problems)
        self.details: list[YamlProblem] = list(details)
        super().__init__("\n".join(self.problems))

    @classmethod
    def of(cls, source: str, details: Sequence[YamlProblem]) -> SalesBookError:
        return cls([problem.render(source) for problem in details], details)


def parse_sales_book(text: str, source: str = "sales book") -> SalesBook:
    """Parse and validate a sales book; `source` names the file in error messages."""
    try:
        document = read_yaml_mapping(
            text,
            empty_message=(
                "the sales book is empty; copy the bundled sales_books/default.yaml and edit it"
            ),
            top_level_rule=(
                "the top level of the sales book must be a mapping of sections (company:, "
                "products:, pipelines: ...)"
            ),
        )
    except YamlReadError as exc:
        raise SalesBookError.of(source, [exc.problem]) from None
    details = list(document.duplicate_keys)
    try:
        book = SalesBook.model_validate(document.data)
    except ValidationError as exc:
        details += explain_validation_error(exc, document.root, _describe)
    if details:
        details.sort(key=lambda problem: problem.line or 0)
        raise SalesBookError.of(source, details)
    return book


_PATTERN_HINTS = {
    ID_PATTERN: ID_PATTERN_HINT,
    SOURCE_ID_PATTERN: "must be 1-64 latin letters, digits, '_' or '-' (it goes into the "
    "t.me/<bot>?start= link)",
    CURRENCY_PATTERN: "must be a three-letter currency code in capitals, like RUB",
    LANGUAGE_PATTERN: "must be a two-letter language code in lowercase, like en",
}


def _describe(error: ErrorDetails, loc: Loc) -> str:
    return describe_error(error, loc, SalesBook, _PATTERN_HINTS)
