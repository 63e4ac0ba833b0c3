"""The legacy Markdown parse mode (``*bold*``, ``_italic_``, ``[link](url)``, code)."""

from __future__ import annotations

from .text_units import Entity, EntityParseError, TextBuilder, byte_offset


def parse_markdown(text: str) -> tuple[str, list[Entity]]:
    builder = TextBuilder()
    entities: list[Entity] = []
    n = len(text)
    i = 0
    while i < n:
        char = text[i]
        if char == "\\" and i + 1 < n and text[i + 1] in "_*`[":
            builder.append(text[i + 1])
            i += 2
            continue
        if char not in "_*`[":
            builder.append(char)
            i += 1
            continue
        begin = i
        end_char = "]" if char == "[" else char
        is_pre = False
        language = ""
        i += 1
        if char == "`" and text.startswith("``", i):
            i += 2
            is_pre = True
            language_end = i
            while (
                language_end < n
                and not text[language_end].isspace()
                and (text[language_end] != "`")
            ):
                language_end += 1
            if i != language_end and language_end < n and text[language_end] != "`":
                language = text[i:language_end]
                i = language_end
            if i < n and text[i] in "\r\n":
                i += 2 if i + 1 < n and text[i + 1] in "\r\n" and text[i + 1] != text[i] else 1
        start_u16 = builder.u16
        start_index = len(builder.parts)
        while i < n and (text[i] != end_char or (is_pre and not text.startswith("```", i))):
            builder.append(text[i])
            i += 1
        if i >= n:
            raise EntityParseError(
                f"Can't find end of the entity starting at byte offset {byte_offset(text, begin)}"
            )
        length = builder.u16 - start_u16
        if char == "[":
            if i + 1 < n and text[i + 1] == "(":
                i += 2
                url_chars: list[str] = []
                while i < n and text[i] != ")":
                    url_chars.append(text[i])
                    i += 1
                url = "".join(url_chars)
            else:
                url = "".join(builder.parts[start_index:])
            if length:
                entities.append(
                    {"type": "text_link", "offset": start_u16, "length": length, "url": url}
                )
        elif length:
            kind = {"_": "italic", "*": "bold"}.get(char, "pre" if is_pre else "code")
            entity: Entity = {"type": kind, "offset": start_u16, "length": length}
            if is_pre and language:
                entity["language"] = language
            entities.append(entity)
        i += 3 if is_pre else 1
    return builder.text(), entities
