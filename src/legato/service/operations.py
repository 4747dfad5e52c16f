"""Workflow operations: what an operator (or a client) does to executions.

Every state change goes through `WorkflowService.act`: the check that an operation is allowed
runs inside `act`'s choice (under the workflow's lock, on the state about to be decided) and
refuses with a 4xx (`ConflictError`, `NotFoundError`, `ValidationError`); the decider applies
the operator fact (engine/operations.py). Operations that reach several workflows (a retry
that revives a parent, a restart that starts sub-workflows) commit as one step.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from legato.engine import operations as ops
from legato.engine.facts import (
    Fact,
    Pause,
    Rerun,
    ResetCallbacks,
    Restart,
    Resume,
    Retry,
    SkipTask,
    TaskUpdate,
    Terminate,
    UpdateVariables,
    Upgrade,
)
from legato.errors import (
    ConflictError,
    FieldProblem,
    IdempotencyRace,
    LegatoError,
    NotFoundError,
    ValidationError,
)
from legato.model import (
    RESULT_STATUSES,
    StartWorkflowRequest,
    TaskStatus,
    TaskType,
    Workflow,
    WorkflowStatus,
)
from legato.model.operations import (
    IdempotencyStrategy,
    RerunWorkflowRequest,
    ReturnStrategy,
    SkipTaskRequest,
    UpgradeWorkflowRequest,
    WorkflowTestRequest,
)
from legato.service.clock import Clock
from legato.service.definitions import DefinitionService
from legato.service.mock_runs import MockRunner
from legato.service.signals import SignalResponder
from legato.service.workflows import WorkflowLocks, WorkflowService
from legato.store.base import Store

log = logging.getLogger("legato.operations")

MAX_BULK = 1000
BULK_CONCURRENCY = 16
BULK_MESSAGE = "Bulk Request has been processed."
MAX_DEPTH = 16  # sub-workflow nesting searched at most
DEFAULT_WAIT_S = 10

_REFUSALS: dict[int, type[LegatoError]] = {
    400: ValidationError,
    404: NotFoundError,
    409: ConflictError,
}

# A start whose key another node took meanwhile checks the key again (then finds it).
_IDEMPOTENT_START_ATTEMPTS = 3


class OperationsService:
    def __init__(
        self,
        store: Store,
        workflows: WorkflowService,
        definitions: DefinitionService,
        clock: Clock,
    ) -> None:
        self.store = store
        self.workflows = workflows
        self.definitions = definitions
        self.clock = clock
        self.signals = SignalResponder(store, workflows)
        self.mock_runs = MockRunner(workflows, definitions, clock)
        self._idempotency = WorkflowLocks()

    # ------------------------------------------------------------------ starting
    async def start(self, request: StartWorkflowRequest) -> str:
        """Start a workflow, honouring its idempotency key (Orkes' strategies)."""
        key = request.idempotency_key
        if not key:
            return await self.workflows.start(request)
        strategy = _idempotency_strategy(request.idempotency_strategy)
        name = request.workflow_def.name if request.workflow_def is not None else request.name
        # One start per key at a time in this node: the check and the insert cannot interleave.
        # Across nodes the store refuses an insert whose key another node's start took
        # meanwhile (IdempotencyRace): the key is then checked again.
        async with self._idempotency.hold(f"{name}\x00{key}"):
            for _attempt in range(_IDEMPOTENT_START_ATTEMPTS):
                found = await self.store.find_workflows_by_idempotency_key(name, key)
                if found:
                    latest = found[-1][0]
                    if strategy == IdempotencyStrategy.RETURN_EXISTING:
                        return latest
                    if strategy == IdempotencyStrategy.FAIL:
                        raise ConflictError(
                            f"A workflow {name} with idempotency key {key} exists already: {latest}"
                        )
                    running = [wid for wid, status in found if not status.terminal]
                    if running:
                        raise ConflictError(
                            f"A workflow {name} with idempotency key {key} is running:"
                            f" {running[-1]}"
                        )
                try:
                    return await self.workflows.start(request)
                except IdempotencyRace:
                    continue
            raise ConflictError(f"Workflows {name} with idempotency key {key} keep starting")

    async def execute(
        self,
        request: StartWorkflowRequest,
        *,
        request_id: str | None,
        wait_until_task_refs: list[str],
        wait_for_seconds: float,
        strategy: ReturnStrategy,
    ) -> dict[str, Any]:
        """Start a workflow and answer when it ends or blocks (Conductor's sync execute)."""
        if request.workflow_def is not None and request.workflow_def.tasks:
            meta = request.input.get("_systemMetadata")
            request.input["_systemMetadata"] = {
                **(meta if isinstance(meta, dict) else {}),
                "dynamic": True,
            }
        workflow_id = await self.start(request)
        return await self.signals.respond(
            workflow_id,
            wait_until_task_refs,
            strategy,
            request_id or str(uuid.uuid4()),
            wait_for_seconds or DEFAULT_WAIT_S,
        )

    async def test(self, request: WorkflowTestRequest) -> Workflow:
        return await self.mock_runs.run(request)

    # ------------------------------------------------------------------ signals
    async def signal(self, workflow_id: str, status: str, output: dict[str, Any]) -> str | None:
        """Resolve the workflow's first waiting WAIT task (in it or a running sub-workflow) with
        `status` and `output` merged into its output; the task's id, None when none waits."""
        parsed = _result_status(status)
        wf = await self.workflows.get(workflow_id)
        found = await self.signals.pending_wait(wf)
        if found is None:
            return None
        holder, task = found
        task_id = task.task_id

        def choose(current: Workflow) -> Fact | None:
            pending = next((t for t in current.tasks if t.task_id == task_id), None)
            if pending is None or pending.status.terminal:
                return None
            return TaskUpdate(
                task_id=task_id, status=parsed, output_data={**pending.output_data, **output}
            )

        _wf, decision = await self.workflows.act(holder.workflow_id, choose)
        return None if decision.ignored else task_id

    async def signal_sync(
        self,
        workflow_id: str,
        status: str,
        output: dict[str, Any],
        strategy: ReturnStrategy,
        timeout_s: float,
    ) -> dict[str, Any]:
        if await self.signal(workflow_id, status, output) is None:
            raise NotFoundError(f"Found no blocked task in workflow {workflow_id} to signal")
        return await self.signals.respond(workflow_id, [], strategy, str(uuid.uuid4()), timeout_s)

    # ------------------------------------------------------------------ lifecycle
    async def pause(self, workflow_id: str) -> None:
        def choose(wf: Workflow) -> Fact | None:
            if wf.status.terminal:
                raise ConflictError(
                    f"Workflow {workflow_id} is {wf.status.value}: a workflow that has ended "
                    "cannot be paused"
                )
            return None if wf.status == WorkflowStatus.PAUSED else Pause()

        await self.workflows.act(workflow_id, choose)

    async def resume(self, workflow_id: str) -> None:
        def choose(wf: Workflow) -> Fact:
            if wf.status != WorkflowStatus.PAUSED:
                raise ConflictError(
                    f"Workflow {workflow_id} is {wf.status.value}, not PAUSED: only a paused "
                    "workflow can be resumed"
                )
            return Resume()

        await self.workflows.act(workflow_id, choose)

    async def terminate(
        self, workflow_id: str, reason: str | None, *, trigger_failure_workflow: bool = False
    ) -> None:
        def choose(wf: Workflow) -> Fact | None:
            if wf.status == WorkflowStatus.COMPLETED:
                raise ConflictError(f"Workflow {workflow_id} is COMPLETED and cannot be terminated")
            if wf.status == WorkflowStatus.TERMINATED:
                return None
            return Terminate(reason, trigger_failure_workflow=trigger_failure_workflow)

        await self.workflows.act(workflow_id, choose)

    async def remove(self, workflow_id: str) -> None:
        await self.workflows.remove(workflow_id)

    async def terminate_remove(self, workflow_id: str, reason: str | None) -> None:
        """Terminate the workflow unless it has ended already, then remove it."""
        wf = await self.workflows.get(workflow_id)
        if not wf.status.terminal:
            await self.terminate(workflow_id, reason)
        await self.workflows.remove(workflow_id)

    async def reset_callbacks(self, workflow_id: str) -> None:
        def choose(wf: Workflow) -> Fact:
            if wf.status.terminal:
                raise ConflictError(
                    f"Workflow {workflow_id} is {wf.status.value}: it has no callbacks to reset"
                )
            return ResetCallbacks()

        await self.workflows.act(workflow_id, choose)

    async def set_variables(self, workflow_id: str, variables: dict[str, Any]) -> Workflow:
        limit = self.workflows.ctx.max_variables_bytes

        def choose(wf: Workflow) -> Fact:
            if wf.status.terminal:
                raise ConflictError(
                    f"Workflow {workflow_id} is {wf.status.value}: the variables of a workflow "
                    "that has ended cannot change"
                )
            size = len(orjson.dumps({**wf.variables, **variables}))
            if size > limit:
                raise ValidationError(
                    f"The variables of workflow {workflow_id} would take {size} bytes, more "
                    f"than the limit of {limit}"
                )
            return UpdateVariables(dict(variables))

        wf, _decision = await self.workflows.act(workflow_id, choose)
        return wf

    # ------------------------------------------------------------------ retry, restart, rerun
    async def retry(self, workflow_id: str, *, resume_subworkflow_tasks: bool = False) -> None:
        wf = await self.workflows.get(workflow_id)
        _check_retriable(wf)
        target = wf
        if resume_subworkflow_tasks:
            target = await self._deepest_failed(wf)

        def choose(current: Workflow) -> Fact:
            _check_retriable(current)
            return Retry()

        await self.workflows.act(target.workflow_id, choose)

    async def _deepest_failed(self, wf: Workflow, depth: int = 0) -> Workflow:
        """Follow failed SUB_WORKFLOW tasks down to the sub-workflow where the failure began."""
        if depth >= MAX_DEPTH:
            return wf
        for task in ops.retriable_tasks(wf):
            if task.task_type != TaskType.SUB_WORKFLOW.value or not task.sub_workflow_id:
                continue
            child = await self.store.load_workflow(task.sub_workflow_id)
            if child is None or not child.status.terminal:
                continue
            if ops.retriable_tasks(child) or child.status == WorkflowStatus.TIMED_OUT:
                return await self._deepest_failed(child, depth + 1)
        return wf

    async def restart(self, workflow_id: str, *, use_latest_definitions: bool = False) -> None:
        wf = await self.workflows.get(workflow_id)
        latest = None
        if use_latest_definitions:
            latest = await self.definitions.find_workflow_def(wf.workflow_name, None)
            if latest is None:
                raise NotFoundError(
                    f"No definition of workflow {wf.workflow_name} is registered: workflow "
                    f"{workflow_id} cannot restart with the latest definitions"
                )

        def choose(current: Workflow) -> Fact:
            if not current.status.terminal:
                raise ConflictError(
                    f"Workflow {workflow_id} is {current.status.value}: only a workflow that has "
                    "ended can be restarted"
                )
            definition = latest or current.definition
            if current.status == WorkflowStatus.COMPLETED and not definition.restartable:
                raise ConflictError(
                    f"Workflow {workflow_id} is COMPLETED and its definition "
                    f"{definition.name} version {definition.version} is not restartable"
                )
            return Restart(latest)

        await self.workflows.act(workflow_id, choose)

    async def rerun(self, workflow_id: str, request: RerunWorkflowRequest) -> str:
        wf = await self.workflows.get(workflow_id)
        _check_ended(wf, "rerun")
        task_id = request.re_run_from_task_id
        holder = wf
        if task_id:
            chain = await self._holder_of(wf, task_id)
            if chain is None:
                raise NotFoundError(
                    f"No task {task_id} in workflow {workflow_id} or its sub-workflows"
                )
            holder = chain[-1]
        fact = Rerun(
            task_id=task_id or None,
            task_input=request.task_input,
            workflow_input=request.workflow_input,
            correlation_id=request.correlation_id,
            overrides_for=workflow_id if holder is not wf else None,
        )

        def choose(current: Workflow) -> Fact:
            _check_ended(current, "rerun")
            if task_id and not any(t.task_id == task_id for t in current.tasks):
                raise NotFoundError(f"No task {task_id} in workflow {current.workflow_id}")
            return fact

        await self.workflows.act(holder.workflow_id, choose)
        return workflow_id

    async def _holder_of(self, wf: Workflow, task_id: str, depth: int = 0) -> list[Workflow] | None:
        """The chain of workflows from `wf` down to the one holding the task, or None."""
        if any(t.task_id == task_id for t in wf.tasks):
            return [wf]
        if depth >= MAX_DEPTH:
            return None
        for task in wf.tasks:
            if (
                task.task_type == TaskType.SUB_WORKFLOW.value
                and task.sub_workflow_id
                and not task.retried
            ):
                child = await self.store.load_workflow(task.sub_workflow_id)
                if child is None:
                    continue
                chain = await self._holder_of(child, task_id, depth + 1)
                if chain is not None:
                    for inner in chain:
                        _check_ended(inner, "rerun")
                    return [wf, *chain]
        return None

    # ------------------------------------------------------------------ skip, upgrade
    async def skip(self, workflow_id: str, ref: str, request: SkipTaskRequest) -> None:
        def choose(wf: Workflow) -> Fact:
            refusal = ops.skip_refusal(wf, ref)
            if refusal is not None:
                status, message = refusal
                raise _REFUSALS[status](message)
            return SkipTask(ref, request.task_input or {}, request.task_output or {})

        await self.workflows.act(workflow_id, choose)

    async def upgrade(self, workflow_id: str, request: UpgradeWorkflowRequest) -> None:
        wf = await self.workflows.get(workflow_id)
        if request.name != wf.workflow_name:
            raise ValidationError(
                f"Workflow {workflow_id} is a {wf.workflow_name}: it can only be upgraded to "
                f"another version of {wf.workflow_name}, not to {request.name}",
                [FieldProblem("name", f"must be {wf.workflow_name}", request.name)],
            )
        definition = await self.definitions.find_workflow_def(request.name, request.version)
        if definition is None:
            suffix = f" and version: {request.version}" if request.version is not None else ""
            raise NotFoundError(f"No such workflow found by name: {request.name}{suffix}")

        def choose(current: Workflow) -> Fact:
            if current.status.terminal:
                raise ConflictError(
                    f"Workflow {workflow_id} is {current.status.value}: only a running or "
                    "paused workflow can be upgraded"
                )
            refusal = ops.upgrade_refusal(current, definition)
            if refusal is not None:
                raise ConflictError(refusal)
            return Upgrade(definition, request.workflow_input or {}, request.task_output or {})

        await self.workflows.act(workflow_id, choose)

    # ------------------------------------------------------------------ reading
    async def history(self, wf: Workflow) -> list[dict[str, Any]]:
        """The workflow's earlier runs (restarted or rerun), oldest first."""
        if not wf.archived_runs:
            return []
        return await self.store.list_archived_runs(wf.workflow_id)

    async def correlated(
        self,
        names: list[str] | None,
        correlation_ids: list[str],
        *,
        include_closed: bool,
        include_tasks: bool,
    ) -> dict[str, list[dict[str, Any]]]:
        rows = await self.store.find_workflows_by_correlation_id(
            correlation_ids, names, include_closed
        )
        loaded = await asyncio.gather(*(self.store.load_workflow(wid) for wid, _ in rows))
        out: dict[str, list[dict[str, Any]]] = {cid: [] for cid in correlation_ids}
        for (_wid, cid), wf in zip(rows, loaded, strict=True):
            if wf is not None:
                out[cid].append(self.workflows.workflow_json(wf, include_tasks=include_tasks))
        return out

    async def running(
        self, name: str, version: int | None, start_time: int | None, end_time: int | None
    ) -> list[str]:
        window = bool(start_time) and bool(end_time)
        return await self.store.list_running_workflow_ids(
            name, version, start_time if window else None, end_time if window else None
        )

    # ------------------------------------------------------------------ bulk
    async def bulk(
        self, workflow_ids: list[Any], action: Callable[[str], Awaitable[Any]]
    ) -> dict[str, Any]:
        """Conductor's BulkResponse: each id's outcome; one failure does not stop the others."""
        ids = check_bulk_ids(workflow_ids)
        gate = asyncio.Semaphore(BULK_CONCURRENCY)

        async def one(workflow_id: str) -> tuple[Any, str | None]:
            async with gate:
                try:
                    return await action(workflow_id), None
                except LegatoError as exc:
                    return None, exc.message
                except Exception:
                    log.exception("bulk operation failed on workflow %s", workflow_id)
                    return None, "Internal server error; the failure was logged on the server"

        outcomes = await asyncio.gather(*(one(wid) for wid in ids))
        successes: list[Any] = []
        errors: dict[str, str] = {}
        for wid, (result, error) in zip(ids, outcomes, strict=True):
            if error is None:
                successes.append(wid if result is None else result)
            else:
                errors[wid] = error
        return {
            "bulkSuccessfulResults": successes,
            "bulkErrorResults": errors,
            "message": BULK_MESSAGE,
        }


def check_bulk_ids(workflow_ids: list[Any]) -> list[str]:
    problems = []
    if not workflow_ids:
        problems.append(FieldProblem("workflowIds", "WorkflowIds list cannot be empty"))
    elif len(workflow_ids) > MAX_BULK:
        problems.append(
            FieldProblem(
                "workflowIds",
                f"Cannot process more than {MAX_BULK} workflows. Please use multiple requests.",
                len(workflow_ids),
            )
        )
    for i, wid in enumerate(workflow_ids):
        if not isinstance(wid, str) or not wid:
            problems.append(FieldProblem(f"workflowIds[{i}]", "must be a workflow id (a string)"))
            break
    if problems:
        raise ValidationError(f"Invalid bulk request: {problems[0].message}", problems)
    return list(workflow_ids)


def _check_ended(wf: Workflow, verb: str) -> None:
    if not wf.status.terminal:
        raise ConflictError(
            f"Workflow {wf.workflow_id} is {wf.status.value}: only a workflow that has ended "
            f"can be {verb}"
        )


def _check_retriable(wf: Workflow) -> None:
    _check_ended(wf, "retried")
    if not wf.tasks:
        raise ConflictError(f"Workflow {wf.workflow_id} has not started any task yet")
    if not ops.retriable_tasks(wf) and wf.status != WorkflowStatus.TIMED_OUT:
        raise ConflictError(
            f"Workflow {wf.workflow_id} is {wf.status.value} and has no failed, timed out or "
            "canceled task to retry; restart it to run it again from the start"
        )


def _idempotency_strategy(raw: str | None) -> IdempotencyStrategy:
    if raw is None or raw == "":
        return IdempotencyStrategy.FAIL
    try:
        return IdempotencyStrategy(raw)
    except ValueError:
        allowed = ", ".join(s.value for s in IdempotencyStrategy)
        raise ValidationError(
            f"Invalid idempotencyStrategy {raw!r}",
            [FieldProblem("idempotencyStrategy", f"must be one of {allowed}", raw)],
        ) from None


def _result_status(raw: str) -> TaskStatus:
    try:
        status = TaskStatus(raw)
    except ValueError:
        status = None
    if status is None or status not in RESULT_STATUSES:
        raise ValidationError(
            f"Invalid task status {raw}",
            [
                FieldProblem(
                    "status",
                    "must be one of IN_PROGRESS, COMPLETED, FAILED, FAILED_WITH_TERMINAL_ERROR",
                    raw,
                )
            ],
        )
    return status
