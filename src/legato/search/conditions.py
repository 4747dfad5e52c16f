"""One condition (`field op values`) as written by a user -> a checked, typed node.

Shared by both grammars (`query` and `freeText`): the same condition means the same thing, and
fails with the same message, whichever parameter it came from.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from legato.errors import FieldProblem, ValidationError
from legato.search.fields import Absent, Field, Kind
from legato.search.nodes import Compare, Match, Node, Not, Op, Value, any_of

_INTEGER = re.compile(r"[+-]?\d+")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class RawValue:
    """A value as written: its text (quotes removed), whether it was quoted, where it starts."""

    text: str
    position: int
    quoted: bool = False


def problem(param: str, message: str, value: object = None) -> ValidationError:
    return ValidationError(f"Invalid {param}: {message}", [FieldProblem(param, message, value)])


def condition(
    field: Field,
    op: Op,
    raws: Sequence[RawValue],
    *,
    param: str,
    position: int,
    path: tuple[str, ...] = (),
) -> Node:
    """The node for `field op raws` (`path`: the JSON path under a TEXT field)."""
    if field.kind is Kind.TEXT:
        return _text_condition(field, op, raws, param=param, position=position, path=path)
    if op in (Op.IS_NULL, Op.IS_NOT_NULL):
        return Compare(field, op)
    if op is Op.STARTS_WITH and field.kind is not Kind.KEYWORD:
        raise problem(
            param,
            f"STARTS_WITH at position {position} needs a text field; {field.name} holds "
            f"{_kind_name(field)}",
            field.name,
        )
    if field.kind is Kind.LIST and op not in (Op.EQ, Op.NE, Op.IN):
        raise problem(
            param,
            f"{op.value} at position {position} is not supported on {field.name} "
            "(a list of names: use =, !=, IN, IS NULL or IS NOT NULL)",
            field.name,
        )
    values = tuple(_typed(field, raw, param=param) for raw in raws)
    if op in (Op.EQ, Op.NE) and field.kind in (Kind.KEYWORD, Kind.LIST):
        (value,) = values
        assert isinstance(value, str)
        if value == "" and field.absent in (Absent.NULL, Absent.EMPTY):
            return Compare(field, Op.IS_NULL if op is Op.EQ else Op.IS_NOT_NULL)
        if "*" in value:
            if field.kind is Kind.LIST:
                raise problem(param, f"wildcards are not supported on {field.name}", raws[0].text)
            return Compare(field, Op.LIKE if op is Op.EQ else Op.NOT_LIKE, values)
    if field.values is not None and op in (Op.EQ, Op.NE, Op.IN):
        for raw, value in zip(raws, values, strict=True):
            if value not in field.values:
                raise problem(
                    param,
                    f"'{value}' at position {raw.position} is not a {field.name}; "
                    f"one of {', '.join(sorted(field.values))}",
                    raw.text,
                )
    return Compare(field, op, values)


def _text_condition(
    field: Field,
    op: Op,
    raws: Sequence[RawValue],
    *,
    param: str,
    position: int,
    path: tuple[str, ...],
) -> Node:
    if op not in (Op.EQ, Op.NE, Op.IN, Op.STARTS_WITH):
        raise problem(
            param,
            f"{op.value} at position {position} is not supported on {field.name} (full text: "
            "use =, !=, IN or STARTS_WITH)",
            field.name,
        )
    matches: list[Node] = []
    for raw in raws:
        text = raw.text
        prefix = op is Op.STARTS_WITH
        if text.endswith("*") and not raw.quoted:
            text, prefix = text.rstrip("*"), True
        if not has_words(text):
            raise problem(
                param, f"the value at position {raw.position} has no words to search for", raw.text
            )
        words = " ".join((*path, text))
        matches.append(Match(words, field.text_column, prefix))
    node = any_of(*matches)
    return Not(node) if op is Op.NE else node


def has_words(text: str) -> bool:
    """Whether `text` has anything a full-text index would index (a letter or a digit)."""
    return any(ch.isalnum() for ch in text)


def _typed(field: Field, raw: RawValue, *, param: str) -> Value:
    if field.kind in (Kind.KEYWORD, Kind.LIST):
        return raw.text
    text = raw.text.strip()
    if _INTEGER.fullmatch(text):
        return int(text)
    if field.kind is Kind.TIME and raw.quoted:
        millis = _iso_millis(text)
        if millis is not None:
            return millis
    hint = (
        "epoch milliseconds or an ISO-8601 time in quotes"
        if field.kind is Kind.TIME
        else "an integer"
    )
    raise problem(
        param,
        f"{field.name} needs {hint}; got '{raw.text}' at position {raw.position}",
        raw.text,
    )


def _iso_millis(text: str) -> int | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def _kind_name(field: Field) -> str:
    return {
        Kind.NUMBER: "a number",
        Kind.TIME: "a time",
        Kind.LIST: "a list of names",
    }.get(field.kind, "text")
