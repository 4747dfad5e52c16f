"""The public surface of ``legato.expr`` is deliberate."""

from __future__ import annotations

import legato.expr


def test_public_names() -> None:
    assert set(legato.expr.__all__) == {
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
    }
    for name in legato.expr.__all__:
        assert getattr(legato.expr, name) is not None


def test_error_hierarchy() -> None:
    assert issubclass(legato.expr.ExpressionError, ValueError)
    assert issubclass(legato.expr.JqError, ValueError)
    assert issubclass(legato.expr.ScriptTimeoutError, legato.expr.ScriptError)
    assert issubclass(legato.expr.ScriptMemoryError, legato.expr.ScriptError)
