"""The domain stays pure: no framework, no database, no I/O, no clock of its own.

Checked on the source with `ast`, so a forbidden import is caught even in a branch that tests
never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

DOMAIN = Path(__file__).resolve().parents[2] / "domain"

FORBIDDEN_PACKAGES = {
    "aiogram",
    "sqlalchemy",
    "aiosqlite",
    "asyncpg",
    "alembic",
    "apscheduler",
    "aiohttp",
    "redis",
    "storage",
    "bot",
}

# Reading the clock is the caller's job: time is passed in. The one sanctioned clock lives in
# domain/clock.py, the injectable `Clock` the services receive.
CLOCK_READS = {"now", "utcnow", "today"}
CLOCK_MODULES = {Path("clock.py")}

MODULES = sorted(DOMAIN.rglob("*.py"))


def imported_top_packages(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            # A relative import cannot climb out of the top-level package, so it stays in domain.
            names.add("domain" if node.level else (node.module or "").split(".")[0])
    return names


def clock_reads(tree: ast.Module) -> list[str]:
    return [
        f"line {node.lineno}: .{node.func.attr}()"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in CLOCK_READS
    ]


def io_calls(tree: ast.Module) -> list[str]:
    return [
        f"line {node.lineno}: {node.func.id}()"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in {"open", "print", "input"}
    ]


def test_there_are_domain_modules() -> None:
    assert len(MODULES) >= 5


@pytest.mark.parametrize("path", MODULES, ids=lambda path: str(path.relative_to(DOMAIN)))
def test_module_imports_no_framework_or_outer_layer(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    assert imported_top_packages(tree) & FORBIDDEN_PACKAGES == set()


@pytest.mark.parametrize("path", MODULES, ids=lambda path: str(path.relative_to(DOMAIN)))
def test_module_does_not_read_the_clock_or_do_io(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    if path.relative_to(DOMAIN) not in CLOCK_MODULES:
        assert clock_reads(tree) == []
    assert io_calls(tree) == []


def test_the_checker_catches_what_it_should() -> None:
    tree = ast.parse(
        "import aiogram.types\n"
        "from sqlalchemy.orm import Session\n"
        "from storage.repositories import Deals\n"
        "from . import sales_book\n"
        "import datetime\n"
        "datetime.datetime.now()\n"
        "open('x')\n"
    )
    assert imported_top_packages(tree) == {"aiogram", "sqlalchemy", "storage", "domain", "datetime"}
    assert clock_reads(tree) == ["line 6: .now()"]
    assert io_calls(tree) == ["line 7: open()"]
