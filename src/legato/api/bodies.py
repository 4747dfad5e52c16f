"""Request bodies: raw bytes -> JSON -> models, every failure a `ValidationError` with a path.

Bodies are read here rather than declared as FastAPI body parameters, so malformed JSON, wrong
shapes and oversize bodies all reach the one error mapping with Conductor's paths.
"""

from __future__ import annotations

from typing import Any

import orjson
import pydantic
from fastapi import Request

from legato.errors import FieldProblem, ValidationError
from legato.model import StartWorkflowRequest, TaskResult
from legato.model.validation import pydantic_problems


def kind_of(value: Any) -> str:
    """How JSON would call a value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"


def parse_json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ValidationError(f"Invalid JSON: {exc}") from exc


async def read_json(request: Request, *, empty: Any = ...) -> Any:
    """The parsed JSON body; `empty` (when given) stands for a missing or blank body."""
    body = await request.body()
    if empty is not ... and not body.strip():
        return empty
    return parse_json(body)


async def read_object(request: Request, what: str, *, optional: bool = False) -> dict[str, Any]:
    """A JSON object body (a missing body or `null` is `{}` when `optional`)."""
    data = await read_json(request, empty=None if optional else ...)
    if data is None and optional:
        return {}
    if not isinstance(data, dict):
        raise ValidationError(
            f"The request body must be a JSON object ({what}), not {kind_of(data)}",
            [FieldProblem("", "must be a JSON object", _scalar(data))],
        )
    return data


async def read_array(request: Request, what: str) -> list[Any]:
    data = await read_json(request)
    if not isinstance(data, list):
        raise ValidationError(
            f"The request body must be a JSON array ({what}), not {kind_of(data)}",
            [FieldProblem("", "must be a JSON array", _scalar(data))],
        )
    return data


def _scalar(value: Any) -> object:
    return value if isinstance(value, str | int | float | bool) else None


def _model(model: type[pydantic.BaseModel], data: dict[str, Any], what: str) -> Any:
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        problems = pydantic_problems(exc, model)
        shown = "; ".join(f"{p.path}: {p.message}" for p in problems[:3])
        raise ValidationError(f"Invalid {what}: {shown}", problems) from exc


def task_result(body: bytes) -> TaskResult:
    """The hot path of worker updates: orjson + one pydantic validation."""
    data = parse_json(body)
    if not isinstance(data, dict):
        raise ValidationError(
            f"The request body must be a JSON object (TaskResult), not {kind_of(data)}",
            [FieldProblem("", "must be a JSON object", _scalar(data))],
        )
    result: TaskResult = _model(TaskResult, data, "task result")
    return result


def start_request(data: dict[str, Any]) -> StartWorkflowRequest:
    request: StartWorkflowRequest = _model(StartWorkflowRequest, data, "start workflow request")
    return request
