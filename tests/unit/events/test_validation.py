"""Event handler validation: every problem, each naming its field."""

from __future__ import annotations

from typing import Any

import pytest

from legato.errors import ValidationError
from legato.events.validation import handler_problems, parse_event_handler


def handler(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "on_shipped",
        "event": "conductor:orders:shipped",
        "active": True,
        "actions": [{"action": "start_workflow", "start_workflow": {"name": "notify"}}],
    }
    body.update(fields)
    return body


def problems(data: dict[str, Any]) -> list[tuple[str, str]]:
    return [(p.path, p.message) for p in handler_problems(parse_event_handler(data))]


def test_a_complete_handler_has_no_problem_and_keeps_conductors_json() -> None:
    data = handler(
        condition="$.total > 10",
        evaluatorType="javascript",
        actions=[
            {"action": "start_workflow", "start_workflow": {"name": "n", "input": {"a": 1}}},
            {"action": "complete_task", "complete_task": {"taskId": "${taskId}"}},
            {
                "action": "fail_task",
                "fail_task": {"workflowId": "${wf}", "taskRefName": "r"},
                "expandInlineJSON": True,
            },
            {"action": "terminate_workflow", "terminate_workflow": {"workflowId": "${wf}"}},
            {
                "action": "update_workflow_variables",
                "update_workflow_variables": {"workflowId": "${wf}", "variables": {"x": 1}},
            },
        ],
        description="kept as given",
    )
    parsed = parse_event_handler(data)
    assert handler_problems(parsed) == []
    out = parsed.to_json()
    assert out["description"] == "kept as given"  # unknown fields are kept
    assert [a["action"] for a in out["actions"]] == [a["action"] for a in data["actions"]]
    assert [a["expandInlineJSON"] for a in out["actions"]] == [False, False, True, False, False]
    assert out["actions"][2]["fail_task"] == {
        "workflowId": "${wf}",
        "taskRefName": "r",
        "output": {},
    }


def test_active_defaults_to_false_like_conductor() -> None:
    data = handler()
    del data["active"]
    assert parse_event_handler(data).active is False


@pytest.mark.parametrize(
    ("overrides", "path", "words"),
    [
        ({"name": ""}, "name", "Missing event handler name"),
        ({"event": " "}, "event", "Missing event location"),
        ({"actions": []}, "actions", "No actions specified"),
        ({"event": "sqs:orders"}, "event", "only the built-in conductor queue is available"),
        ({"event": "conductor:orders"}, "event", "never fires"),
        ({"actions": [{"action": "start_agent"}]}, "actions[0].action", "unknown action"),
        ({"actions": [{"action": "start_workflow"}]}, "actions[0].start_workflow", "parameters"),
        (
            {"actions": [{"action": "start_workflow", "start_workflow": {"input": {}}}]},
            "actions[0].start_workflow.name",
            "workflow name",
        ),
        (
            {"actions": [{"action": "complete_task", "complete_task": {"workflowId": "w"}}]},
            "actions[0].complete_task",
            "taskId, or a workflowId and a taskRefName",
        ),
        ({"actions": [{"action": "fail_task"}]}, "actions[0].fail_task", "parameters"),
        (
            {"actions": [{"action": "terminate_workflow", "terminate_workflow": {}}]},
            "actions[0].terminate_workflow.workflowId",
            "needs a workflowId",
        ),
        (
            {"actions": [{"action": "update_workflow_variables"}]},
            "actions[0].update_workflow_variables",
            "parameters",
        ),
        ({"condition": "$.total >"}, "condition", "not valid JavaScript"),
        ({"evaluatorType": "python", "condition": "x"}, "evaluatorType", "must be one of"),
    ],
)
def test_each_rule_names_its_field(overrides: dict[str, Any], path: str, words: str) -> None:
    found = problems(handler(**overrides))
    assert [p for p, _ in found] == [path], found
    assert words in found[0][1]


def test_a_value_param_condition_is_not_parsed_as_javascript() -> None:
    assert problems(handler(condition="flag >", evaluatorType="value-param")) == []


def test_every_problem_is_reported() -> None:
    found = problems(handler(name="", event="kafka:t", actions=[{"action": "nope"}]))
    assert [p for p, _ in found] == ["name", "event", "actions[0].action"]


@pytest.mark.parametrize(
    ("data", "path"),
    [
        (handler(actions="start"), "actions"),
        (handler(active="maybe"), "active"),
        (handler(actions=[{"start_workflow": {}}]), "actions[0].action"),
        (handler(actions=[{"action": "start_workflow", "start_workflow": []}]), None),
    ],
)
def test_malformed_json_is_a_validation_error_with_a_path(
    data: dict[str, Any], path: str | None
) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_event_handler(data)
    paths = [p.path for p in caught.value.problems]
    if path is not None:
        assert paths == [path]
    else:
        assert paths and paths[0].startswith("actions[0].start_workflow")


def test_a_body_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(ValidationError, match="JSON object"):
        parse_event_handler(["x"])
