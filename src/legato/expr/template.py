"""Parsing of Conductor ``${...}`` parameter templates into a cached, reusable form.

Conductor finds expressions with a balanced-brace regular expression: an expression starts at a
``${`` that is not preceded by ``$`` and ends at the ``}`` that balances every ``{`` after it, so
``${a.${b}}`` is one expression whose inner text ``a.${b}`` is itself a template (resolved first,
then read as a path). ``$${`` is the escape for a literal ``${``. A ``${`` without a balancing
``}`` is plain text.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from functools import lru_cache

from legato.expr.errors import ExpressionError
from legato.expr.paths import JsonPathExpr, compile_path

__all__ = ["TASK_ID_NAME", "Expression", "Kind", "Template", "classify_path", "parse_template"]

TASK_ID_NAME = "CPEWF_TASK_ID"
SECRETS_PREFIX = "workflow.secrets."


class Kind(enum.Enum):
    BLANK = "blank"  # ${} or ${   } -> ""
    TASK_ID = "task_id"  # ${CPEWF_TASK_ID}
    SECRET = "secret"  # ${workflow.secrets....}: left literally
    PATH = "path"  # a readable path
    INVALID = "invalid"  # does not parse: reads as null
    DYNAMIC = "dynamic"  # contains nested expressions: classified after resolving them


@dataclass(frozen=True, slots=True)
class Expression:
    source: str
    """The expression exactly as written, ``${`` and ``}`` included."""
    inner: Template
    kind: Kind
    path: JsonPathExpr | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Template:
    parts: tuple[str | Expression, ...]
    """Literal text (``$${`` already unescaped) and expressions, in order."""

    @property
    def whole(self) -> Expression | None:
        """The expression when the template is exactly one expression and nothing else."""
        if len(self.parts) == 1 and isinstance(self.parts[0], Expression):
            return self.parts[0]
        return None

    @property
    def static_text(self) -> str | None:
        """The text when the template holds no expression."""
        if not self.parts:
            return ""
        if len(self.parts) == 1 and isinstance(self.parts[0], str):
            return self.parts[0]
        return None


def classify_path(text: str) -> tuple[Kind, JsonPathExpr | None, str | None]:
    """Decide what a (fully static) expression body means."""
    stripped = text.strip()
    if not stripped:
        return Kind.BLANK, None, None
    if text.startswith(SECRETS_PREFIX):
        return Kind.SECRET, None, None
    if stripped == TASK_ID_NAME:
        return Kind.TASK_ID, None, None
    try:
        return Kind.PATH, compile_path(stripped), None
    except ExpressionError as exc:
        return Kind.INVALID, None, str(exc)


@lru_cache(maxsize=8192)
def parse_template(text: str) -> Template:
    """Split ``text`` into literal parts and expressions. Never raises."""
    parts: list[str | Expression] = []
    literal_start = 0
    search_from = 0
    length = len(text)
    while True:
        start = text.find("${", search_from)
        if start < 0:
            break
        if start > 0 and text[start - 1] == "$":
            search_from = start + 2
            continue
        end = _balancing_brace(text, start + 2)
        if end < 0:
            search_from = start + 2
            continue
        if start > literal_start:
            parts.append(_unescape(text[literal_start:start]))
        parts.append(_expression(text[start : end + 1]))
        literal_start = search_from = end + 1
    if literal_start < length:
        parts.append(_unescape(text[literal_start:]))
    return Template(tuple(parts))


def _expression(source: str) -> Expression:
    inner = parse_template(source[2:-1])
    body = inner.static_text
    if body is None:
        return Expression(source, inner, Kind.DYNAMIC)
    kind, path, error = classify_path(body)
    return Expression(source, inner, kind, path, error)


def _balancing_brace(text: str, pos: int) -> int:
    depth = 1
    while True:
        close = text.find("}", pos)
        if close < 0:
            return -1
        depth += text.count("{", pos, close) - 1
        if depth <= 0:
            return close
        pos = close + 1


def _unescape(literal: str) -> str:
    return literal.replace("$${", "${")
