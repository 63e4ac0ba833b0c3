"""Above storage, nothing sees a table: services use repositories that hand out domain objects,
and the Telegram face uses services. Checked on the source with `ast`, so a forbidden import is
caught even in a branch that tests never run."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SERVICES_MAY_NOT_IMPORT = {"sqlalchemy", "storage.models"}
BOT_MAY_NOT_IMPORT = {"storage.models"}

SERVICES_EXEMPT = {Path("services/demo_data.py")}
"""The demo-data command fills the tables in bulk, below what any repository offers."""
BOT_EXEMPT = {Path("bot/telegram/fsm_storage.py")}
"""aiogram's conversation storage keeps its own table: it is storage for the Telegram face."""


def imported_modules(tree: ast.Module) -> set[str]:
    """Every module an `import` names, and for `from x import y` both `x` and `x.y` (so
    `from storage import models` counts as importing `storage.models`)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def forbidden(tree: ast.Module, packages: set[str]) -> set[str]:
    """The imported modules that are one of `packages` or inside one."""
    return {
        name
        for name in imported_modules(tree)
        if any(name == package or name.startswith(f"{package}.") for package in packages)
    }


def modules(layer: str, exempt: set[Path]) -> list[Path]:
    return [
        path.relative_to(ROOT)
        for path in sorted((ROOT / layer).rglob("*.py"))
        if path.relative_to(ROOT) not in exempt
    ]


def _parse(path: Path) -> ast.Module:
    return ast.parse((ROOT / path).read_text(encoding="utf-8"), filename=str(path))


@pytest.mark.parametrize("path", modules("services", SERVICES_EXEMPT), ids=str)
def test_a_service_imports_neither_sqlalchemy_nor_the_models(path: Path) -> None:
    assert forbidden(_parse(path), SERVICES_MAY_NOT_IMPORT) == set()


@pytest.mark.parametrize("path", modules("bot", BOT_EXEMPT), ids=str)
def test_the_telegram_face_does_not_import_the_models(path: Path) -> None:
    assert forbidden(_parse(path), BOT_MAY_NOT_IMPORT) == set()


def test_the_exempt_modules_exist() -> None:
    assert all((ROOT / path).is_file() for path in SERVICES_EXEMPT | BOT_EXEMPT)


def test_the_checker_catches_what_it_should() -> None:
    tree = ast.parse(
        "import sqlalchemy.orm\n"
        "from sqlalchemy.ext.asyncio import AsyncSession\n"
        "from storage import models\n"
        "from storage.models import DealRow\n"
        "from storage.unit_of_work import UnitOfWork\n"
        "from . import sibling\n"
    )
    assert forbidden(tree, SERVICES_MAY_NOT_IMPORT) == {
        "sqlalchemy.orm",
        "sqlalchemy.ext.asyncio",
        "sqlalchemy.ext.asyncio.AsyncSession",
        "storage.models",
        "storage.models.DealRow",
    }
    assert forbidden(tree, BOT_MAY_NOT_IMPORT) == {"storage.models", "storage.models.DealRow"}
