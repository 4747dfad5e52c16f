"""Factories for store tests: executions and definitions with keyword overrides."""

from __future__ import annotations

import hashlib
import itertools
from typing import Any

import orjson

from legato.model import (
    Task,
    TaskStatus,
    Workflow,
    WorkflowDef,
    WorkflowStatus,
    WorkflowTask,
)
from legato.store import Changeset, QueueEntry, WorkflowWrite

_ids = itertools.count(1)
NOW = 1_700_000_000_000


def next_id(prefix: str) -> str:
    return f"{prefix}-{next(_ids)}"


def workflow_def(name: str = "order", version: int = 1, **overrides: Any) -> WorkflowDef:
    fields: dict[str, Any] = {
        "name": name,
        "version": version,
        "tasks": [
            WorkflowTask(name="charge", task_reference_name="charge"),
            WorkflowTask(name="ship", task_reference_name="ship"),
        ],
    }
    fields.update(overrides)
    return WorkflowDef(**fields)


def workflow(definition: WorkflowDef | None = None, **overrides: Any) -> Workflow:
    definition = definition or workflow_def()
    fields: dict[str, Any] = {
        "workflow_id": next_id("wf"),
        "workflow_name": definition.name,
        "workflow_version": definition.version,
        "status": WorkflowStatus.RUNNING,
        "definition": definition,
        "input": {"orderId": 7},
        "create_time": NOW,
        "update_time": NOW,
    }
    fields.update(overrides)
    return Workflow(**fields)


def task(wf: Workflow, seq: int = 1, **overrides: Any) -> Task:
    fields: dict[str, Any] = {
        "task_id": next_id("task"),
        "workflow_instance_id": wf.workflow_id,
        "task_type": "SIMPLE",
        "task_def_name": "charge",
        "reference_task_name": f"charge{seq}",
        "status": TaskStatus.SCHEDULED,
        "seq": seq,
        "workflow_type": wf.workflow_name,
        "scheduled_time": NOW,
        "update_time": NOW,
        "response_timeout_seconds": 0,
    }
    fields.update(overrides)
    return Task(**fields)


def definition_hash(definition: WorkflowDef) -> tuple[str, bytes]:
    body = orjson.dumps(definition.to_json(), option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(body).hexdigest(), body


def insert(wf: Workflow, tasks: list[Task] | None = None, **changes: Any) -> Changeset:
    """A Changeset that inserts `wf` with `tasks` (plus any other Changeset fields)."""
    h, body = definition_hash(wf.definition)
    write = WorkflowWrite(
        wf, None, new_tasks=list(tasks or []), definition_hash=h, definition_json=body
    )
    return Changeset(workflows=[write], **changes)


def update(wf: Workflow, expected_rev: int | None = None, **write_fields: Any) -> WorkflowWrite:
    rev = wf.rev if expected_rev is None else expected_rev
    return WorkflowWrite(wf, rev, **write_fields)


def entry(
    t: Task, queue_name: str = "charge", visible_at: int = NOW, priority: int = 0
) -> QueueEntry:
    return QueueEntry(t.task_id, t.workflow_instance_id, queue_name, visible_at, priority)
