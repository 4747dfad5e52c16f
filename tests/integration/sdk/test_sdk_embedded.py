"""`legato.embedded`: the engine as a library in this process, with local workers."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from legato import errors
from legato.client import TaskDef, WaitTimeoutError, dsl
from legato.embedded import EmbeddedEngine, SyncEmbeddedEngine
from legato.worker import TaskContext, TaskError, worker_task

pytestmark = pytest.mark.timeout(30)


@worker_task("emb_upper")
def upper(text: str) -> dict[str, str]:
    return {"text": text.upper()}


@worker_task("emb_exclaim", task_def=TaskDef(retry_count=2, retry_delay_seconds=0))
async def exclaim(text: str, ctx: TaskContext) -> dict[str, str]:
    if ctx.retry_count == 0:
        raise TaskError("first attempts fail")
    return {"text": text + "!"}


FLOW = (
    dsl.workflow("emb_shout")
    .then(step := dsl.task(upper, input={"text": dsl.input("text")}))
    .then(dsl.task(exclaim, input={"text": step.output("text")}))
    .output(text=dsl.ref("emb_exclaim").output("text"))
)


async def test_workflows_run_with_local_workers() -> None:
    async with EmbeddedEngine([upper, exclaim]) as engine:
        await engine.register(FLOW)
        results = await asyncio.gather(
            *(engine.run_workflow(FLOW, {"text": f"hi {i}"}, timeout=10) for i in range(20))
        )
    assert {wf.status for wf in results} == {"COMPLETED"}
    assert sorted(wf.output["text"] for wf in results) == sorted(f"HI {i}!" for i in range(20))
    assert [t.status for t in results[0].attempts("emb_exclaim")] == ["FAILED", "COMPLETED"]


async def test_a_database_file_outlives_the_engine(tmp_path: Path) -> None:
    db = tmp_path / "kept.db"
    async with EmbeddedEngine(db=db) as engine:
        await engine.register(dsl.workflow("emb_wait").then(dsl.human("h")))
        wf_id = await engine.start_workflow("emb_wait")
        with pytest.raises(WaitTimeoutError) as caught:
            await engine.wait_for_workflow(wf_id, timeout=0.05)
        assert caught.value.workflow.status == "RUNNING"
    async with EmbeddedEngine(db=f"sqlite:///{db}") as engine:
        assert await engine.update_task_by_ref(wf_id, "h", "COMPLETED", {"ok": 1})
        wf = await engine.wait_for_workflow(wf_id, timeout=5)
    assert wf.status == "COMPLETED"


async def test_engine_errors_are_legato_errors() -> None:
    async with EmbeddedEngine() as engine:
        with pytest.raises(errors.NotFoundError):
            await engine.get_workflow("nope")
        with pytest.raises(errors.NotFoundError):
            await engine.start_workflow("no_such_workflow")
        with pytest.raises(errors.ValidationError):
            await engine.register_workflow_def({"name": "emb_bad", "tasks": []})


def test_the_sync_engine_for_scripts() -> None:
    with SyncEmbeddedEngine([upper, exclaim]) as engine:
        engine.register(FLOW)
        wf = engine.run_workflow(FLOW, {"text": "sync"}, timeout=10)
        wf_id = engine.start_workflow(FLOW, {"text": "later"})
        assert engine.wait_for_workflow(wf_id, timeout=10).output == {"text": "LATER!"}
        with pytest.raises(errors.ConflictError, match="COMPLETED"):
            engine.terminate_workflow(wf_id)
    assert wf.status == "COMPLETED" and wf.output == {"text": "SYNC!"}
    with pytest.raises(RuntimeError, match="not open"):
        engine.get_workflow(wf_id)
