"""The `freeText` parameter: words to find anywhere in a workflow or task, Lucene-style.

    text    := either [OR either]*
    either  := unary [[AND] unary]*         (no operator between two terms: AND)
    unary   := (NOT | '-') unary | '+' unary | atom
    atom    := '(' text ')' | [field ':'] value
    value   := "a phrase" | word | word*

A word or phrase is matched through the full-text index (ids, names and types, input, output
and reason; case and diacritics ignored; `word*` matches words starting with `word`).
`field:value` names a search field: on `input` / `output` (or a path under them, such as
`input.customerId:42`) it is a full-text match in that part of the document; on any other
field an exact comparison, like `field = value` in `query` (`*` is a wildcard there). `*` alone
(the default) matches everything. Operators are upper case, as in Lucene; unlike Lucene (and
Conductor's Elasticsearch index, whose default operator is OR) terms without an operator must
all match. An unknown field is an error (400), not an empty result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum, auto

from legato.search.conditions import RawValue, condition, has_words, problem
from legato.search.fields import Catalog, unknown_field
from legato.search.nodes import Match, Node, Not, Op, all_of, any_of

PARAM = "freeText"
_FIELD = re.compile(r"([A-Za-z_][A-Za-z0-9_.]*):(.*)", re.DOTALL)


class _T(Enum):
    WORD = auto()
    PHRASE = auto()
    LPAREN = auto()
    RPAREN = auto()
    END = auto()


@dataclass(frozen=True, slots=True)
class _Token:
    kind: _T
    text: str
    position: int

    def operator(self, *names: str) -> bool:
        return self.kind is _T.WORD and self.text in names


def _tokens(text: str) -> list[_Token]:
    out: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in "()":
            out.append(_Token(_T.LPAREN if ch == "(" else _T.RPAREN, ch, i))
            i += 1
        elif ch == '"':
            start, i = i, i + 1
            chars: list[str] = []
            while i < n and text[i] != '"':
                if text[i] == "\\" and i + 1 < n:
                    i += 1
                chars.append(text[i])
                i += 1
            if i >= n:
                raise problem(
                    PARAM, f'the phrase starting at position {start} has no closing "', text[start:]
                )
            out.append(_Token(_T.PHRASE, "".join(chars), start))
            i += 1
        else:
            start = i
            while i < n and not text[i].isspace() and text[i] not in '()"':
                i += 1
            out.append(_Token(_T.WORD, text[start:i], start))
    out.append(_Token(_T.END, "", n))
    return out


_ALL = Match("*")  # a marker: matches everything (dropped from the tree)


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

    def parse(self) -> Node | None:
        node = self.either_list()
        token = self.peek()
        if token.kind is not _T.END:
            raise problem(
                PARAM, f"unexpected '{token.text}' at position {token.position}", token.text
            )
        return _prune(node)

    def either_list(self) -> Node | None:
        options = [self.conjunction()]
        while self.peek().operator("OR"):
            self.take()
            options.append(self.conjunction())
        present = [o for o in options if o is not None]
        if any(o is _ALL for o in present):
            return _ALL
        return any_of(*present) if present else None

    def conjunction(self) -> Node | None:
        items: list[Node] = []
        while True:
            token = self.peek()
            if token.kind in (_T.END, _T.RPAREN) or token.operator("OR"):
                break
            if token.operator("AND"):
                self.take()
                continue
            node = self.unary()
            if node is not None:
                items.append(node)
        kept = [item for item in items if item is not _ALL]
        if not kept:
            return _ALL if items else None
        return all_of(*kept)

    def unary(self) -> Node | None:
        token = self.peek()
        if token.operator("NOT") or (token.kind is _T.WORD and token.text.startswith("-")):
            negate = self.negation(token)
            return None if negate is None or negate is _ALL else Not(negate)
        if token.kind is _T.WORD and token.text.startswith("+"):
            self.take()
            rest = token.text[1:]
            if rest:
                return self.word(_Token(_T.WORD, rest, token.position + 1))
            return self.unary()
        return self.atom()

    def negation(self, token: _Token) -> Node | None:
        self.take()
        if token.text == "NOT" or token.text == "-":
            return self.unary()
        return self.word(_Token(_T.WORD, token.text[1:], token.position + 1))

    def atom(self) -> Node | None:
        token = self.take()
        if token.kind is _T.LPAREN:
            node = self.either_list()
            closing = self.take()
            if closing.kind is not _T.RPAREN:
                raise problem(
                    PARAM,
                    f"expected ')' to close the '(' at position {token.position}, found "
                    + (f"'{closing.text}'" if closing.text else "the end"),
                    closing.text or None,
                )
            return node
        if token.kind is _T.PHRASE:
            return Match(token.text) if has_words(token.text) else None
        if token.kind is _T.WORD:
            return self.word(token)
        if token.kind is _T.END:
            raise problem(PARAM, "the free text ends where a word was expected", None)
        raise problem(
            PARAM, f"unexpected '{token.text}' at position {token.position}", token.text or None
        )

    def word(self, token: _Token) -> Node | None:
        text = token.text
        if text == "*":
            return _ALL
        pair = _FIELD.fullmatch(text)
        if pair is not None:
            return self.field_pair(token, pair.group(1), pair.group(2))
        prefix = text.endswith("*")
        words = text.rstrip("*")
        return Match(words, None, prefix) if has_words(words) else None

    def field_pair(self, token: _Token, name: str, value: str) -> Node | None:
        value_position = token.position + len(name) + 1
        raw = RawValue(value, value_position)
        if value == "":
            following = self.peek()
            if following.kind is _T.PHRASE:
                self.take()
                raw = RawValue(following.text, following.position, quoted=True)
            elif following.kind is _T.WORD and not following.operator("AND", "OR", "NOT"):
                self.take()
                raw = RawValue(following.text, following.position)
            else:
                raise problem(
                    PARAM, f"'{name}:' at position {token.position} has no value", token.text
                )
        field = self.catalog.lookup(name)
        path: tuple[str, ...] = ()
        if field is None:
            under_text = self.catalog.text_path(name)
            if under_text is None:
                hint = f' (to search for the text, quote it: "{token.text}")'
                raise unknown_field(self.catalog, name, PARAM, token.position, hint)
            field, path = under_text
        if raw.text == "*":
            return _ALL
        return condition(field, Op.EQ, [raw], param=PARAM, position=token.position, path=path)


def _prune(node: Node | None) -> Node | None:
    return None if node is _ALL else node


def parse_free_text(text: str | None, catalog: Catalog) -> Node | None:
    """The node of a `freeText` parameter over `catalog`'s fields; None for `*` or blank."""
    if text is None or not text.strip() or text.strip() == "*":
        return None
    return _Parser(text, catalog).parse()
