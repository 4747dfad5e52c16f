"""The searchable fields of workflows and tasks: Conductor's names, what kind of value each holds.

Backend-neutral: a backend maps each field's `key` to a column or an expression of its own and
each full-text column (`TextColumn`) to a column of its text index. The catalogs are the same
for every backend, so a query means the same thing everywhere.

Semantics every backend keeps (the contract tests check them):
- KEYWORD fields compare as exact, case-sensitive strings (binary collation); `!=` also matches
  rows where the field is absent (as Elasticsearch's `NOT field:value` does).
- `absent` says how a missing value is stored: NULL, an empty string or 0 (a time that has not
  happened yet). `IS NULL` matches exactly the absent values, comparisons never match them, and
  a sort puts them lowest (first ascending, last descending).
- TIME fields are epoch milliseconds; NUMBER fields integers.
- LIST fields hold a comma-joined list of names: `=` tests membership.
- TEXT fields live only in the full-text index: `=` is a phrase match, not equality.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from legato.errors import FieldProblem, ValidationError
from legato.model.status import TaskStatus, WorkflowStatus


class Kind(StrEnum):
    KEYWORD = "keyword"
    NUMBER = "number"
    TIME = "time"
    LIST = "list"
    TEXT = "text"


class Absent(StrEnum):
    """How a field that has no value is stored."""

    NEVER = "never"
    NULL = "null"
    EMPTY = "empty"  # NULL or ''
    ZERO = "zero"  # 0 (times that have not happened)


class TextColumn(StrEnum):
    """The columns of a full-text document (one per workflow, one per task)."""

    KEYS = "keys"  # ids, names and types
    INPUT = "input"
    OUTPUT = "output"
    REASON = "reason"


@dataclass(frozen=True, slots=True)
class Field:
    name: str  # Conductor's name, as written in queries
    kind: Kind
    key: str  # what backends map to a column or expression
    absent: Absent = Absent.NEVER
    values: frozenset[str] | None = None  # the allowed values (statuses), None: any
    text_column: TextColumn | None = None  # TEXT fields: their full-text column

    @property
    def sortable(self) -> bool:
        return self.kind is not Kind.TEXT


def _catalog(*fields: Field) -> Mapping[str, Field]:
    return {f.name: f for f in fields}


_WORKFLOW_STATUSES = frozenset(s.value for s in WorkflowStatus)
_TASK_STATUSES = frozenset(s.value for s in TaskStatus)

WORKFLOW_FIELDS: Mapping[str, Field] = _catalog(
    Field("workflowId", Kind.KEYWORD, "workflow_id"),
    Field("workflowType", Kind.KEYWORD, "workflow_type"),
    Field("version", Kind.NUMBER, "version"),
    Field("status", Kind.KEYWORD, "status", values=_WORKFLOW_STATUSES),
    Field("correlationId", Kind.KEYWORD, "correlation_id", Absent.NULL),
    Field("startTime", Kind.TIME, "start_time"),
    Field("updateTime", Kind.TIME, "update_time"),
    Field("endTime", Kind.TIME, "end_time", Absent.ZERO),
    Field("executionTime", Kind.NUMBER, "execution_time"),
    Field("reasonForIncompletion", Kind.KEYWORD, "reason", Absent.NULL),
    Field("event", Kind.KEYWORD, "event", Absent.NULL),
    Field("failedReferenceTaskNames", Kind.LIST, "failed_ref_names", Absent.EMPTY),
    Field("parentWorkflowId", Kind.KEYWORD, "parent_workflow_id", Absent.EMPTY),
    Field("classifier", Kind.KEYWORD, "classifier"),
    Field("priority", Kind.NUMBER, "priority"),
    Field("idempotencyKey", Kind.KEYWORD, "idempotency_key", Absent.NULL),
    Field("input", Kind.TEXT, "input", text_column=TextColumn.INPUT),
    Field("output", Kind.TEXT, "output", text_column=TextColumn.OUTPUT),
)

TASK_FIELDS: Mapping[str, Field] = _catalog(
    Field("taskId", Kind.KEYWORD, "task_id"),
    Field("taskType", Kind.KEYWORD, "task_type"),
    Field("taskDefName", Kind.KEYWORD, "task_def_name"),
    Field("referenceTaskName", Kind.KEYWORD, "reference_task_name"),
    Field("status", Kind.KEYWORD, "status", values=_TASK_STATUSES),
    Field("workflowId", Kind.KEYWORD, "workflow_id"),
    Field("workflowType", Kind.KEYWORD, "workflow_type"),
    Field("correlationId", Kind.KEYWORD, "correlation_id", Absent.NULL),
    Field("scheduledTime", Kind.TIME, "scheduled_time"),
    Field("startTime", Kind.TIME, "start_time", Absent.ZERO),
    Field("updateTime", Kind.TIME, "update_time"),
    Field("endTime", Kind.TIME, "end_time", Absent.ZERO),
    Field("executionTime", Kind.NUMBER, "execution_time"),
    Field("queueWaitTime", Kind.NUMBER, "queue_wait_time"),
    Field("reasonForIncompletion", Kind.KEYWORD, "reason", Absent.NULL),
    Field("input", Kind.TEXT, "input", text_column=TextColumn.INPUT),
    Field("output", Kind.TEXT, "output", text_column=TextColumn.OUTPUT),
)


@dataclass(frozen=True, slots=True)
class Catalog:
    """The fields of one kind of document, and what a search over them is called in messages."""

    what: str  # "workflow" or "task"
    fields: Mapping[str, Field]

    def lookup(self, name: str) -> Field | None:
        """The field called `name` (exact, else case-insensitive); None when there is none."""
        found = self.fields.get(name)
        if found is not None:
            return found
        folded = name.casefold()
        for field_name, f in self.fields.items():
            if field_name.casefold() == folded:
                return f
        return None

    def resolve(self, name: str, param: str, position: int | None = None) -> Field:
        """The field called `name`, or a ValidationError naming it and the valid names."""
        found = self.lookup(name)
        if found is None:
            raise unknown_field(self, name, param, position)
        return found

    def text_path(self, name: str) -> tuple[Field, tuple[str, ...]] | None:
        """`input.customer.id` -> (the input field, ("customer", "id")); None otherwise."""
        head, sep, rest = name.partition(".")
        if not sep or not rest:
            return None
        found = self.lookup(head)
        if found is None or found.kind is not Kind.TEXT:
            return None
        path = tuple(rest.split("."))
        if any(not part for part in path):
            return None
        return found, path


WORKFLOWS = Catalog("workflow", WORKFLOW_FIELDS)
TASKS = Catalog("task", TASK_FIELDS)


def unknown_field(
    catalog: Catalog, name: str, param: str, position: int | None, hint: str = ""
) -> ValidationError:
    where = f" at position {position}" if position is not None else ""
    names = ", ".join(catalog.fields)
    return ValidationError(
        f"Invalid {param}: unknown {catalog.what} search field '{name}'{where}{hint};"
        f" known fields: {names}",
        [FieldProblem(param, f"unknown field '{name}'{where}", name)],
    )
