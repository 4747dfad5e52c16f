"""Workflow definitions as code: the JSON the builder produces."""

from __future__ import annotations

from datetime import timedelta

import pytest

from legato.client import TaskDef, dsl
from legato.errors import ValidationError
from legato.worker import worker_task


@worker_task("dsl_charge", task_def=TaskDef(retry_count=5, retry_logic="EXPONENTIAL_BACKOFF"))
def charge(amount: float) -> dict[str, float]:
    return {"charged": amount}


@worker_task("dsl_plain")
def plain() -> None: ...


def test_a_worker_task_is_referenced_by_its_name() -> None:
    step = dsl.task(charge, input={"amount": dsl.input("total")})
    (task,) = step.to_json()
    assert task["name"] == "dsl_charge" == task["taskReferenceName"]
    assert task["type"] == "SIMPLE"
    assert task["inputParameters"] == {"amount": "${workflow.input.total}"}
    assert step.output("charged") == "${dsl_charge.output.charged}"
    assert step.output() == "${dsl_charge.output}"


def test_every_task_carries_conductors_defaults() -> None:
    (task,) = dsl.noop("n").to_json()
    assert task == {
        "name": "n",
        "taskReferenceName": "n",
        "type": "NOOP",
        "inputParameters": {},
        "optional": False,
        "startDelay": 0,
        "asyncComplete": False,
        "decisionCases": {},
        "defaultCase": [],
        "forkTasks": [],
        "joinOn": [],
        "defaultExclusiveJoinTask": [],
        "permissive": False,
        "loopOver": [],
    }


def test_workflow_json() -> None:
    flow = (
        dsl.workflow("orders", 2, description="d", owner_email="me@example.com", timeout_seconds=60)
        .then(dsl.task(plain), dsl.task(charge, "pay", optional=True, retry_count=1))
        .output(paid=dsl.ref("pay").output("charged"))
    )
    doc = flow.to_json()
    assert doc["name"] == "orders" and doc["version"] == 2
    assert doc["description"] == "d" and doc["ownerEmail"] == "me@example.com"
    assert doc["timeoutSeconds"] == 60 and doc["timeoutPolicy"] == "ALERT_ONLY"
    assert doc["schemaVersion"] == 2
    assert [t["taskReferenceName"] for t in doc["tasks"]] == ["dsl_plain", "pay"]
    assert doc["tasks"][1]["optional"] is True and doc["tasks"][1]["retryCount"] == 1
    assert doc["outputParameters"] == {"paid": "${pay.output.charged}"}


def test_switch_fork_and_loop_nest_steps() -> None:
    flow = dsl.workflow("nested").then(
        dsl.switch(
            "route",
            value=dsl.input("kind"),
            cases={"a": [dsl.task(plain, "in_a")], "b": []},
            default=[dsl.noop("other")],
        ),
        fork := dsl.fork("par", [[dsl.task(plain, "left")], [dsl.wait("right", duration=5)]]),
        dsl.do_while("loop", "$.loop['iteration'] < 3", [dsl.task(plain, "body")]),
    )
    switch, fork_task, join, loop = flow.to_json()["tasks"]
    assert switch["evaluatorType"] == "value-param" and switch["expression"] == "switchCaseValue"
    assert switch["inputParameters"] == {"switchCaseValue": "${workflow.input.kind}"}
    assert [t["taskReferenceName"] for t in switch["decisionCases"]["a"]] == ["in_a"]
    assert switch["decisionCases"]["b"] == []
    assert [t["taskReferenceName"] for t in switch["defaultCase"]] == ["other"]
    assert fork_task["type"] == "FORK_JOIN" and len(fork_task["forkTasks"]) == 2
    assert join == {**join, "type": "JOIN", "taskReferenceName": "par_join"}
    assert join["joinOn"] == ["left", "right"]
    assert fork.output("left") == "${par_join.output.left}"
    assert loop["loopCondition"] == "$.loop['iteration'] < 3"
    assert [t["taskReferenceName"] for t in loop["loopOver"]] == ["body"]
    assert [s.ref for s in flow.walk()] == [
        "route",
        "in_a",
        "other",
        "par",
        "left",
        "right",
        "loop",
        "body",
    ]


def test_switch_on_a_script() -> None:
    (task,) = dsl.switch(
        "s", script="$.x > 1 ? 'big' : 'small'", input={"x": 1}, cases={}
    ).to_json()
    assert task["evaluatorType"] == "graaljs"
    assert task["expression"] == "$.x > 1 ? 'big' : 'small'"
    with pytest.raises(ValidationError, match="exactly one of"):
        dsl.switch("s", cases={})


@pytest.mark.parametrize(
    ("duration", "text"),
    [(timedelta(hours=1), "1h"), (90061, "1d 1h 1m 1s"), ("2 minutes", "2 minutes"), (0, "0s")],
)
def test_wait_durations(duration: object, text: str) -> None:
    (task,) = dsl.wait("w", duration=duration).to_json()  # type: ignore[arg-type]
    assert task["inputParameters"] == {"duration": text}


def test_system_operators() -> None:
    def one(step: dsl.Step) -> dict[str, object]:
        (task,) = step.to_json()
        return task

    assert one(dsl.http("h", "http://x", method="POST", body={"a": 1}))["inputParameters"] == {
        "http_request": {
            "uri": "http://x",
            "method": "POST",
            "accept": "application/json",
            "contentType": "application/json",
            "body": {"a": 1},
        }
    }
    assert one(dsl.inline("i", "1 + $.a", input={"a": 1}))["inputParameters"] == {
        "a": 1,
        "evaluatorType": "graaljs",
        "expression": "1 + $.a",
    }
    assert one(dsl.jq("j", ".a"))["inputParameters"] == {"queryExpression": ".a"}
    assert one(dsl.set_variable("v", {"k": 1}))["inputParameters"] == {"k": 1}
    assert one(dsl.terminate("t", "FAILED", reason="no"))["inputParameters"] == {
        "terminationStatus": "FAILED",
        "terminationReason": "no",
    }
    assert one(dsl.sub_workflow("s", dsl.workflow("child", 4)))["subWorkflowParam"] == {
        "name": "child",
        "version": 4,
    }
    assert one(dsl.human("h"))["type"] == "HUMAN"
    assert one(dsl.event("e", "conductor:q"))["sink"] == "conductor:q"
    assert one(dsl.dynamic("d", "${workflow.input.t}"))["dynamicTaskNameParam"] == "taskToExecute"
    assert dsl.variable("k") == "${workflow.variables.k}"


def test_reference_names_must_be_unique() -> None:
    flow = dsl.workflow("dup").then(dsl.task(plain), dsl.task(plain))
    with pytest.raises(ValidationError, match="pass ref=") as caught:
        flow.to_json()
    assert caught.value.problems[0].invalid_value == "dsl_plain"


def test_task_defs_come_from_the_workers_used() -> None:
    flow = dsl.workflow("defs").then(
        dsl.task(charge), dsl.task(plain), dsl.task(charge, "again"), dsl.task("by_name")
    )
    (task_def,) = flow.task_defs()
    assert task_def["name"] == "dsl_charge"
    assert task_def["retryCount"] == 5 and task_def["retryLogic"] == "EXPONENTIAL_BACKOFF"
    assert task_def["responseTimeoutSeconds"] == 3600
    assert "pollTimeoutSeconds" not in task_def


def test_task_def_extra_fields() -> None:
    assert TaskDef(extra={"backoffJitterMs": 5}).to_json("x")["backoffJitterMs"] == 5
