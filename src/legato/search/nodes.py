"""The parsed form of a search: a small boolean tree every backend compiles to its own SQL.

Both request parameters end up here: `query` (the structured grammar, `legato.search.query`)
and `freeText` (`legato.search.free_text`) parse to the same nodes and are joined with `And`.
Values are already typed and checked against their field when a node is built, so a backend
never sees an unknown field or a malformed value.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TypeAlias

from legato.search.fields import Field, TextColumn

Value: TypeAlias = str | int


class Op(StrEnum):
    EQ = "="
    NE = "!="
    GT = ">"
    GE = ">="
    LT = "<"
    LE = "<="
    IN = "IN"
    BETWEEN = "BETWEEN"  # inclusive at both ends
    STARTS_WITH = "STARTS_WITH"
    LIKE = "LIKE"  # one value with `*` wildcards (any run of characters), case-sensitive
    NOT_LIKE = "NOT LIKE"
    IS_NULL = "IS NULL"
    IS_NOT_NULL = "IS NOT NULL"


@dataclass(frozen=True, slots=True)
class Compare:
    """`field op values`: one value for =, !=, <, <=, >, >=, STARTS_WITH, LIKE; two for BETWEEN;
    one or more for IN; none for IS [NOT] NULL. Never a TEXT field (those become `Match`)."""

    field: Field
    op: Op
    values: tuple[Value, ...] = ()


@dataclass(frozen=True, slots=True)
class Match:
    """A full-text match: the words of `text`, in this order and adjacent (a phrase), in
    `column` (None: any column of the document). `prefix`: the last word may be the start of
    a longer word. Words are compared ignoring case and diacritics."""

    text: str
    column: TextColumn | None = None
    prefix: bool = False


@dataclass(frozen=True, slots=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    item: Node


@dataclass(frozen=True, slots=True)
class HasTask:
    """On a workflow search: the workflow has at least one task matching `where` (task fields)."""

    where: Node


Node: TypeAlias = Compare | Match | And | Or | Not | HasTask


def all_of(*nodes: Node | None) -> Node | None:
    """The conjunction of the nodes given (None ones skipped), flattened; None when empty."""
    items: list[Node] = []
    for node in nodes:
        if node is None:
            continue
        if isinstance(node, And):
            items.extend(node.items)
        else:
            items.append(node)
    if not items:
        return None
    return items[0] if len(items) == 1 else And(tuple(items))


def any_of(*nodes: Node) -> Node:
    items: list[Node] = []
    for node in nodes:
        if isinstance(node, Or):
            items.extend(node.items)
        else:
            items.append(node)
    return items[0] if len(items) == 1 else Or(tuple(items))
