"""The `freeText` parameter: words, phrases, prefixes, field:value, operators, errors."""

from __future__ import annotations

import pytest

from legato.errors import ValidationError
from legato.search import TASKS, WORKFLOWS, And, Compare, Match, Not, Op, Or, TextColumn
from legato.search.free_text import parse_free_text
from legato.search.nodes import Node

F = WORKFLOWS.fields


def ft(text: str) -> Node | None:
    return parse_free_text(text, WORKFLOWS)


@pytest.mark.parametrize("everything", [None, "", " ", "*", " * "])
def test_everything(everything: str | None) -> None:
    assert ft(everything) is None  # type: ignore[arg-type]


def test_words_phrases_and_prefixes() -> None:
    assert ft("order") == Match("order")
    assert ft("order 123") == And((Match("order"), Match("123")))
    assert ft('"order 123"') == Match("order 123")
    assert ft("ord*") == Match("ord", prefix=True)
    assert ft("order-123") == Match("order-123")
    assert ft("!!! ok") == Match("ok")  # nothing to index in '!!!'


def test_operators() -> None:
    a, b, c = Match("a"), Match("b"), Match("c")
    assert ft("a OR b") == Or((a, b))
    assert ft("a AND b") == And((a, b))
    assert ft("a b OR c") == Or((And((a, b)), c))
    assert ft("a -b") == And((a, Not(b)))
    assert ft("a NOT b") == And((a, Not(b)))
    assert ft("+a") == a
    assert ft("(a OR b) c") == And((Or((a, b)), c))
    assert ft("a OR *") is None


def test_field_values() -> None:
    assert ft("status:FAILED") == Compare(F["status"], Op.EQ, ("FAILED",))
    assert ft("workflowType:order*") == Compare(F["workflowType"], Op.LIKE, ("order*",))
    assert ft("input.customerId:42") == Match("customerId 42", TextColumn.INPUT)
    assert ft('input:"hello world"') == Match("hello world", TextColumn.INPUT)
    assert ft("output.code: E42") == Match("code E42", TextColumn.OUTPUT)


def test_field_without_value_is_an_error() -> None:
    with pytest.raises(ValidationError, match="has no value"):
        ft("status:")


def test_task_fields() -> None:
    node = parse_free_text("taskType:HTTP boom", TASKS)
    assert node == And((Compare(TASKS.fields["taskType"], Op.EQ, ("HTTP",)), Match("boom")))


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("http://example.com", "unknown workflow search field 'http' at position 0"),
        ('"open phrase', "the phrase starting at position 0 has no closing"),
        ("(a OR b", "expected ')' to close the '(' at position 0"),
        ("a )", "unexpected ')' at position 2"),
        ("NOT", "ends where a word was expected"),
        ("status:RUNING", "'RUNING'"),
    ],
)
def test_errors(text: str, says: str) -> None:
    with pytest.raises(ValidationError) as info:
        ft(text)
    assert says in info.value.message
    assert info.value.problems[0].path == "freeText"
