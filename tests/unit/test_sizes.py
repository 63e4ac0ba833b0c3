"""The house stays easy to read: a handler fits on a screen (50 lines), a module is one idea
(500 lines). The demo data generator and the migrations are exempt: they are data."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "services", "domain", "storage", "config", "bench", "tests")
EXEMPT = {Path("services/demo_data.py")}
MODULE_LINES = 500
HANDLER_LINES = 50


def modules() -> list[Path]:
    found = [ROOT / "run_bot.py"]
    for package in PACKAGES:
        found.extend(
            path
            for path in (ROOT / package).rglob("*.py")
            if "migrations" not in path.parts and path.relative_to(ROOT) not in EXEMPT
        )
    return sorted(found)


def test_no_module_is_longer_than_500_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): lines
        for path in modules()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MODULE_LINES
    }
    assert long == {}


def test_no_handler_is_longer_than_50_lines() -> None:
    long: dict[str, int] = {}
    for path in sorted((ROOT / "bot" / "handlers").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > HANDLER_LINES:
                    long[f"{path.relative_to(ROOT)}:{node.name}"] = lines
    assert long == {}
