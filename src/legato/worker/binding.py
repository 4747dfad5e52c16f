"""From a task's input to a worker function's arguments, and from its return value to output.

A function declares what it wants by its signature:

- one parameter typed with a pydantic model or a dataclass: the whole input, validated into it;
- otherwise each parameter is the input value of the same name, validated against its type
  annotation (unannotated: any value), with the parameter's default when absent;
- a parameter typed `TaskContext` receives the context (logs, heartbeats, the task itself).

A validation failure is an `InputError` (the task fails without retry: the same input would
fail again). pydantic is imported only when a function needs validation.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from collections.abc import Callable, Mapping
from typing import Any

from legato.worker.context import TaskContext

__all__ = ["Binding", "InputError", "output_of"]

_EMPTY = inspect.Parameter.empty


class InputError(Exception):
    """The task's input does not fit the function's signature."""


def _is_model(annotation: Any) -> bool:
    if not isinstance(annotation, type):
        return False
    if dataclasses.is_dataclass(annotation):
        return True
    return any(
        base.__module__.startswith("pydantic") and base.__name__ == "BaseModel"
        for base in annotation.__mro__
    )


class Binding:
    """How one worker function takes its arguments."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        signature = inspect.signature(fn)
        try:
            hints = typing.get_type_hints(fn)
        except Exception:  # unresolvable annotations: treat them as absent
            hints = {}
        self.name = getattr(fn, "__qualname__", repr(fn))
        self.context_param: str | None = None
        data: list[inspect.Parameter] = []
        for param in signature.parameters.values():
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                raise TypeError(f"worker function {self.name} cannot take *args or **kwargs")
            if hints.get(param.name) is TaskContext:
                self.context_param = param.name
            else:
                data.append(param)
        self.params = [p.name for p in data]
        self.model: Any = None  # one parameter taking the whole input
        self.fields: dict[str, tuple[Any, Any]] = {}  # name -> (annotation, default)
        if len(data) == 1 and _is_model(hints.get(data[0].name)):
            self.model = hints[data[0].name]
        else:
            for p in data:
                self.fields[p.name] = (hints.get(p.name, Any), p.default)
        self._adapter: Any = None

    def bind(self, input_data: Mapping[str, Any], context: TaskContext) -> dict[str, Any]:
        """Keyword arguments for the function; `InputError` when the input does not fit."""
        kwargs: dict[str, Any] = {}
        if self.model is not None:
            kwargs[self.params[0]] = self._validate(input_data)
        elif self.fields:
            kwargs.update(self._validate(input_data))
        if self.context_param is not None:
            kwargs[self.context_param] = context
        return kwargs

    def _validate(self, input_data: Mapping[str, Any]) -> Any:
        import pydantic

        if self._adapter is None:
            self._adapter = self._build_adapter()
        try:
            value = self._adapter.validate_python(dict(input_data))
        except pydantic.ValidationError as exc:
            raise InputError(_describe(exc)) from None
        if self.model is not None:
            return value
        return {name: getattr(value, name) for name in self.fields}

    def _build_adapter(self) -> Any:
        import pydantic

        if self.model is not None:
            return pydantic.TypeAdapter(self.model)
        definitions: dict[str, Any] = {
            name: (annotation, ... if default is _EMPTY else default)
            for name, (annotation, default) in self.fields.items()
        }
        model = pydantic.create_model(
            f"{self.name}_input",
            __config__=pydantic.ConfigDict(arbitrary_types_allowed=True, extra="ignore"),
            **definitions,
        )
        return pydantic.TypeAdapter(model)


def _describe(exc: Any) -> str:
    parts = []
    for error in exc.errors()[:10]:
        where = ".".join(str(p) for p in error.get("loc", ())) or "input"
        got = error.get("input")
        shown = "" if error.get("type") == "missing" else f" (got {got!r:.60})"
        parts.append(f"{where}: {error.get('msg')}{shown}")
    return "; ".join(parts)


def output_of(value: Any) -> dict[str, Any]:
    """A function's return value as task output: a mapping as is, a pydantic model or a
    dataclass as its fields, None as nothing, anything else as `{"result": value}`."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    if isinstance(value, Mapping):
        return dict(value)
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        out = dump(mode="json", by_alias=True)
        return out if isinstance(out, dict) else {"result": out}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return {"result": value}
