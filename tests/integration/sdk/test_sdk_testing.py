"""`legato.testing`: whole workflows in process, with a fake clock that skips every wait."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest

from legato.client import TaskDef, dsl
from legato.errors import NotFoundError
from legato.testing import NO_ANSWER, SyncWorkflowEnvironment, WorkflowEnvironment
from legato.worker import InProgress, TaskContext, TaskError, worker_task


@worker_task("env_double")
def double(n: int) -> dict[str, int]:
    return {"n": n * 2}


@worker_task(
    "env_flaky",
    task_def=TaskDef(retry_count=5, retry_logic="EXPONENTIAL_BACKOFF", retry_delay_seconds=30),
)
async def flaky(ctx: TaskContext) -> dict[str, int]:
    ctx.log(f"attempt {ctx.retry_count}")
    if ctx.retry_count < 3:
        raise TaskError("not yet")
    return {"attempts": ctx.retry_count + 1}


async def test_a_long_wait_and_exponential_retries_take_no_time() -> None:
    flow = (
        dsl.workflow("env_waits")
        .then(dsl.wait("hold", duration=timedelta(hours=1)), dsl.task(flaky))
        .output(attempts=dsl.ref("env_flaky").output("attempts"))
    )
    started = time.monotonic()
    async with WorkflowEnvironment([flaky]) as env:
        await env.register(flow)
        t0 = env.clock.now_ms()
        wf = await env.run_workflow(flow)
        runs = env.executions_of("env_flaky")
        logs = await env.get_task_logs(wf.task("env_flaky").task_id)
    assert time.monotonic() - started < 2
    assert wf.status == "COMPLETED" and wf.output == {"attempts": 4}
    # the hour, then 30 s, 60 s and 120 s between attempts: exactly, by the fake clock
    assert [(r.at_ms - t0) // 1000 for r in runs] == [3600, 3630, 3690, 3810]
    assert [r.status for r in runs] == ["FAILED", "FAILED", "FAILED", "COMPLETED"]
    assert [e["log"] for e in logs] == ["attempt 3"]


async def test_mocks_by_reference_name_per_execution() -> None:
    flow = dsl.workflow("env_mocks").then(
        dsl.task("env_external", "fetch", retry_count=3),
        dsl.task(double, input={"n": dsl.ref("fetch").output("value")}),
    )
    mocks = {"fetch": [TaskError("down", retry_after=5), {"value": 21}]}
    async with WorkflowEnvironment([double], mocks=mocks) as env:
        await env.register(flow)
        wf = await env.run_workflow(flow)
    assert wf.status == "COMPLETED"
    assert [t.status for t in wf.attempts("fetch")] == ["FAILED", "COMPLETED"]
    assert wf.task("env_double").output_data == {"n": 42}


async def test_a_mock_wins_over_a_worker_and_can_be_a_function() -> None:
    flow = dsl.workflow("env_mock_fn").then(dsl.task(double, input={"n": 5}))
    async with WorkflowEnvironment([double], mocks={"env_double": lambda i: {"n": -i["n"]}}) as env:
        await env.register(flow)
        wf = await env.run_workflow(flow)
    assert wf.task("env_double").output_data == {"n": -5}


async def test_no_answer_lets_the_response_timeout_fire() -> None:
    flow = dsl.workflow("env_timeout").then(dsl.task("env_silent"))
    task_def = TaskDef(retry_count=1, retry_delay_seconds=0, response_timeout_seconds=600)
    async with WorkflowEnvironment(mocks={"env_silent": [NO_ANSWER, {"ok": True}]}) as env:
        await env.register_task_defs([task_def.to_json("env_silent")])
        await env.register(flow)
        t0 = env.clock.now_ms()
        wf = await env.run_workflow(flow)
        runs = env.executions_of("env_silent")
    assert wf.status == "COMPLETED"
    assert [t.status for t in wf.tasks] == ["TIMED_OUT", "COMPLETED"]
    assert (runs[1].at_ms - t0) // 1000 == 600


async def test_a_human_task_leaves_the_workflow_idle_until_answered() -> None:
    flow = (
        dsl.workflow("env_human")
        .then(dsl.human("approve"), dsl.task(double, input={"n": dsl.ref("approve").output("n")}))
        .output(n=dsl.ref("env_double").output("n"))
    )
    async with WorkflowEnvironment([double]) as env:
        await env.register(flow)
        wf = await env.run_workflow(flow)
        assert wf.status == "RUNNING" and wf.task("approve").status == "IN_PROGRESS"
        await env.complete_task(wf.workflow_id, "approve", {"n": 4})
        wf = await env.drive(wf.workflow_id)
        with pytest.raises(NotFoundError, match="no pending task 'approve'"):
            await env.complete_task(wf.workflow_id, "approve")
    assert wf.status == "COMPLETED" and wf.output == {"n": 8}


async def test_switch_loop_fork_and_sub_workflow() -> None:
    child = dsl.workflow("env_child").then(
        dsl.task(double, "child_double", input={"n": dsl.input("n")})
    )
    flow = (
        dsl.workflow("env_parent")
        .then(
            dsl.switch(
                "size",
                value=dsl.input("size"),
                cases={"big": [dsl.task(double, "big", input={"n": 100})]},
                default=[dsl.task(double, "small", input={"n": 1})],
            ),
            dsl.do_while(
                "loop", "$.loop['iteration'] < 3", [dsl.task("env_step", "step")], input={}
            ),
            dsl.fork(
                "par",
                [[dsl.wait("w1", duration=60)], [dsl.sub_workflow("sub", child, input={"n": 7})]],
            ),
        )
        .output(child=dsl.ref("sub").output("n"))
    )
    child = child.output(n=dsl.ref("child_double").output("n"))
    async with WorkflowEnvironment([double], mocks={"step": [{"i": 1}, {"i": 2}, {"i": 3}]}) as env:
        await env.register(child)
        await env.register(flow)
        wf = await env.run_workflow(flow, {"size": "big"})
    assert wf.status == "COMPLETED", wf.reason_for_incompletion
    assert wf.find_task("small") is None and wf.task("big").output_data == {"n": 200}
    assert [t.output_data for t in wf.tasks if t.reference_task_name.startswith("step")] == [
        {"i": 1},
        {"i": 2},
        {"i": 3},
    ]
    assert wf.output == {"child": 14}


async def test_in_progress_callbacks_skip_ahead() -> None:
    mocks: dict[str, Any] = {"env_later": [InProgress(timedelta(minutes=10)), {"done": 1}]}
    async with WorkflowEnvironment(mocks=mocks) as env:
        flow = dsl.workflow("env_later").then(dsl.task("env_later"))
        await env.register(flow)
        t0 = env.clock.now_ms()
        wf = await env.run_workflow(flow)
        runs = env.executions_of("env_later")
    assert wf.status == "COMPLETED"
    assert [(r.status, (r.at_ms - t0) // 1000) for r in runs] == [
        ("IN_PROGRESS", 0),
        ("COMPLETED", 600),
    ]


async def test_a_task_nobody_answers_leaves_the_workflow_idle() -> None:
    async with WorkflowEnvironment() as env:
        flow = dsl.workflow("env_nobody").then(dsl.task("env_unknown"))
        await env.register(flow)
        wf = await env.run_workflow(flow)
        assert wf.status == "RUNNING" and wf.task("env_unknown").status == "SCHEDULED"
        await env.advance(3600)
        await env.terminate_workflow(wf.workflow_id, "done looking")
        assert (await env.get_workflow(wf.workflow_id)).status == "TERMINATED"


def test_the_sync_environment() -> None:
    flow = dsl.workflow("env_sync").then(
        dsl.wait("nap", duration="2 days"), dsl.task(double, input={"n": 2})
    )
    with SyncWorkflowEnvironment([double]) as env:
        env.register(flow)
        wf = env.run_workflow(flow)
        assert env.executions[0].task_type == "env_double"
    assert wf.status == "COMPLETED" and wf.task("env_double").output_data == {"n": 4}
