"""The non-I/O core shared by `Client` and `AsyncClient`.

An operation is a plain function that turns its arguments into a `Call`: the HTTP request to
make (method, path, query, body) plus how to decode the answer. `operation` makes such a
function a method of both clients: on a `Client` it returns the decoded result, on an
`AsyncClient` an awaitable of it. Each client only knows how to send a `Call`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar, overload
from urllib.parse import quote

import orjson

from legato.client.errors import ApiError, error_from_response
from legato.client.models import SearchResult, Task, Workflow

if TYPE_CHECKING:
    from legato.client.async_client import AsyncClient
    from legato.client.sync_client import Client

P = ParamSpec("P")
T = TypeVar("T")

JSON = "application/json"


@dataclass(frozen=True, slots=True)
class Answer:
    """A response as the decoders see it."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes


@dataclass(frozen=True, slots=True)
class Call(Generic[T]):
    method: str
    path: str
    decode: Callable[[Answer], T]
    params: dict[str, Any] | None = None
    body: bytes | None = None
    content_type: str = JSON

    def finish(self, answer: Answer) -> T:
        """The decoded result, or the mapped exception for an error status."""
        if answer.status_code >= 400:
            raise error_from_response(answer.status_code, answer.content, self.method, self.path)
        try:
            return self.decode(answer)
        except ValueError as exc:  # not the JSON (or text) this endpoint answers
            raise ApiError(
                f"Unexpected answer: {exc}",
                status_code=answer.status_code,
                method=self.method,
                path=self.path,
            ) from exc


class Operation(Generic[P, T]):
    """A method of both clients, built from one `Call` factory."""

    def __init__(self, build: Callable[P, Call[T]]) -> None:
        self.build = build
        self.__doc__ = build.__doc__
        self.__name__ = build.__name__

    @overload
    def __get__(self, obj: None, owner: type) -> Operation[P, T]: ...
    @overload
    def __get__(self, obj: Client, owner: type) -> Callable[P, T]: ...
    @overload
    def __get__(self, obj: AsyncClient, owner: type) -> Callable[P, Awaitable[T]]: ...
    def __get__(self, obj: Any, owner: type) -> Any:
        if obj is None:
            return self
        build = self.build
        send = obj._send

        def method(*args: P.args, **kwargs: P.kwargs) -> Any:
            return send(build(*args, **kwargs))

        method.__name__ = self.__name__
        method.__doc__ = self.__doc__
        return method


def operation(build: Callable[P, Call[T]]) -> Operation[P, T]:
    return Operation(build)


# --------------------------------------------------------------------------- request helpers
def seg(value: str | int) -> str:
    """One path segment, percent-encoded."""
    return quote(str(value), safe="")


def query(**params: Any) -> dict[str, Any] | None:
    """Query parameters: None dropped, booleans as `true`/`false`, lists repeated."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, list | tuple):
            out[key] = [str(v) for v in value]
        else:
            out[key] = str(value)
    return out or None


def _default(value: Any) -> Any:
    """JSON for what orjson does not know: pydantic models, sets."""
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(mode="json", by_alias=True)
    if isinstance(value, set | frozenset):
        return list(value)
    raise TypeError(f"Type is not JSON serializable: {type(value).__name__}")


def dumps(value: Any) -> bytes:
    """JSON bytes; `TypeError` for a value that has no JSON form."""
    return orjson.dumps(value, default=_default)


# --------------------------------------------------------------------------- decoders
def no_content(answer: Answer) -> None:
    return None


def text(answer: Answer) -> str:
    """A text/plain answer; tolerates a JSON-quoted string."""
    body = answer.content.decode()
    if body.startswith('"'):
        try:
            value = orjson.loads(body)
        except orjson.JSONDecodeError:
            return body
        if isinstance(value, str):
            return value
    return body


def json(answer: Answer) -> Any:
    if answer.status_code == 204 or not answer.content:
        return None
    return orjson.loads(answer.content)


def json_object(answer: Answer) -> dict[str, Any]:
    value = json(answer)
    return value if isinstance(value, dict) else {}


def json_list(answer: Answer) -> list[Any]:
    value = json(answer)
    return value if isinstance(value, list) else []


def workflow(answer: Answer) -> Workflow:
    return Workflow.from_json(json_object(answer))


def workflows(answer: Answer) -> list[Workflow]:
    return [Workflow.from_json(w) for w in json_list(answer)]


def task(answer: Answer) -> Task:
    return Task.from_json(json_object(answer))


def optional_task(answer: Answer) -> Task | None:
    value = json(answer)
    return Task.from_json(value) if isinstance(value, dict) else None


def tasks(answer: Answer) -> list[Task]:
    return [Task.from_json(t) for t in json_list(answer)]


def integer(answer: Answer) -> int:
    value = json(answer)
    return int(value) if isinstance(value, int | float | str) and str(value).strip() else 0


def search_of(item: Callable[[dict[str, Any]], T]) -> Callable[[Answer], SearchResult[T]]:
    def decode(answer: Answer) -> SearchResult[T]:
        body = json_object(answer)
        results = [item(r) for r in body.get("results") or () if isinstance(r, dict)]
        return SearchResult(int(body.get("totalHits") or 0), results)

    return decode


def raw(item: dict[str, Any]) -> dict[str, Any]:
    return item


def definition(value: Any) -> Any:
    """Conductor JSON of a definition: a mapping as is, else the object's `to_json()`."""
    to_json = getattr(value, "to_json", None)
    if callable(to_json):
        return to_json()
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"expected a definition (a mapping or a builder), not {type(value).__name__}")
