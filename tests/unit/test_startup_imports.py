"""Starting the bot does not import the heavy libraries only some screens need: they are imported
by the function that first uses them (bench/import_time.py times the difference).

Checked in a fresh interpreter, since this test run has imported them all long ago.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]

IMPORTED_WHEN_FIRST_USED = {
    "matplotlib": "the digest chart (bot/screens/digest.py) and the proposal's fonts",
    "fpdf": "the proposal PDF (bot/renderers/proposal_pdf/render.py)",
    "openpyxl": "the XLSX export and a spend table upload",
    "dateparser": "a typed reminder time (bot/when_parser.py)",
    "alembic": "the migrations and a backup check",
    "redis": "the Redis conversation storage, with REDIS_URL set",
    "sqlalchemy.dialects.postgresql": "an upsert on PostgreSQL",
    "holidays": "the first sales book read and working calendar",
    "phonenumbers": "the first phone number read",
    "snowballstemmer": "the first objection search (domain/script_search.py)",
    "aiohttp.web": "the web server, with WEBHOOK_URL or WEB_PORT (bot/web.py)",
    "bot.web_app": "the Mini App's API, served by the web server",
}


def modules_loaded_by(statement: str) -> set[str]:
    probe = f"import json, sys\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    finished = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return set(json.loads(finished.stdout))


def test_importing_the_application_leaves_the_heavy_libraries_for_later() -> None:
    loaded = modules_loaded_by("import bot.app")
    assert "bot.app" in loaded
    assert sorted(set(IMPORTED_WHEN_FIRST_USED) & loaded) == []


def test_a_library_is_imported_by_its_first_use() -> None:
    assert "phonenumbers" not in modules_loaded_by("import domain.lead")
    assert "phonenumbers" in modules_loaded_by(
        "import domain.lead\ndomain.lead.normalize_phone('8 916 123-45-67')"
    )
