"""The Store protocol: everything the engine persists, in domain verbs.

Backends (SQLite now, PostgreSQL next) own connection setup, transactions, claiming,
notification of waiting pollers and error translation; nothing else.

Consistency rules every backend keeps:
- `commit` applies a whole Changeset in one transaction, or nothing of it.
- Every workflow row has a revision `rev`. A WorkflowWrite with `expected_rev` is applied only if
  the stored rev still equals it (else `RevisionConflict`, nothing written); the stored rev becomes
  `expected_rev + 1` and the Workflow object's `rev` is updated to match. `expected_rev=None` inserts
  a new workflow (rev 1).
- `claim_tasks` is one transaction too: it takes visible queue entries, removes them, marks their
  tasks IN_PROGRESS and bumps the owning workflows' revs.
- After a commit that enqueued entries, pollers waiting in `wait_for_work` on those queues wake up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from legato.model import Task, TaskDef, Workflow, WorkflowDef


@dataclass(slots=True)
class QueueEntry:
    """A task waiting for a worker (or an in-server runner) on `queue_name`."""

    task_id: str
    workflow_id: str
    queue_name: str
    visible_at: int  # epoch ms; the entry cannot be claimed before
    priority: int = 0


@dataclass(slots=True)
class WorkflowWrite:
    workflow: Workflow
    expected_rev: int | None  # None: insert a new workflow
    new_tasks: list[Task] = field(default_factory=list)
    updated_tasks: list[Task] = field(default_factory=list)
    removed_task_ids: list[str] = field(default_factory=list)
    definition_hash: str = ""  # key of the definition snapshot; required on insert
    # Snapshot body (Conductor JSON), stored if the hash is new; when empty the store
    # serialises `workflow.definition` itself.
    definition_json: bytes = b""


@dataclass(slots=True)
class TaskLog:
    task_id: str
    log: str
    created_time: int


@dataclass(slots=True)
class Changeset:
    """Everything one decision writes. Applied in this order: workflow writes, then dequeue,
    then enqueue (so dequeue + enqueue of one task id re-queues it), then logs. The objects
    must not be mutated until `commit` returns."""

    workflows: list[WorkflowWrite] = field(default_factory=list)
    enqueue: list[QueueEntry] = field(default_factory=list)
    dequeue: list[str] = field(default_factory=list)  # task ids
    logs: list[TaskLog] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ClaimLimits:
    """A task definition's hand-out limits, enforced inside the claim's transaction."""

    task_def_name: str
    concurrent_exec_limit: int | None = None  # IN_PROGRESS tasks of the definition at most
    rate_limit_per_frequency: int | None = None  # hand-outs per window at most ...
    rate_limit_frequency_in_seconds: int | None = None  # ... of this many seconds

    @property
    def active(self) -> bool:
        return bool(self.concurrent_exec_limit) or bool(
            self.rate_limit_per_frequency and self.rate_limit_frequency_in_seconds
        )


@dataclass(slots=True)
class ClaimedTask:
    task: Task
    workflow_rev: int


class Store(Protocol):
    # --- lifecycle -------------------------------------------------------------------------
    async def open(self) -> None:
        """Connect, check the schema (creating it on a fresh SQLite file) and start helpers."""

    async def close(self) -> None: ...

    async def ping(self) -> None:
        """Raise StorageError when the database cannot be reached."""

    # --- definitions -----------------------------------------------------------------------
    async def put_task_defs(self, defs: list[TaskDef]) -> None: ...

    async def find_task_def(self, name: str) -> TaskDef | None: ...

    async def list_task_defs(self) -> list[TaskDef]: ...

    async def delete_task_def(self, name: str) -> bool: ...

    async def put_workflow_def(self, definition: WorkflowDef, *, overwrite: bool) -> None:
        """Store a definition version; ConflictError if it exists and not overwrite."""

    async def find_workflow_def(self, name: str, version: int | None = None) -> WorkflowDef | None:
        """A version, or the latest one when version is None."""

    async def list_workflow_defs(self) -> list[WorkflowDef]: ...

    async def delete_workflow_def(self, name: str, version: int) -> bool: ...

    # --- executions ------------------------------------------------------------------------
    async def load_workflow(self, workflow_id: str) -> Workflow | None:
        """The workflow with its tasks in `seq` order, its definition snapshot and rev.

        The definition object is parsed once per process and shared by every workflow loaded
        from the same snapshot: treat it as read-only.
        """

    async def load_task(self, task_id: str) -> Task | None: ...

    async def commit(self, changes: Changeset) -> None: ...

    async def remove_workflow(self, workflow_id: str) -> bool:
        """Delete a workflow with its tasks, queue entries and logs."""

    # --- queues and timers -----------------------------------------------------------------
    async def claim_tasks(
        self,
        queue_name: str,
        count: int,
        worker_id: str | None,
        now: int,
        domain: str | None = None,
        limits: ClaimLimits | None = None,
    ) -> list[ClaimedTask]:
        """Claim up to `count` visible entries (oldest visible_at first, then higher priority).

        In the same transaction: the entries are removed; each task still SCHEDULED becomes
        IN_PROGRESS (poll_count + 1, start_time = now if unset, first_start_time likewise,
        update_time = now, worker_id, callback_after_seconds = 0); entries whose task is no
        longer SCHEDULED (or gone) are removed silently and do not count toward `count`; each
        owning workflow's rev is bumped once and its next_wake_at lowered to
        now + response_timeout_seconds * 1000 when that is > 0;
        poll data (queue_name, domain, worker_id, now) is recorded when worker_id is given,
        whether anything was claimed or not.
        """

    async def requeue_missing(
        self, now: int, *, task_type: str | None = None, workflow_id: str | None = None
    ) -> int:
        """Give every SCHEDULED task (of a type, or of a workflow) that has no queue entry one,
        visible now; the number added. Repair for operators: commits never lose entries."""

    async def list_queue(self, queue_name: str, start: int, count: int) -> list[Task]:
        """The tasks waiting in one queue, in claim order."""

    async def wait_for_work(self, queue_name: str, timeout_s: float) -> None:
        """Return when something may have been enqueued on queue_name, or after timeout_s."""

    async def queue_sizes(self, queue_names: list[str] | None = None) -> dict[str, int]:
        """Entries per queue (all queues when None), delayed ones included."""

    async def claim_due_workflows(self, now: int, limit: int, lease_ms: int) -> list[str]:
        """Workflows whose next_wake_at <= now; their next_wake_at moves to now + lease_ms."""

    # --- task logs -------------------------------------------------------------------------
    async def get_task_logs(self, task_id: str) -> list[TaskLog]: ...

    # --- poll data -------------------------------------------------------------------------
    async def record_poll(
        self, queue_name: str, domain: str | None, worker_id: str, now: int
    ) -> None:
        """Record a poll that did not go through claim_tasks (which records its own)."""

    async def list_poll_data(self, queue_name: str | None = None) -> list[dict[str, Any]]:
        """Conductor's PollData: {queueName, domain (absent when none), workerId, lastPollTime}."""
