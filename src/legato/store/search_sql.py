"""Search SQL both backends share: the search columns a write sets and the full-text documents
kept in step with them, the columns a search reads, the compiler of a search into one `WHERE`
clause with bound parameters, and the page it reads.

`sqlite_search` and `postgres_search` subclass `Compiler` with their dialect: the placeholder
and boolean literals, the null-safe comparisons, the pattern operator and its escaping, the
order of text and of NULLs, and the full-text match (FTS5 or `tsvector`). The catalogue of
columns, the walk of the node tree and the count and page queries are the same for both, so
both backends answer a search alike.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from legato.model import Task, Workflow, WorkflowDef
from legato.search.documents import (
    TextDocument,
    task_text_hash,
    workflow_columns,
    workflow_text_hash,
)
from legato.search.fields import Absent, Field, Kind
from legato.search.nodes import And, Compare, HasTask, Match, Node, Not, Op
from legato.search.request import SearchPage, SearchRequest

T = TypeVar("T")


# --- the index: search columns and full-text documents ------------------------------------------
WORKFLOW_SEARCH_COLUMNS = ("reason", "event", "failed_ref_names", "classifier", "text_due")
TASK_SEARCH_COLUMNS = (
    "workflow_type",
    "correlation_id",
    "scheduled_time",
    "start_time",
    "end_time",
    "update_time",
    "reason",
    "text_due",
)


def workflow_columns_of(wf: Workflow) -> tuple[Any, ...]:
    """The values of the search columns a workflow write sets (`WORKFLOW_SEARCH_COLUMNS`):
    reason, event, failed_ref_names, classifier, text_due (the hash its full-text document is
    due to have)."""
    columns = workflow_columns(wf)
    return (
        columns.reason,
        columns.event,
        columns.failed_ref_names,
        columns.classifier,
        workflow_text_hash(wf),
    )


def task_columns_of(task: Task) -> tuple[Any, ...]:
    """The values of the search columns a task write sets (`TASK_SEARCH_COLUMNS`):
    workflow_type, correlation_id, scheduled_time, start_time, end_time, update_time, reason,
    text_due (None until the task ended)."""
    return (
        task.workflow_type,
        task.correlation_id,
        task.scheduled_time,
        task.start_time,
        task.end_time,
        task.update_time,
        task.reason_for_incompletion,
        task_text_hash(task),
    )


@dataclass(frozen=True, slots=True)
class Documents:
    """The full-text documents of a table's rows: the table, its id column, the backend's
    table of the documents' index, and the document of a row's `doc`."""

    rows: str
    key: str
    index: str
    text: Callable[[dict[str, Any]], TextDocument]


# --- the columns a search reads -----------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Table:
    name: str
    alias: str
    key: str  # the id column
    columns: Mapping[str, str]  # field key -> SQL expression over `alias`
    exact: tuple[str, ...]  # ids a free-text word is compared with exactly (not in the text)


WORKFLOWS = Table(
    "legato_workflows",
    "w",
    "w.workflow_id",
    {
        "workflow_id": "w.workflow_id",
        "workflow_type": "w.name",
        "version": "w.version",
        "status": "w.status",
        "correlation_id": "w.correlation_id",
        "start_time": "w.create_time",
        "update_time": "w.update_time",
        "end_time": "w.end_time",
        "execution_time": "(CASE WHEN w.end_time > 0 THEN w.end_time - w.create_time ELSE 0 END)",
        "reason": "w.reason",
        "event": "w.event",
        "failed_ref_names": "w.failed_ref_names",
        "parent_workflow_id": "w.parent_workflow_id",
        "classifier": "w.classifier",
        "priority": "w.priority",
        "idempotency_key": "w.idempotency_key",
    },
    ("w.workflow_id",),  # correlation ids are words of the document's keys
)
TASKS = Table(
    "legato_tasks",
    "t",
    "t.task_id",
    {
        "task_id": "t.task_id",
        "task_type": "t.task_type",
        "task_def_name": "t.task_def_name",
        "reference_task_name": "t.ref_name",
        "status": "t.status",
        "workflow_id": "t.workflow_id",
        "workflow_type": "t.workflow_type",
        "correlation_id": "t.correlation_id",
        "scheduled_time": "t.scheduled_time",
        "start_time": "t.start_time",
        "update_time": "t.update_time",
        "end_time": "t.end_time",
        "execution_time": "(CASE WHEN t.end_time > 0 THEN t.end_time - t.start_time ELSE 0 END)",
        "queue_wait_time": (
            "(CASE WHEN t.start_time > 0 AND t.scheduled_time > 0"
            " THEN t.start_time - t.scheduled_time ELSE 0 END)"
        ),
        "reason": "t.reason",
    },
    ("t.task_id", "t.workflow_id"),
)

_COMPARISONS = {Op.EQ: "=", Op.GT: ">", Op.GE: ">=", Op.LT: "<", Op.LE: "<="}
_TEXT_KINDS = (Kind.KEYWORD, Kind.LIST, Kind.TEXT)


# --- compiling a search ------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Query:
    """A search compiled: the query counting its rows, the query of its page of ids, and the
    values of each."""

    count: str
    count_params: list[Any]
    page: str
    page_params: list[Any]


class Compiler(ABC):
    """A node tree -> one SQL boolean expression over a table, its values in `params`.

    Every expression is two-valued (never NULL), so NOT means "everything else": a row where
    the field is absent does not match `field = x` and does match `NOT field = x`. A backend
    gives its dialect in the class attributes, `pattern`, `text_order` and `match`."""

    MARK: ClassVar[str]  # a bound value
    TRUE: ClassVar[str]
    FALSE: ClassVar[str]
    IS: ClassVar[str]  # null-safe `=`
    IS_NOT: ClassVar[str]  # null-safe `!=`
    MATCHES: ClassVar[str]  # the operator of a `pattern`
    ANY: ClassVar[str]  # the wildcard of a `pattern`
    POSITION: ClassVar[str]  # the function finding a substring (1-based, 0 when absent)
    ASCENDING: ClassVar[str]  # NULLs first
    DESCENDING: ClassVar[str]  # NULLs last

    def __init__(self) -> None:
        self.params: list[Any] = []

    def query(self, request: SearchRequest, table: Table) -> Query:
        """The count and page queries of a search."""
        where = self.where(request.where, table)
        sql_from = f"FROM {table.name} AS {table.alias} WHERE {where}"
        order = self.order_by(request, table)
        return Query(
            f"SELECT COUNT(*) {sql_from}",
            self.params,
            f"SELECT {table.key} {sql_from} ORDER BY {order} LIMIT {self.MARK} OFFSET {self.MARK}",
            [*self.params, request.size, request.start],
        )

    def where(self, node: Node | None, table: Table) -> str:
        return self.TRUE if node is None else self.node(node, table)

    def node(self, node: Node, table: Table) -> str:
        if isinstance(node, Compare):
            return self.compare(node, table)
        if isinstance(node, Match):
            return self.match(node, table)
        if isinstance(node, Not):
            return f"NOT ({self.node(node.item, table)})"
        if isinstance(node, HasTask):
            inner = self.node(node.where, TASKS)
            return f"{table.key} IN (SELECT t.workflow_id FROM legato_tasks AS t WHERE {inner})"
        joiner = " AND " if isinstance(node, And) else " OR "
        return "(" + joiner.join(self.node(item, table) for item in node.items) + ")"

    @abstractmethod
    def match(self, node: Match, table: Table) -> str:
        """One full-text match (the backend's index)."""

    def exact(self, node: Match, table: Table) -> list[str]:
        """Tests of a word against the ids of `table` (ids are not in the text: they are
        compared exactly)."""
        tests = []
        for column in table.exact:
            self.params.append(node.text)
            tests.append(f"{column} {self.IS} {self.MARK}")
        return tests

    def compare(self, node: Compare, table: Table) -> str:
        f, op = node.field, node.op
        col = table.columns[f.key]
        if op is Op.IS_NULL:
            return self.absent(f, col)
        if op is Op.IS_NOT_NULL:
            return f"NOT {self.absent(f, col)}"
        if f.kind is Kind.LIST:
            return self.list_compare(node, col)
        mark = self.MARK
        if op in (Op.NE, Op.NOT_LIKE):
            # Null-safe: rows without the field match `!=` (Elasticsearch's NOT field:value).
            if op is Op.NE:
                self.params.append(node.values[0])
                return f"({col} {self.IS_NOT} {mark})"
            self.params.append(self.pattern(str(node.values[0])))
            return f"NOT COALESCE({col} {self.MATCHES} {mark}, {self.FALSE})"
        if op in _COMPARISONS:
            self.params.append(node.values[0])
            test = f"{col if op is Op.EQ else self.ordered(col, f)} {_COMPARISONS[op]} {mark}"
        elif op is Op.IN:
            self.params.extend(node.values)
            test = f"{col} IN ({', '.join([mark] * len(node.values))})"
        elif op is Op.BETWEEN:
            self.params.extend(node.values)
            test = f"{self.ordered(col, f)} BETWEEN {mark} AND {mark}"
        elif op is Op.STARTS_WITH:
            self.params.append(self.pattern(str(node.values[0]), wildcards=False) + self.ANY)
            test = f"{col} {self.MATCHES} {mark}"
        elif op is Op.LIKE:
            self.params.append(self.pattern(str(node.values[0])))
            test = f"{col} {self.MATCHES} {mark}"
        else:  # pragma: no cover - every operator is handled above
            raise AssertionError(op)
        present = _present(f, col)
        return f"({present} AND {test})" if present else f"({test})"

    def list_compare(self, node: Compare, col: str) -> str:
        tests = []
        for value in node.values:
            self.params.append(value)
            tests.append(f"{self.POSITION}(',' || {col} || ',', ',' || {self.MARK} || ',') > 0")
        test = "(" + " OR ".join(tests) + ")"
        return f"NOT {test}" if node.op is Op.NE else test

    def order_by(self, request: SearchRequest, table: Table) -> str:
        keys = []
        for k in request.sort:
            col = self.ordered(table.columns[k.field.key], k.field)
            keys.append(f"{col} {self.DESCENDING if k.descending else self.ASCENDING}")
        keys.append(f"{self.text_order(table.key)} ASC")
        return ", ".join(keys)

    def absent(self, f: Field, col: str) -> str:
        return {
            Absent.NEVER: self.FALSE,
            Absent.NULL: f"({col} IS NULL)",
            Absent.EMPTY: f"({col} IS NULL OR {col} = '')",
            Absent.ZERO: f"({col} = 0)",
        }[f.absent]

    def ordered(self, col: str, f: Field) -> str:
        """`col` as it compares and sorts: text in `text_order`."""
        return self.text_order(col) if f.kind in _TEXT_KINDS else col

    @abstractmethod
    def text_order(self, col: str) -> str:
        """A text column in bytewise order."""

    @abstractmethod
    def pattern(self, value: str, *, wildcards: bool = True) -> str:
        """A `MATCHES` pattern matching `value` literally, its `*` as `ANY` when `wildcards`."""


def _present(f: Field, col: str) -> str:
    return {
        Absent.NEVER: "",
        Absent.NULL: f"{col} IS NOT NULL",
        Absent.EMPTY: f"{col} IS NOT NULL AND {col} <> ''",
        Absent.ZERO: f"{col} <> 0",
    }[f.absent]


# --- reading ------------------------------------------------------------------------------------
WORKFLOW_ROWS = "SELECT workflow_id, rev, next_wake_at, def_hash, doc FROM legato_workflows"
TASK_ROWS = "SELECT task_id, doc FROM legato_tasks"


def workflow_of(
    doc: dict[str, Any], definition: WorkflowDef, rev: int, next_wake_at: int | None
) -> Workflow:
    """A workflow found by a search (without its tasks), from a row of `WORKFLOW_ROWS`."""
    wf = Workflow.from_doc(doc, definition, [])
    wf.rev = rev
    wf.next_wake_at = next_wake_at
    return wf


def page_of(total: int, ids: list[str], found: Mapping[str, T]) -> SearchPage[T]:
    """A page of results in the order of its ids (an id whose row has gone is left out)."""
    return SearchPage(total, [found[i] for i in ids if i in found])
