"""jq for JSON_JQ_TRANSFORM."""

from __future__ import annotations

import pytest

from legato.expr.jq import JqError, compile_jq, jq_syntax_error, run_jq


def test_single_result() -> None:
    assert run_jq(".a + .b", {"a": 1, "b": 2}) == [3]


def test_all_results_for_result_list() -> None:
    value = {"key1": {"value1": ["a", "b"]}, "key2": {"value2": ["c"]}}
    assert run_jq(".key1.value1 + .key2.value2 | .[]", value) == ["a", "b", "c"]


def test_object_construction_and_null() -> None:
    assert run_jq("{name: .n, missing: .m}", {"n": "x"}) == [{"name": "x", "missing": None}]


def test_no_output() -> None:
    assert run_jq("empty", {}) == []


def test_compile_error_carries_jqs_message() -> None:
    with pytest.raises(JqError, match="syntax error"):
        run_jq(".a | {", {})


def test_runtime_error() -> None:
    with pytest.raises(JqError, match="cannot be added"):
        run_jq(".a + 1", {"a": "text"})


def test_error_builtin_message() -> None:
    with pytest.raises(JqError, match="boom"):
        run_jq('error("boom")', {})


def test_syntax_check() -> None:
    assert jq_syntax_error(".a | map(.b)") is None
    message = jq_syntax_error(".a[")
    assert message is not None
    assert "syntax error" in message
    assert "nosuchfunction/0 is not defined" in (jq_syntax_error("nosuchfunction") or "")


def test_compiled_programs_are_cached() -> None:
    assert compile_jq(".cached") is compile_jq(".cached")
