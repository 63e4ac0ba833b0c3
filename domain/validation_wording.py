"""A pydantic validation error in words an admin editing a YAML file understands.

pydantic says `string_pattern_mismatch` or `extra_forbidden`; the admin needs "must be an id:
lowercase latin letters ..." or "unknown field 'sla_hour'; did you mean 'sla_hours'?".
`describe_error` words the errors common to every YAML-written model; the sales book and the
scripts library each add the words for their own fields.
"""

from __future__ import annotations

import difflib
import types
from collections.abc import Mapping
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import ErrorDetails

from domain.book_fields import Loc, show_value


def describe_error(
    error: ErrorDetails, loc: Loc, model: type[BaseModel], pattern_hints: Mapping[str, str]
) -> str:
    """One pydantic error at `loc` of the data validated as `model`, in words.

    `pattern_hints` says, per regular expression of the model's fields, what a value must look
    like ("must be an id: ...").
    """
    kind: str = error["type"]
    ctx: dict[str, Any] = error.get("ctx") or {}
    value = error.get("input")
    got = f" (got {show_value(value)})"
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return unknown_field(loc, model)
    if kind == "value_error" and "error" in ctx:
        return str(ctx["error"])
    if kind == "greater_than":
        return f"must be greater than {show_value(ctx['gt'])}{got}"
    if kind == "greater_than_equal":
        return f"must be at least {show_value(ctx['ge'])}{got}"
    if kind in ("less_than_equal", "less_than"):
        bound = ctx.get("le", ctx.get("lt"))
        share = "; shares are fractions, so 30% is written 0.3" if bound == 1 else ""
        words = "at most" if kind == "less_than_equal" else "less than"
        return f"must be {words} {show_value(bound)}{got}{share}"
    if kind == "too_short":
        count = ctx.get("min_length")
        actual = ctx.get("actual_length")
        return f"must have at least {count} item{'' if count == 1 else 's'} (got {actual})"
    if kind == "too_long":
        count = ctx.get("max_length")
        actual = ctx.get("actual_length")
        return f"must have at most {count} item{'' if count == 1 else 's'} (got {actual})"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters (got {len(str(value))})"
    if kind == "string_pattern_mismatch":
        return pattern_hints.get(ctx.get("pattern", ""), "has the wrong form") + got
    if kind == "string_type":
        quote = "; put it in quotes" if isinstance(value, int | float) else ""
        return f"must be text{got}{quote}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"must be a whole number{got}"
    if kind in ("float_type", "float_parsing", "decimal_type", "decimal_parsing"):
        return f"must be a number{got}"
    if kind in ("finite_number", "decimal_not_finite"):
        return f"must be a finite number{got}"
    if kind in ("bool_type", "bool_parsing"):
        return f"must be true or false{got}"
    if kind == "list_type":
        return f"must be a list, one '- ' item per line{got}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"must be a mapping of fields (name: value){got}"
    if kind.startswith("date"):
        return f"must be a date like 2025-01-01{got}"
    return f"{error['msg']}{got}"


def unknown_field(loc: Loc, root: type[BaseModel]) -> str:
    """An unknown key at `loc` (in the model tree under `root`), with the likely spelling."""
    key = str(loc[-1]) if loc else ""
    model = _model_at(loc[:-1], root)
    if model is None:
        return f"unknown field {key!r}"
    allowed = list(model.model_fields)
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    if close:
        return f"unknown field {key!r}; did you mean {close[0]!r}?"
    return f"unknown field {key!r}; the fields here are: {', '.join(allowed)}"


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            options = [arg for arg in get_args(annotation) if arg is not type(None)]
            if len(options) != 1:
                return annotation
            annotation = options[0]
        else:
            return annotation


def _model_at(loc: Loc, root: type[BaseModel]) -> type[BaseModel] | None:
    current: Any = root
    for element in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(element))
            if field is None:
                return None
            current = field.annotation
        elif get_origin(current) is list and isinstance(element, int):
            current = get_args(current)[0]
        elif get_origin(current) is dict:
            current = get_args(current)[1]
        else:
            return None
    current = _unwrap(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None
