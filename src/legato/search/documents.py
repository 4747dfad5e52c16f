"""What a search index holds for a workflow or a task, computed the same way by every backend.

Besides columns of their own (`WorkflowColumns`), workflows and tasks each have a full-text
document with the columns of `TextColumn`. JSON input and output are flattened into text, one
`path value` pair per leaf (`{"customer": {"id": 42}}` -> `customer.id 42`), so
`input.customer.id:42` can be found as the phrase `customer id 42` in the input column. Each
column keeps its first `TEXT_LIMIT` characters. Ids (UUIDs) are left out: each would be a new
term of the index, its costliest kind of write; backends compare a word with the ids exactly.

A workflow's document exists from its start (and changes when it ends); a task's is made when
the task ends (a task that has not ended yet is found by its fields: ids, names, status,
times, correlation id; not by the words of its input).

The commit path only computes `*_text_hash` (cheap: no flattening) and stores it with the
row as the hash its document is due to have; the backend brings the document in step from the
row's storage form (`*_text(doc)`) in batches, before any search reads the index.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from legato.expr.rendering import java_string
from legato.model import Task, Workflow, WorkflowDef

TEXT_LIMIT = 32 * 1024
# Part of every hash: bump it when the text of a document is computed differently, so every
# document is rewritten at its next change (a migration rebuilds the others).
TEXT_VERSION = 1

CLASSIFIER_WORKFLOW = "workflow"
CLASSIFIER_AGENT = "agent"


def classifier_of(definition: WorkflowDef | None) -> str:
    """Conductor's WorkflowClassifier: `metadata.classifier` when set, `agent` for definitions
    compiled by Conductor-Agents (`metadata.agent_sdk` or `metadata.agentDef`), else
    `workflow`."""
    metadata = definition.metadata if definition is not None else None
    if not metadata:
        return CLASSIFIER_WORKFLOW
    explicit = metadata.get("classifier")
    if isinstance(explicit, str) and explicit.strip():
        return explicit
    if metadata.get("agent_sdk") is not None or metadata.get("agentDef") is not None:
        return CLASSIFIER_AGENT
    return CLASSIFIER_WORKFLOW


@dataclass(frozen=True, slots=True)
class WorkflowColumns:
    """The workflow's search-only columns (the others are the workflow row's own)."""

    reason: str | None
    event: str | None
    failed_ref_names: str  # comma-joined, '' when none
    classifier: str


def workflow_columns(wf: Workflow) -> WorkflowColumns:
    return WorkflowColumns(
        reason=wf.reason_for_incompletion,
        event=wf.event,
        failed_ref_names=",".join(wf.failed_reference_task_names),
        classifier=classifier_of(wf.definition),
    )


@dataclass(frozen=True, slots=True)
class TextDocument:
    keys: str
    input: str
    output: str
    reason: str


def _hash(parts: tuple[Any, ...]) -> int:
    """A stable 64-bit fingerprint (two 32-bit checksums: cheap, and this is the hot path)."""
    data = orjson.dumps((TEXT_VERSION, *parts))
    return (zlib.crc32(data) << 32 | zlib.adler32(data)) - (1 << 63)


def workflow_text_hash(wf: Workflow) -> int:
    """The fingerprint of `workflow_text(...)` of this workflow (cheap: no flattening)."""
    return _hash(
        (
            wf.workflow_name,
            wf.correlation_id,
            wf.idempotency_key,
            wf.event,
            wf.reason_for_incompletion,
            wf.input,
            wf.output,
        )
    )


def workflow_text(doc: Mapping[str, Any]) -> TextDocument:
    """The document of a workflow, from its storage form (`Workflow.to_doc()`)."""
    return TextDocument(
        keys=_join(
            doc.get("workflow_name"),
            doc.get("correlation_id"),
            doc.get("idempotency_key"),
            doc.get("event"),
        ),
        input=flatten(doc.get("input") or {}),
        output=flatten(doc.get("output") or {}),
        reason=doc.get("reason_for_incompletion") or "",
    )


def task_text_hash(task: Task) -> int | None:
    """The fingerprint of `task_text(...)` of this task; None while it has not ended (a task's
    document is written when it ends)."""
    if not task.status.terminal:
        return None
    return _hash(
        (
            task.task_type,
            task.task_def_name,
            task.reference_task_name,
            task.workflow_type,
            task.reason_for_incompletion,
            task.input_data,
            task.output_data,
        )
    )


def task_text(doc: Mapping[str, Any]) -> TextDocument:
    """The document of a task, from its storage form (`Task.to_doc()`)."""
    return TextDocument(
        keys=_join(
            doc.get("task_type"),
            doc.get("task_def_name"),
            doc.get("reference_task_name"),
            doc.get("workflow_type"),
        ),
        input=flatten(doc.get("input_data") or {}),
        output=flatten(doc.get("output_data") or {}),
        reason=doc.get("reason_for_incompletion") or "",
    )


def _join(*parts: str | None) -> str:
    return " ".join(p for p in parts if p)


def flatten(value: Any, limit: int = TEXT_LIMIT) -> str:
    """JSON as `path value` pairs, one per leaf, space-separated; at most `limit` characters."""
    out: list[str] = []
    size = 0
    for leaf in _leaves(value, ""):
        out.append(leaf)
        size += len(leaf) + 1
        if size > limit:
            break
    return " ".join(out)[:limit]


def _leaves(value: Any, path: str) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item, path)
    else:
        text = java_string(value)
        yield f"{path} {text}" if path else text
