"""Helpers the validation modules share: Conductor-style field paths (``tasks[2].name``) and
the scalar found at one, and the tests for blank values and ``${...}`` expressions.
"""

from __future__ import annotations

import re
from typing import Any


def _join(prefix: str, path: str) -> str:
    """`prefix` + `path` with a dot unless `path` is empty or starts with an index."""
    if not prefix:
        return path
    if not path:
        return prefix
    return prefix + path if path.startswith("[") else f"{prefix}.{path}"


def _value_at(value: Any, where: str) -> object:
    """The scalar at `where` (``a.b[0]['c-d']``, as `template_problems` writes it) in `value`."""
    current = value
    for quoted, index, key in re.findall(r"\['((?:[^'\\]|\\.)*)'\]|\[(\d+)\]|([^.\[\]]+)", where):
        if index:
            if not isinstance(current, list) or int(index) >= len(current):
                return None
            current = current[int(index)]
        elif isinstance(current, dict):
            current = current.get(key or re.sub(r"\\(.)", r"\1", quoted))
        else:
            return None
    return _scalar_or_none(current)


def _scalar_or_none(value: Any) -> object:
    return value if isinstance(value, str | int | float | bool) else None


def _is_expression(value: Any) -> bool:
    return isinstance(value, str) and "${" in value


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())
