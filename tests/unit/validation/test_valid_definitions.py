"""Well-formed definitions of every task type pass without a single problem."""

from __future__ import annotations

from typing import Any

import pytest

from legato.model.validation import KNOWN_TASK_TYPES, parse_workflow_def, validate_workflow_def

from .factories import fork, join, loop, problems_of, switch, task, workflow

# One valid snippet (a task list) per DSL type; the key is the type the snippet demonstrates.
VALID: dict[str, list[dict[str, Any]]] = {
    "SIMPLE": [task("s", inputParameters={"id": "${workflow.input.id}", "n": 3})],
    "USER_DEFINED": [task("u", "USER_DEFINED")],
    "DYNAMIC": [
        task(
            "d",
            "DYNAMIC",
            dynamicTaskNameParam="taskToExecute",
            inputParameters={"taskToExecute": "${workflow.input.task}"},
        )
    ],
    "FORK_JOIN": [
        fork("f", [task("a1"), task("a2")], [task("b1")]),
        join("j", "a2", "b1"),
    ],
    "FORK_JOIN_DYNAMIC": [
        task(
            "df",
            "FORK_JOIN_DYNAMIC",
            inputParameters={"forkTaskName": "work", "forkTaskInputs": "${workflow.input.items}"},
        ),
        join("dj"),
    ],
    "JOIN": [fork("f2", [task("x")]), join("j2", "x")],
    "DECISION": [
        task(
            "dec",
            "DECISION",
            caseValueParam="k",
            inputParameters={"k": "${workflow.input.k}"},
            decisionCases={"a": [task("dec_a")]},
            defaultCase=[task("dec_default")],
        )
    ],
    "SWITCH": [
        switch("sw"),
        switch(
            "sw_js",
            evaluatorType="javascript",
            expression="$.kind == 'big' ? 'big' : 'small'",
            decisionCases={"big": [task("js_big")], "small": []},
        ),
        switch("sw_graal", evaluatorType="graaljs", expression="$.kind", decisionCases={"x": []}),
    ],
    "DO_WHILE": [
        loop("lp", task("lp_body", inputParameters={"i": "${lp.output.iteration}"})),
        loop("items_loop", loopCondition=None, items="${workflow.input.list}"),
    ],
    "SUB_WORKFLOW": [
        task("sub", "SUB_WORKFLOW", subWorkflowParam={"name": "child", "version": 2}),
        task(
            "sub_inline",
            "SUB_WORKFLOW",
            subWorkflowParam={"workflowDefinition": workflow(task("child_task"), name="child_wf")},
        ),
    ],
    "START_WORKFLOW": [
        task("start", "START_WORKFLOW", inputParameters={"startWorkflow": {"name": "other"}})
    ],
    "EVENT": [
        task("ev", "EVENT", sink="conductor"),
        task("ev2", "EVENT", sink="conductor:q"),
        task("ev3", "EVENT", sink="conductor:${workflow.input.queue}"),
    ],
    "WAIT": [
        task("wait_forever", "WAIT"),
        task("wait_d", "WAIT", inputParameters={"duration": "1d 2h 30m"}),
        task("wait_u", "WAIT", inputParameters={"until": "2030-01-01 10:00"}),
    ],
    "HUMAN": [task("hu", "HUMAN")],
    "HTTP": [
        task(
            "http", "HTTP", inputParameters={"http_request": {"uri": "http://x", "method": "POST"}}
        ),
        task("http_flat", "HTTP", inputParameters={"uri": "http://y", "method": "GET"}),
    ],
    "LAMBDA": [
        task("lam", "LAMBDA", inputParameters={"a": 1, "scriptExpression": "return {x: $.a + 1};"})
    ],
    "INLINE": [
        task(
            "inl",
            "INLINE",
            inputParameters={
                "evaluatorType": "graaljs",
                "expression": "(function(){ return $.a; })()",
            },
        ),
        task("inl_default", "INLINE", inputParameters={"expression": "1 + 2"}),
        task(
            "inl_vp", "INLINE", inputParameters={"evaluatorType": "value-param", "expression": "a"}
        ),
    ],
    "EXCLUSIVE_JOIN": [task("xj", "EXCLUSIVE_JOIN", joinOn=["sw_big"])],
    "TERMINATE": [
        task(
            "term",
            "TERMINATE",
            inputParameters={"terminationStatus": "COMPLETED", "workflowOutput": {"a": 1}},
        )
    ],
    "KAFKA_PUBLISH": [
        task("kp", "KAFKA_PUBLISH", inputParameters={"kafka_request": {"topic": "t", "value": 1}})
    ],
    "JSON_JQ_TRANSFORM": [
        task("jq", "JSON_JQ_TRANSFORM", inputParameters={"queryExpression": ".a | {b: .}", "a": 1})
    ],
    "SET_VARIABLE": [task("sv", "SET_VARIABLE", inputParameters={"x": "${workflow.input.x}"})],
    "NOOP": [task("noop", "NOOP")],
}


def test_every_dsl_type_has_a_valid_example() -> None:
    assert set(VALID) == KNOWN_TASK_TYPES
    assert "FORK" not in KNOWN_TASK_TYPES


@pytest.mark.parametrize("type_", sorted(VALID))
def test_valid_definition_of_each_type_passes(type_: str) -> None:
    tasks = VALID[type_]
    # EXCLUSIVE_JOIN names a switch branch task, so give it one to name.
    if type_ == "EXCLUSIVE_JOIN":
        tasks = [switch("sw"), *tasks]

    assert problems_of(workflow(*tasks)) == []


def test_all_types_together_pass_and_validate() -> None:
    # the loop test snippets may not nest; everything else goes into one big definition
    every = [t for snippet in VALID.values() for t in snippet]
    definition = parse_workflow_def(
        workflow(*every, outputParameters={"shipment": "${s.output}", "n": "${lp.output}"})
    )

    validate_workflow_def(definition)  # does not raise


def test_conductor_appendix_example_passes() -> None:
    data = {
        "name": "order_flow",
        "version": 1,
        "schemaVersion": 2,
        "ownerEmail": "a@b.c",
        "timeoutSeconds": 0,
        "tasks": [
            {
                "name": "fetch",
                "taskReferenceName": "fetch",
                "type": "HTTP",
                "inputParameters": {
                    "http_request": {"uri": "https://api/x/${workflow.input.id}", "method": "GET"}
                },
            },
            {
                "name": "route",
                "taskReferenceName": "route",
                "type": "SWITCH",
                "evaluatorType": "value-param",
                "expression": "kind",
                "inputParameters": {"kind": "${fetch.output.response.body.kind}"},
                "decisionCases": {
                    "big": [{"name": "approve", "taskReferenceName": "approve", "type": "HUMAN"}]
                },
                "defaultCase": [{"name": "noop", "taskReferenceName": "noop", "type": "NOOP"}],
            },
            {
                "name": "ship",
                "taskReferenceName": "ship",
                "type": "SIMPLE",
                "inputParameters": {
                    "order": "${workflow.input}",
                    "note": "id=${workflow.input.id}",
                },
            },
        ],
        "outputParameters": {"shipment": "${ship.output}"},
    }

    assert problems_of(data) == []
