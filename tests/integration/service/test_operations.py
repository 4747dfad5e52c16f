"""Operations on a real store: one commit per operation, archived runs, timers while paused."""

from __future__ import annotations

from typing import Any

import pytest

from legato.model import StartWorkflowRequest, TaskStatus, WorkflowStatus
from legato.model.operations import RerunWorkflowRequest
from legato.store.base import Changeset

from .conftest import Node


def simple(ref: str, **more: Any) -> dict[str, Any]:
    return {"name": ref, "taskReferenceName": ref, "type": "SIMPLE", **more}


def count_commits(node: Node, monkeypatch: pytest.MonkeyPatch) -> list[Changeset]:
    store = node.services.store
    seen: list[Changeset] = []
    original = store.commit

    async def commit(changes: Changeset) -> None:
        seen.append(changes)
        await original(changes)

    monkeypatch.setattr(store, "commit", commit)
    return seen


async def parent_with_failed_child(node: Node) -> tuple[str, str]:
    await node.define({"name": "svc_child", "tasks": [simple("svc_c", retryCount=0)]})
    await node.define(
        {
            "name": "svc_parent",
            "tasks": [
                {
                    "name": "sub",
                    "taskReferenceName": "sub",
                    "type": "SUB_WORKFLOW",
                    "subWorkflowParam": {"name": "svc_child"},
                },
                simple("svc_after"),
            ],
        }
    )
    parent_id = await node.start("svc_parent")
    [task] = await node.poll("svc_c")
    await node.report(task, "FAILED")
    parent = await node.get(parent_id)
    assert parent.status == WorkflowStatus.FAILED
    child_id = parent.tasks[0].sub_workflow_id
    return parent_id, child_id


async def test_retrying_a_child_revives_its_parent_in_the_same_commit(
    node: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    parent_id, child_id = await parent_with_failed_child(node)
    commits = count_commits(node, monkeypatch)
    await node.services.operations.retry(child_id)
    [changes] = commits
    assert {w.workflow.workflow_id for w in changes.workflows} == {parent_id, child_id}
    parent = await node.get(parent_id)
    assert parent.status == WorkflowStatus.RUNNING
    assert parent.tasks[0].status == TaskStatus.IN_PROGRESS
    [again] = await node.poll("svc_c")
    await node.report(again)
    [after] = await node.poll("svc_after")
    await node.report(after)
    assert (await node.get(parent_id)).status == WorkflowStatus.COMPLETED


async def test_restarting_a_parent_starts_its_child_in_the_same_commit(
    node: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    parent_id, child_id = await parent_with_failed_child(node)
    commits = count_commits(node, monkeypatch)
    await node.services.operations.restart(parent_id)
    [changes] = commits
    parent = await node.get(parent_id)
    new_child = parent.tasks[0].sub_workflow_id
    assert new_child != child_id
    assert {w.workflow.workflow_id for w in changes.workflows} == {parent_id, new_child}
    assert (await node.get(new_child)).status == WorkflowStatus.RUNNING


async def test_archived_runs_are_kept_and_removed_with_the_workflow(node: Node) -> None:
    await node.define({"name": "svc_flow", "tasks": [simple("svc_a"), simple("svc_b")]})
    wid = await node.start("svc_flow")
    ops = node.services.operations
    [a] = await node.poll("svc_a")
    await node.report(a, n=1)
    for _ in range(2):
        [b] = await node.poll("svc_b")
        await node.report(b)
        await ops.rerun(wid, RerunWorkflowRequest(re_run_from_task_id=b.task_id))
    wf = await node.get(wid)
    assert wf.archived_runs == 2
    runs = await ops.history(wf)
    assert [r["status"] for r in runs] == ["COMPLETED", "COMPLETED"]
    assert [t["referenceTaskName"] for t in runs[1]["tasks"]] == ["svc_a", "svc_b"]
    # the first task stayed in place across both reruns; b ran again each time
    assert runs[0]["tasks"][0]["taskId"] == runs[1]["tasks"][0]["taskId"] == wf.tasks[0].task_id
    assert runs[0]["tasks"][1]["taskId"] != runs[1]["tasks"][1]["taskId"]
    await ops.terminate_remove(wid, "done")
    assert await node.services.store.list_archived_runs(wid) == []


async def test_a_paused_workflow_has_no_timer_until_resumed(node: Node) -> None:
    await node.define(
        {"name": "svc_timed", "tasks": [simple("svc_t")]},
        {"name": "svc_t", "responseTimeoutSeconds": 5, "retryCount": 0},
    )
    wid = await node.start("svc_timed")
    [task] = await node.poll("svc_t")
    ops = node.services.operations
    await ops.pause(wid)
    assert (await node.get(wid)).next_wake_at is None
    await node.advance(60)
    assert (await node.get(wid)).tasks[0].status == TaskStatus.IN_PROGRESS
    await ops.resume(wid)
    wf = await node.get(wid)
    assert wf.tasks[0].status == TaskStatus.TIMED_OUT and wf.status == WorkflowStatus.TIMED_OUT
    assert task.task_id == wf.tasks[0].task_id


async def test_idempotency_reads(node: Node) -> None:
    await node.define({"name": "svc_idem", "tasks": [simple("svc_i")]})
    ops = node.services.operations
    request = StartWorkflowRequest(
        name="svc_idem", idempotency_key="k", idempotency_strategy="RETURN_EXISTING"
    )
    first = await ops.start(request)
    assert await ops.start(request) == first
    found = await node.services.store.find_workflows_by_idempotency_key("svc_idem", "k")
    assert found == [(first, WorkflowStatus.RUNNING)]
    assert await node.services.store.find_workflows_by_idempotency_key("other", "k") == []
