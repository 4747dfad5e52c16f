"""JSON_JQ_TRANSFORM: jq programs through the ``jq`` package (spec 3.15).

Conductor applies ``queryExpression`` to the whole resolved task input and outputs
``{"result": <first value>, "resultList": [<all values>]}``; :func:`run_jq` returns all values.
Conductor uses jackson-jq, a re-implementation of jq 1.6; this is the real jq, so a few rarely used
built-ins differ between the two.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import jq as _jq

__all__ = ["JqError", "compile_jq", "jq_syntax_error", "run_jq"]


class JqError(ValueError):
    """A jq program failed to compile or to run; the message is jq's."""


@lru_cache(maxsize=1024)
def compile_jq(expr: str) -> Any:
    """Compile ``expr`` once (cached). Raises :class:`JqError` with jq's message."""
    try:
        return _jq.compile(expr)
    except ValueError as exc:
        raise JqError(_message(exc)) from exc


def run_jq(expr: str, value: Any) -> list[Any]:
    """Every output of ``expr`` applied to ``value``. Raises :class:`JqError`."""
    program = compile_jq(expr)
    try:
        return list(program.input_value(value).all())
    except TypeError as exc:
        raise JqError(f"the jq input is not JSON: {exc}") from exc
    except ValueError as exc:
        raise JqError(_message(exc)) from exc


def jq_syntax_error(expr: str) -> str | None:
    """jq's compile error for ``expr``, or ``None`` when it compiles."""
    try:
        compile_jq(expr)
    except JqError as exc:
        return str(exc)
    return None


def _message(exc: ValueError) -> str:
    return str(exc).strip() or "jq failed"
