"""The scripts library: a bad file is reported by name and line and skipped while the rest
still loads, and a library is checked against the sales book."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.book_loading import parse_sales_book
from domain.sales_book import DEFAULT_SALES_BOOK_PATH, SalesBook
from domain.script_loading import ScriptFileError, load_script_library, parse_script_file
from domain.scripts import MAX_TEXT_LENGTH, ScriptLibrary
from services.scripts import DEFAULT_SCRIPTS_DIR, load_scripts
from tests.unit.script_files import GOOD_FILE, ids


@pytest.fixture(scope="module")
def book() -> SalesBook:
    return parse_sales_book(DEFAULT_SALES_BOOK_PATH.read_text(encoding="utf-8"))


# --- Malformed files: reported by name and line, skipped, the rest still loads ---------------


def write(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(text, encoding="utf-8")


def load_with_bundled(tmp_path: Path, name: str, text: str) -> tuple[ScriptLibrary, list[str]]:
    for bundled in DEFAULT_SCRIPTS_DIR.glob("*.yaml"):
        write(tmp_path, bundled.name, bundled.read_text(encoding="utf-8"))
    write(tmp_path, "zz_extra.yaml", GOOD_FILE)
    write(tmp_path, name, text)
    library, problems = load_scripts(tmp_path)
    return library, problems


def assert_skipped(library: ScriptLibrary, problems: list[str]) -> None:
    # The good files still load: the bundled ones and zz_extra.yaml.
    assert len(library.objections) >= 13
    assert ids(library.search("тендер")) == ["extra"]
    assert library.stage_script("request") is not None
    assert problems[-1].startswith("bad.yaml: not loaded because of")


BAD_STYLE = """\
objections:
  - id: rush
    title: Срочно
    keywords: [срочно]
    variants:
      - id: a
        style: spinn
        text: Когда нужно?
"""


def test_unknown_style_is_reported_with_file_line_and_field(tmp_path: Path) -> None:
    library, problems = load_with_bundled(tmp_path, "bad.yaml", BAD_STYLE)
    assert problems[0] == (
        "bad.yaml, line 7, objections[rush].variants[a].style: unknown style 'spinn'; the "
        "styles are: spin (SPIN), challenger (Challenger), snap (SNAP), solution (Solution "
        "selling); did you mean 'spin'?"
    )
    assert_skipped(library, problems)
    assert "rush" not in ids(list(library.objections))


def test_broken_yaml_is_reported_with_its_line(tmp_path: Path) -> None:
    library, problems = load_with_bundled(
        tmp_path, "bad.yaml", "objections:\n  - id: x\n   title: [unclosed\n"
    )
    assert problems[0].startswith("bad.yaml, line 3: invalid YAML")
    assert_skipped(library, problems)


def test_unknown_field_is_reported_with_a_suggestion(tmp_path: Path) -> None:
    library, problems = load_with_bundled(
        tmp_path, "bad.yaml", GOOD_FILE.replace("keywords:", "keywrds:").replace("extra", "x")
    )
    assert (
        "bad.yaml, line 4, objections[x].keywrds: unknown field 'keywrds'; did you mean "
        "'keywords'?" in problems
    )
    assert any("objections[x].keywords: required field is missing" in p for p in problems)
    assert_skipped(library, problems)


def test_duplicate_id_within_a_file_skips_the_file(tmp_path: Path) -> None:
    twice = GOOD_FILE.replace("extra", "dup") + GOOD_FILE.replace("extra", "dup").replace(
        "objections:\n", ""
    )
    library, problems = load_with_bundled(tmp_path, "bad.yaml", twice)
    assert problems[0] == (
        "bad.yaml, line 9, objections[1].id: duplicate id 'dup': objections[0] already uses it, "
        "and ids must be unique within objections"
    )
    assert_skipped(library, problems)


def test_duplicate_id_across_files_skips_only_that_objection(tmp_path: Path) -> None:
    clash = GOOD_FILE.replace("extra", "price") + GOOD_FILE.replace("objections:\n", "").replace(
        "extra", "own"
    )
    # Files are read in name order, so the bundled objections.yaml comes first and wins.
    library, problems = load_with_bundled(tmp_path, "zz_more.yaml", clash)
    assert problems == [
        "zz_more.yaml, line 2, objections[price]: duplicate objection id 'price': objections.yaml "
        f"(line {line_of(DEFAULT_SCRIPTS_DIR / 'objections.yaml', '- id: price')}) already uses "
        "it; this one is skipped"
    ]
    assert library.objection("price").title == "Дорого"
    assert ids(library.search("тендер")) == ["extra", "own"]


def test_a_stage_script_repeated_in_a_later_file_is_skipped(tmp_path: Path) -> None:
    again = "stage_scripts:\n  - stage: payment\n    goal: Другая цель\n    talking_points: [x]\n"
    library, problems = load_with_bundled(tmp_path, "zz_more.yaml", again)
    stages = DEFAULT_SCRIPTS_DIR / "stages.yaml"
    assert problems == [
        "zz_more.yaml, line 2, stage_scripts[0]: stage 'payment' already has a script in "
        f"stages.yaml (line {line_of(stages, '- stage: payment')}); this one is skipped"
    ]
    script = library.stage_script("payment")
    assert script is not None and script.goal != "Другая цель"
    origin = library.origin_of_stage_script("payment", None)
    assert origin is not None and origin.source == "stages.yaml"


def line_of(path: Path, needle: str) -> int:
    text = path.read_text(encoding="utf-8")
    return text.count("\n", 0, text.index(needle)) + 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "bad.yaml: the file is empty"),
        ("- just a list\n", "bad.yaml, line 1: the top level must be a mapping"),
        ("{}\n", "bad.yaml: the file has neither stage_scripts nor objections"),
        (
            GOOD_FILE.replace("variants:", "stages: [proposal, proposal]\n    variants:"),
            "bad.yaml, line 5, objections[extra].stages[1]: stage 'proposal' is listed twice",
        ),
        (
            GOOD_FILE.replace("text: Понимаю.", "text: " + "я" * (MAX_TEXT_LENGTH + 1)),
            "bad.yaml, line 8, objections[extra].variants[a].text: must be at most 1500 "
            "characters (got 1527) so that it fits one Telegram message",
        ),
        (
            GOOD_FILE.replace("[тендер, закупка, госзакупки]", "[тендер, нет]"),
            "bad.yaml, line 4, objections[extra].keywords[1]: 'нет' has no word that search",
        ),
        (
            GOOD_FILE.replace("id: extra", "id: Extra"),
            "bad.yaml, line 2, objections[Extra].id: must be an id",
        ),
        (
            GOOD_FILE.replace("variants:\n", "variants: []\n").split("      - id: a")[0],
            "bad.yaml, line 5, objections[extra].variants: must have at least 1 item",
        ),
        (
            GOOD_FILE
            + "".join(
                f"      - id: {letter}\n        style: spin\n        text: Да?\n"
                for letter in "bcd"
            ),
            "bad.yaml, line 5, objections[extra].variants: must have at most 3 items (got 4)",
        ),
        (
            "stage_scripts:\n  - stage: request\n    goal: Цель\n    talking_points:\n"
            "      - Скажите: привет\n",
            "bad.yaml, line 5, stage_scripts[0].talking_points[0]: must be text, but YAML read "
            "it as a mapping",
        ),
        (
            "stage_scripts:\n  - stage: request\n    goal: Цель\n    talking_points: [a]\n"
            "  - stage: request\n    goal: Цель\n    talking_points: [b]\n",
            "bad.yaml, line 5, stage_scripts[1].stage: stage_scripts[0] is already the script "
            "for stage 'request'",
        ),
        (
            "stage_scripts:\n  - stage: request\n    goal: Цель\n    talking_points:\n"
            + "".join(f"      - {'я' * 1400}\n" for _ in range(3)),
            "bad.yaml, line 2, stage_scripts[0]: goal, talking points and questions together "
            "must be at most 3500 characters",
        ),
    ],
)
def test_mistakes_in_a_file_are_reported_and_the_file_skipped(
    tmp_path: Path, text: str, expected: str
) -> None:
    library, problems = load_with_bundled(tmp_path, "bad.yaml", text)
    assert problems[0].startswith(expected), problems
    assert_skipped(library, problems)


def test_parse_script_file_raises_with_every_problem() -> None:
    with pytest.raises(ScriptFileError) as caught:
        parse_script_file(BAD_STYLE.replace("id: a", "id: A"), "my.yaml")
    assert caught.value.source == "my.yaml"
    assert [problem.line for problem in caught.value.details] == [6, 7]
    assert len(caught.value.problems) == 2


def test_unreadable_files_and_a_missing_folder_are_reported(tmp_path: Path) -> None:
    (tmp_path / "latin1.yaml").write_bytes("objections: []\n# цена\n".encode("cp1251"))
    write(tmp_path, ".hidden.yaml", "not: [valid")
    write(tmp_path, "notes.txt", "not: [valid")
    write(tmp_path, "extra.yml", GOOD_FILE)
    library, problems = load_scripts(tmp_path)
    assert len(problems) == 1 and problems[0].startswith("latin1.yaml: not loaded: the file is")
    assert ids(list(library.objections)) == ["extra"]

    library, problems = load_scripts(tmp_path / "missing")
    assert library.objections == () and len(problems) == 1
    assert "cannot read the scripts folder" in problems[0]


# --- Checking against a sales book ----------------------------------------------------------


def test_check_against_reports_unknown_stages_pipelines_and_missing_scripts(
    book: SalesBook,
) -> None:
    library, problems = load_script_library(
        [
            (
                "odd.yaml",
                """\
stage_scripts:
  - stage: request
    goal: Цель
    talking_points: [Позвонить]
  - stage: demo
    goal: Цель
    talking_points: [Показать]
  - stage: request
    pipeline: wholesale
    goal: Цель
    talking_points: [Позвонить]
  - stage: demo
    pipeline: subscription_small
    goal: Цель
    talking_points: [Показать]
objections:
  - id: x
    title: Икс
    keywords: [икс]
    stages: [request, closing]
    variants: [{id: a, style: snap, text: Да?}]
""",
            )
        ]
    )
    assert problems == []
    found = library.check_against(book)
    assert found[:4] == [
        "odd.yaml, line 5, stage_scripts[1].stage: no pipeline of the sales book has stage "
        "'demo'; the stages are: handover, invoice, meeting, negotiation, payment, proposal, "
        "qualification, request",
        "odd.yaml, line 8, stage_scripts[2].pipeline: unknown pipeline 'wholesale'; the sales "
        "book's pipelines are: implementation_mid, subscription_small",
        "odd.yaml, line 12, stage_scripts[3].stage: pipeline 'subscription_small' has no stage "
        "'demo'; its stages are: request, qualification, meeting, proposal, negotiation, "
        "invoice, payment, handover",
        "odd.yaml, line 17, objections[x].stages: objection 'x' lists stage 'closing', which no "
        "pipeline of the sales book has; the stages are: handover, invoice, meeting, "
        "negotiation, payment, proposal, qualification, request",
    ]
    missing = found[4:]
    assert len(missing) == 2 * 7  # every stage but request, in both pipelines
    assert missing[0] == (
        "scripts: no stage script for stage 'qualification' (Квалификация) of pipeline "
        "'implementation_mid'; add one to stage_scripts"
    )
