"""The MarkdownV2 parse mode, with its reserved characters and block quotes."""

from __future__ import annotations

import re

from .text_units import Entity, EntityParseError, OpenTag, TextBuilder, byte_offset

_MDV2_RESERVED = "_*[]()~`>#+-=|{}.!"

_MDV2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
}


def _reserved_error(char: str) -> EntityParseError:
    return EntityParseError(
        f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
    )


def parse_markdown_v2(text: str) -> tuple[str, list[Entity]]:
    builder = TextBuilder()
    stack: list[OpenTag] = []
    entities: list[Entity] = []
    quote: OpenTag | None = None
    n = len(text)

    def at(index: int) -> str:
        return text[index] if index < n else ""

    i = 0
    while i < n:
        char = text[i]
        in_code = bool(stack) and stack[-1].tag in ("code", "pre")
        line_start = i == 0 or text[i - 1] == "\n"
        if line_start and not in_code:
            if char == ">" or text.startswith("**>", i):
                if quote is None:
                    expandable = char == "*"
                    quote = OpenTag(
                        "expandable_blockquote" if expandable else "blockquote",
                        "",
                        builder.u16,
                        byte_offset(text, i),
                        len(builder.parts),
                    )
                i += 3 if char == "*" else 1
                continue
            if quote is not None:
                _close_quote(quote, builder, entities)
                quote = None
        if char == "\\" and i + 1 < n and 0 < ord(text[i + 1]) <= 126:
            builder.append(text[i + 1])
            i += 2
            continue
        if (
            quote is not None
            and quote.tag == "expandable_blockquote"
            and text.startswith("||", i)
            and at(i + 2) in ("", "\n")
            and not (stack and stack[-1].tag == "spoiler")
        ):
            i += 2
            continue
        reserved = "`" if in_code else _MDV2_RESERVED
        if char not in reserved:
            if (
                char == "\n"
                and quote is not None
                and at(i + 1) != ">"
                and not text.startswith("**>", i + 1)
            ):
                _close_quote(quote, builder, entities)
                quote = None
            builder.append(char)
            i += 1
            continue

        top = stack[-1].tag if stack else None
        is_end = (
            (top == "bold" and char == "*")
            or (top == "italic" and char == "_" and at(i + 1) != "_")
            or (top == "code" and char == "`")
            or (top == "pre" and text.startswith("```", i))
            or (top in ("text_link", "custom_emoji") and char == "]")
            or (top == "underline" and text.startswith("__", i))
            or (top == "strikethrough" and char == "~")
            or (top == "spoiler" and text.startswith("||", i))
        )
        if not is_end:
            i = _mdv2_open(text, i, stack, builder)
            continue
        opened = stack.pop()
        entity: Entity = {
            "type": opened.tag,
            "offset": opened.u16,
            "length": builder.u16 - opened.u16,
        }
        if opened.tag in ("underline", "spoiler"):
            i += 1
        elif opened.tag == "pre":
            i += 2
            if opened.argument:
                entity["language"] = opened.argument
        elif opened.tag in ("text_link", "custom_emoji"):
            if at(i + 1) != "(":
                if opened.tag == "custom_emoji":
                    raise EntityParseError("Custom emoji entity must contain a tg://emoji URL")
                url = "".join(builder.parts[opened.text_index :])
            else:
                i += 2
                url_begin = i
                url_chars: list[str] = []
                while i < n and text[i] != ")":
                    if text[i] == "\\" and i + 1 < n and 0 < ord(text[i + 1]) <= 126:
                        url_chars.append(text[i + 1])
                        i += 2
                        continue
                    url_chars.append(text[i])
                    i += 1
                if i >= n:
                    raise EntityParseError(
                        f"Can't find end of a URL at byte offset {byte_offset(text, url_begin)}"
                    )
                url = "".join(url_chars)
            if opened.tag == "custom_emoji":
                match = re.fullmatch(r"tg://emoji\?id=(\d+)", url)
                if not match:
                    raise EntityParseError("Custom emoji URL must have an emoji identifier")
                entity["custom_emoji_id"] = match.group(1)
            else:
                entity["url"] = url
        if entity["length"] > 0:
            entities.append(entity)
        i += 1
    if stack:
        raise EntityParseError(
            f"Can't find end of {_MDV2_NAMES[stack[-1].tag]} entity at byte offset {stack[-1].byte}"
        )
    if quote is not None:
        _close_quote(quote, builder, entities)
    return builder.text(), entities


def _close_quote(quote: OpenTag, builder: TextBuilder, entities: list[Entity]) -> None:
    length = builder.u16 - quote.u16
    if length > 0:
        entities.append({"type": quote.tag, "offset": quote.u16, "length": length})


def _mdv2_open(text: str, i: int, stack: list[OpenTag], builder: TextBuilder) -> int:
    n = len(text)
    char = text[i]
    byte = byte_offset(text, i)
    argument = ""

    def at(index: int) -> str:
        return text[index] if index < n else ""

    if char == "_":
        if at(i + 1) == "_":
            tag = "underline"
            i += 1
        else:
            tag = "italic"
    elif char == "*":
        tag = "bold"
    elif char == "~":
        tag = "strikethrough"
    elif char == "|":
        if at(i + 1) != "|":
            raise _reserved_error(char)
        tag = "spoiler"
        i += 1
    elif char == "[":
        tag = "text_link"
    elif char == "`":
        if text.startswith("```", i):
            i += 3
            tag = "pre"
            language_end = i
            while (
                language_end < n
                and not text[language_end].isspace()
                and (text[language_end] != "`")
            ):
                language_end += 1
            if i != language_end and language_end < n and text[language_end] != "`":
                argument = text[i:language_end]
                i = language_end
            if at(i) in ("\n", "\r"):
                i += 2 if at(i + 1) in ("\n", "\r") and at(i + 1) != at(i) else 1
            stack.append(OpenTag(tag, argument, builder.u16, byte, len(builder.parts)))
            return i
        tag = "code"
    elif char == "!" and at(i + 1) == "[":
        tag = "custom_emoji"
        i += 1
    else:
        raise _reserved_error(char)
    stack.append(OpenTag(tag, argument, builder.u16, byte, len(builder.parts)))
    return i + 1
