"""Sort and paging parameters, and Conductor's WorkflowSummary / TaskSummary shapes."""

from __future__ import annotations

import pytest

from legato.errors import ValidationError
from legato.model import Task, TaskStatus, Workflow, WorkflowDef, WorkflowStatus, WorkflowTask
from legato.search import TASKS, WORKFLOWS, SortKey, parse_sort, workflow_request
from legato.search.documents import classifier_of, flatten
from legato.search.nodes import Compare, HasTask, Op
from legato.search.request import workflows_by_tasks_request
from legato.search.summary import iso_time, task_summary, workflow_summary

F = WORKFLOWS.fields


def test_sort() -> None:
    assert parse_sort("startTime:DESC|workflowId", WORKFLOWS) == (
        SortKey(F["startTime"], descending=True),
        SortKey(F["workflowId"]),
    )
    assert parse_sort(["status:asc", "endTime:desc"], WORKFLOWS) == (
        SortKey(F["status"]),
        SortKey(F["endTime"], descending=True),
    )
    assert parse_sort(None, TASKS) == ()
    for bad, says in [
        ("nope:ASC", "unknown workflow search field 'nope'"),
        ("startTime:UP", "must be ASC or DESC"),
        ("input:ASC", "cannot be sorted on"),
    ]:
        with pytest.raises(ValidationError, match=says):
            parse_sort(bad, WORKFLOWS)


def test_paging_limits() -> None:
    assert workflow_request(size=5000).size == 5000
    assert workflow_request(size=0).size == 0
    with pytest.raises(ValidationError, match="Cannot return more than 5000 workflows"):
        workflow_request(size=5001)
    with pytest.raises(ValidationError, match="start must not be negative"):
        workflow_request(start=-1)


def test_request_defaults_and_extras() -> None:
    request = workflow_request(classifier="agent, workflow", top_level_only=True)
    assert request.sort == (SortKey(F["startTime"], descending=True),)
    assert request.where is not None
    items = request.where.items  # type: ignore[union-attr]
    assert Compare(F["classifier"], Op.IN, ("agent", "workflow")) in items
    assert Compare(F["parentWorkflowId"], Op.IS_NULL) in items
    by_tasks = workflows_by_tasks_request(query="taskType = HTTP")
    assert by_tasks.where == HasTask(Compare(TASKS.fields["taskType"], Op.EQ, ("HTTP",)))


def test_iso_time() -> None:
    assert iso_time(0) == "1970-01-01T00:00:00.000Z"
    assert iso_time(1_700_000_000_123) == "2023-11-14T22:13:20.123Z"


def test_flatten_and_classifier() -> None:
    assert flatten({"customer": {"id": 42, "tags": ["a", "b"]}, "ok": True, "x": None}) == (
        "customer.id 42 customer.tags a customer.tags b ok true x null"
    )
    assert len(flatten({"k": "v" * 100}, limit=20)) == 20
    definition = WorkflowDef(name="w", tasks=[WorkflowTask(name="t", task_reference_name="t")])
    assert classifier_of(definition) == "workflow"
    assert classifier_of(definition.model_copy(update={"metadata": {"agent_sdk": "1"}})) == "agent"
    tagged = definition.model_copy(update={"metadata": {"classifier": "tool"}})
    assert classifier_of(tagged) == "tool"


def _workflow(**overrides: object) -> Workflow:
    definition = WorkflowDef(name="order", tasks=[WorkflowTask(name="t", task_reference_name="t")])
    fields: dict[str, object] = {
        "workflow_id": "wf-1",
        "workflow_name": "order",
        "workflow_version": 2,
        "status": WorkflowStatus.RUNNING,
        "definition": definition,
        "input": {"orderId": 7, "who": {"name": "Zoë"}},
        "create_time": 1_700_000_000_000,
        "update_time": 1_700_000_000_500,
    }
    fields.update(overrides)
    return Workflow(**fields)  # type: ignore[arg-type]


def test_workflow_summary_of_a_running_workflow() -> None:
    assert workflow_summary(_workflow()) == {
        "workflowType": "order",
        "version": 2,
        "workflowId": "wf-1",
        "startTime": "2023-11-14T22:13:20.000Z",
        "updateTime": "2023-11-14T22:13:20.500Z",
        "status": "RUNNING",
        "input": "{orderId=7, who={name=Zoë}}",
        "output": "{}",
        "executionTime": 0,
        "failedReferenceTaskNames": "",
        "priority": 0,
        "failedTaskNames": [],
        "taskToDomain": {},
        "parentWorkflowId": "",
        "classifier": "workflow",
        "inputSize": 27,
        "outputSize": 2,
    }


def test_workflow_summary_of_an_ended_workflow() -> None:
    wf = _workflow(
        status=WorkflowStatus.FAILED,
        end_time=1_700_000_002_000,
        correlation_id="c-1",
        reason_for_incompletion="boom",
        output={"a": [1, 2.5]},
        failed_reference_task_names=["x", "y"],
        failed_task_names=["x"],
        parent_workflow_id="parent",
        idempotency_key="k",
    )
    summary = workflow_summary(wf)
    assert summary["endTime"] == "2023-11-14T22:13:22.000Z"
    assert summary["executionTime"] == 2000
    assert summary["correlationId"] == "c-1"
    assert summary["reasonForIncompletion"] == "boom"
    assert summary["output"] == "{a=[1, 2.5]}"
    assert summary["failedReferenceTaskNames"] == "x,y"
    assert summary["failedTaskNames"] == ["x"]
    assert summary["parentWorkflowId"] == "parent"
    assert summary["idempotencyKey"] == "k"
    assert workflow_summary(wf, json_io=True)["output"] == '{"a":[1,2.5]}'


def test_task_summary() -> None:
    task = Task(
        task_id="t-1",
        workflow_instance_id="wf-1",
        task_type="charge",
        task_def_name="charge",
        reference_task_name="charge",
        status=TaskStatus.COMPLETED,
        seq=1,
        input_data={"n": 1},
        output_data={"ok": True},
        workflow_type="order",
        scheduled_time=1_700_000_000_000,
        start_time=1_700_000_000_100,
        end_time=1_700_000_000_600,
        update_time=1_700_000_000_600,
        workflow_priority=3,
    )
    assert task_summary(task) == {
        "workflowId": "wf-1",
        "workflowType": "order",
        "scheduledTime": "2023-11-14T22:13:20.000Z",
        "startTime": "2023-11-14T22:13:20.100Z",
        "updateTime": "2023-11-14T22:13:20.600Z",
        "endTime": "2023-11-14T22:13:20.600Z",
        "status": "COMPLETED",
        "executionTime": 500,
        "queueWaitTime": 100,
        "taskDefName": "charge",
        "taskType": "charge",
        "input": "{n=1}",
        "output": "{ok=true}",
        "taskId": "t-1",
        "workflowPriority": 3,
    }
