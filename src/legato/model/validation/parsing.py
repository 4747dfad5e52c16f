"""Parsing: raw JSON into the definition models (`parse_workflow_def`, `parse_task_def`,
`parse_task_defs`), reporting every malformed field, never only the first, as `FieldProblem`s
with Conductor-style camelCase paths (``tasks[2].taskReferenceName``); `pydantic_problems` does
that translation for any pydantic model.
"""

from __future__ import annotations

import types
from typing import Any, Union, get_args, get_origin

import pydantic
from pydantic import BaseModel, TypeAdapter

from legato.errors import FieldProblem, ValidationError
from legato.model.definitions import TaskDef, WorkflowDef
from legato.model.validation.common import _join, _scalar_or_none

_TASK_DEFS_ADAPTER: TypeAdapter[list[TaskDef]] = TypeAdapter(list[TaskDef])


def parse_workflow_def(data: Any) -> WorkflowDef:
    """A `WorkflowDef` from parsed JSON; `ValidationError` listing every malformed field."""
    if isinstance(data, WorkflowDef):
        return data
    _require_object(data, "workflow definition")
    try:
        return WorkflowDef.model_validate(data)
    except pydantic.ValidationError as exc:
        raise ValidationError(
            _failed_message("workflow definition", data.get("name")),
            pydantic_problems(exc, WorkflowDef),
        ) from exc


def parse_task_def(data: Any) -> TaskDef:
    """A `TaskDef` from parsed JSON; `ValidationError` listing every malformed field."""
    if isinstance(data, TaskDef):
        return data
    _require_object(data, "task definition")
    try:
        return TaskDef.model_validate(data)
    except pydantic.ValidationError as exc:
        raise ValidationError(
            _failed_message("task definition", data.get("name")),
            pydantic_problems(exc, TaskDef),
        ) from exc


def parse_task_defs(data: Any) -> list[TaskDef]:
    """A list of `TaskDef`s from a JSON array (the body of ``POST /api/metadata/taskdefs``)."""
    if not isinstance(data, list):
        raise ValidationError(
            f"Task definitions must be a JSON array, not {_json_kind(data)}",
            [FieldProblem("", "must be an array of task definitions", _scalar_or_none(data))],
        )
    try:
        return _TASK_DEFS_ADAPTER.validate_python(data)
    except pydantic.ValidationError as exc:
        raise ValidationError(
            "Validation failed for task definitions", pydantic_problems(exc, list[TaskDef])
        ) from exc


def pydantic_problems(
    exc: pydantic.ValidationError, root: Any, prefix: str = ""
) -> list[FieldProblem]:
    """Translate pydantic's errors (validated against type `root`) into `FieldProblem`s."""
    problems: list[FieldProblem] = []
    seen: set[str] = set()
    for err in exc.errors():
        path, union = _path_of(root, err["loc"])
        full = _join(prefix, path)
        if full in seen:  # one problem per field (a union reports once per member)
            continue
        seen.add(full)
        problems.append(FieldProblem(full, _message_of(err, union), _scalar_or_none(err["input"])))
    return problems


def _require_object(data: Any, what: str) -> None:
    if not isinstance(data, dict):
        raise ValidationError(
            f"A {what} must be a JSON object, not {_json_kind(data)}",
            [FieldProblem("", "must be a JSON object", _scalar_or_none(data))],
        )


def _failed_message(what: str, name: Any) -> str:
    if isinstance(name, str) and name:
        return f"Validation failed for {what} {name}"
    return f"Validation failed for {what}"


def _path_of(root: Any, loc: tuple[int | str, ...]) -> tuple[str, tuple[Any, ...] | None]:
    """Conductor path of a pydantic `loc`, and the union members when the loc ends in one."""
    path = ""
    tp: Any = root
    union: tuple[Any, ...] | None = None
    for item in loc:
        union = None
        tp = _strip_none(tp)
        if isinstance(tp, tuple):  # a real union: `item` is the tag of the failing member
            union, tp = tp, Any
            continue
        origin = get_origin(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            name, tp = _field_of(tp, str(item))
            path = _join(path, name)
        elif origin is list and isinstance(item, int):
            path += f"[{item}]"
            tp = (get_args(tp) or (Any,))[0]
        elif origin is dict:
            path = _join(path, str(item))
            tp = (get_args(tp) or (Any, Any))[-1]
        else:
            path = path + f"[{item}]" if isinstance(item, int) else _join(path, str(item))
            tp = Any
    return path, union


def _strip_none(tp: Any) -> Any:
    """`X | None` -> X; a union of several non-None types -> a tuple of them."""
    if get_origin(tp) in (Union, types.UnionType):
        members = tuple(a for a in get_args(tp) if a is not type(None))
        return members[0] if len(members) == 1 else members
    return tp


def _field_of(model: type[BaseModel], key: str) -> tuple[str, Any]:
    for name, info in model.model_fields.items():
        if key in (name, info.alias):
            return info.alias or name, info.annotation
    return key, Any


_TYPE_NOUNS: dict[str, str] = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "a boolean",
    "bool_parsing": "a boolean",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "list_type": "an array",
}
_BOUNDS = {
    "greater_than_equal": ("greater than or equal to", "ge"),
    "greater_than": ("greater than", "gt"),
    "less_than_equal": ("less than or equal to", "le"),
    "less_than": ("less than", "lt"),
}


def _message_of(err: Any, union: tuple[Any, ...] | None) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "missing":
        return "field required"
    if union is not None and kind in _TYPE_NOUNS:
        message = "must be " + " or ".join(dict.fromkeys(_type_noun(m) for m in union))
    elif kind in _TYPE_NOUNS:
        message = f"must be {_TYPE_NOUNS[kind]}"
    elif kind in _BOUNDS:
        words, key = _BOUNDS[kind]
        message = f"must be {words} {ctx.get(key)}"
    elif kind in ("enum", "literal_error"):
        message = "must be one of " + str(ctx.get("expected", "")).replace("'", "")
    else:
        text = str(err.get("msg", "is invalid"))
        message = text[:1].lower() + text[1:]
    if err.get("input", ...) is None:
        message += ", not null"
    return message


def _type_noun(tp: Any) -> str:
    tp = get_origin(tp) or tp
    if isinstance(tp, type) and issubclass(tp, BaseModel | dict):
        return "an object"
    return {str: "a string", int: "an integer", float: "a number", bool: "a boolean"}.get(
        tp, "an array" if tp is list else "a valid value"
    )


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object" if isinstance(value, dict) else type(value).__name__
