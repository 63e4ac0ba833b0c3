"""Validation of Bot API calls against the official machine-readable spec.

``bot-api-spec.min.json`` (next to this file, MIT licensed, see ``LICENSE.bot-api-spec``) has
the structure ``{"methods": {name: {"fields": [...], "returns": [...]}}, "types": {...}}`` where
every field is ``{"name", "types": [...], "required"}`` and a type expression is ``Integer``,
``String``, ``Boolean``, ``Float``, ``True``, ``InputFile``, ``Array of <expr>`` or the name of an
object type (which has ``fields``) or of an abstract type (which has ``subtypes``).

How values arrive (see aiogram's ``BaseSession.prepare_value``/``AiohttpSession.build_form_data``):
strings are sent as they are, everything else (ints, bools, lists, objects) as JSON text, and
uploaded files as multipart parts whose field value is ``attach://<part name>``.  A request with
an ``application/json`` body carries already typed values instead, which is accepted as well.

The checks are deliberately *stricter* than Telegram in one respect: unknown parameters and
unknown keys inside objects are rejected (Telegram silently ignores them), so a typo in a bot
never goes unnoticed.  That includes parameters Telegram removed from the documentation but
still accepts (``disable_web_page_preview``, ``reply_to_message_id``, ...): a bot speaks the
Bot API of the bundled spec only.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

SPEC_PATH = Path(__file__).with_name("bot-api-spec.min.json")

PRIMITIVE_TYPES = frozenset({"Integer", "String", "Boolean", "Float", "True", "InputFile"})

_DISCRIMINATOR_RE = re.compile(r"(?:must be|always)\s+[\"“”]?([A-Za-z_]+)")
_INTEGER_RE = re.compile(r"^-?\d+$")
_ARRAY_PREFIX = "Array of "


class SpecError(Exception):
    """A call does not conform to the spec; ``description`` is a Telegram-like message."""

    def __init__(self, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.description = description
        self.status = status


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request."""

    name: str
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass(frozen=True)
class FieldSpec:
    name: str
    types: tuple[str, ...]
    required: bool


@dataclass(frozen=True)
class MethodSpec:
    name: str
    fields: Mapping[str, FieldSpec]
    returns: tuple[str, ...]


@dataclass(frozen=True)
class TypeSpec:
    name: str
    fields: Mapping[str, FieldSpec]
    subtypes: tuple[str, ...] = ()
    #: For a subtype of an abstract type: (field name, required value), e.g. ("type", "chat").
    discriminator: tuple[str, str] | None = None


@dataclass
class DecodedCall:
    """Parameters of a call decoded according to the spec."""

    params: dict[str, Any] = field(default_factory=dict)
    files: dict[str, UploadedFile] = field(default_factory=dict)


def describe_types(types: Sequence[str]) -> str:
    return " or ".join(types)


def _short_repr(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class ApiSpec:
    """The parsed Bot API spec with call and object validation."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.version: str = str(raw.get("version", "unknown"))
        self.methods: dict[str, MethodSpec] = {}
        self.types: dict[str, TypeSpec] = {}
        self._methods_lower: dict[str, str] = {}
        for name, body in raw["methods"].items():
            self.methods[name] = MethodSpec(
                name=name,
                fields=_parse_fields(body.get("fields", [])),
                returns=tuple(body.get("returns", [])),
            )
            self._methods_lower[name.lower()] = name
        for name, body in raw["types"].items():
            fields = _parse_fields(body.get("fields", []))
            self.types[name] = TypeSpec(
                name=name,
                fields=fields,
                subtypes=tuple(body.get("subtypes", [])),
                discriminator=(
                    _discriminator(body.get("fields", [])) if body.get("subtype_of") else None
                ),
            )

    @classmethod
    def load(cls, path: Path = SPEC_PATH) -> ApiSpec:
        return cls(json.loads(path.read_text(encoding="utf-8")))

    # ------------------------------------------------------------------ methods

    def find_method(self, name: str) -> MethodSpec | None:
        """Method names are case-insensitive in the Bot API."""
        canonical = self._methods_lower.get(name.lower())
        return self.methods[canonical] if canonical else None

    def decode_call(
        self,
        method: MethodSpec,
        raw: Mapping[str, Any],
        attachments: Mapping[str, UploadedFile],
        *,
        typed: bool,
    ) -> DecodedCall:
        """Decode and validate the parameters of one call.

        ``raw`` maps parameter names to strings (form/query requests, ``typed=False``) or to
        JSON values (JSON body, ``typed=True``); a value may also be an :class:`UploadedFile`
        when a file was posted directly under the parameter's name.  ``attachments`` holds all
        file parts, addressable as ``attach://<name>``.  Raises :class:`SpecError`.
        """
        result = DecodedCall()
        consumed_files: set[str] = set()
        for name, value in raw.items():
            spec_field = method.fields.get(name)
            if spec_field is None:
                if isinstance(value, UploadedFile):
                    # A file part that is only referenced through attach://<name>.
                    continue
                raise SpecError(
                    f'Bad Request: unknown parameter "{name}" for method {method.name} '
                    f"({self.version})"
                )
            decoded = self._decode_param(spec_field, value, attachments, typed=typed)
            result.params[name] = decoded
            for ref in _attach_refs(decoded):
                consumed_files.add(ref)
            if isinstance(value, UploadedFile):
                consumed_files.add(value.name)
        for spec_field in method.fields.values():
            if spec_field.required and spec_field.name not in result.params:
                raise SpecError(_missing_description(method.name, spec_field.name))
        for ref in consumed_files:
            upload = attachments.get(ref)
            if upload is not None:
                result.files[ref] = upload
        return result

    def _decode_param(
        self,
        spec_field: FieldSpec,
        value: Any,
        attachments: Mapping[str, UploadedFile],
        *,
        typed: bool,
    ) -> Any:
        name = spec_field.name
        types = spec_field.types
        if isinstance(value, UploadedFile):
            if "InputFile" in types:
                return f"attach://{value.name}"
            raise SpecError(
                f'Bad Request: parameter "{name}" must be {describe_types(types)}, '
                "but a file was uploaded"
            )
        if typed and not isinstance(value, str):
            self.check_value(value, types, name, attachments)
            return value
        if not isinstance(value, str):  # pragma: no cover - form values are always strings
            raise SpecError(f'Bad Request: parameter "{name}" has an unsupported value')
        errors: list[SpecError] = []
        for type_expr in types:
            if type_expr in PRIMITIVE_TYPES and type_expr != "String":
                try:
                    return self._decode_string(value, type_expr, name, attachments)
                except SpecError as exc:
                    if type_expr == "InputFile" and value.startswith("attach://"):
                        raise
                    errors.append(exc)
        complex_types = tuple(t for t in types if t not in PRIMITIVE_TYPES)
        if complex_types:
            try:
                decoded = json.loads(value)
            except ValueError:
                errors.append(
                    SpecError(f"Bad Request: can't parse {name} JSON object: {_short_repr(value)}")
                )
            else:
                try:
                    self.check_value(decoded, complex_types, name, attachments)
                    return decoded
                except SpecError as exc:
                    errors.append(exc)
        if "String" in types:
            return value
        if len(errors) == 1 or complex_types:
            raise errors[-1]
        raise SpecError(
            f'Bad Request: parameter "{name}" must be {describe_types(types)}, '
            f"got {_short_repr(value)}"
        )

    def _decode_string(
        self, value: str, type_expr: str, path: str, attachments: Mapping[str, UploadedFile]
    ) -> Any:
        wrong = SpecError(
            f'Bad Request: parameter "{path}" must be {type_expr}, got {_short_repr(value)}'
        )
        if type_expr == "String":
            return value
        if type_expr == "Integer":
            if _INTEGER_RE.match(value.strip()):
                return int(value)
            raise wrong
        if type_expr == "Float":
            try:
                number = float(value)
            except ValueError:
                raise wrong from None
            if not math.isfinite(number):
                raise wrong
            return number
        if type_expr in ("Boolean", "True"):
            lowered = value.strip().lower()
            if lowered in ("true", "1"):
                return True
            if lowered in ("false", "0") and type_expr == "Boolean":
                return False
            raise wrong
        if type_expr == "InputFile":
            self._check_input_file(value, path, attachments)
            return value
        raise SpecError(f'Bad Request: parameter "{path}" has unknown type {type_expr}')

    @staticmethod
    def _check_input_file(value: Any, path: str, attachments: Mapping[str, UploadedFile]) -> None:
        if not isinstance(value, str) or not value.startswith("attach://"):
            raise SpecError(f'Bad Request: parameter "{path}" must be InputFile')
        if value.removeprefix("attach://") not in attachments:
            raise SpecError(
                f'Bad Request: parameter "{path}" refers to {value}, but no such file was uploaded'
            )

    # ------------------------------------------------------------------ objects

    def check_value(
        self,
        value: Any,
        types: Sequence[str],
        path: str,
        attachments: Mapping[str, UploadedFile] | None = None,
    ) -> None:
        """Check a JSON value against a union of type expressions; raise :class:`SpecError`."""
        attachments = attachments if attachments is not None else {}
        errors: list[tuple[int, SpecError]] = []
        for type_expr in types:
            try:
                self._check_one(value, type_expr, path, attachments)
                return
            except SpecError as exc:
                errors.append((self._relevance(value, type_expr), exc))
        if len(errors) == 1:
            raise errors[0][1]
        best_relevance, best = max(errors, key=lambda item: item[0])
        if best_relevance > 0:
            raise best
        raise SpecError(
            f'Bad Request: parameter "{path}" must be {describe_types(types)}, '
            f"got {_short_repr(value)}"
        )

    def _relevance(self, value: Any, type_expr: str) -> int:
        """How well a dict matches an object type (shared keys), to pick the best error."""
        spec = self.types.get(type_expr)
        if not isinstance(value, dict) or spec is None:
            return 0
        if spec.subtypes:
            return max((self._relevance(value, sub) for sub in spec.subtypes), default=0)
        return len(set(value) & set(spec.fields))

    def _check_one(
        self, value: Any, type_expr: str, path: str, attachments: Mapping[str, UploadedFile]
    ) -> None:
        def wrong() -> SpecError:
            return SpecError(
                f'Bad Request: parameter "{path}" must be {type_expr}, got {_short_repr(value)}'
            )

        if type_expr.startswith(_ARRAY_PREFIX):
            if not isinstance(value, list):
                raise wrong()
            item_type = type_expr.removeprefix(_ARRAY_PREFIX)
            for index, item in enumerate(value):
                self.check_value(item, (item_type,), f"{path}[{index}]", attachments)
            return
        if type_expr == "Integer":
            if isinstance(value, bool) or not isinstance(value, int):
                raise wrong()
            return
        if type_expr == "Float":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise wrong()
            return
        if type_expr == "String":
            if not isinstance(value, str):
                raise wrong()
            return
        if type_expr == "Boolean":
            if not isinstance(value, bool):
                raise wrong()
            return
        if type_expr == "True":
            if value is not True:
                raise wrong()
            return
        if type_expr == "InputFile":
            self._check_input_file(value, path, attachments)
            return
        spec = self.types.get(type_expr)
        if spec is None:
            raise SpecError(f'Bad Request: parameter "{path}" has unknown type {type_expr}')
        if type_expr == "KeyboardButton" and isinstance(value, str):
            return  # "For simple text buttons, String can be used instead of this object"
        if spec.subtypes:
            self._check_abstract(value, spec, path, attachments)
            return
        if not isinstance(value, dict):
            raise wrong()
        self._check_object(value, spec, path, attachments)

    def _check_abstract(
        self, value: Any, spec: TypeSpec, path: str, attachments: Mapping[str, UploadedFile]
    ) -> None:
        if isinstance(value, dict):
            keyed = [
                (sub, self.types[sub].discriminator)
                for sub in spec.subtypes
                if sub in self.types and self.types[sub].discriminator is not None
            ]
            if keyed:
                key = keyed[0][1][0] if keyed[0][1] else "type"
                wanted = value.get(key)
                for sub, disc in keyed:
                    if disc is not None and disc[1] == wanted:
                        self._check_object(value, self.types[sub], path, attachments)
                        return
                allowed = ", ".join(disc[1] for _, disc in keyed if disc is not None)
                raise SpecError(
                    f'Bad Request: parameter "{path}.{key}" must be one of {allowed} '
                    f"for {spec.name}, got {_short_repr(wanted)}"
                )
        self.check_value(value, spec.subtypes, path, attachments)

    def _check_object(
        self,
        value: dict[str, Any],
        spec: TypeSpec,
        path: str,
        attachments: Mapping[str, UploadedFile],
    ) -> None:
        for key, item in value.items():
            spec_field = spec.fields.get(key)
            if spec_field is None:
                raise SpecError(
                    f'Bad Request: unknown field "{key}" in {spec.name} at "{path}" '
                    f"({self.version})"
                )
            self.check_value(item, spec_field.types, f"{path}.{key}", attachments)
        for spec_field in spec.fields.values():
            if spec_field.required and spec_field.name not in value:
                raise SpecError(
                    f'Bad Request: field "{spec_field.name}" of {spec.name} is required at "{path}"'
                )
        if spec.discriminator is not None:
            key, wanted = spec.discriminator
            if value.get(key) != wanted:
                raise SpecError(
                    f'Bad Request: field "{path}.{key}" must be "{wanted}" for {spec.name}'
                )


def _parse_fields(raw_fields: Sequence[Mapping[str, Any]]) -> dict[str, FieldSpec]:
    return {
        str(item["name"]): FieldSpec(
            name=str(item["name"]),
            types=tuple(item.get("types", [])),
            required=bool(item.get("required", False)),
        )
        for item in raw_fields
    }


def _discriminator(raw_fields: Sequence[Mapping[str, Any]]) -> tuple[str, str] | None:
    for item in raw_fields:
        if not item.get("required") or list(item.get("types", [])) != ["String"]:
            continue
        match = _DISCRIMINATOR_RE.search(str(item.get("description", "")))
        if match and item["name"] in ("type", "status", "source"):
            return str(item["name"]), match.group(1)
    return None


def _attach_refs(value: Any) -> list[str]:
    """All ``attach://name`` references inside a decoded value."""
    if isinstance(value, str):
        return [value.removeprefix("attach://")] if value.startswith("attach://") else []
    if isinstance(value, list):
        return [ref for item in value for ref in _attach_refs(item)]
    if isinstance(value, dict):
        return [ref for item in value.values() for ref in _attach_refs(item)]
    return []


_MISSING_DESCRIPTIONS: Mapping[str, str] = {
    "chat_id": "Bad Request: chat_id is empty",
    "text": "Bad Request: message text is empty",
    "message_id": "Bad Request: message identifier is not specified",
    "callback_query_id": "Bad Request: query_id is empty",
}


def _missing_description(method: str, name: str) -> str:
    known = _MISSING_DESCRIPTIONS.get(name)
    if known is not None:
        return f"{known} (required parameter of {method})"
    return f'Bad Request: parameter "{name}" is required for method {method}'


@cache
def load_spec() -> ApiSpec:
    """The bundled spec, parsed once per process."""
    return ApiSpec.load()
