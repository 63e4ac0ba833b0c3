"""The scripts library: the bundled files, search by word forms and A/B rotation. How a bad
file is reported and skipped: test_scripts_errors.py."""

from __future__ import annotations

from collections import Counter

import pytest

from domain.book_loading import parse_sales_book
from domain.sales_book import DEFAULT_SALES_BOOK_PATH, SalesBook
from domain.script_loading import load_script_library, parse_script_file
from domain.scripts import MAX_TEXT_LENGTH, ScriptLibrary, Style, Variant, pick_variant
from services.scripts import DEFAULT_SCRIPTS_DIR, load_scripts
from tests.unit.script_files import GOOD_FILE, ids

DEFAULT_STAGES = [
    "request",
    "qualification",
    "meeting",
    "proposal",
    "negotiation",
    "invoice",
    "payment",
    "handover",
]


@pytest.fixture(scope="module")
def book() -> SalesBook:
    return parse_sales_book(DEFAULT_SALES_BOOK_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def library(book: SalesBook) -> ScriptLibrary:
    loaded = load_scripts(DEFAULT_SCRIPTS_DIR, book)
    assert loaded.problems == []
    return loaded.library


# --- The bundled library ---------------------------------------------------------------------


def test_bundled_library_loads_without_problems_and_fits_the_default_book(
    book: SalesBook,
) -> None:
    library, problems = load_scripts(DEFAULT_SCRIPTS_DIR)
    assert problems == []
    assert library.check_against(book) == []


def test_default_book_has_the_eight_stages_these_tests_assume(book: SalesBook) -> None:
    for pipeline in book.pipelines:
        assert [stage.id for stage in pipeline.stages] == DEFAULT_STAGES


def test_every_stage_of_every_default_pipeline_has_a_stage_script(
    book: SalesBook, library: ScriptLibrary
) -> None:
    for pipeline in book.pipelines:
        for stage in pipeline.stages:
            scripts = library.for_stage(stage.id, pipeline.id)
            assert scripts.script is not None, (pipeline.id, stage.id)
            assert scripts.script.goal
            assert scripts.script.talking_points


def test_a_pipelines_own_script_wins_over_the_shared_one(library: ScriptLibrary) -> None:
    shared = library.stage_script("meeting")
    own = library.stage_script("meeting", "subscription_small")
    assert shared is not None and own is not None
    assert own.pipeline == "subscription_small" and shared.pipeline is None
    assert library.stage_script("meeting", "implementation_mid") is shared
    assert library.stage_script("no_such_stage") is None


def test_stage_scripts_list_the_objections_typical_of_the_stage(library: ScriptLibrary) -> None:
    proposal = ids(list(library.for_stage("proposal", "implementation_mid").objections))
    assert "price" in proposal
    assert all("proposal" in library.objection(objection_id).stages for objection_id in proposal)
    assert "payment_delay" in ids(list(library.for_stage("payment").objections))


def test_at_least_twelve_objections_each_with_two_variants_in_two_named_styles(
    library: ScriptLibrary,
) -> None:
    assert len(library.objections) >= 12
    for objection in library.objections:
        styles = {variant.style for variant in objection.variants}
        assert len(objection.variants) >= 2 and len(styles) >= 2, objection.id
        assert objection.is_ab
        assert all(0 < len(variant.text) <= MAX_TEXT_LENGTH for variant in objection.variants)
    used = {variant.style for objection in library.objections for variant in objection.variants}
    assert used == set(Style)
    assert [style.label for style in Style] == ["SPIN", "Challenger", "SNAP", "Solution selling"]


def test_the_objections_the_issue_names_are_there(library: ScriptLibrary) -> None:
    for phrase, objection_id in [
        ("дорого", "price"),
        ("нет времени", "no_time"),
        ("подумаю", "think"),
        ("пришлите КП", "send_proposal"),
        ("уже работаем с другими", "competitor"),
        ("нет бюджета", "no_budget"),
        ("надо согласовать с руководством", "boss"),
        ("не сейчас", "not_now"),
    ]:
        assert ids(library.search(phrase))[:1] == [objection_id], phrase


# --- Search by word forms --------------------------------------------------------------------

SEARCH_CASES = [
    ("дорого", "price"),
    ("дороговато", "price"),
    ("цена высокая", "price"),
    ("слишком дорого для нас", "price"),
    ("ДОРОГО!!!", "price"),
    ("вы дорогие", "price"),
    ("сколько стоит", "price"),
    ("нет времени", "no_time"),
    ("некогда", "no_time"),
    ("занят", "no_time"),
    ("занята, перезвоню", "no_time"),
    ("подумаю", "think"),
    ("надо подумать", "think"),
    ("мы подумаем", "think"),
    ("нужно время подумать", "think"),
    ("пришлите кп", "send_proposal"),
    ("КП пришлите", "send_proposal"),
    ("скиньте предложение на почту", "send_proposal"),
    ("работаем с другим подрядчиком", "competitor"),
    ("уже есть поставщик", "competitor"),
    ("у нас уже есть CRM", "competitor"),
    ("нет денег", "no_budget"),
    ("бюджета нет", "no_budget"),
    ("бюджет не заложен", "no_budget"),
    ("согласовать с директором", "boss"),
    ("решает руководство", "boss"),
    ("не сейчас", "not_now"),
    ("перезвоните через неделю", "not_now"),
    ("нам это не нужно", "not_interested"),
    ("неинтересно", "not_interested"),
    ("ведём всё в экселе", "excel"),
    ("у нас была CRM, не прижилась", "bad_experience"),
    ("уже пробовали — не пошло", "bad_experience"),
    ("менеджеры не будут заполнять", "team_resist"),
    ("у конкурентов дешевле", "cheaper"),
    ("дайте скидку", "cheaper"),
    ("долго внедрять", "long_implementation"),
    ("боимся утечки данных", "security"),
    ("а с 1С интегрируется?", "integration"),
    ("оплатим в следующем месяце", "payment_delay"),
    ("сами разберёмся", "self_onboarding"),
]


@pytest.mark.parametrize(("query", "expected"), SEARCH_CASES)
def test_search_finds_the_objection_by_word_forms(
    library: ScriptLibrary, query: str, expected: str
) -> None:
    assert ids(library.search(query))[:1] == [expected]


@pytest.mark.parametrize("query", ["погода в москве", "привет, как дела", "нет", "", "  !!! "])
def test_a_query_with_nothing_in_common_finds_nothing(library: ScriptLibrary, query: str) -> None:
    assert library.search(query) == []


def test_search_ignores_case_yo_and_punctuation(library: ScriptLibrary) -> None:
    assert library.search("сами разберемся") == library.search("САМИ РАЗБЕРЁМСЯ!")
    assert ids(library.search("дорогова-то?!"))[:1] == ["price"]


def test_search_keeps_the_limit_and_ranks_both_objections_of_a_mixed_query(
    library: ScriptLibrary,
) -> None:
    assert set(ids(library.search("дорого и нет денег"))[:2]) == {"price", "no_budget"}
    assert len(library.search("у нас уже есть CRM", limit=2)) == 2
    assert library.search("дорого", limit=0) == []


def test_a_short_stem_does_not_match_an_unrelated_longer_word() -> None:
    library, problems = load_script_library(
        [
            (
                "x.yaml",
                """\
objections:
  - id: later
    title: Потом
    keywords: [потом]
    variants: [{id: a, style: snap, text: Когда?}]
""",
            )
        ]
    )
    assert problems == []
    assert library.search("нет потребности") == []  # "пот" is not "потребн..."
    assert ids(library.search("потом")) == ["later"]


# --- A/B rotation ----------------------------------------------------------------------------


def test_rotation_shows_the_least_used_variant_ties_in_file_order(
    library: ScriptLibrary,
) -> None:
    price = library.objection("price")
    a, b, c = (variant.id for variant in price.variants)
    assert pick_variant(price, {}).id == a
    assert pick_variant(price, {a: 1}).id == b
    assert pick_variant(price, {a: 1, b: 1}).id == c
    assert pick_variant(price, {a: 3, b: 1, c: 2}).id == b
    assert pick_variant(price, {"gone": 0, a: 1, b: 1, c: 1}).id == a


def test_rotation_is_balanced_over_many_uses(library: ScriptLibrary) -> None:
    for objection in library.objections:
        uses: Counter[str] = Counter()
        for _ in range(len(objection.variants) * 25):
            uses[pick_variant(objection, uses).id] += 1
        assert set(uses.values()) == {25}, objection.id


def test_an_objection_with_one_variant_is_allowed_and_is_not_ab() -> None:
    objection = parse_script_file(GOOD_FILE).objections[0]
    assert not objection.is_ab
    assert pick_variant(objection, {"a": 7}) == objection.variants[0]
    assert objection.variant("a") == Variant(
        id="a", style=Style.SNAP, text="Понимаю. Когда объявляете закупку?"
    )
