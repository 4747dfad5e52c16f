"""The `query` parameter: Conductor's structured search grammar, parsed into `nodes`.

    expr    := term [ (AND | OR) expr ]
    term    := '(' expr ')' | field op
    op      := ('=' | '!=' | '>' | '>=' | '<' | '<=' | STARTS_WITH) value
             | IN '(' value [, value]* ')'
             | BETWEEN value AND value
             | IS [NOT] NULL
    value   := 'quoted' | "quoted" (backslash escapes the next character) | bare word or number

As in Conductor's Elasticsearch parser, AND and OR have the same precedence and group to the
right: `a AND b OR c` means `a AND (b OR c)`; use parentheses to say otherwise. Keywords are
case-insensitive. Times are epoch milliseconds (or ISO-8601 strings in quotes). A field may be
a path under `input` or `output` (`input.customerId = 42`): a full-text match of the path's
words followed by the value's. `=` with `*` in the value is a wildcard match (`*` = any run
of characters); `= ''` on a field that may be absent means IS NULL.

Unlike Conductor's SQL backends, which drop conditions they cannot read, every problem is an
error (400) naming the parameter, the position (0-based) and the offending token or field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum, auto

from legato.search.conditions import RawValue, condition, problem
from legato.search.fields import Catalog, Field, unknown_field
from legato.search.nodes import Node, Op, all_of, any_of

PARAM = "query"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_OPERATORS = "=, !=, >, >=, <, <=, IN, BETWEEN, STARTS_WITH, IS NULL or IS NOT NULL"


class _T(Enum):
    WORD = auto()
    STRING = auto()
    OP = auto()
    LPAREN = auto()
    RPAREN = auto()
    COMMA = auto()
    END = auto()


@dataclass(frozen=True, slots=True)
class _Token:
    kind: _T
    text: str
    position: int

    def keyword(self, *words: str) -> bool:
        return self.kind is _T.WORD and self.text.upper() in words

    def shown(self) -> str:
        if self.kind is _T.END:
            return "the end of the query"
        if self.kind is _T.STRING:
            return f"the string '{self.text}'"
        return f"'{self.text}'"


_SYMBOLS = frozenset("()=!<>,'\"")


def _tokens(text: str) -> list[_Token]:
    out: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch == "(":
            out.append(_Token(_T.LPAREN, ch, i))
            i += 1
        elif ch == ")":
            out.append(_Token(_T.RPAREN, ch, i))
            i += 1
        elif ch == ",":
            out.append(_Token(_T.COMMA, ch, i))
            i += 1
        elif ch in "<>=!":
            two = text[i : i + 2]
            if two in ("!=", ">=", "<="):
                out.append(_Token(_T.OP, two, i))
                i += 2
            elif ch == "!":
                raise problem(PARAM, f"'!' at position {i} must be followed by '='", ch)
            else:
                out.append(_Token(_T.OP, ch, i))
                i += 1
        elif ch in "'\"":
            start, i = i, i + 1
            chars: list[str] = []
            while i < n and text[i] != ch:
                if text[i] == "\\" and i + 1 < n:
                    i += 1
                chars.append(text[i])
                i += 1
            if i >= n:
                raise problem(
                    PARAM,
                    f"the string starting at position {start} has no closing {ch}",
                    text[start:],
                )
            out.append(_Token(_T.STRING, "".join(chars), start))
            i += 1
        else:
            start = i
            while i < n and not text[i].isspace() and text[i] not in _SYMBOLS:
                i += 1
            out.append(_Token(_T.WORD, text[start:i], start))
    out.append(_Token(_T.END, "", n))
    return out


class _Parser:
    def __init__(self, text: str, catalog: Catalog) -> None:
        self.tokens = _tokens(text)
        self.i = 0
        self.catalog = catalog

    def peek(self) -> _Token:
        return self.tokens[self.i]

    def take(self) -> _Token:
        token = self.tokens[self.i]
        if token.kind is not _T.END:
            self.i += 1
        return token

    def fail(self, token: _Token, expected: str) -> Exception:
        return problem(
            PARAM,
            f"expected {expected} at position {token.position}, found {token.shown()}",
            token.text or None,
        )

    def parse(self) -> Node:
        node = self.expr()
        token = self.peek()
        if token.kind is not _T.END:
            raise self.fail(token, "AND, OR or the end of the query")
        return node

    def expr(self) -> Node:
        left = self.term()
        token = self.peek()
        if token.keyword("AND"):
            self.take()
            right = self.expr()
            node = all_of(left, right)
            assert node is not None
            return node
        if token.keyword("OR"):
            self.take()
            return any_of(left, self.expr())
        return left

    def term(self) -> Node:
        token = self.peek()
        if token.kind is _T.LPAREN:
            self.take()
            node = self.expr()
            closing = self.peek()
            if closing.kind is not _T.RPAREN:
                raise self.fail(closing, f"')' to close the '(' at position {token.position}")
            self.take()
            return node
        return self.comparison()

    def comparison(self) -> Node:
        name = self.take()
        if name.kind is not _T.WORD or not _NAME.fullmatch(name.text):
            raise self.fail(name, "a field name or '('")
        field, path = self.field(name)
        token = self.take()
        if token.kind is _T.OP:
            op = Op(token.text)
            return self.build(field, op, [self.value(token)], name, path)
        if token.keyword("IN"):
            return self.build(field, Op.IN, self.value_list(token), name, path)
        if token.keyword("BETWEEN"):
            low = self.value(token)
            and_ = self.take()
            if not and_.keyword("AND"):
                raise self.fail(and_, "AND between the two values of BETWEEN")
            high = self.value(and_)
            return self.build(field, Op.BETWEEN, [low, high], name, path)
        if token.keyword("STARTS_WITH"):
            return self.build(field, Op.STARTS_WITH, [self.value(token)], name, path)
        if token.keyword("IS"):
            negated = self.peek().keyword("NOT")
            if negated:
                self.take()
            null = self.take()
            if not null.keyword("NULL"):
                raise self.fail(null, "NULL" if negated else "NULL or NOT NULL")
            return self.build(field, Op.IS_NOT_NULL if negated else Op.IS_NULL, [], name, path)
        raise self.fail(token, f"an operator ({_OPERATORS}) after '{name.text}'")

    def field(self, name: _Token) -> tuple[Field, tuple[str, ...]]:
        found = self.catalog.lookup(name.text)
        if found is not None:
            return found, ()
        under_text = self.catalog.text_path(name.text)
        if under_text is not None:
            return under_text
        raise unknown_field(self.catalog, name.text, PARAM, name.position)

    def value(self, after: _Token) -> RawValue:
        token = self.take()
        if token.kind is _T.STRING:
            return RawValue(token.text, token.position, quoted=True)
        if token.kind is _T.WORD and not token.keyword("AND", "OR"):
            return RawValue(token.text, token.position)
        raise self.fail(token, f"a value after {after.shown()}")

    def value_list(self, after: _Token) -> list[RawValue]:
        opening = self.take()
        if opening.kind is not _T.LPAREN:
            raise self.fail(opening, f"'(' to start the list after {after.shown()}")
        values = [self.value(opening)]
        while True:
            token = self.take()
            if token.kind is _T.RPAREN:
                return values
            if token.kind is not _T.COMMA:
                raise self.fail(token, "',' or ')' in the list of values")
            values.append(self.value(token))

    def build(
        self, field: Field, op: Op, raws: list[RawValue], name: _Token, path: tuple[str, ...]
    ) -> Node:
        return condition(field, op, raws, param=PARAM, position=name.position, path=path)


def parse_query(text: str | None, catalog: Catalog) -> Node | None:
    """The node of a `query` parameter over `catalog`'s fields; None when it is blank."""
    if text is None or not text.strip():
        return None
    return _Parser(text, catalog).parse()
