"""What the parse modes share: entities, UTF-16 lengths, the text being built, open tags."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Entity = dict[str, Any]


class EntityParseError(ValueError):
    """The text is not valid for the given parse mode."""


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's limits and entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def byte_offset(text: str, index: int) -> int:
    """Where ``text[index]`` starts in UTF-8: the unit of TDLib's error positions."""
    return len(text[:index].encode("utf-8"))


@dataclass
class TextBuilder:
    """The plain text being produced, with its length so far in UTF-16 units."""

    parts: list[str] = field(default_factory=list)
    u16: int = 0

    def append(self, chunk: str) -> None:
        self.parts.append(chunk)
        self.u16 += utf16_len(chunk)

    def text(self) -> str:
        return "".join(self.parts)


@dataclass
class OpenTag:
    """An entity opened (a tag, a ``*``...) and not yet closed: where it starts."""

    tag: str
    argument: str
    u16: int
    byte: int
    text_index: int
    extra: dict[str, Any] = field(default_factory=dict)
