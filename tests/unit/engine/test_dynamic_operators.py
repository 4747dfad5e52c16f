"""DYNAMIC, FORK_JOIN_DYNAMIC, EXCLUSIVE_JOIN, START_WORKFLOW."""

from __future__ import annotations

from typing import Any

from legato.model import TaskDef, TaskStatus, WorkflowStatus

from .harness import Harness, definition, simple


def dynamic_def() -> Any:
    return definition(
        [
            {
                "name": "dyn",
                "taskReferenceName": "dyn",
                "type": "DYNAMIC",
                "dynamicTaskNameParam": "taskToExecute",
                "inputParameters": {"taskToExecute": "${workflow.input.task}", "x": 1},
            }
        ]
    )


def test_dynamic_runs_the_named_worker_task() -> None:
    h = Harness(
        dynamic_def(),
        input={"task": "resize"},
        task_defs=[TaskDef(name="resize", retry_count=1, retry_delay_seconds=0)],
    )
    d = h.start()
    task = h.task("dyn")
    assert (task.task_type, task.task_def_name) == ("resize", "resize")
    assert task.input_data == {"taskToExecute": "resize", "x": 1}
    assert d.enqueue[0].queue_name == "resize"
    h.fail("dyn")
    retry = h.task("dyn")
    assert retry.retry_count == 1 and retry.task_type == "resize"
    h.complete("dyn", ok=True)
    assert h.status == WorkflowStatus.COMPLETED


def test_dynamic_without_a_task_definition_fails() -> None:
    h = Harness(dynamic_def(), input={"task": "unknown"})
    h.start()
    assert h.task("dyn").status == TaskStatus.FAILED_WITH_TERMINAL_ERROR
    assert "unknown" in (h.task("dyn").reason_for_incompletion or "")
    assert h.status == WorkflowStatus.FAILED


def fork_dynamic(**fork: Any) -> Any:
    return definition(
        [
            {"name": "fd", "taskReferenceName": "fd", "type": "FORK_JOIN_DYNAMIC", **fork},
            {"name": "j", "taskReferenceName": "j", "type": "JOIN"},
            simple("after", inputParameters={"all": "${j.output}"}),
        ]
    )


def test_fork_dynamic_with_task_list_and_inputs() -> None:
    d = fork_dynamic(
        dynamicForkTasksParam="tasks",
        dynamicForkTasksInputParamName="inputs",
        inputParameters={"tasks": "${workflow.input.tasks}", "inputs": "${workflow.input.inputs}"},
    )
    h = Harness(
        d,
        input={
            "tasks": [
                {"name": "img", "taskReferenceName": "img_1"},
                {"name": "img", "taskReferenceName": "img_2"},
            ],
            "inputs": {"img_1": {"n": 1}, "img_2": {"n": 2}},
        },
    )
    h.start()
    assert h.task("fd").input_data["forkedTasks"] == ["img_1", "img_2"]
    assert h.task("img_1").input_data == {"n": 1}
    assert h.task("j").input_data == {"joinOn": ["img_1", "img_2"]}
    h.complete("img_2", r=2)
    h.complete("img_1", r=1)
    assert h.task("j").output_data == {"img_1": {"r": 1}, "img_2": {"r": 2}}
    assert h.task("after").input_data == {"all": {"img_1": {"r": 1}, "img_2": {"r": 2}}}


def test_fork_dynamic_simple_form() -> None:
    d = fork_dynamic(
        inputParameters={"forkTaskName": "enrich", "forkTaskInputs": "${workflow.input.items}"}
    )
    h = Harness(d, input={"items": [{"id": "a"}, "b"]})
    h.start()
    assert h.task("_enrich_0").input_data == {"id": "a", "__index": 0}
    assert h.task("_enrich_1").input_data == {"input": "b", "__index": 1}
    h.complete("_enrich_0")
    h.fail("_enrich_1")  # ad-hoc def: retried
    assert h.task("_enrich_1").retry_count == 1
    assert h.task("_enrich_1").dynamic_task is not None
    h.complete("_enrich_1")
    assert h.task("j").status == TaskStatus.COMPLETED


def test_fork_dynamic_empty_list_joins_at_once() -> None:
    d = fork_dynamic(inputParameters={"forkTaskName": "enrich", "forkTaskInputs": []})
    h = Harness(d)
    h.start()
    assert h.task("j").status == TaskStatus.COMPLETED
    assert h.refs()[-1] == "after"


def test_fork_dynamic_duplicate_refs_fail_the_workflow() -> None:
    d = fork_dynamic(
        dynamicForkTasksParam="tasks",
        dynamicForkTasksInputParamName="inputs",
        inputParameters={
            "tasks": [
                {"name": "a", "taskReferenceName": "x"},
                {"name": "b", "taskReferenceName": "x"},
            ],
            "inputs": {},
        },
    )
    h = Harness(d)
    h.start()
    assert h.status == WorkflowStatus.FAILED
    assert "duplicate" in (h.task("fd").reason_for_incompletion or "")


def test_fork_dynamic_legacy_form() -> None:
    d = fork_dynamic(
        dynamicForkJoinTasksParam="spec",
        inputParameters={
            "spec": {"dynamicTasks": [{"taskName": "t", "referenceName": "t1", "input": {"k": 1}}]}
        },
    )
    h = Harness(d)
    h.start()
    assert h.task("t1").input_data == {"k": 1}


def test_exclusive_join_takes_the_branch_that_ran() -> None:
    d = definition(
        [
            {
                "name": "sw",
                "taskReferenceName": "sw",
                "type": "SWITCH",
                "evaluatorType": "value-param",
                "expression": "k",
                "inputParameters": {"k": "${workflow.input.k}"},
                "decisionCases": {"a": [simple("a1")], "b": [simple("b1")]},
            },
            {
                "name": "ej",
                "taskReferenceName": "ej",
                "type": "EXCLUSIVE_JOIN",
                "joinOn": ["a1", "b1"],
            },
            simple("after", inputParameters={"v": "${ej.output.v}"}),
        ]
    )
    h = Harness(d, input={"k": "b"})
    h.start()
    h.complete("b1", v="from b")
    assert h.task("ej").status == TaskStatus.COMPLETED
    assert h.task("after").input_data == {"v": "from b"}


def test_start_workflow_is_fire_and_forget() -> None:
    other = definition([simple("o")]).model_copy(update={"name": "other"})
    d = definition(
        [
            {
                "name": "sw",
                "taskReferenceName": "sw",
                "type": "START_WORKFLOW",
                "inputParameters": {
                    "startWorkflow": {"name": "other", "input": {"p": "${workflow.input.p}"}}
                },
            },
            simple("next"),
        ]
    )
    h = Harness(d, input={"p": 3}, workflow_defs=[other], correlation_id="c9")
    dec = h.start()
    [start] = dec.start_workflows
    assert start.parent_workflow_id is None
    assert start.input == {"p": 3} and start.correlation_id == "c9"
    assert h.task("sw").output_data == {"workflowId": start.workflow_id}
    assert h.refs() == ["sw", "next"]


def test_start_workflow_unknown_definition_fails_the_task() -> None:
    d = definition(
        [
            {
                "name": "sw",
                "taskReferenceName": "sw",
                "type": "START_WORKFLOW",
                "inputParameters": {"startWorkflow": {"name": "ghost"}},
            }
        ]
    )
    h = Harness(d)
    dec = h.start()
    assert dec.start_workflows == []
    assert h.task("sw").status == TaskStatus.FAILED
