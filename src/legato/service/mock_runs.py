"""Test runs (`POST /api/workflow/test`): a definition run against mocked task results.

The run happens in memory, through the same pure decider as real executions, and is never
stored: no worker sees its tasks, no timer or runner touches it, and nothing is left behind
(Conductor instead starts a real execution in a random domain). Sub-workflows run in memory too,
driven by their own `subWorkflowTestRequest`; failure workflows are not started.

The driving loop is Conductor's `WorkflowTestService`: while the workflow runs and mocks remain,
each task not ended takes the next mock of its reference name; the run stops early when a task
that needs a result (a worker, WAIT, HUMAN, HTTP, ... task) has no mock.
"""

from __future__ import annotations

import uuid

from legato.engine.decision import Decision, WorkflowStart
from legato.engine.facts import ChildFinished, Fact, Reevaluate, Start, TaskUpdate, Terminate
from legato.errors import FieldProblem, NotFoundError, ValidationError
from legato.model import RESULT_STATUSES, TaskStatus, TaskType, Workflow
from legato.model.operations import TaskMock, WorkflowTestRequest
from legato.service.clock import Clock
from legato.service.definitions import DefinitionService
from legato.service.workflows import WorkflowService

MAX_LOOPS = 20_000
# Tasks the engine itself finishes: they never take a mock.
OPERATORS = frozenset(
    {
        TaskType.JOIN.value,
        TaskType.EXCLUSIVE_JOIN.value,
        TaskType.DO_WHILE.value,
        TaskType.SET_VARIABLE.value,
        TaskType.FORK.value,
        TaskType.FORK_JOIN.value,
        TaskType.FORK_JOIN_DYNAMIC.value,
        TaskType.INLINE.value,
        TaskType.TERMINATE.value,
        TaskType.DECISION.value,
        TaskType.SWITCH.value,
        TaskType.DYNAMIC.value,
        TaskType.SUB_WORKFLOW.value,
    }
)


class MockRunner:
    def __init__(
        self, workflows: WorkflowService, definitions: DefinitionService, clock: Clock
    ) -> None:
        self.workflows = workflows
        self.definitions = definitions
        self.clock = clock

    async def run(self, request: WorkflowTestRequest) -> Workflow:
        _check_mocks(request, "")
        definition = request.workflow_def
        if definition is None:
            if not request.name:
                raise ValidationError(
                    "A test request names a workflow or carries its workflowDef",
                    [FieldProblem("name", "must not be empty", request.name)],
                )
            definition = await self.definitions.find_workflow_def(request.name, request.version)
            if definition is None:
                suffix = f" and version: {request.version}" if request.version else ""
                raise NotFoundError(f"No such workflow found by name: {request.name}{suffix}")
        else:
            self.definitions.validate_workflow_def(definition)
        world = _World(self.workflows, self.clock)
        root = world.create(
            WorkflowStart(
                workflow_id=str(uuid.uuid4()),
                definition=definition,
                input=request.input,
                correlation_id=request.correlation_id,
                task_to_domain=dict(request.task_to_domain),
                priority=request.priority,
            )
        )
        root.created_by = request.created_by
        await world.decide(root, Start())
        await self._drive(world, root, request)
        return root

    async def _drive(self, world: _World, wf: Workflow, request: WorkflowTestRequest) -> None:
        mocks: dict[str, list[TaskMock]] = {
            ref: list(results) for ref, results in request.task_ref_to_mock_output.items()
        }
        while world.loops < MAX_LOOPS:
            world.loops += 1
            pending = [t for t in wf.tasks if not t.status.terminal]
            if any(
                t.task_type not in OPERATORS and t.reference_task_name not in mocks for t in pending
            ):
                return  # a task needs a result nobody mocked: the run stops here
            for task in pending:
                ref = task.reference_task_name
                child_request = request.sub_workflow_test_request.get(ref)
                child = world.workflows.get(task.sub_workflow_id or "")
                if task.task_type == TaskType.SUB_WORKFLOW.value and child and child_request:
                    await self._drive(world, child, child_request)
                results = mocks.get(ref)
                if not results or task.task_type in OPERATORS:
                    mocks.pop(ref, None)
                    await world.decide(wf, Reevaluate())
                    continue
                mock = results.pop(0)
                now = self.clock.now_ms()
                if mock.execution_time or mock.queue_wait_time:
                    task.start_time = now - mock.execution_time
                    task.scheduled_time = task.start_time - mock.queue_wait_time
                await world.decide(
                    wf,
                    TaskUpdate(
                        task_id=task.task_id,
                        status=TaskStatus(mock.status),
                        output_data={**task.output_data, **(mock.output or {})},
                    ),
                )
            if wf.status.terminal or not mocks:
                return


def _check_mocks(request: WorkflowTestRequest, path: str) -> None:
    for ref, results in request.task_ref_to_mock_output.items():
        for i, mock in enumerate(results):
            if mock.status not in RESULT_STATUSES:
                raise ValidationError(
                    f"Invalid mock status {mock.status!r} for task {ref}",
                    [
                        FieldProblem(
                            f"{path}taskRefToMockOutput.{ref}[{i}].status",
                            "must be one of IN_PROGRESS, COMPLETED, FAILED, "
                            "FAILED_WITH_TERMINAL_ERROR",
                            mock.status,
                        )
                    ],
                )
    for ref, child in request.sub_workflow_test_request.items():
        _check_mocks(child, f"{path}subWorkflowTestRequest.{ref}.")


class _World:
    """The workflows of one test run, in memory; decisions followed as the service would."""

    def __init__(self, service: WorkflowService, clock: Clock) -> None:
        self.service = service
        self.clock = clock
        self.workflows: dict[str, Workflow] = {}
        self.loops = 0

    def create(self, start: WorkflowStart) -> Workflow:
        wf = self.service._new_workflow(start, self.clock.now_ms())
        self.workflows[wf.workflow_id] = wf
        return wf

    async def decide(self, wf: Workflow, fact: Fact) -> None:
        decision = await self.service._decide(wf, fact, self.clock.now_ms())
        await self._follow(decision)

    async def _follow(self, decision: Decision) -> None:
        for start in decision.start_workflows:
            if start.parent_workflow_id is None:
                continue  # a failure workflow: a test run starts none
            child = self.create(start)
            await self.decide(child, Start())
        for child_id, reason in decision.terminate_workflows:
            running = self.workflows.get(child_id)
            if running is not None and not running.status.terminal:
                await self.decide(running, Terminate(reason))
        notice = decision.parent_notice
        if notice is not None:
            parent = self.workflows.get(notice.parent_workflow_id)
            if parent is not None and not parent.status.terminal:
                await self.decide(
                    parent,
                    ChildFinished(
                        task_id=notice.parent_task_id,
                        child_id=notice.child_id,
                        status=notice.status,
                        output=notice.output,
                        reason=notice.reason,
                    ),
                )
