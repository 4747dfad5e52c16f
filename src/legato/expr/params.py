"""Conductor ``${...}`` parameter resolution (``ParametersUtils``), see spec section 4.

``resolve`` walks a JSON value and resolves every string in it against a context document
``{"workflow": {...}, "<taskRef>": {"input": ..., "output": ..., ...}, ...}`` built by the caller:

- a string that is exactly one expression gives the raw value, type preserved;
- a string mixing text and expressions interpolates Java ``toString`` renderings (``null``,
  ``true``, ``1.0E21``, ``{k=v}``, ``[a, b]``);
- missing or malformed paths read as ``None`` (``null`` inside a string), never an error;
- ``${}`` is ``""``; ``$${x}`` is the literal ``${x}``; ``${CPEWF_TASK_ID}`` is ``task_id``;
- ``${workflow.secrets....}`` stays literal: secrets are substituted only at hand-off to a worker.

Resolved values may share structure with ``context``; treat the result as read-only or copy it.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

from legato.expr.errors import ExpressionError
from legato.expr.rendering import java_string
from legato.expr.template import (
    TASK_ID_NAME,
    Expression,
    Kind,
    Template,
    classify_path,
    parse_template,
)

__all__ = ["ExpressionError", "resolve", "template_problems"]

_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ROOT_TEXT = re.compile(
    r"\[\s*(?P<quote>['\"])(?P<quoted>.*?)(?P=quote)\s*\]|(?P<name>[^.\[\]\s(]+)[.\[]"
)


def resolve(value: Any, context: Mapping[str, Any], *, task_id: str | None = None) -> Any:
    """Resolve every ``${...}`` in ``value`` (recursing into dicts and lists) against ``context``."""
    return _resolve(value, context, task_id)


def _resolve(value: Any, context: Mapping[str, Any], task_id: str | None) -> Any:
    kind = type(value)
    if kind is str:
        return _resolve_string(value, context, task_id) if "${" in value else value
    if kind is dict:
        return {key: _resolve(item, context, task_id) for key, item in value.items()}
    if kind is list:
        return [_resolve(item, context, task_id) for item in value]
    if value is None or kind is int or kind is float or kind is bool:
        return value
    if isinstance(value, str):  # str subclasses (e.g. StrEnum members) become plain strings
        return _resolve(str(value), context, task_id)
    if isinstance(value, Mapping):
        return {key: _resolve(item, context, task_id) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_resolve(item, context, task_id) for item in value]
    return value


def _resolve_string(text: str, context: Mapping[str, Any], task_id: str | None) -> Any:
    template = parse_template(text)
    whole = template.whole
    if whole is not None:
        if whole.kind is Kind.PATH:  # the hot path
            assert whole.path is not None
            return whole.path.read(context)
        replaced, replacement = _evaluate(whole, context, task_id)
        return replacement if replaced else whole.source
    return _render(template, context, task_id)


def _render(template: Template, context: Mapping[str, Any], task_id: str | None) -> str:
    pieces: list[str] = []
    for part in template.parts:
        if type(part) is str:
            pieces.append(part)
            continue
        assert isinstance(part, Expression)
        replaced, replacement = _evaluate(part, context, task_id)
        pieces.append(java_string(replacement) if replaced else part.source)
    return "".join(pieces)


def _evaluate(
    expression: Expression, context: Mapping[str, Any], task_id: str | None
) -> tuple[bool, Any]:
    """``(True, value)`` for a replacement, ``(False, None)`` when the text stays as written."""
    kind, path = expression.kind, expression.path
    if kind is Kind.DYNAMIC:
        kind, path, _ = classify_path(_render(expression.inner, context, task_id))
    if kind is Kind.PATH:
        assert path is not None
        return True, path.read(context)
    if kind is Kind.BLANK:
        return True, ""
    if kind is Kind.INVALID:
        return True, None
    if kind is Kind.TASK_ID:
        return (task_id is not None), task_id
    return False, None  # secrets are substituted later, at hand-off


def template_problems(value: Any, known_roots: Collection[str]) -> list[tuple[str, str]]:
    """Registration-time check of every ``${...}`` in ``value``.

    Returns ``(location, message)`` pairs, the location written like ``a.b[2]`` (``""`` for
    ``value`` itself). A problem is an expression that does not parse as a path, or whose first
    segment is not ``workflow``, ``CPEWF_TASK_ID`` or one of ``known_roots``.
    """
    problems: list[tuple[str, str]] = []
    _collect(value, "", frozenset(known_roots), problems)
    return problems


def _collect(value: Any, location: str, roots: frozenset[str], out: list[tuple[str, str]]) -> None:
    if isinstance(value, str):
        if "${" in value:
            for part in parse_template(value).parts:
                if isinstance(part, Expression):
                    _check(part, location, roots, out)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _collect(item, _child(location, str(key)), roots, out)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _collect(item, f"{location}[{index}]", roots, out)


def _child(location: str, key: str) -> str:
    if _PLAIN_KEY.fullmatch(key):
        return f"{location}.{key}" if location else key
    quoted = key.replace("\\", "\\\\").replace("'", "\\'")
    return f"{location}['{quoted}']"


def _check(
    expression: Expression, location: str, roots: frozenset[str], out: list[tuple[str, str]]
) -> None:
    where = expression.source
    if expression.kind is Kind.INVALID:
        out.append((location, f"{where}: {expression.error}"))
        return
    if expression.kind is Kind.DYNAMIC:
        for part in expression.inner.parts:
            if isinstance(part, Expression):
                _check(part, location, roots, out)
        root = _static_root(expression.inner)
    elif expression.kind is Kind.PATH:
        assert expression.path is not None
        root = expression.path.root
    else:
        return
    if root is None or root == "workflow" or root == TASK_ID_NAME or root in roots:
        return
    message = f"{where}: unknown reference {root!r}; expected 'workflow' or a task reference name"
    out.append((location, message))


def _static_root(inner: Template) -> str | None:
    """The first path segment of a nested expression, when it is written literally."""
    first = inner.parts[0]
    if not isinstance(first, str):
        return None
    head = first.lstrip()
    if head.startswith("$"):
        head = head[1:].lstrip(".")
    match = _ROOT_TEXT.match(head)
    if match is None:
        return None
    return match.group("quoted") if match.group("quote") else match.group("name")
