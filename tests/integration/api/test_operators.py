"""DYNAMIC, FORK_JOIN_DYNAMIC, EXCLUSIVE_JOIN and START_WORKFLOW through the HTTP API."""

from __future__ import annotations

import httpx
from api_helpers import (
    complete,
    get_workflow,
    poll,
    run,
    simple,
    task_by_ref,
    task_def,
    wait_for,
    workflow_def,
)


async def test_dynamic_task_runs_the_named_worker(client: httpx.AsyncClient) -> None:
    definition = workflow_def(
        "op_dynamic",
        [
            {
                "name": "pick",
                "taskReferenceName": "pick",
                "type": "DYNAMIC",
                "dynamicTaskNameParam": "taskToExecute",
                "inputParameters": {"taskToExecute": "${workflow.input.task}"},
            }
        ],
    )
    wid = await run(client, definition, {"task": "op_resize"}, [task_def("op_resize")])
    task = await poll(client, "op_resize")
    assert task is not None and task["referenceTaskName"] == "pick"
    await complete(client, task, {"size": 3})
    wf = await wait_for(client, wid)
    assert wf["status"] == "COMPLETED" and wf["output"] == {"size": 3}


async def test_dynamic_fork_runs_one_branch_per_input(client: httpx.AsyncClient) -> None:
    definition = workflow_def(
        "op_fork_dynamic",
        [
            {
                "name": "fan",
                "taskReferenceName": "fan",
                "type": "FORK_JOIN_DYNAMIC",
                "inputParameters": {
                    "forkTaskName": "op_enrich",
                    "forkTaskInputs": "${workflow.input.items}",
                },
            },
            {"name": "gather", "taskReferenceName": "gather", "type": "JOIN"},
        ],
        outputParameters={"all": "${gather.output}"},
    )
    wid = await run(client, definition, {"items": [{"id": 1}, {"id": 2}, {"id": 3}]})
    for _ in range(3):
        task = await poll(client, "op_enrich")
        assert task is not None
        await complete(client, task, {"seen": task["inputData"]["id"]})
    wf = await wait_for(client, wid)
    assert wf["status"] == "COMPLETED"
    assert wf["output"]["all"] == {f"_op_enrich_{i}": {"seen": i + 1} for i in range(3)}
    fan = task_by_ref(wf, "fan")
    assert fan["taskType"] == "FORK" and fan["inputData"]["forkedTasks"] == [
        "_op_enrich_0",
        "_op_enrich_1",
        "_op_enrich_2",
    ]
    assert task_by_ref(wf, "_op_enrich_1")["workflowTask"]["name"] == "op_enrich"


async def test_exclusive_join_after_a_switch(client: httpx.AsyncClient) -> None:
    definition = workflow_def(
        "op_exclusive",
        [
            {
                "name": "route",
                "taskReferenceName": "route",
                "type": "SWITCH",
                "evaluatorType": "value-param",
                "expression": "kind",
                "inputParameters": {"kind": "${workflow.input.kind}"},
                "decisionCases": {
                    "a": [simple("op_left", "left")],
                    "b": [simple("op_right", "right")],
                },
            },
            {
                "name": "merge",
                "taskReferenceName": "merge",
                "type": "EXCLUSIVE_JOIN",
                "joinOn": ["left", "right"],
            },
        ],
        outputParameters={"merged": "${merge.output}"},
    )
    wid = await run(client, definition, {"kind": "b"})
    task = await poll(client, "op_right")
    assert task is not None
    await complete(client, task, {"side": "right"})
    wf = await wait_for(client, wid)
    assert wf["output"] == {"merged": {"side": "right"}}


async def test_start_workflow_starts_an_independent_execution(client: httpx.AsyncClient) -> None:
    child = workflow_def("op_started", [simple("op_started_step")])
    r = await client.post("/api/metadata/workflow", json=child)
    assert r.status_code == 200
    definition = workflow_def(
        "op_starter",
        [
            {
                "name": "kick",
                "taskReferenceName": "kick",
                "type": "START_WORKFLOW",
                "inputParameters": {
                    "startWorkflow": {"name": "op_started", "input": {"n": "${workflow.input.n}"}}
                },
            }
        ],
    )
    wid = await run(client, definition, {"n": 5})
    wf = await wait_for(client, wid)
    assert wf["status"] == "COMPLETED"
    started_id = task_by_ref(wf, "kick")["outputData"]["workflowId"]
    started = await get_workflow(client, started_id)
    assert started["status"] == "RUNNING" and started["input"] == {"n": 5}
    assert "parentWorkflowId" not in started
