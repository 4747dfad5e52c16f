"""Sandboxed JavaScript for INLINE, LAMBDA, SWITCH, DO_WHILE and event conditions (spec 4.4).

``ScriptEngine.evaluate`` binds ``$`` to a JSON deep copy of the bindings and returns the script's
completion value as plain Python data. It is meant to be called from worker threads (so a long
script never blocks the event loop) and is thread-safe: each evaluation borrows a V8 context from
a pool that grows to the number of concurrent callers. A context that hit the time or memory
limit is discarded, never reused.
"""

from __future__ import annotations

import atexit
import math
import threading
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any

import orjson
import py_mini_racer

from legato.expr.sandbox import Outcome, Sandbox

__all__ = [
    "ScriptEngine",
    "ScriptError",
    "ScriptMemoryError",
    "ScriptTimeoutError",
    "syntax_error",
    "truthy",
]

_PARSE_TIME_LIMIT_S = 4.0
_PARSE_MEMORY_LIMIT_BYTES = 64 * 2**20


class ScriptError(Exception):
    """A script failed; the message is what JavaScript said (``ReferenceError: x is not defined``)."""


class ScriptTimeoutError(ScriptError):
    """A script ran past the engine's time limit."""


class ScriptMemoryError(ScriptError):
    """A script allocated past the engine's memory limit."""


def truthy(value: Any) -> bool:
    """Conductor's condition coercion (``ScriptEvaluator.evalBool``): ``true`` or a number > 0."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value > 0
    return False


def syntax_error(script: str) -> str | None:
    """JavaScript's message when ``script`` does not parse, else ``None``; nothing is run.

    For definition validation, which has no engine at hand. The V8 context used for parsing is
    created on first use and kept (parsing never runs user code, so it needs no isolation).
    """
    with _parser.lock:
        if _parser.sandbox is None:
            _parser.sandbox = Sandbox(_PARSE_MEMORY_LIMIT_BYTES)
        try:
            outcome = _parser.sandbox.check(script, _PARSE_TIME_LIMIT_S)
        except py_mini_racer.JSEvalException as exc:
            _parser.discard()
            if isinstance(exc, py_mini_racer.JSTimeoutException):
                return f"the script could not be parsed within {_PARSE_TIME_LIMIT_S} s"
            return str(exc).strip() or "the script could not be parsed"
        if outcome.dirty:
            _parser.discard()
        return outcome.error


class _Parser:
    """The lazily created V8 context behind :func:`syntax_error`."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sandbox: Sandbox | None = None

    def discard(self) -> None:
        sandbox, self.sandbox = self.sandbox, None
        if sandbox is not None:
            sandbox.close()

    def close(self) -> None:
        with self.lock:
            self.discard()


_parser = _Parser()
atexit.register(_parser.close)


class ScriptEngine:
    """Runs untrusted JavaScript with a time and memory cap. Construct one and pass it around."""

    def __init__(self, *, time_limit_s: float = 4.0, memory_limit_bytes: int = 64 * 2**20) -> None:
        if not time_limit_s > 0 or math.isinf(time_limit_s):
            raise ValueError("time_limit_s must be a positive number of seconds")
        if memory_limit_bytes <= 0:
            raise ValueError("memory_limit_bytes must be positive")
        self.time_limit_s = time_limit_s
        self.memory_limit_bytes = memory_limit_bytes
        self._lock = threading.Lock()
        self._idle: list[Sandbox] = []
        self._closed = False

    def evaluate(self, script: str, bindings: Mapping[str, Any]) -> Any:
        """Run ``script`` with ``$`` bound to ``bindings``; return its completion value.

        Raises :class:`ScriptError` (or a subclass) when the script throws, does not parse,
        runs too long, uses too much memory, or returns something JSON cannot carry.
        """
        try:
            input_json = orjson.dumps(bindings, option=orjson.OPT_NON_STR_KEYS).decode()
        except TypeError as exc:
            raise ScriptError(f"the script input is not JSON: {exc}") from exc
        for _attempt in range(2):
            outcome = self._with_sandbox(lambda box: box.run(script, input_json, self.time_limit_s))
            if not outcome.retry:
                break
        if outcome.retry:
            raise ScriptError("the script sandbox could not be reset")
        if outcome.error is not None:
            raise ScriptError(outcome.error)
        return outcome.value

    def syntax_error(self, script: str) -> str | None:
        """Compile ``script`` without running it: JavaScript's message, or ``None`` if it parses."""
        return self._with_sandbox(lambda box: box.check(script, self.time_limit_s)).error

    def close(self) -> None:
        """Free every idle context; contexts in use are freed when their evaluation ends."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for box in idle:
            box.close()

    def __enter__(self) -> ScriptEngine:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _with_sandbox(self, work: Callable[[Sandbox], Outcome]) -> Outcome:
        box = self._acquire()
        keep = False
        try:
            result = work(box)
        except py_mini_racer.JSTimeoutException as exc:
            raise ScriptTimeoutError(
                f"script exceeded the time limit of {self.time_limit_s} s"
            ) from exc
        except py_mini_racer.JSOOMException as exc:
            raise ScriptMemoryError(
                f"script exceeded the memory limit of {_mebibytes(self.memory_limit_bytes)}"
            ) from exc
        except py_mini_racer.JSEvalException as exc:
            raise ScriptError(str(exc).strip() or "the script failed") from exc
        else:
            keep = not result.dirty
            return result
        finally:
            self._release(box, keep=keep)

    def _acquire(self) -> Sandbox:
        with self._lock:
            if self._closed:
                raise RuntimeError("the script engine is closed")
            if self._idle:
                return self._idle.pop()
        return Sandbox(self.memory_limit_bytes)

    def _release(self, box: Sandbox, *, keep: bool) -> None:
        with self._lock:
            if keep and not self._closed:
                self._idle.append(box)
                return
        box.close()


def _mebibytes(size: int) -> str:
    return f"{size / 2**20:g} MiB"
