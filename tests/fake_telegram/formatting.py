"""Telegram's text formatting (``parse_mode``) re-implemented closely after TDLib.

``parse_text(text, parse_mode)`` returns the plain text Telegram would store plus the entities
(offsets and lengths in UTF-16 code units), or raises :class:`EntityParseError` whose message
matches TDLib's (the Bot API prefixes it with ``"Bad Request: can't parse entities: "``).

One deliberate difference: with ``strict_ampersand=True`` (the default used by the fake server)
a ``&`` in HTML text that does not start ``&lt;``, ``&gt;``, ``&amp;``, ``&quot;`` or a numeric
reference is an error.  Real Telegram keeps such an ampersand literally, but its documentation
says it *must* be escaped, and an unescaped ``&`` usually means that user-supplied text was
interpolated without ``html.escape`` - the same bug that breaks on the first ``<``.

The parse modes themselves live in :mod:`.parse_modes`, one per module.
"""

from __future__ import annotations

import re

from .parse_modes.html import parse_html
from .parse_modes.markdown import parse_markdown
from .parse_modes.markdown_v2 import parse_markdown_v2
from .parse_modes.text_units import Entity, EntityParseError, utf16_len

__all__ = [
    "Entity",
    "EntityParseError",
    "bot_command_entities",
    "parse_html",
    "parse_markdown",
    "parse_markdown_v2",
    "parse_text",
    "trim_text",
    "utf16_len",
]

_STRIP_CHARS = " \t\r\n"
_BOT_COMMAND_RE = re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![\w/])")


def parse_text(
    text: str, parse_mode: str | None, *, strict_ampersand: bool = True
) -> tuple[str, list[Entity]]:
    """Apply a parse mode (``None`` = plain text) and Telegram's whitespace trimming."""
    mode = (parse_mode or "").lower()
    entities: list[Entity]
    if mode == "":
        plain, entities = text, []
    elif mode == "html":
        plain, entities = parse_html(text, strict_ampersand=strict_ampersand)
    elif mode == "markdownv2":
        plain, entities = parse_markdown_v2(text)
    elif mode == "markdown":
        plain, entities = parse_markdown(text)
    else:
        raise ValueError(f"unsupported parse_mode {parse_mode!r}")
    return trim_text(plain, entities)


def trim_text(text: str, entities: list[Entity]) -> tuple[str, list[Entity]]:
    """Remove leading/trailing whitespace the way Telegram does, shifting the entities."""
    stripped_left = text.lstrip(_STRIP_CHARS)
    shift = utf16_len(text) - utf16_len(stripped_left)
    result = stripped_left.rstrip(_STRIP_CHARS)
    total = utf16_len(result)
    fixed: list[Entity] = []
    for entity in entities:
        start = max(entity["offset"] - shift, 0)
        end = min(entity["offset"] + entity["length"] - shift, total)
        if end > start:
            fixed.append({**entity, "offset": start, "length": end - start})
    fixed.sort(key=lambda item: (item["offset"], -item["length"]))
    return result, fixed


def bot_command_entities(text: str) -> list[Entity]:
    """``bot_command`` entities Telegram would attach to a user's message."""
    entities: list[Entity] = []
    for match in _BOT_COMMAND_RE.finditer(text):
        entities.append(
            {
                "type": "bot_command",
                "offset": utf16_len(text[: match.start()]),
                "length": utf16_len(match.group(0)),
            }
        )
    return entities
