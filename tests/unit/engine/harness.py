"""A tiny driver for the pure decider: no database, no server, a fake clock."""

from __future__ import annotations

import itertools
from typing import Any

from legato.engine.context import EngineContext
from legato.engine.decider import decide
from legato.engine.decision import Decision
from legato.engine.facts import ChildFinished, Fact, Start, TaskUpdate, Terminate, Tick
from legato.expr.javascript import ScriptEngine
from legato.model import Task, TaskDef, TaskStatus, Workflow, WorkflowDef, WorkflowStatus

T0 = 1_700_000_000_000

_SCRIPTS = ScriptEngine(time_limit_s=0.5)


def definition(tasks: list[dict[str, Any]], **fields: Any) -> WorkflowDef:
    return WorkflowDef.model_validate({"name": "wf", "version": 1, "tasks": tasks, **fields})


def simple(ref: str, name: str | None = None, **fields: Any) -> dict[str, Any]:
    return {"name": name or ref, "taskReferenceName": ref, "type": "SIMPLE", **fields}


class Harness:
    def __init__(
        self,
        wf_def: WorkflowDef,
        *,
        input: dict[str, Any] | None = None,
        task_defs: list[TaskDef] | None = None,
        workflow_defs: list[WorkflowDef] | None = None,
        **workflow_fields: Any,
    ) -> None:
        self.now = T0
        counter = itertools.count(1)
        self.task_defs = {d.name: d for d in task_defs or []}
        self.workflow_defs = {(d.name, d.version): d for d in workflow_defs or []}
        self.ctx = EngineContext(
            task_def=self.task_defs.get,
            workflow_def=self._workflow_def,
            scripts=_SCRIPTS,
            new_id=lambda: f"id{next(counter)}",
            random=lambda: 0.0,
        )
        self.wf = Workflow(
            workflow_id="wf1",
            workflow_name=wf_def.name,
            workflow_version=wf_def.version,
            status=WorkflowStatus.RUNNING,
            definition=wf_def,
            input=input or {},
            create_time=self.now,
            update_time=self.now,
            **workflow_fields,
        )
        self.decisions: list[Decision] = []

    def _workflow_def(self, name: str, version: int | None) -> WorkflowDef | None:
        if version is None:
            versions = [v for (n, v) in self.workflow_defs if n == name]
            return self.workflow_defs[(name, max(versions))] if versions else None
        return self.workflow_defs.get((name, version))

    # ------------------------------------------------------------------ driving
    def apply(self, fact: Fact) -> Decision:
        d = decide(self.wf, fact, self.now, self.ctx)
        self.decisions.append(d)
        return d

    def start(self) -> Decision:
        return self.apply(Start())

    def advance(self, seconds: float) -> Decision:
        self.now += int(seconds * 1000)
        return self.apply(Tick())

    def task(self, ref: str) -> Task:
        """The latest task with this reference name (exactly, suffix included)."""
        for t in reversed(self.wf.tasks):
            if t.reference_task_name == ref:
                return t
        raise AssertionError(
            f"no task {ref}; have {[t.reference_task_name for t in self.wf.tasks]}"
        )

    def poll(self, ref: str, worker: str = "w1") -> Task:
        t = self.task(ref)
        assert t.status == TaskStatus.SCHEDULED, t.status
        t.status = TaskStatus.IN_PROGRESS
        t.poll_count += 1
        t.start_time = t.start_time or self.now
        t.update_time = self.now
        t.worker_id = worker
        return t

    def report(
        self,
        ref: str,
        status: str = "COMPLETED",
        output: dict[str, Any] | None = None,
        **fields: Any,
    ) -> Decision:
        t = self.task(ref)
        if t.status == TaskStatus.SCHEDULED:
            self.poll(ref)
        return self.apply(
            TaskUpdate(task_id=t.task_id, status=TaskStatus(status), output_data=output, **fields)
        )

    def complete(self, ref: str, **output: Any) -> Decision:
        return self.report(ref, "COMPLETED", output)

    def fail(self, ref: str, reason: str = "boom", status: str = "FAILED") -> Decision:
        return self.report(ref, status, {}, reason_for_incompletion=reason)

    def child_finished(self, ref: str, status: WorkflowStatus, output: dict[str, Any]) -> Decision:
        t = self.task(ref)
        assert t.sub_workflow_id
        return self.apply(ChildFinished(t.task_id, t.sub_workflow_id, status, output))

    def terminate(self, reason: str = "stop") -> Decision:
        return self.apply(Terminate(reason))

    # ------------------------------------------------------------------ looking
    @property
    def status(self) -> WorkflowStatus:
        return self.wf.status

    def refs(self) -> list[str]:
        return [t.reference_task_name for t in self.wf.tasks]

    def statuses(self) -> dict[str, str]:
        return {t.reference_task_name: t.status.value for t in self.wf.tasks if not t.retried}
