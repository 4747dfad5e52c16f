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

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from legato.model import Task, TaskDef, Workflow, WorkflowDef, WorkflowStatus
from legato.search.request import SearchPage, SearchRequest


@dataclass(slots=True)
class QueueEntry:
    """A task waiting for a worker (or an in-server runner) on `queue_name`."""

    task_id: str
    workflow_id: str
    queue_name: str
    visible_at: int  # epoch ms; the entry cannot be claimed before
    priority: int = 0

    def row(self) -> tuple[str, str, str, int, int]:
        """The `legato_queue` row: (task_id, queue_name, workflow_id, priority, visible_at)."""
        return (self.task_id, self.queue_name, self.workflow_id, self.priority, self.visible_at)


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
    # Earlier runs of the workflow to keep readable (a restart or rerun archives the run that
    # ended); stored with the write, read back by `list_archived_runs`.
    archived_runs: list[ArchivedRun] = field(default_factory=list)


@dataclass(slots=True)
class ArchivedRun:
    """An earlier run of a workflow that was restarted or rerun: Conductor's `history` entry."""

    run: int  # 1 for the first run archived, then 2, ... (`Workflow.archived_runs` counts them)
    doc: dict[str, Any]  # the run's Conductor Workflow JSON, tasks included
    archived_time: int


@dataclass(slots=True)
class TaskLog:
    task_id: str
    log: str
    created_time: int


@dataclass(slots=True)
class EventMessage:
    """A message on the built-in `conductor` event queue, named by its event key
    (`conductor:<workflowName>:<queue>`, or a default status queue)."""

    message_id: str
    queue_name: str
    payload: Any  # a JSON value
    created_time: int
    deliveries: int = 0  # times handed to the event processor, this one included


@dataclass(slots=True)
class EventExecution:
    """What one event handler action did with one message (Conductor's EventExecution)."""

    id: str  # `<messageId>_<actionIndex>`
    message_id: str
    name: str  # the event handler
    event: str
    created: int
    status: str  # IN_PROGRESS, COMPLETED, FAILED or SKIPPED
    action: str | None = None
    output: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Changeset:
    """Everything one decision writes. Applied in this order: workflow writes, then dequeue,
    then enqueue (so dequeue + enqueue of one task id re-queues it), then logs, then event
    messages (a message id published again is ignored). The objects
    must not be mutated until `commit` returns."""

    workflows: list[WorkflowWrite] = field(default_factory=list)
    enqueue: list[QueueEntry] = field(default_factory=list)
    dequeue: list[str] = field(default_factory=list)  # task ids
    logs: list[TaskLog] = field(default_factory=list)
    events: list[EventMessage] = field(default_factory=list)  # published with the changes


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


@dataclass(slots=True)
class StepTimes:
    """How long one step (a task reference name; loop iterations and retries folded in) of a
    workflow type waited in its queue and ran, one entry per attempt, in milliseconds."""

    ref_name: str
    task_type: str
    queue_wait_ms: list[int] = field(default_factory=list)  # start - scheduled, attempts started
    run_ms: list[int] = field(default_factory=list)  # end - start, attempts that started and ended


@dataclass(slots=True)
class WorkflowAnalytics:
    """What `Store.workflow_analytics` answers for one workflow type and period."""

    status_counts: dict[str, int]  # every execution created in the period, by status
    sampled: int  # the executions (the most recent ones) whose timings follow
    durations_ms: list[int]  # end - create of the sampled executions that COMPLETED
    steps: list[StepTimes]


class Store(Protocol):
    # --- lifecycle -------------------------------------------------------------------------
    async def open(self) -> None:
        """Connect, check the schema (creating it on a fresh SQLite file) and start helpers."""

    async def close(self) -> None: ...

    async def ping(self) -> None:
        """Raise StorageError when the database cannot be reached."""

    def watch_definitions(self, callback: Callable[[str], None]) -> None:
        """Call `callback(kind)` on the event loop when another node may have changed stored
        definitions of a kind ('task', 'workflow', 'event_handler'; '*' for any kind, after
        notifications may have been missed). Backends serving one node never call it."""

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
        """Delete a workflow with its tasks, queue entries, logs and archived runs."""

    async def list_archived_runs(self, workflow_id: str) -> list[dict[str, Any]]:
        """The archived runs of a workflow (their Conductor Workflow JSON), oldest first."""

    async def find_workflows_by_idempotency_key(
        self, name: str, key: str
    ) -> list[tuple[str, WorkflowStatus]]:
        """(workflow id, status) of each execution of `name` started with this idempotency
        key, oldest first."""

    async def find_workflows_by_correlation_id(
        self, correlation_ids: list[str], names: list[str] | None, include_closed: bool
    ) -> list[tuple[str, str]]:
        """(workflow id, correlation id) of the executions with one of these correlation ids
        (and, when `names` is given, one of these names); only RUNNING and PAUSED ones unless
        `include_closed`. Oldest first."""

    async def list_running_workflow_ids(
        self, name: str, version: int | None, created_from: int | None, created_to: int | None
    ) -> list[str]:
        """Ids of the RUNNING and PAUSED executions of `name` (and `version` when given),
        created within [created_from, created_to] when given. Oldest first."""

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

    # --- event queue, handlers and executions ----------------------------------------------
    async def claim_events(self, now: int, limit: int, lease_ms: int) -> list[EventMessage]:
        """Lease up to `limit` visible messages (oldest first): each becomes invisible until
        now + lease_ms and its `deliveries` grows by one. Messages are published by `commit`."""

    async def ack_events(self, message_ids: list[str]) -> None:
        """Remove handled messages."""

    async def delay_event(self, message_id: str, visible_at: int) -> None:
        """Offer a leased message again at `visible_at`."""

    async def event_queue_sizes(self, queue_names: list[str]) -> dict[str, int]:
        """Messages waiting (or leased) per queue name."""

    async def wait_for_events(self, timeout_s: float) -> None:
        """Return when a commit may have published messages, or after timeout_s."""

    async def put_event_handler(
        self, name: str, event: str, doc: dict[str, Any], *, create: bool
    ) -> None:
        """Store an event handler (Conductor JSON); ConflictError if `create` and the name
        exists, NotFoundError if not `create` and it does not."""

    async def list_event_handlers(self) -> list[dict[str, Any]]: ...

    async def delete_event_handler(self, name: str) -> bool: ...

    async def add_event_execution(self, execution: EventExecution) -> str | None:
        """Record an execution unless one with its (name, id) exists: None when recorded,
        else the status of the one found (a redelivered message)."""

    async def update_event_execution(self, execution: EventExecution) -> None: ...

    async def list_event_executions(self, message_id: str) -> list[EventExecution]:
        """The executions of one message, by handler name and id."""

    # --- analytics (the web UI) -------------------------------------------------------------
    async def workflow_analytics(
        self, name: str, since: int, until: int, *, sample: int = 5_000
    ) -> WorkflowAnalytics:
        """How the executions of workflow type `name` created in [since, until) (epoch ms) fared.

        `status_counts` counts every such execution by status (exact). The timings come from a
        sample: the `sample` most recently created of them. `durations_ms` holds end_time -
        create_time of the sampled executions that are COMPLETED. `steps` has one entry per
        reference name (loop suffix `__N` removed) of the sampled executions' tasks, in any
        order, with `task_type` from any of its tasks; per attempt, `queue_wait_ms` gets
        start_time - scheduled_time when both are set, `run_ms` gets end_time - start_time
        when both are set (the tasks' scheduled_time / start_time / end_time columns). Served
        by a range scan of (name, create_time): index `ix_legato_workflows_analytics`, then the
        sample's tasks by workflow id. Portable SQL: `store/sqlite_analytics.py`. One read
        snapshot."""

    # --- search (legato.search) ------------------------------------------------------------
    async def search_workflows(self, request: SearchRequest) -> SearchPage[Workflow]:
        """One page of the workflows matching `request.where` (workflow fields; `HasTask`
        nodes test their tasks), ordered by `request.sort` then workflow id, with the exact
        number of matches. The workflows come without their tasks (`tasks` empty). The index
        is part of the commit that changes a workflow or task: a search sees every commit
        made before it. One read snapshot."""

    async def search_tasks(self, request: SearchRequest) -> SearchPage[Task]:
        """One page of the tasks matching `request.where` (task fields), ordered by
        `request.sort` then task id, with the exact number of matches. One read snapshot."""
