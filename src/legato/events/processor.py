"""The event processor: what one message of the built-in queue makes happen.

For a message on a workflow queue (`conductor:<workflowName>:<queue>`), every active handler of
that event is evaluated (`DefaultEventProcessor`): a false condition records a SKIPPED
execution; otherwise each action records an EventExecution `<messageId>_<index>` first, then
runs through the services, then records its outcome. A redelivered message finds its executions:
finished ones are skipped; one still IN_PROGRESS (the previous delivery stopped mid-action) runs
again, which is safe because every action is idempotent here (start_workflow uses an id derived
from the execution, a task update or termination that already happened is ignored).

A message on a default status queue (`POST /api/queue/update/...`) completes or fails the task
its `externalId` names (`DefaultEventQueueProcessor`).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

import orjson

from legato.engine.facts import UpdateVariables
from legato.errors import LegatoError, NotFoundError, ValidationError
from legato.events import actions
from legato.events.model import Action, ActionType, EventHandler, TaskDetails
from legato.expr.javascript import ScriptError
from legato.model import Task, TaskResult, TaskType, Workflow
from legato.service.container import Services
from legato.service.events import STATUS_OF_QUEUE
from legato.store.base import EventExecution, EventMessage

log = logging.getLogger("legato.events")

IN_PROGRESS = "IN_PROGRESS"
COMPLETED = "COMPLETED"
FAILED = "FAILED"
SKIPPED = "SKIPPED"


class EventProcessor:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.store = services.store

    async def process(self, message: EventMessage) -> bool:
        """Handle a message: True when it is done with (acknowledge it), False when something
        failed for a transient reason (the database) and it should be delivered again."""
        status = STATUS_OF_QUEUE.get(message.queue_name)
        if status is not None:
            return await self._status_update(message, status)
        done = True
        for handler in self.services.events.for_event(message.queue_name):
            if not await self._handle(handler, message):
                done = False
        return done

    # ------------------------------------------------------------------ handlers
    async def _handle(self, handler: EventHandler, message: EventMessage) -> bool:
        try:
            holds = await self._condition(handler, message.payload)
        except ScriptError as exc:
            await self._record_once(
                handler,
                message,
                FAILED,
                {"exception": f"The condition failed: {exc}", "condition": handler.condition},
            )
            return True
        if not holds:
            output = {"msg": message.payload, "condition": handler.condition}
            await self._record_once(handler, message, SKIPPED, output)
            return True
        done = True
        for index, action in enumerate(handler.actions):
            execution = EventExecution(
                id=f"{message.message_id}_{index}",
                message_id=message.message_id,
                name=handler.name,
                event=handler.event,
                created=self.services.clock.now_ms(),
                status=IN_PROGRESS,
                action=action.action,
            )
            found = await self.store.add_event_execution(execution)
            if found is not None and found != IN_PROGRESS:
                log.info(
                    "Duplicate delivery of message %s: %s of handler %s already %s",
                    message.message_id,
                    execution.id,
                    handler.name,
                    found,
                )
                continue
            try:
                execution.output = await self._run(action, execution, message)
                execution.status = COMPLETED
            except LegatoError as exc:
                if exc.retryable:
                    log.warning(
                        "Action %s of handler %s on message %s failed, will retry: %s",
                        execution.id,
                        handler.name,
                        message.message_id,
                        exc.message,
                    )
                    done = False
                    continue
                execution.status = FAILED
                execution.output = {"exception": exc.message}
            await self.store.update_event_execution(execution)
        return done

    async def _condition(self, handler: EventHandler, payload: Any) -> bool:
        evaluator = handler.evaluator_type
        if not handler.condition or evaluator == "value-param":
            return actions.condition_holds(handler, payload, self.services.scripts)
        # A script may run for a while: keep it off the event loop.
        return await asyncio.to_thread(
            actions.condition_holds, handler, payload, self.services.scripts
        )

    async def _record_once(
        self, handler: EventHandler, message: EventMessage, status: str, output: dict[str, Any]
    ) -> None:
        await self.store.add_event_execution(
            EventExecution(
                id=f"{message.message_id}_0",
                message_id=message.message_id,
                name=handler.name,
                event=handler.event,
                created=self.services.clock.now_ms(),
                status=status,
                output=output,
            )
        )

    # ------------------------------------------------------------------ actions
    async def _run(
        self, action: Action, execution: EventExecution, message: EventMessage
    ) -> dict[str, Any]:
        kind = ActionType(action.action)
        if kind is ActionType.START_WORKFLOW:
            return await self._start(action, execution, message)
        if kind is ActionType.COMPLETE_TASK:
            return await self._update_task(action, action.complete_task, execution, message)
        if kind is ActionType.FAIL_TASK:
            return await self._update_task(action, action.fail_task, execution, message)
        if kind is ActionType.TERMINATE_WORKFLOW:
            return await self._terminate(action, execution, message)
        return await self._update_variables(action, message)

    async def _start(
        self, action: Action, execution: EventExecution, message: EventMessage
    ) -> dict[str, Any]:
        request = actions.start_request(
            action, message.payload, execution.event, message.message_id
        )
        # Derived from the execution: a redelivery can never start a second workflow.
        key = f"event:{execution.name}:{execution.id}"
        workflow_id = str(uuid.uuid5(uuid.NAMESPACE_URL, key))
        if await self.store.load_workflow(workflow_id) is None:
            await self.services.workflows.start(
                request, workflow_id=workflow_id, event=execution.event
            )
        return {"workflowId": workflow_id}

    async def _update_task(
        self,
        action: Action,
        details: TaskDetails | None,
        execution: EventExecution,
        message: EventMessage,
    ) -> dict[str, Any]:
        assert details is not None
        update = actions.task_update(
            action, details, message.payload, execution.event, message.message_id
        )
        task = await self._find_task(update)
        failing = action.action == ActionType.FAIL_TASK
        reason = update.reason or f"Failed by event handler {execution.name}"
        await self.services.tasks.update(
            TaskResult(
                workflow_instance_id=task.workflow_instance_id,
                task_id=task.task_id,
                status=FAILED if failing else COMPLETED,
                output_data=update.output,
                reason_for_incompletion=reason if failing else None,
            )
        )
        return update.output

    async def _terminate(
        self, action: Action, execution: EventExecution, message: EventMessage
    ) -> dict[str, Any]:
        workflow_id, reason = actions.termination(action, message.payload)
        if workflow_id is None:
            raise NotFoundError("terminate_workflow: the workflowId resolved to nothing")
        await self.services.workflows.terminate(
            workflow_id, reason or f"Terminated by event handler {execution.name}"
        )
        return {"workflowId": workflow_id}

    async def _update_variables(self, action: Action, message: EventMessage) -> dict[str, Any]:
        workflow_id, variables, append = actions.variables_update(action, message.payload)
        if workflow_id is None:
            raise NotFoundError("update_workflow_variables: the workflowId resolved to nothing")
        _, decision = await self.services.workflows.act(
            workflow_id, UpdateVariables(variables, append)
        )
        if decision.ignored is not None:
            raise ValidationError(decision.ignored)
        return {"workflowId": workflow_id, "variables": variables}

    async def _find_task(self, update: actions.TaskUpdate) -> Task:
        if update.task_id is not None:
            return await self.services.tasks.get(update.task_id)
        task = None
        if update.workflow_id is not None and update.task_ref_name is not None:
            wf = await self.services.workflows.get(update.workflow_id)
            task = _by_ref(wf, update.task_ref_name, pending_only=False)
        if task is None:
            raise NotFoundError(
                f"No task found with taskId: {update.task_id}, reference name: "
                f"{update.task_ref_name}, workflowId: {update.workflow_id}"
            )
        return task

    # ------------------------------------------------------------------ status queues
    async def _status_update(self, message: EventMessage, status: str) -> bool:
        payload = message.payload if isinstance(message.payload, dict) else {}
        try:
            external = orjson.loads(payload.get("externalId") or "null")
        except (orjson.JSONDecodeError, TypeError):
            external = None
        if not isinstance(external, dict) or not external.get("workflowId"):
            log.warning("Message %s names no workflow in its externalId", message.message_id)
            return True
        workflow_id = str(external["workflowId"])
        try:
            wf = await self.services.workflows.get(workflow_id)
        except NotFoundError:
            log.warning("Message %s: no workflow %s", message.message_id, workflow_id)
            return True
        task = _status_target(wf, external.get("taskId"), external.get("taskRefName"))
        if task is None:
            log.warning(
                "Message %s: no pending task %s of workflow %s to mark %s",
                message.message_id,
                external.get("taskId") or external.get("taskRefName") or "(WAIT)",
                workflow_id,
                status,
            )
            return True
        result = TaskResult(
            workflow_instance_id=workflow_id,
            task_id=task.task_id,
            status=status,
            output_data={**task.output_data, **payload},
        )
        try:
            await self.services.tasks.update(result)
        except LegatoError as exc:
            if exc.retryable:
                return False
            log.warning(
                "Message %s: updating task %s failed: %s", message.message_id, task.task_id, exc
            )
        return True


def _by_ref(wf: Workflow, ref: str, *, pending_only: bool) -> Task | None:
    """The task with this reference name, or its latest loop iteration; a pending one first."""
    matches = [t for t in wf.tasks if t.reference_task_name == ref or t.base_ref == ref]
    pending = [t for t in matches if not t.status.terminal]
    pool = pending if pending or pending_only else matches
    return max(pool, key=lambda t: (t.iteration, t.seq)) if pool else None


def _status_target(wf: Workflow, task_id: Any, ref: Any) -> Task | None:
    """The pending task a status queue message names: by id, by reference name, or (neither
    given) the first pending WAIT task."""
    if task_id:
        return next((t for t in wf.tasks if t.task_id == task_id and not t.status.terminal), None)
    if ref:
        return _by_ref(wf, str(ref), pending_only=True)
    wait = TaskType.WAIT.value
    return next((t for t in wf.tasks if t.task_type == wait and not t.status.terminal), None)
