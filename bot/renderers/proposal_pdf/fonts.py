"""The fonts: DejaVu Sans from matplotlib's own data, and which characters need the fallback."""

from __future__ import annotations

import functools
from pathlib import Path

import matplotlib
from fpdf import FPDF
from fpdf.fonts import TTFFont

FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"


REGULAR_FONT = FONT_DIR / "DejaVuSans.ttf"


BOLD_FONT = FONT_DIR / "DejaVuSans-Bold.ttf"


FALLBACK_FONT = FONT_DIR / "LastResortHE-Regular.ttf"


@functools.cache
def glyph_codepoints() -> frozenset[int]:
    """Characters both DejaVu faces can draw."""
    probe = FPDF()
    probe.add_font("dejavu", "", REGULAR_FONT)
    probe.add_font("dejavu", "B", BOLD_FONT)
    faces = [probe.fonts["dejavu"], probe.fonts["dejavuB"]]
    maps = [frozenset(face.cmap) for face in faces if isinstance(face, TTFFont)]
    return frozenset.intersection(*maps) if maps else frozenset()


def characters_without_glyph(text: str) -> list[int]:
    """Characters of `text` DejaVu cannot draw, for the fallback font. The fallback covers all
    of Unicode, so loading it whole takes seconds; loading only these keeps rendering fast."""
    drawable = glyph_codepoints()
    return sorted({ord(char) for char in text if ord(char) not in drawable and char.isprintable()})
