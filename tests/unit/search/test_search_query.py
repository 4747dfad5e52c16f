"""The `query` grammar: every form, Conductor's grouping, typed values and precise 400s."""

from __future__ import annotations

import pytest

from legato.errors import ValidationError
from legato.search import TASKS, WORKFLOWS, And, Compare, Match, Not, Op, Or, TextColumn
from legato.search.nodes import Node
from legato.search.query import parse_query

F = WORKFLOWS.fields


def q(text: str) -> Node | None:
    return parse_query(text, WORKFLOWS)


def compare(name: str, op: Op, *values: str | int) -> Compare:
    return Compare(F[name], op, tuple(values))


def error(text: str, catalog=WORKFLOWS) -> ValidationError:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as info:
        parse_query(text, catalog)
    assert info.value.problems[0].path == "query"
    return info.value


@pytest.mark.parametrize("blank", [None, "", "   "])
def test_blank_is_no_filter(blank: str | None) -> None:
    assert q(blank) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('status = "RUNNING"', compare("status", Op.EQ, "RUNNING")),
        ("status = 'RUNNING'", compare("status", Op.EQ, "RUNNING")),
        ("status=RUNNING", compare("status", Op.EQ, "RUNNING")),
        ("status != FAILED", compare("status", Op.NE, "FAILED")),
        ("startTime > 1700000000000", compare("startTime", Op.GT, 1700000000000)),
        ("startTime >= 5", compare("startTime", Op.GE, 5)),
        ("endTime < 9", compare("endTime", Op.LT, 9)),
        ("endTime <= 9", compare("endTime", Op.LE, 9)),
        ("version = '2'", compare("version", Op.EQ, 2)),
        (
            "status IN (RUNNING, 'FAILED',\"PAUSED\")",
            compare("status", Op.IN, "RUNNING", "FAILED", "PAUSED"),
        ),
        ("startTime BETWEEN 1 AND 5", compare("startTime", Op.BETWEEN, 1, 5)),
        ("workflowId STARTS_WITH 'abc'", compare("workflowId", Op.STARTS_WITH, "abc")),
        ("correlationId IS NULL", compare("correlationId", Op.IS_NULL)),
        ("correlationId IS NOT NULL", compare("correlationId", Op.IS_NOT_NULL)),
        ("correlationId is not null", compare("correlationId", Op.IS_NOT_NULL)),
        ("workflowType = 'order*'", compare("workflowType", Op.LIKE, "order*")),
        ("workflowType != 'order*'", compare("workflowType", Op.NOT_LIKE, "order*")),
        ('parentWorkflowId = ""', compare("parentWorkflowId", Op.IS_NULL)),
        ('parentWorkflowId != ""', compare("parentWorkflowId", Op.IS_NOT_NULL)),
        ("failedReferenceTaskNames = charge", compare("failedReferenceTaskNames", Op.EQ, "charge")),
        ("WORKFLOWTYPE = x", compare("workflowType", Op.EQ, "x")),
        ("startTime > '2024-01-01T00:00:00Z'", compare("startTime", Op.GT, 1704067200000)),
        (
            "reasonForIncompletion = 'it\\'s gone'",
            compare("reasonForIncompletion", Op.EQ, "it's gone"),
        ),
    ],
)
def test_comparisons(text: str, expected: Node) -> None:
    assert q(text) == expected


def test_text_fields_are_full_text_matches() -> None:
    assert q("input = 'hello world'") == Match("hello world", TextColumn.INPUT)
    assert q("input.customer.id = 42") == Match("customer id 42", TextColumn.INPUT)
    assert q("output STARTS_WITH rec") == Match("rec", TextColumn.OUTPUT, prefix=True)
    assert q("output = rec*") == Match("rec", TextColumn.OUTPUT, prefix=True)
    assert q("input != x") == Not(Match("x", TextColumn.INPUT))
    assert q("input IN (a, b)") == Or((Match("a", TextColumn.INPUT), Match("b", TextColumn.INPUT)))


def test_and_or_group_to_the_right_like_conductor() -> None:
    a = compare("status", Op.EQ, "RUNNING")
    b = compare("version", Op.EQ, 1)
    c = compare("version", Op.EQ, 2)
    assert q("status = RUNNING AND version = 1 OR version = 2") == And((a, Or((b, c))))
    assert q("(status = RUNNING AND version = 1) OR version = 2") == Or((And((a, b)), c))
    assert q("status = RUNNING and version = 1 and version = 2") == And((a, b, c))
    assert q("((status = RUNNING))") == a


def test_task_fields() -> None:
    node = parse_query("taskType = HTTP AND status IN (SCHEDULED, IN_PROGRESS)", TASKS)
    assert node == And(
        (
            Compare(TASKS.fields["taskType"], Op.EQ, ("HTTP",)),
            Compare(TASKS.fields["status"], Op.IN, ("SCHEDULED", "IN_PROGRESS")),
        )
    )


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("bogus = 1", "unknown workflow search field 'bogus' at position 0"),
        ("status = RUNNING AND nope > 3", "unknown workflow search field 'nope' at position 21"),
        ("status RUNNING", "expected an operator"),
        ("status =", "expected a value after '=' at position 8, found the end of the query"),
        ("status = RUNNING version = 1", "expected AND, OR or the end of the query at position 17"),
        ("(status = RUNNING", "expected ')' to close the '(' at position 0"),
        ("status = 'RUNNING", "the string starting at position 9 has no closing '"),
        ("status ! RUNNING", "'!' at position 7 must be followed by '='"),
        ("status IN RUNNING", "expected '(' to start the list"),
        ("status IN (RUNNING FAILED)", "expected ',' or ')' in the list of values"),
        ("startTime BETWEEN 1 5", "expected AND between the two values of BETWEEN"),
        ("correlationId IS MAYBE", "expected NULL or NOT NULL"),
        ("status = RUNING", "'RUNING' at position 9 is not a status"),
        ("startTime > yesterday", "startTime needs epoch milliseconds"),
        ("version = 1.5", "version needs an integer"),
        ("version STARTS_WITH 1", "STARTS_WITH at position 0 needs a text field"),
        ("input > 3", "> at position 0 is not supported on input"),
        ("input = '!!'", "has no words to search for"),
        ("failedReferenceTaskNames > a", "is not supported on failedReferenceTaskNames"),
        ("= 3", "expected a field name or '('"),
    ],
)
def test_errors_name_the_token_and_position(text: str, says: str) -> None:
    assert says in error(text).message


def test_unknown_task_field() -> None:
    assert (
        "unknown task search field 'workflowStatus'" in error("workflowStatus = X", TASKS).message
    )
