"""The HTML parse mode: tags, attributes and character references, as TDLib reads them."""

from __future__ import annotations

from typing import Any

from .text_units import Entity, EntityParseError, OpenTag, TextBuilder, byte_offset

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
    builder = TextBuilder()
    stack: list[OpenTag] = []
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
                    f'Unescaped "&" at byte offset {byte_offset(text, i)}: '
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


def _html_start_tag(text: str, begin: int, stack: list[OpenTag], builder: TextBuilder) -> int:
    n = len(text)
    byte_begin = byte_offset(text, begin)
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
                    f"Unexpected end of name token at byte offset {byte_offset(text, token_begin)}"
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
        OpenTag(
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
    stack: list[OpenTag],
    entities: list[Entity],
    builder: TextBuilder,
) -> int:
    n = len(text)
    byte_begin = byte_offset(text, begin)
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
    opened: OpenTag, length: int, builder: TextBuilder, stack: list[OpenTag]
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
