"""Group commit for PostgreSQL: Changesets that arrive together share one statement.

A commit calls the database function `legato_commit` (migration 0003) with every Changeset
waiting to be committed: one statement on an autocommit connection is one round trip and one
transaction, whatever the number of Changesets. The function checks each set's workflow
revisions and applies the sets that pass; a set that fails (another node, or a claim, changed
its workflow) changes nothing and its caller alone gets `RevisionConflict`.

While `max_in_flight` groups are at the database, further commits wait and go out together in
the next group: under load a group carries many Changesets, and a lone commit goes at once.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
import psycopg
from psycopg import errors as pg_errors

from legato.errors import ConflictError, IdempotencyRace, LegatoError, RevisionConflict
from legato.model import Task, Workflow
from legato.store import postgres_search as search
from legato.store.base import Changeset
from legato.store.postgres_notify import QUEUE_CHANNEL, events_payload, queue_payloads
from legato.store.snapshots import DefinitionCache

Conn = psycopg.AsyncConnection[Any]
# Runs a function of a pooled connection (PostgresStore._run): retried once on a fresh
# connection when the connection fails, database errors become LegatoErrors.
Runner = Callable[[Callable[[Conn], Awaitable[list[str]]]], Awaitable[list[str]]]

_CALL = "SELECT legato_commit(%s::jsonb, %s::json, %s::json, %s::json, %s::json)"
_MISSING_TASK = "LG001"  # raised by legato_commit: an updated task does not exist


class CommitSet:
    """One Changeset in the parts `legato_commit` takes (rows without their set number)."""

    __slots__ = (
        "archived",
        "checks",
        "dequeue",
        "enqueue",
        "events",
        "future",
        "keys",
        "locks",
        "logs",
        "new_tasks",
        "removed",
        "snapshots",
        "updated_tasks",
        "workflow_ids",
        "workflows",
    )

    def __init__(self, changes: Changeset, snapshots: DefinitionCache) -> None:
        new_ids = {t.task_id for w in changes.workflows for t in w.new_tasks}
        self.removed = [tid for w in changes.workflows for tid in w.removed_task_ids]
        self.dequeue = sorted(
            {
                *changes.dequeue,
                *self.removed,
                *(e.task_id for e in changes.enqueue if e.task_id not in new_ids),
            }
        )
        self.locks = {t.task_id for w in changes.workflows for t in w.updated_tasks}.union(
            self.dequeue
        )
        self.checks: list[tuple[str, int | None]] = []
        self.workflows: list[dict[str, Any]] = []
        self.new_tasks: list[dict[str, Any]] = []
        self.updated_tasks: list[dict[str, Any]] = []
        self.snapshots: list[tuple[str, orjson.Fragment]] = []
        self.archived: list[tuple[str, int, int, Any]] = []
        for write in changes.workflows:
            wf = write.workflow
            if write.expected_rev is None and not write.definition_hash:
                raise ValueError(f"inserting workflow {wf.workflow_id} needs a definition_hash")
            if write.definition_hash and write.definition_hash not in snapshots:
                body = write.definition_json or orjson.dumps(wf.definition.to_json())
                self.snapshots.append((write.definition_hash, orjson.Fragment(body)))
            self.checks.append((wf.workflow_id, write.expected_rev))
            row = _workflow_row(wf, write.definition_hash)
            row["expected_rev"] = write.expected_rev
            self.workflows.append(row)
            self.new_tasks.extend(_task_row(t) for t in write.new_tasks)
            self.updated_tasks.extend(_task_row(t) for t in write.updated_tasks)
            self.archived.extend(
                (wf.workflow_id, r.run, r.archived_time, r.doc) for r in write.archived_runs
            )
        self.workflow_ids = {wf_id for wf_id, _rev in self.checks}
        # Inserts with an idempotency key: checked for a running twin started elsewhere.
        self.keys = [
            (w.workflow.workflow_id, w.workflow.workflow_name, w.workflow.idempotency_key)
            for w in changes.workflows
            if w.expected_rev is None and w.workflow.idempotency_key
        ]
        self.enqueue = changes.enqueue
        self.logs = [(g.task_id, g.log, g.created_time) for g in changes.logs]
        self.events = [
            (m.message_id, m.queue_name, m.payload, m.created_time) for m in changes.events
        ]
        self.future: asyncio.Future[None] | None = None


class GroupCommitter:
    def __init__(self, run: Runner, node_id: str, *, max_in_flight: int, max_sets: int) -> None:
        self._run = run
        self._node_id = node_id
        self._max_in_flight = max(max_in_flight, 1)
        self._max_sets = max(max_sets, 1)
        self._waiting: deque[CommitSet] = deque()
        self._in_flight = 0
        self._drains: set[asyncio.Task[None]] = set()
        # Counters (read by benchmarks and tests): calls made and sets committed.
        self.calls = 0
        self.sets = 0

    async def commit(self, item: CommitSet) -> None:
        """Commit one set with whatever else is waiting; raises what its set met."""
        item.future = asyncio.get_running_loop().create_future()
        self._waiting.append(item)
        if self._in_flight < self._max_in_flight:
            self._in_flight += 1
            drain = asyncio.create_task(self._drain(), name="legato-pg-commit")
            self._drains.add(drain)
            drain.add_done_callback(self._drains.discard)
        try:
            await asyncio.shield(item.future)
        except asyncio.CancelledError:
            # Not sent yet: it never will be. Sent: it commits or not, as a lost answer would
            # (and its outcome, which nobody waits for now, is dropped).
            if item in self._waiting:
                self._waiting.remove(item)
            else:
                item.future.add_done_callback(_drop_outcome)
            raise

    async def close(self) -> None:
        """Wait for the groups at the database to finish."""
        if self._drains:
            await asyncio.gather(*self._drains, return_exceptions=True)

    async def _drain(self) -> None:
        try:
            while self._waiting:
                await self._commit_group(self._next_group())
        finally:
            self._in_flight -= 1

    def _next_group(self) -> list[CommitSet]:
        """The waiting sets to commit together, in order; a set that writes a workflow an
        earlier one of the group writes waits for the next group (it would fail its check)."""
        group: list[CommitSet] = []
        touched: set[str] = set()
        deferred: list[CommitSet] = []
        while self._waiting and len(group) < self._max_sets:
            item = self._waiting.popleft()
            if touched.isdisjoint(item.workflow_ids):
                touched.update(item.workflow_ids)
                group.append(item)
            else:
                deferred.append(item)
        self._waiting.extendleft(reversed(deferred))
        return group

    async def _commit_group(self, group: list[CommitSet]) -> None:
        try:
            outcomes = await self._run(_Call(self._payload(group)))
        except ConflictError as exc:
            if len(group) == 1:
                _settle(group[0], exc)
                return
            # Something only one set can have caused (a task gone, a duplicate id): each
            # set alone, so that only the culprit fails.
            for item in group:
                await self._commit_group([item])
            return
        except Exception as exc:
            for item in group:
                _settle(item, exc)
            return
        except BaseException as exc:
            for item in group:
                _settle(item, LegatoError(f"the commit was interrupted: {exc!r}"))
            raise
        self.calls += 1
        for item, outcome in zip(group, outcomes, strict=True):
            if outcome == "ok":
                self.sets += 1
                _settle(item, None)
            elif outcome.startswith("exists "):
                _settle(item, ConflictError(f"Workflow already exists ({outcome[7:]})"))
            elif outcome.startswith("duplicate "):
                _settle(item, IdempotencyRace(f"Workflow {outcome[10:]} has the same key"))
            else:
                workflow_id = outcome.partition(" ")[2]
                _settle(item, RevisionConflict(f"Workflow {workflow_id} changed (or is gone)"))

    def _payload(self, group: list[CommitSet]) -> _Payload:
        meta: dict[str, Any] = {"n": len(group), "retry": False}
        checks: list[tuple[int, str, int | None]] = []
        keys: list[tuple[Any, ...]] = []
        locks: set[str] = set()
        workflows: list[dict[str, Any]] = []
        new_tasks: list[dict[str, Any]] = []
        updated_tasks: list[dict[str, Any]] = []
        extras: dict[str, list[Any]] = {"snapshots": [], "archived": [], "events": []}
        lists: dict[str, list[Any]] = {"dequeue": [], "enqueue": [], "removed": [], "logs": []}
        for i, item in enumerate(group):
            checks.extend((i, wf_id, rev) for wf_id, rev in item.checks)
            keys.extend((i, *k) for k in item.keys)
            locks.update(item.locks)
            for rows, out in (
                (item.workflows, workflows),
                (item.new_tasks, new_tasks),
                (item.updated_tasks, updated_tasks),
            ):
                for row in rows:
                    row["s"] = i
                out.extend(rows)
            lists["dequeue"].extend((i, tid) for tid in item.dequeue)
            lists["removed"].extend((i, tid) for tid in item.removed)
            lists["enqueue"].extend((i, *e.row()) for e in item.enqueue)
            lists["logs"].extend((i, *g) for g in item.logs)
            extras["snapshots"].extend((i, *x) for x in item.snapshots)
            extras["archived"].extend((i, *x) for x in item.archived)
            extras["events"].extend((i, *x) for x in item.events)
        meta["checks"] = checks
        if keys:
            meta["keys"] = keys
        meta["locks"] = sorted(locks)
        meta["updates"] = [len(item.updated_tasks) for item in group]
        for key, rows in lists.items():
            if rows:
                meta[key] = rows
        entries = [e for item in group for e in item.enqueue]
        notify = [(QUEUE_CHANNEL, p) for p in queue_payloads(self._node_id, entries, _now_ms())]
        if extras["events"]:
            notify.append(events_payload(self._node_id))
        if notify:
            meta["notify"] = notify
        return _Payload(
            meta,
            _json_or_none(workflows),
            _json_or_none(new_tasks),
            _json_or_none(updated_tasks),
            _json_or_none(extras) if any(extras.values()) else None,
        )


class _Payload:
    """The arguments of one `legato_commit` call: `meta` (encoded per call, since a retry
    says so in it) and the encoded rows."""

    __slots__ = ("extras", "meta", "new_tasks", "updated_tasks", "workflows")

    def __init__(
        self,
        meta: dict[str, Any],
        workflows: str | None,
        new_tasks: str | None,
        updated_tasks: str | None,
        extras: str | None,
    ) -> None:
        self.meta = meta
        self.workflows = workflows
        self.new_tasks = new_tasks
        self.updated_tasks = updated_tasks
        self.extras = extras


class _Call:
    """`legato_commit` with a payload; called again after a lost answer, it says so (retry)."""

    __slots__ = ("attempts", "payload")

    def __init__(self, payload: _Payload) -> None:
        self.payload = payload
        self.attempts = 0

    async def __call__(self, conn: Conn) -> list[str]:
        self.attempts += 1
        p = self.payload
        p.meta["retry"] = self.attempts > 1
        args = (orjson.dumps(p.meta).decode(), p.workflows, p.new_tasks, p.updated_tasks, p.extras)
        try:
            cur = await conn.execute(_CALL, args)
        except pg_errors.UniqueViolation as exc:
            raise _unique_conflict(exc) from exc
        except psycopg.DatabaseError as exc:
            if exc.sqlstate == _MISSING_TASK:
                raise ConflictError(f"An updated task does not exist: {exc}") from exc
            raise
        row = await cur.fetchone()
        return list(row[0]) if row else []


def _json_or_none(rows: Any) -> str | None:
    return orjson.dumps(rows).decode() if rows else None


def _drop_outcome(future: asyncio.Future[None]) -> None:
    if not future.cancelled():
        future.exception()


def _settle(item: CommitSet, error: BaseException | None) -> None:
    future = item.future
    if future is None or future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)


def _workflow_row(wf: Workflow, def_hash: str) -> dict[str, Any]:
    return {
        "workflow_id": wf.workflow_id,
        "name": wf.workflow_name,
        "version": wf.workflow_version,
        "status": wf.status.value,
        "correlation_id": wf.correlation_id,
        "parent_workflow_id": wf.parent_workflow_id,
        "priority": wf.priority,
        "create_time": wf.create_time,
        "update_time": wf.update_time,
        "end_time": wf.end_time,
        "next_wake_at": wf.next_wake_at,
        "def_hash": def_hash,
        "doc": wf.to_doc(),
        "idempotency_key": wf.idempotency_key,
        **search.workflow_search_values(wf),
    }


def _task_row(t: Task) -> dict[str, Any]:
    return {
        "task_id": t.task_id,
        "workflow_id": t.workflow_instance_id,
        "seq": t.seq,
        "ref_name": t.reference_task_name,
        "task_def_name": t.task_def_name,
        "task_type": t.task_type,
        "status": t.status.value,
        "doc": t.to_doc(),
        **search.task_search_values(t),
    }


def _unique_conflict(exc: pg_errors.UniqueViolation) -> ConflictError:
    constraint = exc.diag.constraint_name or ""
    detail = exc.diag.message_detail or ""
    if constraint == "pk_legato_workflows":
        return ConflictError(f"Workflow already exists ({detail})")
    if constraint == "pk_legato_tasks":
        return ConflictError(f"A task already exists ({detail})")
    return ConflictError(f"Conflicting write ({constraint}: {detail})")


def _now_ms() -> int:
    return int(time.time() * 1000)
