"""Telegram's text formatting (``parse_mode``) re-implemented closely after TDLib.

``parse_text(text, parse_mode)`` returns the plain text Telegram would store plus the entities
(offsets and lengths in UTF-16 code units), or raises :class:`EntityParseError` whose message
matches TDLib's (the Bot API prefixes it with ``"Bad Request: can't parse entities: "``).

One deliberate difference: with ``strict_ampersand=True`` (the default used by the fake server)
a ``&`` in HTML text that does not start ``&lt;``, ``&gt;``, ``&amp;``, ``&quot;`` or a numeric
reference is an error.  Real Telegram keeps such an ampersand literally, but its documentation
says it *must* be escaped, and an unescaped ``&`` usually means that user-supplied text was
interpolated without ``html.escape`` - the same bug that breaks on the first ``<``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

Entity = dict[str, Any]

HTML_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "tg-time",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)
_HTML_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "code": "code",
    "pre": "pre",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_STRIP_CHARS = " \t\r\n"
_MDV2_RESERVED = "_*[]()~`>#+-=|{}.!"
_BOT_COMMAND_RE = re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![\w/])")


class EntityParseError(ValueError):
    """The text is not valid for the given parse mode."""


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's limits and entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


@dataclass
class _Builder:
    parts: list[str] = field(default_factory=list)
    u16: int = 0

    def append(self, chunk: str) -> None:
        self.parts.append(chunk)
        self.u16 += utf16_len(chunk)

    def text(self) -> str:
        return "".join(self.parts)


@dataclass
class _OpenTag:
    tag: str
    argument: str
    u16: int
    byte: int
    text_index: int
    extra: dict[str, Any] = field(default_factory=dict)


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


# ---------------------------------------------------------------------------------- HTML


def _decode_html_entity(text: str, pos: int) -> tuple[str | None, int]:
    """Decode ``&...;`` at ``pos`` like TDLib (the ``;`` is optional); (None, pos) if none."""
    n = len(text)
    end = pos + 1
    code = 0
    if end < n and text[end] == "#":
        end += 1
        if end < n and text[end] == "x":
            end += 1
            start = end
            while end < n and text[end] in "0123456789abcdefABCDEF":
                end += 1
            if end == start:
                return None, pos
            code = int(text[start:end], 16)
        else:
            start = end
            while end < n and text[end].isdigit() and text[end].isascii():
                end += 1
            if end == start:
                return None, pos
            code = int(text[start:end])
        if code == 0 or code >= 0x10FFFF or end - pos >= 10 or 0xD800 <= code <= 0xDFFF:
            return None, pos
        decoded = chr(code)
    else:
        start = end
        while end < n and text[end].isascii() and text[end].isalpha():
            end += 1
        name = text[start:end]
        if name not in _NAMED_ENTITIES:
            return None, pos
        decoded = _NAMED_ENTITIES[name]
    if end < n and text[end] == ";":
        end += 1
    return decoded, end


def parse_html(text: str, *, strict_ampersand: bool = True) -> tuple[str, list[Entity]]:
    builder = _Builder()
    stack: list[_OpenTag] = []
    entities: list[Entity] = []
    n = len(text)
    i = 0
    while i < n:
        char = text[i]
        if char == "&":
            decoded, end = _decode_html_entity(text, i)
            if decoded is not None:
                builder.append(decoded)
                i = end
                continue
            if strict_ampersand:
                raise EntityParseError(
                    f'Unescaped "&" at byte offset {_byte_offset(text, i)}: '
                    "use &amp; (supported entities: &lt; &gt; &amp; &quot; &#NNN;)"
                )
            builder.append(char)
            i += 1
            continue
        if char != "<":
            builder.append(char)
            i += 1
            continue
        begin = i
        if i + 1 < n and text[i + 1] == "/":
            i = _html_end_tag(text, begin, stack, entities, builder)
        else:
            i = _html_start_tag(text, begin, stack, builder)
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    return builder.text(), entities


def _html_start_tag(text: str, begin: int, stack: list[_OpenTag], builder: _Builder) -> int:
    n = len(text)
    byte_begin = _byte_offset(text, begin)
    i = begin + 1
    while i < n and not text[i].isspace() and text[i] != ">":
        i += 1
    if i >= n:
        raise EntityParseError(f"Unclosed start tag at byte offset {byte_begin}")
    tag = text[begin + 1 : i].lower()
    if tag not in HTML_TAGS:
        raise EntityParseError(f'Unsupported start tag "{tag}" at byte offset {byte_begin}')
    attributes: dict[str, str] = {}
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {byte_begin}')
        if text[i] == ">":
            break
        name_begin = i
        while i < n and not text[i].isspace() and text[i] not in "=>":
            i += 1
        name = text[name_begin:i].lower()
        if not name:
            raise EntityParseError(
                f'Empty attribute name in the tag "{tag}" at byte offset {byte_begin}'
            )
        while i < n and text[i].isspace():
            i += 1
        if i >= n or text[i] != "=":
            if tag == "blockquote" and name == "expandable":
                attributes[name] = ""
                continue
            raise EntityParseError(
                f'Expected equal sign in declaration of an attribute of the tag "{tag}" '
                f"at byte offset {byte_begin}"
            )
        i += 1
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {byte_begin}')
        value_chars: list[str] = []
        if text[i] not in "'\"":
            token_begin = i
            while i < n and (text[i].isalnum() or text[i] in ".-"):
                i += 1
            value_chars.append(text[token_begin:i].lower())
            if i >= n or (not text[i].isspace() and text[i] != ">"):
                raise EntityParseError(
                    f"Unexpected end of name token at byte offset {_byte_offset(text, token_begin)}"
                )
        else:
            quote = text[i]
            i += 1
            while i < n and text[i] != quote:
                if text[i] == "&":
                    decoded, end = _decode_html_entity(text, i)
                    if decoded is not None:
                        value_chars.append(decoded)
                        i = end
                        continue
                value_chars.append(text[i])
                i += 1
            if i >= n:
                raise EntityParseError(f"Unclosed start tag at byte offset {byte_begin}")
            i += 1
        attributes[name] = "".join(value_chars)

    argument = ""
    extra: dict[str, Any] = {}
    if tag == "a":
        argument = attributes.get("href", "")
    elif tag == "code":
        css = attributes.get("class", "")
        if css.startswith("language-"):
            argument = css.removeprefix("language-")
    elif tag == "span":
        if attributes.get("class") != "tg-spoiler":
            raise EntityParseError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {byte_begin}'
            )
    elif tag == "tg-emoji":
        argument = attributes.get("emoji-id", "")
        if not argument.isdigit():
            raise EntityParseError(
                f'Tag "tg-emoji" must have a numeric attribute "emoji-id" '
                f"at byte offset {byte_begin}"
            )
    elif tag == "tg-time":
        unix = attributes.get("unix", "")
        if not unix.lstrip("-").isdigit():
            raise EntityParseError(
                f'Tag "tg-time" must have a numeric attribute "unix" at byte offset {byte_begin}'
            )
        extra["unix_time"] = int(unix)
        if "format" in attributes:
            extra["date_time_format"] = attributes["format"]
    elif tag == "blockquote" and "expandable" in attributes:
        argument = "expandable"
    stack.append(
        _OpenTag(
            tag=tag,
            argument=argument,
            u16=builder.u16,
            byte=byte_begin,
            text_index=len(builder.parts),
            extra=extra,
        )
    )
    return i + 1


def _html_end_tag(
    text: str,
    begin: int,
    stack: list[_OpenTag],
    entities: list[Entity],
    builder: _Builder,
) -> int:
    n = len(text)
    byte_begin = _byte_offset(text, begin)
    if not stack:
        raise EntityParseError(f"Unexpected end tag at byte offset {byte_begin}")
    i = begin + 2
    while i < n and not text[i].isspace() and text[i] != ">":
        i += 1
    end_name = text[begin + 2 : i].lower()
    while i < n and text[i].isspace():
        i += 1
    if i >= n or text[i] != ">":
        raise EntityParseError(f"Unclosed end tag at byte offset {byte_begin}")
    opened = stack.pop()
    if end_name and end_name != opened.tag:
        raise EntityParseError(
            f'Unmatched end tag at byte offset {byte_begin}, expected "</{opened.tag}>", '
            f'found "</{end_name}>"'
        )
    length = builder.u16 - opened.u16
    if length > 0:
        entity = _html_entity(opened, length, builder, stack)
        if entity is not None:
            entities.append(entity)
    return i + 1


def _html_entity(
    opened: _OpenTag, length: int, builder: _Builder, stack: list[_OpenTag]
) -> Entity | None:
    entity: Entity = {"type": "", "offset": opened.u16, "length": length}
    tag = opened.tag
    if tag == "a":
        url = opened.argument or "".join(builder.parts[opened.text_index :])
        if url.startswith("tg://user?id="):
            entity["type"] = "text_mention"
            entity["user"] = {
                "id": int(url.split("=", 1)[1] or 0),
                "is_bot": False,
                "first_name": "",
            }
        else:
            entity["type"] = "text_link"
            entity["url"] = url
    elif tag == "code" and stack and stack[-1].tag == "pre" and opened.u16 == stack[-1].u16:
        if opened.argument:
            stack[-1].argument = opened.argument
        return None
    elif tag == "pre":
        entity["type"] = "pre"
        if opened.argument:
            entity["language"] = opened.argument
    elif tag == "blockquote":
        entity["type"] = (
            "expandable_blockquote" if opened.argument == "expandable" else "blockquote"
        )
    elif tag == "tg-emoji":
        entity["type"] = "custom_emoji"
        entity["custom_emoji_id"] = opened.argument
    elif tag == "tg-time":
        entity["type"] = "date_time"
        entity.update(opened.extra)
    else:
        entity["type"] = _HTML_ENTITY_TYPES[tag]
    return entity


# ---------------------------------------------------------------------------- MarkdownV2

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
    builder = _Builder()
    stack: list[_OpenTag] = []
    entities: list[Entity] = []
    quote: _OpenTag | None = None
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
                    quote = _OpenTag(
                        "expandable_blockquote" if expandable else "blockquote",
                        "",
                        builder.u16,
                        _byte_offset(text, i),
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
                        f"Can't find end of a URL at byte offset {_byte_offset(text, url_begin)}"
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


def _close_quote(quote: _OpenTag, builder: _Builder, entities: list[Entity]) -> None:
    length = builder.u16 - quote.u16
    if length > 0:
        entities.append({"type": quote.tag, "offset": quote.u16, "length": length})


def _mdv2_open(text: str, i: int, stack: list[_OpenTag], builder: _Builder) -> int:
    n = len(text)
    char = text[i]
    byte = _byte_offset(text, i)
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
            stack.append(_OpenTag(tag, argument, builder.u16, byte, len(builder.parts)))
            return i
        tag = "code"
    elif char == "!" and at(i + 1) == "[":
        tag = "custom_emoji"
        i += 1
    else:
        raise _reserved_error(char)
    stack.append(_OpenTag(tag, argument, builder.u16, byte, len(builder.parts)))
    return i + 1


# ------------------------------------------------------------------------ legacy Markdown


def parse_markdown(text: str) -> tuple[str, list[Entity]]:
    builder = _Builder()
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
                f"Can't find end of the entity starting at byte offset {_byte_offset(text, begin)}"
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


# ------------------------------------------------------------------------------ helpers


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
