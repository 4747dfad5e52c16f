"""One V8 context (mini-racer) prepared for running untrusted Conductor scripts.

The prelude installed in every context:

- removes what could run code after an evaluation returns, outside the time limit
  (``setTimeout``, ``Atomics.waitAsync``, ``FinalizationRegistry``, ``WebAssembly``);
- freezes every built-in object reachable from the global object (SES-style "lockdown"), keeping
  the usual overridable properties (``toString``, ``constructor``, an error's ``name``/``message``)
  assignable on instances, so no script can change what the next one sees;
- makes the built-in globals read-only, and deletes any global a script adds, before and after
  each run (a global that cannot be deleted marks the context as dirty: it is replaced);
- runs each script through a sloppy-mode direct ``eval`` inside a fresh function whose only
  parameter is ``$``: ``var``s stay local and the completion value is the result, as with
  GraalJS's ``Context.eval`` in Conductor.

Results, errors and syntax-check verdicts come back as one tagged string: a dirty flag
(``0``/``1``) then ``R`` + JSON of the result, ``E`` + the error message, or ``X`` (context
unusable: run again elsewhere).

Promise reactions (microtasks) run after V8 has already handed back a script's value, so each run
is followed by a second, trivial evaluation under the same deadline: a runaway ``.then`` callback
is charged to the script that queued it, never to the next one, and any global it created is
removed before the context is reused.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

import orjson
import py_mini_racer

__all__ = ["Outcome", "Sandbox"]

T = TypeVar("T")

_PRELUDE = r"""
(function () {
  "use strict";
  const global = globalThis;
  const FunctionCtor = Function, StringCtor = String, TypeErrorCtor = TypeError;
  const SyntaxErrorCtor = SyntaxError, ErrorCtor = Error;
  const stringify = JSON.stringify, parse = JSON.parse;
  const getOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;
  const defineProperty = Object.defineProperty, getPrototypeOf = Object.getPrototypeOf;
  const isExtensible = Object.isExtensible, freeze = Object.freeze;
  const ownKeys = Reflect.ownKeys, deleteProperty = Reflect.deleteProperty;
  const globalProto = getPrototypeOf(global);

  // 1. Nothing may run after an evaluation has returned.
  for (const name of ["setTimeout", "clearTimeout", "__timer_manager"]) {
    if (name in global) global[name] = undefined;
  }
  delete Atomics.waitAsync;
  delete global.FinalizationRegistry;
  delete global.WebAssembly;

  // 2. Keep common overrides working on instances once prototypes are frozen.
  function enable(proto, name) {
    const desc = getOwnPropertyDescriptor(proto, name);
    if (!desc || !("value" in desc) || !desc.configurable) return;
    const value = desc.value;
    defineProperty(proto, name, {
      get: function () { return value; },
      set: function (v) {
        if (this === proto) {
          throw new TypeErrorCtor("Cannot assign to read only property '" + StringCtor(name) + "'");
        }
        if ((typeof this === "object" && this !== null) || typeof this === "function") {
          defineProperty(this, name, { value: v, writable: true, enumerable: true, configurable: true });
        }
      },
      enumerable: desc.enumerable,
      configurable: false,
    });
  }
  const enablements = [
    [Object.prototype, ["constructor", "toString", "toLocaleString", "valueOf", "hasOwnProperty",
                        "isPrototypeOf", "propertyIsEnumerable"]],
    [Array.prototype, ["toString", "push", "concat", "join"]],
    [Function.prototype, ["constructor", "bind", "toString", "apply", "call"]],
    [Promise.prototype, ["constructor", "then"]],
  ];
  for (const E of [Error, TypeError, RangeError, ReferenceError, SyntaxError, EvalError, URIError,
                   AggregateError]) {
    enablements.push([E.prototype, ["constructor", "name", "message", "toString"]]);
  }
  for (const [proto, names] of enablements) for (const name of names) enable(proto, name);

  // 3. Freeze every intrinsic reachable from the global object (but not the global itself).
  const seen = new WeakSet();
  const pending = [];
  for (const key of ownKeys(global)) {
    const desc = getOwnPropertyDescriptor(global, key);
    pending.push(desc.value, desc.get, desc.set);
  }
  if (typeof __TimerManager !== "undefined") pending.push(__TimerManager);
  pending.push(globalProto);
  while (pending.length) {
    const obj = pending.pop();
    if ((typeof obj !== "object" && typeof obj !== "function") || obj === null) continue;
    if (obj === global || seen.has(obj)) continue;
    seen.add(obj);
    freeze(obj);
    pending.push(getPrototypeOf(obj));
    for (const key of ownKeys(obj)) {
      const desc = getOwnPropertyDescriptor(obj, key);
      pending.push(desc.value, desc.get, desc.set);
    }
  }

  // 4. Built-in globals become read-only and permanent; remember them.
  const baseline = Object.create(null);
  for (const key of ownKeys(global)) {
    const desc = getOwnPropertyDescriptor(global, key);
    if (desc.configurable) {
      if ("value" in desc) desc.writable = false;
      desc.configurable = false;
      defineProperty(global, key, desc);
    }
    if (typeof key === "string") baseline[key] = true;
  }
  baseline.__legato_sandbox = true;
  const baselineSymbols = ownKeys(global).filter(function (key) { return typeof key === "symbol"; });

  function knownSymbol(key) {
    for (let i = 0; i < baselineSymbols.length; i++) if (baselineSymbols[i] === key) return true;
    return false;
  }

  // Returns true when the global object could not be put back as it was.
  function cleanGlobals() {
    let dirty = !isExtensible(global) || getPrototypeOf(global) !== globalProto;
    const keys = ownKeys(global);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      const known = typeof key === "string" ? baseline[key] === true : knownSymbol(key);
      if (!known && !deleteProperty(global, key)) dirty = true;
    }
    return dirty;
  }

  function describe(error) {
    try {
      if (error instanceof ErrorCtor) return StringCtor(error);
      if (typeof error === "object" && error !== null) {
        const text = stringify(error);
        if (text !== undefined) return text;
      }
      return StringCtor(error);
    } catch (ignored) {
      return "Error: the script threw a value that cannot be described";
    }
  }

  const runner = new FunctionCtor("$", "return eval(arguments[1]);");
  const checker = new FunctionCtor("eval(arguments[0]);");
  const SYNTAX_OK = "__legato_syntax_ok__";

  function run(source, input) {
    if (cleanGlobals()) return "1X";
    let out;
    try {
      const value = runner(parse(input), source);
      const text = value === undefined ? undefined : stringify(value);
      out = "R" + (text === undefined ? "null" : text);
    } catch (error) {
      out = "E" + describe(error);
    }
    return (cleanGlobals() ? "1" : "0") + out;
  }

  // After the microtasks a run queued have finished (see Sandbox._settled).
  function settle() {
    return cleanGlobals() ? "1" : "0";
  }

  function check(source) {
    let out = "Rnull";
    try {
      checker("throw '" + SYNTAX_OK + "';\n" + source);
    } catch (error) {
      if (error !== SYNTAX_OK && error instanceof SyntaxErrorCtor) out = "E" + describe(error);
    }
    return (cleanGlobals() ? "1" : "0") + out;
  }

  defineProperty(global, "__legato_sandbox", {
    value: freeze({ run: freeze(run), check: freeze(check), settle: freeze(settle) }),
    writable: false, enumerable: false, configurable: false,
  });
})();
"""


class Outcome:
    """What one run produced. ``error`` is JavaScript's message; ``retry`` means start over."""

    __slots__ = ("dirty", "error", "retry", "value")

    def __init__(self, tagged: str, *, dirty: bool = False) -> None:
        self.dirty = dirty or tagged[0] == "1"
        kind, payload = tagged[1], tagged[2:]
        self.retry = kind == "X"
        self.error: str | None = payload if kind == "E" else None
        self.value: object = orjson.loads(payload) if kind == "R" else None


class Sandbox:
    """A prepared V8 context on its own event-loop thread. One evaluation at a time.

    Failures surface as mini-racer's exceptions: ``JSTimeoutException`` (deadline passed; the
    run was terminated), ``JSOOMException`` (memory limit), ``JSEvalException`` (anything else).
    After any of them, close the sandbox instead of reusing it.
    """

    def __init__(self, memory_limit_bytes: int) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="legato-javascript", daemon=True
        )
        self._thread.start()
        try:
            self._racer = self._call(self._create(memory_limit_bytes), timeout_s=None)
        except BaseException:
            self._stop_loop()
            raise

    def run(self, script: str, input_json: str, timeout_s: float) -> Outcome:
        code = f"__legato_sandbox.run({_js_string(script)}, {_js_string(input_json)})"
        try:
            return self._call(self._settled(code), timeout_s)
        except (py_mini_racer.JSTimeoutException, py_mini_racer.JSOOMException):
            raise
        except py_mini_racer.JSEvalException as exc:
            # A limit hit while V8 was busy elsewhere (a microtask, a GC) can surface as a plain
            # termination; report it as what it was.
            if self._racer.was_hard_memory_limit_reached():
                raise py_mini_racer.JSOOMException(str(exc)) from exc
            raise

    def check(self, script: str, timeout_s: float) -> Outcome:
        """Parse ``script`` without running it; a syntax error comes back as ``error``."""
        return self._call(self._settled(f"__legato_sandbox.check({_js_string(script)})"), timeout_s)

    def close(self) -> None:
        if self._loop.is_closed():
            return
        try:
            self._call(self._close(), timeout_s=10.0)
        finally:
            self._stop_loop()

    async def _create(self, memory_limit_bytes: int) -> py_mini_racer.MiniRacer:
        racer = py_mini_racer.MiniRacer()  # adopts the running loop: ours
        racer.set_hard_memory_limit(memory_limit_bytes)
        await racer.eval_cancelable(_PRELUDE)
        return racer

    async def _settled(self, code: str) -> Outcome:
        tagged = _tagged(await self._racer.eval_cancelable(code))
        # Runs once the microtasks the script queued are done (V8 runs them after each task).
        dirty = _tagged(await self._racer.eval_cancelable("__legato_sandbox.settle()")) == "1"
        if self._racer.was_hard_memory_limit_reached():  # e.g. by a microtask, after the value
            raise py_mini_racer.JSOOMException("JavaScript memory limit reached")
        return Outcome(tagged, dirty=dirty)

    async def _close(self) -> None:
        # Freed while our loop still runs, so V8's last callbacks find it open.
        self._racer.close()

    def _call(self, work: Coroutine[Any, Any, T], timeout_s: float | None) -> T:
        future = asyncio.run_coroutine_threadsafe(asyncio.wait_for(work, timeout_s), self._loop)
        try:
            return future.result()
        except TimeoutError as exc:
            if isinstance(exc, py_mini_racer.JSTimeoutException):
                raise
            raise py_mini_racer.JSTimeoutException() from exc

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10.0)
        if not self._thread.is_alive():
            self._loop.close()


def _tagged(result: object) -> str:
    if not isinstance(result, str):  # only if the prelude was subverted
        raise py_mini_racer.JSEvalException("the sandbox returned an unexpected value")
    return result


def _js_string(text: str) -> str:
    """A JavaScript string literal for ``text`` (JSON strings are valid JS since ES2019)."""
    return orjson.dumps(text).decode()
