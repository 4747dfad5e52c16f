"""Conditions and action parameters, resolved against a message payload (no I/O)."""

from __future__ import annotations

from typing import Any

import pytest

from legato.events.actions import (
    EVENT_NAME_KEY,
    MESSAGE_ID_KEY,
    condition_holds,
    expand_inline_json,
    start_request,
    task_update,
    termination,
    variables_update,
)
from legato.events.model import Action, EventHandler
from legato.expr.javascript import ScriptEngine, ScriptError

SCRIPTS = ScriptEngine(time_limit_s=0.5)
EVENT = "conductor:orders:shipped"
PAYLOAD: dict[str, Any] = {
    "workflowInstanceId": "wf-1",
    "order": {"id": 42, "total": 12.5},
    "status": "PAID",
    "items": [{"sku": "a"}, {"sku": "b"}],
    "inline": '{"nested": {"k": "v"}}',
}


def handler(**fields: Any) -> EventHandler:
    return EventHandler.model_validate(
        {"name": "h", "event": EVENT, "actions": [], "active": True, **fields}
    )


def action(data: dict[str, Any]) -> Action:
    return Action.model_validate(data)


# --- conditions -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("condition", "holds"),
    [
        (None, True),
        ("", True),
        ("$.status == 'PAID'", True),
        ("$.status == 'NEW'", False),
        ("$.order.total", True),  # a number > 0
        ("$.order.total - 12.5", False),  # 0 is not > 0
        ("$.status", False),  # a string is not true
        ("$.items.length > 1", True),
        ("$.inline.nested.k == 'v'", True),  # inline JSON strings are expanded for conditions
    ],
)
def test_javascript_conditions_use_conductors_truthiness(
    condition: str | None, holds: bool
) -> None:
    assert condition_holds(handler(condition=condition), PAYLOAD, SCRIPTS) is holds


@pytest.mark.parametrize(
    ("condition", "payload", "holds"),
    [("flag", {"flag": True}, True), ("flag", {"flag": False}, False), ("n", {"n": 3}, True)],
)
def test_value_param_conditions_read_a_payload_key(
    condition: str, payload: dict[str, Any], holds: bool
) -> None:
    h = handler(condition=condition, evaluatorType="value-param")
    assert condition_holds(h, payload, SCRIPTS) is holds


def test_a_failing_condition_raises_a_script_error() -> None:
    with pytest.raises(ScriptError, match="nope"):
        condition_holds(handler(condition="nope.x"), PAYLOAD, SCRIPTS)


def test_expand_inline_json_parses_json_strings_at_any_depth_and_keeps_the_rest() -> None:
    data = {"a": '{"b": "[1, 2]"}', "c": ["[3]", "{bad"], "d": "plain", "e": 5}
    assert expand_inline_json(data) == {
        "a": {"b": [1, 2]},
        "c": [[3], "{bad"],
        "d": "plain",
        "e": 5,
    }
    assert data["a"] == '{"b": "[1, 2]"}'  # not changed in place


# --- start_workflow ---------------------------------------------------------------------
def test_start_workflow_resolves_input_and_correlation_id_and_adds_the_message() -> None:
    a = action(
        {
            "action": "start_workflow",
            "start_workflow": {
                "name": "fulfil",
                "version": 2,
                "correlationId": "order-${order.id}",
                "input": {"orderId": "${order.id}", "first": "${$.items[0].sku}", "k": 1},
                "taskToDomain": {"*": "east"},
            },
        }
    )
    request = start_request(a, PAYLOAD, EVENT, "m-1")
    assert request.name == "fulfil" and request.version == 2
    assert request.correlation_id == "order-42"
    assert request.task_to_domain == {"*": "east"}
    assert request.input == {
        "orderId": 42,
        "first": "a",
        "k": 1,
        MESSAGE_ID_KEY: "m-1",
        EVENT_NAME_KEY: EVENT,
    }


def test_expand_inline_json_lets_parameters_reach_into_json_strings() -> None:
    params = {"name": "w", "input": {"k": "${inline.nested.k}"}}
    plain = action({"action": "start_workflow", "start_workflow": params})
    expanding = action(
        {"action": "start_workflow", "start_workflow": params, "expandInlineJSON": True}
    )
    assert start_request(plain, PAYLOAD, EVENT, "m").input["k"] is None
    assert start_request(expanding, PAYLOAD, EVENT, "m").input["k"] == "v"


# --- complete_task / fail_task ----------------------------------------------------------
def test_task_update_output_holds_the_resolved_ids_output_and_message() -> None:
    a = action(
        {
            "action": "complete_task",
            "complete_task": {
                "workflowId": "${workflowInstanceId}",
                "taskRefName": "wait_payment",
                "output": {"paid": "${order.total}", "note": "order ${order.id}"},
            },
        }
    )
    assert a.complete_task is not None
    update = task_update(a, a.complete_task, PAYLOAD, EVENT, "m-7")
    assert (update.workflow_id, update.task_ref_name, update.task_id) == (
        "wf-1",
        "wait_payment",
        None,
    )
    assert update.output == {
        "workflowId": "wf-1",
        "taskRefName": "wait_payment",
        "paid": 12.5,
        "note": "order 42",
        MESSAGE_ID_KEY: "m-7",
        EVENT_NAME_KEY: EVENT,
    }
    assert update.reason is None


def test_fail_task_by_id_resolves_its_reason() -> None:
    a = action(
        {
            "action": "fail_task",
            "fail_task": {"taskId": "${order.id}", "reasonForIncompletion": "status ${status}"},
        }
    )
    assert a.fail_task is not None
    update = task_update(a, a.fail_task, PAYLOAD, EVENT, "m")
    assert update.task_id == "42"  # ids are strings
    assert update.reason == "status PAID"
    assert update.output["taskId"] == 42


# --- Orkes actions ----------------------------------------------------------------------
def test_terminate_and_variables_resolve_against_the_payload() -> None:
    t = action(
        {
            "action": "terminate_workflow",
            "terminate_workflow": {
                "workflowId": "${workflowInstanceId}",
                "terminationReason": "cancelled ${order.id}",
            },
        }
    )
    assert termination(t, PAYLOAD) == ("wf-1", "cancelled 42")
    v = action(
        {
            "action": "update_workflow_variables",
            "update_workflow_variables": {
                "workflowId": "${workflowInstanceId}",
                "variables": {"last": "${status}", "skus": ["${items[1].sku}"]},
                "appendArray": True,
            },
        }
    )
    assert variables_update(v, PAYLOAD) == ("wf-1", {"last": "PAID", "skus": ["b"]}, True)


def test_an_id_resolving_to_nothing_is_none() -> None:
    t = action({"action": "terminate_workflow", "terminate_workflow": {"workflowId": "${nope}"}})
    assert termination(t, PAYLOAD) == (None, None)
