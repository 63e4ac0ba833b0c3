"""A broken sales book names the path, the line and what is wrong: the book itself, text that
is not a book at all, and its commercial proposals."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.unit.sales_book_text import (
    DEFAULT_TEXT,
    IMPL,
    PROPOSALS,
    SOURCE,
    SUBS,
    edit,
    line_of,
    parse_error,
)

# --- Broken books: each names the path, the line and what is wrong ------------------------


@dataclass(frozen=True)
class Broken:
    id: str
    text: str
    path: str
    line: int | None
    says: str


BROKEN_BOOKS = [
    Broken(
        "an activity ticks a criterion the stage does not have",
        edit("proposal: КП отправлено клиенту", "proposal: КП отправлено", after="- id: proposal"),
        "pipelines[implementation_mid].stages[proposal].ticked_by.proposal",
        line_of("proposal: КП отправлено клиенту", after="- id: proposal"),
        "must be one of this stage's exit criteria, word for word, got 'КП отправлено'",
    ),
    Broken(
        "missing top-level field",
        edit("first_response_minutes: 15\n", ""),
        "first_response_minutes",
        None,
        "required field is missing",
    ),
    Broken(
        "missing stage field reports the stage's line",
        edit("        sla_hours: 16\n", "", after=f"{IMPL}"),
        "pipelines[implementation_mid].stages[qualification].sla_hours",
        line_of("- id: qualification", after=IMPL),
        "required field is missing",
    ),
    Broken(
        "unknown field (typo)",
        edit("sla_hours: 40", "sla_hour: 40", after="- id: meeting"),
        "pipelines[implementation_mid].stages[meeting].sla_hour",
        line_of("sla_hours: 40", after="- id: meeting"),
        "unknown field 'sla_hour'; did you mean 'sla_hours'?",
    ),
    Broken(
        "negative SLA",
        edit("sla_hours: 16", "sla_hours: -3", after="- id: proposal"),
        "pipelines[implementation_mid].stages[proposal].sla_hours",
        line_of("sla_hours: 16", after="- id: proposal"),
        "must be greater than 0 (got -3)",
    ),
    Broken(
        "probability above 1",
        edit("probability: 0.8", "probability: 1.5", after=SUBS),
        "pipelines[subscription_small].stages[invoice].probability",
        line_of("probability: 0.8", after=SUBS),
        "must be at most 1 (got 1.5)",
    ),
    Broken(
        "conversion written in percent",
        edit("target_conversion: 0.6", "target_conversion: 60", after="- id: proposal"),
        "pipelines[implementation_mid].stages[proposal].target_conversion",
        line_of("target_conversion: 0.6", after="- id: proposal"),
        "30% is written 0.3",
    ),
    Broken(
        "probability decreasing along the pipeline",
        edit("probability: 0.6", "probability: 0.3", after="- id: negotiation"),
        "pipelines[implementation_mid].stages[negotiation].probability",
        line_of("probability: 0.6", after="- id: negotiation"),
        "must not be lower than the previous stage's probability (proposal: 0.4)",
    ),
    Broken(
        "duplicate stage id",
        edit("- id: proposal", "- id: meeting", after=IMPL),
        "pipelines[implementation_mid].stages[3].id",
        line_of("- id: proposal", after=IMPL),
        "duplicate id 'meeting': stages[2] already uses it",
    ),
    Broken(
        "key stage is not a stage",
        edit("key_stage: meeting", "key_stage: demo", after=SUBS),
        "pipelines[subscription_small].key_stage",
        line_of("key_stage: meeting", after=SUBS),
        "must be the id of one of this pipeline's stages",
    ),
    Broken(
        "pipeline refers to an unknown product",
        edit("product: implementation", "product: implementaton", after=IMPL),
        "pipelines[implementation_mid].product",
        line_of("product: implementation", after=IMPL),
        "unknown product 'implementaton'; the products are: implementation, subscription",
    ),
    Broken(
        "pipeline refers to an unknown framework",
        edit("framework: bant", "framework: spin"),
        "pipelines[subscription_small].framework",
        line_of("framework: bant"),
        "unknown qualification framework 'spin'",
    ),
    Broken(
        "a question's lost reason that the book does not list",
        edit("lost_reason: no_budget", "lost_reason: no_money"),
        "qualification[bant].questions[budget].lost_reason",
        line_of("lost_reason: no_budget"),
        "unknown lost reason 'no_money'",
    ),
    Broken(
        "two pipelines for one product/segment pair",
        edit(
            "product: subscription\n    segment: small",
            "product: implementation\n    segment: mid",
            after=SUBS,
        ),
        "pipelines[subscription_small]",
        line_of(SUBS),
        "'implementation_mid' already serves product 'implementation' for segment 'mid'",
    ),
    Broken(
        "bad timezone",
        edit("Europe/Moscow", "Europe/Moskow"),
        "working_hours.timezone",
        line_of("timezone: Europe/Moscow"),
        "unknown time zone 'Europe/Moskow'",
    ),
    Broken(
        "working day ends before it starts",
        edit('end: "18:00"', 'end: "08:00"'),
        "working_hours.end",
        line_of('end: "18:00"'),
        "must be later than start (09:00); got 08:00",
    ),
    Broken(
        "weekday listed twice",
        edit("weekdays: [1, 2, 3, 4, 5]", "weekdays: [1, 2, 2, 5]"),
        "working_hours.weekdays[2]",
        line_of("weekdays:"),
        "day 2 is listed twice",
    ),
    Broken(
        "holidays country in lower case",
        edit("holidays_country: RU", "holidays_country: ru"),
        "working_hours.holidays_country",
        line_of("holidays_country: RU"),
        "unknown country 'ru' for public holidays (country codes are in capitals: 'RU')",
    ),
    Broken(
        "impossible date",
        edit("extra_days_off: []", "extra_days_off: [2025-13-01]"),
        "working_hours.extra_days_off[0]",
        line_of("extra_days_off:"),
        "must be a date like 2025-01-01 (got '2025-13-01')",
    ),
    Broken(
        "mql above sql",
        edit("mql: 4", "mql: 9"),
        "qualification[bant].thresholds.mql",
        line_of("mql: 4"),
        "must not be greater than sql (8), got 9",
    ),
    Broken(
        "sql above the attainable maximum",
        edit("sql: 12", "sql: 19"),
        "qualification[meddic].thresholds.sql",
        line_of("sql: 12"),
        "the most a lead can score in this framework is 18",
    ),
    Broken(
        "duplicate question id",
        edit("- id: timeline", "- id: budget"),
        "qualification[bant].questions[3].id",
        line_of("- id: timeline"),
        "duplicate id 'budget': questions[0] already uses it",
    ),
    Broken(
        "duplicate lost reason",
        edit("- id: postponed", "- id: competitor"),
        "lost_reasons[7].id",
        line_of("- id: postponed"),
        "duplicate id 'competitor': lost_reasons[1] already uses it",
    ),
    Broken(
        "source id with the reserved invite prefix",
        edit("- id: referral", "- id: inv_friends"),
        "sources[inv_friends].id",
        line_of("- id: referral"),
        "must not start with 'inv_': that prefix is reserved for staff invitation links",
    ),
    Broken(
        "digest time out of range",
        edit('time: "09:00"', 'time: "25:00"'),
        "digest.time",
        line_of('time: "09:00"'),
        "must be a time of day like \"09:00\" (got '25:00')",
    ),
    Broken(
        "time written as a number",
        edit('time: "09:00"', "time: 900"),
        "digest.time",
        line_of('time: "09:00"'),
        'must be a time of day like "09:00" (got 900)',
    ),
    Broken(
        "unknown KPI",
        edit("  - sales_cycle", "  - sales_cycl"),
        "kpis[3]",
        line_of("  - sales_cycle"),
        "unknown KPI 'sales_cycl'",
    ),
    Broken(
        "KPI listed twice",
        edit("  - average_deal", "  - new_leads"),
        "kpis[2]",
        line_of("  - average_deal"),
        "KPI 'new_leads' is listed twice",
    ),
    Broken(
        "per-manager plan keyed by a name",
        edit("per_manager: {}", "per_manager: {ivan: 100000}"),
        "plan.per_manager.ivan",
        line_of("per_manager: {}"),
        "must be keyed by a manager's Telegram user id (digits only",
    ),
    Broken(
        "bad id form",
        edit("  - id: implementation\n", "  - id: Implementation\n"),
        "products[Implementation].id",
        line_of("  - id: implementation\n"),
        "must be an id: lowercase latin letters",
    ),
    Broken(
        "number where text is expected",
        edit("company: ООО «Ясная CRM»", "company: 123"),
        "company",
        line_of("company:"),
        "must be text (got 123); put it in quotes",
    ),
    Broken(
        "empty exit criteria",
        edit(
            "exit_criteria:\n          - Оплата поступила на расчётный счёт\n",
            "exit_criteria: []\n",
        ),
        "pipelines[implementation_mid].stages[payment].exit_criteria",
        line_of("exit_criteria:\n          - Оплата поступила на расчётный счёт"),
        "must have at least 1 item (got 0)",
    ),
    Broken(
        "key written twice in one mapping",
        edit("sla_hours: 4\n", "sla_hours: 4\n        sla_hours: 5\n", after=IMPL),
        "pipelines[implementation_mid].stages[request].sla_hours",
        line_of("sla_hours: 4\n", after=IMPL) + 1,
        f"is written twice in the same mapping (first on line {line_of('sla_hours: 4')})",
    ),
    Broken(
        "consent missing",
        DEFAULT_TEXT[: DEFAULT_TEXT.index("\nconsent:")] + "\n",
        "consent",
        None,
        "required field is missing",
    ),
    Broken(
        "consent text too long for one Telegram message",
        edit("  text: |\n", "  text: " + "я" * 4097 + "\n  other: |\n", after="consent:"),
        "consent.text",
        line_of("  text: |", after="consent:"),
        "must be at most 4096 characters (got 4097)",
    ),
    Broken(
        "a consent translation under a language's name instead of its two-letter code",
        edit("    en: |", "    english: |", after="translations:"),
        "consent.translations.english.[key]",
        line_of("    en: |", after="translations:"),
        "must be a two-letter language code in lowercase, like en (got 'english')",
    ),
]


@pytest.mark.parametrize("broken", BROKEN_BOOKS, ids=[broken.id for broken in BROKEN_BOOKS])
def test_broken_book_names_path_line_and_problem(broken: Broken) -> None:
    error = parse_error(broken.text)
    place = SOURCE if broken.line is None else f"{SOURCE}, line {broken.line}"
    expected_start = f"{place}, {broken.path}: "
    matching = [problem for problem in error.problems if problem.startswith(expected_start)]
    assert matching, f"no problem starts with {expected_start!r}: {error.problems}"
    assert any(broken.says in problem for problem in matching), error.problems
    assert str(error) == "\n".join(error.problems)


def test_message_has_the_documented_shape() -> None:
    text = edit("sla_hours: 16", "sla_hours: -3", after="- id: proposal")
    error = parse_error(text)
    line = line_of("sla_hours: 16", after="- id: proposal")
    assert error.problems == [
        f"{SOURCE}, line {line}, pipelines[implementation_mid].stages[proposal].sla_hours: "
        "must be greater than 0 (got -3)"
    ]
    [detail] = error.details
    assert (detail.line, detail.path) == (
        line,
        "pipelines[implementation_mid].stages[proposal].sla_hours",
    )


def test_every_problem_is_reported_sorted_by_line() -> None:
    text = edit("digest:", "digets:")
    text = edit("- id: referral", "- id: inv_friends", text=text)
    text = edit("Europe/Moscow", "Mars/Olympus", text=text)
    error = parse_error(text)
    assert len(error.problems) == 4
    assert error.problems[0] == f"{SOURCE}, digest: required field is missing"
    lines = [detail.line or 0 for detail in error.details[1:]]
    assert lines == sorted(lines)
    assert "did you mean 'digest'?" in error.problems[-1]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "the sales book is empty"),
        ("# only a comment\n", "the sales book is empty"),
        ("- a\n- b\n", "line 1: the top level of the sales book must be a mapping"),
        ("just words\n", "must be a mapping of sections (company:, products:, pipelines: ...)"),
        ("a: 1\n---\nb: 2\n", "line 2: invalid YAML at column 1: but found another document"),
        ("a: \x07\n", "line 1: invalid YAML: character #x0007 is not allowed"),
        (
            "a: !!python/object:os.system x\n",
            "line 1: invalid YAML at column 4: could not determine a constructor",
        ),
    ],
    ids=["empty", "comments only", "list", "scalar", "two documents", "control char", "tag"],
)
def test_not_a_book_at_all(text: str, says: str) -> None:
    error = parse_error(text)
    assert error.problems[0].startswith(SOURCE)
    assert says in str(error)


def test_yaml_syntax_error_names_the_line() -> None:
    text = edit("company: ООО «Ясная CRM»", "company: ООО: «Ясная CRM»")
    error = parse_error(text)
    assert str(error).startswith(
        f"{SOURCE}, line {line_of('company:')}: invalid YAML at column 13:"
    )
    assert "mapping values are not allowed" in str(error)
    assert [detail.line for detail in error.details] == [line_of("company:")]


def test_tab_indentation_names_the_line() -> None:
    text = edit('  start: "09:00"', '\tstart: "09:00"')
    error = parse_error(text)
    assert str(error).startswith(f"{SOURCE}, line {line_of('start:')}: invalid YAML at column 1:")
    assert "spaces, not tabs" in str(error)


# --- Commercial proposals ----------------------------------------------------------------------

FIRST_OFFER = "- id: implementation_mid\n    product: implementation"
SECOND_OFFER = "  - id: subscription\n    product: subscription\n"


def without_arguments(text: str = DEFAULT_TEXT) -> str:
    """The first proposal with `arguments: []` in place of its list."""
    start = text.index("    arguments:\n", text.index(PROPOSALS))
    end = text.index("    effect:\n", start)
    return text[:start] + "    arguments: []\n" + text[end:]


def with_seven_arguments(text: str = DEFAULT_TEXT) -> str:
    """The first proposal (four arguments) with its first argument written three more times."""
    start = text.index("    arguments:\n", text.index(PROPOSALS)) + len("    arguments:\n")
    first_end = text.index("      - result:", start + 1)
    first = text[start:first_end]
    return text[:start] + first * 3 + text[start:]


BROKEN_PROPOSALS = [
    Broken(
        "proposal for an unknown product",
        edit("product: implementation", "product: implementaton", after=PROPOSALS),
        "proposals[implementation_mid].product",
        line_of("product: implementation", after=PROPOSALS),
        "unknown product 'implementaton'; the products are: implementation, subscription",
    ),
    Broken(
        "proposal for an unknown segment",
        edit("segment: mid", "segment: large", after=PROPOSALS),
        "proposals[implementation_mid].segment",
        line_of("segment: mid", after=PROPOSALS),
        "unknown segment 'large'; the segments are: mid, small, or leave it out",
    ),
    Broken(
        "input bounds with min above max",
        edit("team_size: {min: 1, max: 10000}", "team_size: {min: 100, max: 10}"),
        "proposals[implementation_mid].effect.team_size.min",
        line_of("team_size: {min: 1, max: 10000}"),
        "must not be greater than max (10), got 100",
    ),
    Broken(
        "a zero lower bound",
        edit("hourly_cost: {min: 50, max: 20000}", "hourly_cost: {min: 0, max: 20000}"),
        "proposals[subscription].effect.hourly_cost.min",
        line_of("hourly_cost: {min: 50, max: 20000}"),
        "must be greater than 0 (got 0)",
    ),
    Broken(
        "no value arguments",
        without_arguments(),
        "proposals[implementation_mid].arguments",
        line_of("    arguments:\n", after=PROPOSALS),
        "must have at least 1 item (got 0)",
    ),
    Broken(
        "more than six value arguments",
        with_seven_arguments(),
        "proposals[implementation_mid].arguments",
        line_of("    arguments:\n", after=PROPOSALS),
        "must have at most 6 items (got 7)",
    ),
    Broken(
        "an argument that promises no known result",
        edit("result: cost_saved", "result: happiness", after=PROPOSALS),
        "proposals[implementation_mid].arguments[3].result",
        line_of("result: cost_saved", after=PROPOSALS),
        "'cost_saved', 'time_saved' or 'revenue_gained'",
    ),
    Broken(
        "recovered share written in percent",
        edit("recovered_share: 0.4", "recovered_share: 40"),
        "proposals[implementation_mid].effect.recovered_share",
        line_of("recovered_share: 0.4"),
        "must be at most 1 (got 40); shares are fractions",
    ),
    Broken(
        "free price",
        edit("price: 96000", "price: 0"),
        "proposals[subscription].price",
        line_of("price: 96000"),
        "must be greater than 0 (got 0)",
    ),
    Broken(
        "two proposals for one product and segment",
        edit(SECOND_OFFER, "  - id: subscription\n    product: implementation\n    segment: mid\n"),
        "proposals[subscription]",
        line_of(SECOND_OFFER),
        "proposal 'implementation_mid' already covers product 'implementation' for segment 'mid'",
    ),
    Broken(
        "duplicate proposal id",
        edit(SECOND_OFFER, "  - id: implementation_mid\n    product: subscription\n"),
        "proposals[1].id",
        line_of(SECOND_OFFER),
        "duplicate id 'implementation_mid': proposals[0] already uses it",
    ),
    Broken(
        "a third success story",
        edit(
            "    stories:\n",
            "    stories:\n      - client: Клиент\n        result: Результат\n",
            after=FIRST_OFFER,
        ),
        "proposals[implementation_mid].stories",
        line_of("    stories:\n", after=FIRST_OFFER),
        "must have at most 2 items (got 3)",
    ),
]


@pytest.mark.parametrize("broken", BROKEN_PROPOSALS, ids=[broken.id for broken in BROKEN_PROPOSALS])
def test_broken_proposal_names_path_line_and_problem(broken: Broken) -> None:
    test_broken_book_names_path_line_and_problem(broken)
