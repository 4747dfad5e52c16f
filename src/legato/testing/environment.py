"""`WorkflowEnvironment`: run whole workflows in a pytest test, in process, on the real engine,
with a fake clock that jumps over every wait.

    async with WorkflowEnvironment([validate, charge], mocks={"ship": {"tracking": "T1"}}) as env:
        await env.register(flow)
        wf = await env.run_workflow(flow, {"orderId": "A-1"})
        assert wf.status == "COMPLETED"

`run_workflow` starts a workflow and drives it: it executes every task a local worker or a
mock can answer, fires due timers, and when nothing can happen now it moves the clock to
the next moment something can (a WAIT's end, a retry's delay, a timeout). It returns when
the workflow has ended or is idle (waiting for something outside: a HUMAN task, a task
nobody answers). No server, no sockets, no real waiting.
"""

from __future__ import annotations

import collections
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from legato.client.models import Workflow
from legato.embedded.engine import EmbeddedEngine
from legato.embedded.transport import LocalTaskTransport
from legato.errors import NotFoundError
from legato.model import Task as EngineTask
from legato.model import TaskStatus, base_ref
from legato.model import Workflow as EngineWorkflow
from legato.runners.timers import TimerLoop
from legato.service import FakeClock
from legato.testing.mocks import NO_ANSWER, Mocks, mock_worker
from legato.worker.context import TaskContext
from legato.worker.execute import execute, hand_back
from legato.worker.task import WorkerTask

__all__ = ["Execution", "WorkflowEnvironment"]

WORKER_ID = "legato-testing"
DEFAULT_START = datetime.fromisoformat("2030-01-01T00:00:00+00:00")


@dataclass(frozen=True, slots=True)
class Execution:
    """One task execution in the environment: what ran, on what input, with what result."""

    workflow_id: str
    ref: str
    task_type: str
    retry_count: int
    input: dict[str, Any]
    status: str  # the reported status; "NO_ANSWER" when a mock never answered
    output: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None
    at_ms: int = 0


class WorkflowEnvironment:
    def __init__(
        self,
        workers: Sequence[WorkerTask[..., Any]] = (),
        *,
        mocks: Mapping[str, Any] | None = None,
        start_time: datetime = DEFAULT_START,
        db: str | Path | None = None,
        max_steps: int = 10_000,
    ) -> None:
        """`workers`: worker tasks run for real (in process). `mocks`: outcomes by reference
        name or task type (see `legato.testing.mocks`); a mock wins over a worker.
        `start_time`: the fake clock's start. `db`: a SQLite file (default: temporary)."""
        self.clock = FakeClock(int(start_time.timestamp() * 1000))
        self.engine = EmbeddedEngine(db=db, clock=self.clock, background=False)
        self.services = self.engine.services
        self.workers = {w.name: w for w in workers}
        self.mocks = Mocks(mocks)
        self.max_steps = max_steps
        self.executions: list[Execution] = []
        self._timers = TimerLoop(self.services, 10)
        self._transport = LocalTaskTransport(self.services)
        self._executions_per_ref: collections.Counter[tuple[str, str]] = collections.Counter()
        self._roots: list[str] = []

    # ------------------------------------------------------------------ lifecycle
    async def __aenter__(self) -> WorkflowEnvironment:
        await self.engine.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.engine.close()

    @property
    def now(self) -> datetime:
        """The fake clock's time."""
        return datetime.fromtimestamp(self.clock.now_ms() / 1000).astimezone()

    # ------------------------------------------------------------------ definitions
    async def register(self, definition: Any, *, overwrite: bool = True) -> None:
        """A workflow definition (mapping or builder) and the task definitions it declares."""
        await self.engine.register(definition, overwrite=overwrite)

    async def register_task_defs(self, task_defs: Sequence[Any]) -> None:
        await self.engine.register_task_defs(task_defs)

    # ------------------------------------------------------------------ workflows
    async def start_workflow(
        self, workflow: Any, input: Mapping[str, Any] | None = None, **options: Any
    ) -> str:
        """Start a workflow without driving it (see `drive`)."""
        workflow_id = await self.engine.start_workflow(workflow, input, **options)
        self._roots.append(workflow_id)
        return workflow_id

    async def run_workflow(
        self, workflow: Any, input: Mapping[str, Any] | None = None, **options: Any
    ) -> Workflow:
        """Start a workflow and drive it until it ends or is idle."""
        return await self.drive(await self.start_workflow(workflow, input, **options))

    async def get_workflow(self, workflow_id: str) -> Workflow:
        return await self.engine.get_workflow(workflow_id)

    async def drive(self, workflow_id: str) -> Workflow:
        """Execute what can be executed, fire due timers, move the clock to the next moment
        anything can happen; until the workflow has ended or nothing more can happen."""
        if workflow_id not in self._roots:
            self._roots.append(workflow_id)
        for _ in range(self.max_steps):
            if await self._step():
                continue
            wf = await self.services.workflows.get(workflow_id)
            if wf.status.terminal:
                break
            moment = await self._next_moment()
            if moment is None:
                break  # idle: waiting for something from outside
            self.clock.current = max(self.clock.current, moment)
        else:
            raise RuntimeError(
                f"workflow {workflow_id} did not settle in {self.max_steps} steps "
                "(a loop that never ends?)"
            )
        return await self.engine.get_workflow(workflow_id)

    async def advance(self, seconds: float) -> None:
        """Move the clock forward and fire the timers due by then (no tasks are executed)."""
        self.clock.advance(seconds)
        while await self._timers.run_once():
            pass

    async def complete_task(
        self,
        workflow_id: str,
        task_ref: str,
        output: Mapping[str, Any] | None = None,
        *,
        status: str = "COMPLETED",
    ) -> None:
        """Answer a pending task by reference name (a HUMAN approval, a WAIT signal, a task
        nobody works on); then `drive` the workflow on."""
        task_id = await self.engine.update_task_by_ref(workflow_id, task_ref, status, output)
        if not task_id:
            raise NotFoundError(f"workflow {workflow_id} has no pending task {task_ref!r}")

    async def terminate_workflow(self, workflow_id: str, reason: str | None = None) -> None:
        await self.engine.terminate_workflow(workflow_id, reason)

    async def get_task_logs(self, task_id: str) -> list[dict[str, Any]]:
        return await self.engine.get_task_logs(task_id)

    def executions_of(self, ref: str) -> list[Execution]:
        """The executions of the task with this reference name (or of this task type)."""
        return [e for e in self.executions if ref in (e.ref, e.task_type)]

    # ------------------------------------------------------------------ driving
    def _answerable(self, task: EngineTask) -> bool:
        found = self.mocks.find(task.reference_task_name, task.base_ref, task.task_type)
        return found is not None or task.task_type in self.workers

    async def _workflows(self) -> list[EngineWorkflow]:
        """The workflows started here and every sub-workflow they started."""
        out: list[EngineWorkflow] = []
        seen: set[str] = set()
        todo = list(self._roots)
        while todo:
            workflow_id = todo.pop()
            if workflow_id in seen:
                continue
            seen.add(workflow_id)
            wf = await self.services.workflows.get(workflow_id)
            out.append(wf)
            todo.extend(t.sub_workflow_id for t in wf.tasks if t.sub_workflow_id)
        return out

    async def _step(self) -> bool:
        """One pass: run every answerable task that is due, fire due timers."""
        queues: set[tuple[str, str | None]] = set()
        for wf in await self._workflows():
            if wf.status.terminal:
                continue
            for task in wf.tasks:
                if task.status == TaskStatus.SCHEDULED and self._answerable(task):
                    queues.add((task.task_type, task.domain))
        progressed = False
        for task_type, domain in sorted(queues, key=lambda q: (q[0], q[1] or "")):
            polled = await self._transport.poll(
                task_type, worker_id=WORKER_ID, domain=domain, count=1000, timeout_ms=0
            )
            for polled_task in polled:
                progressed = True
                await self._execute(polled_task)
        fired = await self._timers.run_once()
        return progressed or fired > 0

    async def _execute(self, task: dict[str, Any]) -> None:
        ref = task.get("referenceTaskName", "")
        task_type = task.get("taskType", "")
        base = base_ref(ref)
        outcomes = self.mocks.find(ref, base, task_type)
        key = (task["workflowInstanceId"], base)
        execution = self._executions_per_ref[key]
        self._executions_per_ref[key] += 1
        if outcomes is not None:
            outcome = Mocks.pick(outcomes, execution)
            if outcome is NO_ANSWER:
                self._record(task, "NO_ANSWER", {})
                return
            worker = mock_worker(task_type, outcome)
        elif task_type in self.workers:
            worker = self.workers[task_type]
        else:  # taken along with answerable tasks of its type: give it back
            reason = "no worker or mock in the test"
            await self._transport.update(hand_back(task, WORKER_ID, reason))
            return
        context = TaskContext(task, WORKER_ID, now_ms=self.clock.now_ms)
        result = await execute(worker, task, context)
        self._record(task, result["status"], result)
        await self._transport.update(result)

    def _record(self, task: dict[str, Any], status: str, result: dict[str, Any]) -> None:
        self.executions.append(
            Execution(
                workflow_id=task["workflowInstanceId"],
                ref=task.get("referenceTaskName", ""),
                task_type=task.get("taskType", ""),
                retry_count=int(task.get("retryCount") or 0),
                input=orjson.loads(orjson.dumps(task.get("inputData") or {})),
                status=status,
                output=result.get("outputData") or {},
                reason=result.get("reasonForIncompletion"),
                at_ms=self.clock.now_ms(),
            )
        )

    async def _next_moment(self) -> int | None:
        """The earliest future moment at which something can happen, or None."""
        now = self.clock.now_ms()
        best: int | None = None
        waiting_task = False

        def consider(at: int | None) -> None:
            nonlocal best
            if at is not None and at > now and (best is None or at < best):
                best = at

        for wf in await self._workflows():
            if wf.status.terminal:
                continue
            consider(wf.next_wake_at)
            for task in wf.tasks:
                if task.status == TaskStatus.SCHEDULED and self._answerable(task):
                    waiting_task = True
                    start = max(task.scheduled_time, task.update_time)
                    consider(start + task.callback_after_seconds * 1000)
        if best is None and waiting_task:
            best = now + 1000  # a delay with sub-second jitter: look again a second later
        return best
