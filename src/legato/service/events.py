"""Event handlers (validated, stored, held in memory) and the default status queues.

Handlers are few and read for every message, so all of them live in memory too, like
`DefinitionService` keeps definitions. The default status queues (`GET /api/queue/`,
`POST /api/queue/update/...`) are two built-in queues whose messages complete or fail a task.
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson

from legato.errors import FieldProblem, NotFoundError, ValidationError
from legato.events.model import EventHandler
from legato.events.validation import validate_event_handler
from legato.model import TaskStatus
from legato.service.clock import Clock
from legato.store.base import Changeset, EventMessage, Store

# Task status -> the event key of its default queue.
STATUS_QUEUES: dict[str, str] = {
    TaskStatus.COMPLETED.value: "conductor:_status_COMPLETED",
    TaskStatus.FAILED.value: "conductor:_status_FAILED",
}
STATUS_OF_QUEUE = {queue: status for status, queue in STATUS_QUEUES.items()}


class EventHandlerService:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self._handlers: dict[str, EventHandler] = {}
        # Bumped by every change made through this node, so that a reload that read the store
        # before such a change does not overwrite it with older data.
        self._epoch = 0

    async def load(self) -> None:
        """(Re)read every handler (at start, and when another node changed one)."""
        for _ in range(5):
            epoch = self._epoch
            docs = await self.store.list_event_handlers()
            if epoch == self._epoch:
                break
        self._handlers = {h.name: h for h in (EventHandler.model_validate(d) for d in docs)}

    # ------------------------------------------------------------ lookups (no I/O)
    def list_handlers(self) -> list[EventHandler]:
        return [self._handlers[name] for name in sorted(self._handlers)]

    def for_event(self, event: str, *, active_only: bool = True) -> list[EventHandler]:
        return [
            h for h in self.list_handlers() if h.event == event and (h.active or not active_only)
        ]

    # ------------------------------------------------------------ changes
    async def create(self, handler: EventHandler) -> None:
        validate_event_handler(handler)
        self._epoch += 1
        await self.store.put_event_handler(
            handler.name, handler.event, handler.to_json(), create=True
        )
        self._handlers[handler.name] = handler

    async def update(self, handler: EventHandler) -> None:
        validate_event_handler(handler)
        self._epoch += 1
        await self.store.put_event_handler(
            handler.name, handler.event, handler.to_json(), create=False
        )
        self._handlers[handler.name] = handler

    async def delete(self, name: str) -> None:
        self._epoch += 1
        if not await self.store.delete_event_handler(name):
            raise NotFoundError(f"EventHandler with name {name} not found!")
        self._handlers.pop(name, None)

    # ------------------------------------------------------------ default status queues
    def status_queues(self) -> dict[str, str]:
        return dict(STATUS_QUEUES)

    async def status_queue_sizes(self) -> dict[str, int]:
        return await self.store.event_queue_sizes(list(STATUS_QUEUES.values()))

    async def publish_task_update(
        self,
        workflow_id: str,
        status: str,
        output: dict[str, Any],
        *,
        task_ref_name: str | None = None,
        task_id: str | None = None,
    ) -> str:
        """Publish a message on the status queue of `status` that completes (or fails) a task
        of `workflow_id`, named by reference name or id; returns the message id."""
        queue_name = STATUS_QUEUES.get(status)
        if queue_name is None:
            raise ValidationError(
                f"There is no queue for handling {status} status",
                [FieldProblem("status", f"must be one of {', '.join(STATUS_QUEUES)}", status)],
            )
        external: dict[str, str] = {"workflowId": workflow_id}
        if task_id is not None:
            external["taskId"] = task_id
        if task_ref_name is not None:
            external["taskRefName"] = task_ref_name
        payload = {"externalId": orjson.dumps(external).decode(), **output}
        message = EventMessage(
            message_id=str(uuid.uuid4()),
            queue_name=queue_name,
            payload=payload,
            created_time=self.clock.now_ms(),
        )
        await self.store.commit(Changeset(events=[message]))
        return message.message_id
