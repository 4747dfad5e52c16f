"""JSONPath reading with Jayway's conventions, as Conductor's ``${...}`` expressions use it.

A path is compiled once (cached) into a :class:`JsonPathExpr`. Simple paths (dotted names,
``['quoted']``/``["quoted"]`` keys, integer indexes) are read by a small pure-Python walker;
anything else (wildcards, deep scan, filters, slices, unions) is handed to python-jsonpath in a
normalised form. Trailing Jayway functions (``.length()``, ``.sum()``, ...) are applied here.

Jayway semantics kept: a leading ``$.`` is implied; definite paths give the value or ``None``;
indefinite paths give a list of matches (possibly empty); errors never escape :meth:`read`.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jsonpath

from legato.expr.errors import ExpressionError

__all__ = ["JsonPathExpr", "compile_path"]

Key = str | int

_NAME = re.compile(r"[^.\[\]()\s'\"*]+")
_INDEX = re.compile(r"\s*(-?[0-9]+)\s*")
_JSONPATH_ENV = jsonpath.JSONPathEnvironment()


def _length(value: Any) -> Any:
    return len(value) if isinstance(value, Mapping | list) else None


def _numbers(value: Any) -> list[float]:
    items = list(value.values()) if isinstance(value, Mapping) else value
    if not isinstance(items, list):
        raise ExpressionError("aggregation function applied to a non-array")
    numbers = [float(v) for v in items if isinstance(v, int | float) and not isinstance(v, bool)]
    if not numbers:
        raise ExpressionError("aggregation function applied to an empty array")
    return numbers


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else None


def _last(value: Any) -> Any:
    return value[-1] if isinstance(value, list) and value else None


def _keys(value: Any) -> Any:
    return list(value.keys()) if isinstance(value, Mapping) else None


_FUNCTIONS: dict[str, Callable[[Any], Any]] = {
    "length": _length,
    "size": _length,
    "min": lambda v: min(_numbers(v)),
    "max": lambda v: max(_numbers(v)),
    "sum": lambda v: math.fsum(_numbers(v)),
    "avg": lambda v: statistics.fmean(_numbers(v)),
    "stddev": lambda v: statistics.pstdev(_numbers(v)),
    "first": _first,
    "last": _last,
    "keys": _keys,
}


@dataclass(frozen=True, slots=True)
class JsonPathExpr:
    """A compiled path. ``read`` never raises; a failed read gives ``None`` (or ``[]``)."""

    text: str
    keys: tuple[Key, ...] | None
    """The key/index chain of a simple path; ``None`` when python-jsonpath is needed."""
    root: str | None = None
    """The first key of the path (the context entry it reads); ``None`` for ``$``, ``$..x``."""
    compiled: Any = None
    function: str | None = None

    @property
    def definite(self) -> bool:
        return self.keys is not None

    def read(self, document: Any) -> Any:
        try:
            value = walk(document, self.keys) if self.keys is not None else self._find(document)
            if self.function is not None:
                value = _FUNCTIONS[self.function](value)
        except Exception:  # Jayway with SUPPRESS_EXCEPTIONS: errors read as "nothing"
            return None if self.definite else []
        return value

    def _find(self, document: Any) -> list[Any]:
        return list(self.compiled.findall(document))


def walk(document: Any, keys: tuple[Key, ...]) -> Any:
    """Follow ``keys`` from ``document``; ``None`` as soon as a step does not exist."""
    current = document
    for key in keys:
        if isinstance(key, str):
            if type(current) is dict or isinstance(current, Mapping):
                current = current.get(key)
            else:
                return None
        elif type(current) is list:
            try:
                current = current[key]
            except IndexError:
                return None
        else:
            return None
        if current is None:
            return None
    return current


@lru_cache(maxsize=4096)
def compile_path(text: str) -> JsonPathExpr:
    """Compile a Conductor path (``workflow.input.x``, ``$.a[0]``, ``t.output..id``).

    Raises :class:`ExpressionError` when the text is not a valid path.
    """
    stripped = text.strip()
    if not stripped:
        raise ExpressionError("empty path")
    tokens, function = _tokenize(stripped)
    first_kind, first = tokens[0] if tokens else ("raw", None)
    root = first if first_kind == "key" and isinstance(first, str) else None
    if all(kind == "key" for kind, _ in tokens):
        keys = tuple(value for _, value in tokens)
        return JsonPathExpr(stripped, keys, root=root, function=function)
    normalised = "$" + "".join(_normalise(kind, value) for kind, value in tokens)
    try:
        compiled = _JSONPATH_ENV.compile(normalised)
    except jsonpath.JSONPathError as exc:
        raise ExpressionError(f"invalid path {stripped!r}: {exc}") from exc
    return JsonPathExpr(stripped, None, root=root, compiled=compiled, function=function)


def _normalise(kind: str, value: Key) -> str:
    if kind == "key":
        if isinstance(value, int):
            return f"[{value}]"
        return "[" + _quote(value) + "]"
    return str(value)


def _quote(key: str) -> str:
    return "'" + key.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _tokenize(text: str) -> tuple[list[tuple[str, Key]], str | None]:
    """Split a path into ``("key", name-or-index)`` and ``("raw", jsonpath-fragment)`` tokens."""
    tokens: list[tuple[str, Key]] = []
    function: str | None = None
    pos = 0
    implied_dot = False
    if text[0] == "$":
        pos = 1
        if pos < len(text) and text[pos] not in ".[":
            raise ExpressionError(f"invalid path {text!r}: expected '.' or '[' after '$'")
    elif text[0] != "[":
        text = "." + text
        implied_dot = True
    end = len(text)
    while pos < end:
        char = text[pos]
        if text.startswith("..", pos):
            pos += 2
            if pos < end and text[pos] == "[":
                tokens.append(("raw", ".."))
                continue
            pos = _read_member(text, pos, tokens, deep=True)
        elif char == ".":
            pos += 1
            if pos < end and text[pos] == "*":
                tokens.append(("raw", ".*"))
                pos += 1
                continue
            pos = _read_member(text, pos, tokens, deep=False)
            if pos < end and text[pos] == "(":
                function = _read_function(text, pos, tokens)
                pos = end
        elif char == "[":
            pos = _read_bracket(text, pos, tokens)
        else:
            shown = pos - 1 if implied_dot else pos
            raise ExpressionError(f"invalid path {text.lstrip('.')!r} at position {shown}")
    return tokens, function


def _read_member(text: str, pos: int, tokens: list[tuple[str, Key]], *, deep: bool) -> int:
    match = _NAME.match(text, pos)
    if match is None:
        if deep and text.startswith("*", pos):
            tokens.append(("raw", "..*"))
            return pos + 1
        raise ExpressionError(f"invalid path {text.lstrip('.')!r}: expected a name after '.'")
    name = match.group()
    tokens.append(("raw", ".." + _quote_bracket(name)) if deep else ("key", name))
    return match.end()


def _quote_bracket(name: str) -> str:
    return "[" + _quote(name) + "]"


def _read_function(text: str, pos: int, tokens: list[tuple[str, Key]]) -> str:
    kind, name = tokens.pop()
    if kind != "key" or not isinstance(name, str) or name not in _FUNCTIONS:
        raise ExpressionError(f"invalid path {text.lstrip('.')!r}: unknown function {name!r}")
    if text[pos:].replace(" ", "") != "()":
        raise ExpressionError(f"invalid path {text.lstrip('.')!r}: functions must end the path")
    if not tokens:
        raise ExpressionError(f"invalid path {text.lstrip('.')!r}: function without a target")
    return name


def _read_bracket(text: str, pos: int, tokens: list[tuple[str, Key]]) -> int:
    close = _matching_bracket(text, pos)
    inner = text[pos + 1 : close]
    index = _INDEX.fullmatch(inner)
    if index is not None:
        tokens.append(("key", int(index.group(1))))
        return close + 1
    stripped = inner.strip()
    key = _single_quoted(stripped)
    if key is not None:
        tokens.append(("key", key))
    else:
        tokens.append(("raw", "[" + inner + "]"))
    return close + 1


def _single_quoted(text: str) -> str | None:
    """The key of ``'k'`` or ``"k"`` when ``text`` is exactly one quoted string."""
    if len(text) < 2 or text[0] not in "'\"" or text[-1] != text[0]:
        return None
    quote = text[0]
    chars: list[str] = []
    i = 1
    while i < len(text) - 1:
        char = text[i]
        if char == "\\" and i + 1 < len(text) - 1:
            chars.append(text[i + 1])
            i += 2
            continue
        if char == quote:
            return None  # e.g. 'a','b' (a union)
        chars.append(char)
        i += 1
    return "".join(chars)


def _matching_bracket(text: str, pos: int) -> int:
    depth = 0
    quote: str | None = None
    i = pos
    while i < len(text):
        char = text[i]
        if quote is not None:
            if char == "\\":
                i += 1
            elif char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ExpressionError(f"invalid path {text.lstrip('.')!r}: unclosed '['")
