"""Imports point one way: bot/ -> services/ -> storage/ and domain/, with config/ readable by all.

A module that imports a layer above it (services reading the bot's settings, say) drags the
Telegram face into a command-line tool or a migration, and makes the layers impossible to reuse
apart. Checked on the source with `ast`, so an import inside a function counts as well.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.unit.test_domain_is_pure import imported_top_packages

ROOT = Path(__file__).resolve().parents[2]

# What each layer must never import. domain/ has its own, longer list in test_domain_is_pure.py
# (no I/O, no clock); the part here is the direction between the project's own packages.
FORBIDDEN_BY_LAYER: dict[str, frozenset[str]] = {
    "domain": frozenset({"bot", "services", "storage", "aiogram", "sqlalchemy"}),
    "storage": frozenset({"bot", "services", "aiogram"}),
    "services": frozenset({"bot", "aiogram"}),
    # Every layer reads the settings, so the settings read none of them (domain's defaults aside).
    "config": frozenset({"bot", "services", "storage", "aiogram", "sqlalchemy"}),
}

MODULES = sorted(path for layer in FORBIDDEN_BY_LAYER for path in (ROOT / layer).rglob("*.py"))


def layer_of(path: Path) -> str:
    return path.relative_to(ROOT).parts[0]


def test_every_layer_has_modules() -> None:
    assert {layer_of(path) for path in MODULES} == set(FORBIDDEN_BY_LAYER)


@pytest.mark.parametrize("path", MODULES, ids=lambda path: str(path.relative_to(ROOT)))
def test_module_imports_no_layer_above_it(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    assert imported_top_packages(tree) & FORBIDDEN_BY_LAYER[layer_of(path)] == set()


def test_an_import_inside_a_function_is_caught() -> None:
    tree = ast.parse(
        "def main() -> None:\n    from bot.settings import Settings\n    import aiogram\n"
    )
    assert imported_top_packages(tree) & FORBIDDEN_BY_LAYER["services"] == {"bot", "aiogram"}
