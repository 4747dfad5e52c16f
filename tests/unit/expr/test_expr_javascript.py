"""Sandboxed JavaScript: values, errors, limits, isolation, threads."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from legato.expr.javascript import (
    ScriptEngine,
    ScriptError,
    ScriptMemoryError,
    ScriptTimeoutError,
    syntax_error,
    truthy,
)

TIME_LIMIT_S = 0.3
# Termination is asynchronous; allow for scheduling on a busy machine.
MARGIN_S = 1.0


@pytest.fixture(scope="module")
def engine() -> Iterator[ScriptEngine]:
    with ScriptEngine(time_limit_s=TIME_LIMIT_S) as shared:
        yield shared


# --- values ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("1 + 2", 3),
        ("7 / 2", 3.5),
        ("'a' + 'b'", "ab"),
        ("true && !false", True),
        ("null", None),
        ("undefined", None),
        ("[1, 'x', null, [2]]", [1, "x", None, [2]]),
        ("({a: 1, b: {c: [true]}, skipped: undefined})", {"a": 1, "b": {"c": [True]}}),
        ("var x = 2; x * 21", 42),
        ("let t = 0; for (let i = 0; i < 5; i++) { t += i } t", 10),
        ("new Date(0).toISOString()", "1970-01-01T00:00:00.000Z"),
        ("var n = 0; n", 0),
    ],
)
def test_values(engine: ScriptEngine, script: str, expected: Any) -> None:
    result = engine.evaluate(script, {})
    assert result == expected
    assert type(result) is type(expected)


def test_dollar_is_bound_to_the_input(engine: ScriptEngine) -> None:
    bindings = {"a": 2, "b": 3, "nested": {"list": [1, 2, 3]}}
    assert engine.evaluate("$.a > 1", bindings) is True
    assert engine.evaluate("(function(){ return $.a + $.b; })()", bindings) == 5
    assert engine.evaluate("$.nested.list.length", bindings) == 3
    assert engine.evaluate("$['nested']", bindings) == {"list": [1, 2, 3]}


def test_conductor_loop_condition_shape(engine: ScriptEngine) -> None:
    bindings = {"loop_ref": {"iteration": 2}, "count": 3}
    assert engine.evaluate("$.loop_ref['iteration'] < $.count", bindings) is True


def test_dollar_is_a_copy(engine: ScriptEngine) -> None:
    bindings: dict[str, Any] = {"list": [1], "obj": {"k": "v"}}
    engine.evaluate("$.list.push(2); $.obj.k = 'changed'; 0", bindings)
    assert bindings == {"list": [1], "obj": {"k": "v"}}


def test_input_that_is_not_json_is_an_error(engine: ScriptEngine) -> None:
    with pytest.raises(ScriptError, match="not JSON"):
        engine.evaluate("1", {"when": object()})


# --- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("script", "message"),
    [
        ("foo", "ReferenceError: foo is not defined"),
        ("null.x", "TypeError: Cannot read properties of null (reading 'x')"),
        ("throw new Error('boom')", "Error: boom"),
        ("throw 'plain'", "plain"),
        ("throw {code: 7}", '{"code":7}'),
        ("var x = ;", "SyntaxError: Unexpected token ';'"),
        ("return 1", "SyntaxError: Illegal return statement"),
        ("10n", "TypeError: Do not know how to serialize a BigInt"),
        ("(function f() { f() })()", "RangeError: Maximum call stack size exceeded"),
    ],
)
def test_errors_carry_javascripts_message(engine: ScriptEngine, script: str, message: str) -> None:
    with pytest.raises(ScriptError) as info:
        engine.evaluate(script, {})
    assert str(info.value) == message
    assert type(info.value) is ScriptError


def test_custom_error_classes_keep_their_name(engine: ScriptEngine) -> None:
    script = "class Nope extends Error { constructor(m) { super(m); this.name = 'Nope'; } }"
    with pytest.raises(ScriptError, match=r"^Nope: bad$"):
        engine.evaluate(script + "; throw new Nope('bad')", {})


# --- limits ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "script",
    [
        "while (true) {}",
        "Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0)",
        "Promise.resolve().then(() => { while (true) {} }); 'returned early'",
    ],
)
def test_runaway_scripts_are_stopped(engine: ScriptEngine, script: str) -> None:
    started = time.monotonic()
    with pytest.raises(ScriptTimeoutError, match=r"time limit of 0\.3 s"):
        engine.evaluate(script, {})
    assert time.monotonic() - started < TIME_LIMIT_S + MARGIN_S
    assert engine.evaluate("1 + 1", {}) == 2


@pytest.mark.parametrize(
    "script",
    [
        "var a = []; while (true) a.push(new Array(1e6).fill(1))",
        "var o = {}; for (var i = 0; ; i++) o['k' + i] = i",
        "Promise.resolve().then(() => { var a = []; while (true) a.push(new Array(1e6)) }); 1",
    ],
)
def test_memory_bombs_are_stopped_and_the_engine_recovers(script: str) -> None:
    with ScriptEngine(time_limit_s=5.0, memory_limit_bytes=32 * 2**20) as small:
        with pytest.raises(ScriptMemoryError, match="memory limit of 32 MiB"):
            small.evaluate(script, {})
        assert small.evaluate("[1, 2].length", {}) == 2
        assert small.evaluate("new Array(1e5).fill(1).length", {}) == 100000


# --- isolation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        ("leaked = 1", "typeof leaked", "undefined"),
        ("var local = 1", "typeof local", "undefined"),
        ("function helper() {}", "typeof helper", "undefined"),
        ("globalThis.g = 1", "typeof g", "undefined"),
        ("this.viaThis = 1", "typeof viaThis", "undefined"),
        ("Array.prototype.includes = () => true", "[1].includes(2)", False),
        ("Object.prototype.polluted = 1", "({}).polluted === undefined", True),
        ("JSON.stringify = () => 'x'", "JSON.stringify({a: 1})", '{"a":1}'),
        ("JSON = null", "typeof JSON", "object"),
        ("Math.max = () => 0", "Math.max(1, 2)", 2),
        ("Promise.resolve().then(() => { globalThis.late = 1 })", "typeof late", "undefined"),
        (
            "Object.defineProperty(globalThis, 'stuck', {value: 1, configurable: false})",
            "typeof stuck",
            "undefined",
        ),
    ],
)
def test_scripts_do_not_see_each_other(
    engine: ScriptEngine, first: str, second: str, expected: Any
) -> None:
    engine.evaluate(first, {})
    assert engine.evaluate(second, {}) == expected


def test_instance_overrides_still_work(engine: ScriptEngine) -> None:
    script = "var o = {}; o.toString = function () { return 'mine' }; String(o)"
    assert engine.evaluate(script, {}) == "mine"
    script = "function P() {}; P.prototype.toString = function () { return 'p' }; '' + new P()"
    assert engine.evaluate(script, {}) == "p"


def test_no_timers_or_async_escape_hatches(engine: ScriptEngine) -> None:
    script = "[typeof setTimeout, typeof WebAssembly, typeof FinalizationRegistry]"
    assert engine.evaluate(script, {}) == ["undefined", "undefined", "undefined"]


# --- threads and event loops -----------------------------------------------------------------


def test_concurrent_evaluations_from_four_threads(engine: ScriptEngine) -> None:
    results: dict[int, list[Any]] = {}
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def work(worker: int) -> None:
        try:
            barrier.wait()
            results[worker] = [
                engine.evaluate("var mine = $.w * 1000 + $.i; mine", {"w": worker, "i": i})
                for i in range(25)
            ]
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert results == {w: [w * 1000 + i for i in range(25)] for w in range(4)}


def test_usable_from_asyncio_through_a_worker_thread(engine: ScriptEngine) -> None:
    async def main() -> list[Any]:
        calls = [asyncio.to_thread(engine.evaluate, "$.n * 2", {"n": n}) for n in range(4)]
        direct = engine.evaluate("'from the loop thread'", {})
        return [*await asyncio.gather(*calls), direct]

    assert asyncio.run(main()) == [0, 2, 4, 6, "from the loop thread"]


def test_closed_engine_refuses_work() -> None:
    engine = ScriptEngine(time_limit_s=TIME_LIMIT_S)
    assert engine.evaluate("1", {}) == 1
    engine.close()
    with pytest.raises(RuntimeError, match="closed"):
        engine.evaluate("1", {})


def test_close_stops_the_engines_threads() -> None:
    before = threading.active_count()
    engine = ScriptEngine(time_limit_s=TIME_LIMIT_S)
    engine.evaluate("1", {})
    assert threading.active_count() > before
    engine.close()
    assert threading.active_count() == before


@pytest.mark.parametrize(
    ("limit", "memory"),
    [(0, 1), (-1.0, 1), (float("inf"), 1), (1.0, 0)],
)
def test_limits_must_be_positive(limit: float, memory: int) -> None:
    with pytest.raises(ValueError):
        ScriptEngine(time_limit_s=limit, memory_limit_bytes=memory)


# --- syntax checks -------------------------------------------------------------------------


def test_syntax_error_reports_without_running(engine: ScriptEngine) -> None:
    assert engine.syntax_error("$.a > 1") is None
    assert engine.syntax_error("(function(){ return $.a + $.b; })()") is None
    assert engine.syntax_error("var x = ;") == "SyntaxError: Unexpected token ';'"
    assert engine.syntax_error("return 1") == "SyntaxError: Illegal return statement"
    assert engine.syntax_error("let a; let a;") == (
        "SyntaxError: Identifier 'a' has already been declared"
    )


def test_syntax_check_does_not_execute(engine: ScriptEngine) -> None:
    started = time.monotonic()
    assert engine.syntax_error("while (true) {}") is None
    assert engine.syntax_error("checked = 1") is None
    assert time.monotonic() - started < TIME_LIMIT_S
    assert engine.evaluate("typeof checked", {}) == "undefined"


def test_module_level_syntax_error_needs_no_engine() -> None:
    assert syntax_error("$.a > 1") is None
    assert syntax_error("var x = ;") == "SyntaxError: Unexpected token ';'"
    assert syntax_error("return 1") == "SyntaxError: Illegal return statement"
    assert syntax_error("Object.defineProperty(globalThis, 'p', {value: 1}); 1") is None


# --- condition coercion ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        (False, False),
        (1, True),
        (0.5, True),
        (0, False),
        (-1, False),
        (float("nan"), False),
        ("true", False),
        ("1", False),
        (None, False),
        ([1], False),
        ({"a": 1}, False),
    ],
)
def test_truthy(value: Any, expected: bool) -> None:
    assert truthy(value) is expected
