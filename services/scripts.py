"""Reading the scripts library from a folder of YAML files.

The bot loads it once at start: every `*.yaml` (and `*.yml`) file of the folder, in name order.
A file that cannot be read or is not valid is skipped and reported by name, line and field, so
one bad file dropped in by the admin does not stop the bot; the caller logs the problems (and
may tell the admin). Parsing and validation are in `domain.script_loading`, search in
`domain.scripts`.
"""

from __future__ import annotations

from pathlib import Path

from domain.sales_book import SalesBook
from domain.script_loading import LibraryLoad, load_script_library

DEFAULT_SCRIPTS_DIR = Path(__file__).resolve().parent.parent / "bot" / "scripts"
"""The bundled library; the admin adds scripts by dropping files in."""

SCRIPT_FILE_SUFFIXES = (".yaml", ".yml")


def script_files(folder: Path) -> list[Path]:
    """The scripts files of `folder` in name order; hidden files (editor backups) are left out."""
    return sorted(
        path
        for path in folder.iterdir()
        if path.suffix.lower() in SCRIPT_FILE_SUFFIXES
        and not path.name.startswith(".")
        and path.is_file()
    )


def load_scripts(folder: Path = DEFAULT_SCRIPTS_DIR, book: SalesBook | None = None) -> LibraryLoad:
    """Load the library from `folder`: (library, problems), one readable line per problem.

    With `book`, also reports what does not fit the sales book (a script for a stage no
    pipeline has, a stage without a script; see `ScriptLibrary.check_against`).
    """
    problems: list[str] = []
    texts: list[tuple[str, str]] = []
    try:
        paths = script_files(folder)
    except OSError as exc:
        problems.append(f"{folder}: cannot read the scripts folder ({exc.strerror or exc})")
        paths = []
    for path in paths:
        try:
            texts.append((path.name, path.read_text(encoding="utf-8")))
        except UnicodeDecodeError as exc:
            problems.append(
                f"{path.name}: not loaded: the file is not UTF-8 text (byte {exc.start}); save "
                "it in UTF-8"
            )
        except OSError as exc:
            problems.append(f"{path.name}: not loaded: cannot read it ({exc.strerror or exc})")
    library, parse_problems = load_script_library(texts)
    problems += parse_problems
    if book is not None:
        problems += library.check_against(book)
    return LibraryLoad(library, problems)
