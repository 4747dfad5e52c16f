"""Expression languages of the Conductor DSL, all pure and side-effect free.

- ``${...}`` parameter templates: :func:`resolve`, :func:`template_problems`;
- JavaScript (INLINE, LAMBDA, SWITCH, DO_WHILE): :class:`ScriptEngine`, :func:`truthy`,
  :func:`syntax_error`;
- jq (JSON_JQ_TRANSFORM): :func:`run_jq`, :func:`compile_jq`, :func:`jq_syntax_error`;
- WAIT inputs: :func:`parse_duration`, :func:`parse_until`.
"""

from __future__ import annotations

from legato.expr.durations import parse_duration, parse_until
from legato.expr.errors import ExpressionError
from legato.expr.javascript import (
    ScriptEngine,
    ScriptError,
    ScriptMemoryError,
    ScriptTimeoutError,
    syntax_error,
    truthy,
)
from legato.expr.jq import JqError, compile_jq, jq_syntax_error, run_jq
from legato.expr.params import resolve, template_problems
from legato.expr.paths import JsonPathExpr, compile_path
from legato.expr.rendering import java_string

__all__ = [
    "ExpressionError",
    "JqError",
    "JsonPathExpr",
    "ScriptEngine",
    "ScriptError",
    "ScriptMemoryError",
    "ScriptTimeoutError",
    "compile_jq",
    "compile_path",
    "java_string",
    "jq_syntax_error",
    "parse_duration",
    "parse_until",
    "resolve",
    "run_jq",
    "syntax_error",
    "template_problems",
    "truthy",
]
