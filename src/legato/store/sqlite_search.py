"""Search on SQLite: the index kept in step with each commit, and searches compiled to SQL.

The index lives in the primary tables:
- filterable fields are real columns of `legato_workflows` / `legato_tasks` (the search-only
  ones computed by `legato.search.documents`), written by the same statements as the row,
  with indexes for the common first pages;
- the full-text document of a workflow (from its start) or a task (once it has ended) is a row
  of the FTS5 table `legato_workflows_fts` / `legato_tasks_fts` (`owner`: the workflow or task
  id; rowid in the row's `text_id`). The commit that changes a row also sets its `text_due`,
  the hash of the text its document must hold (no extra statement: a bound value). Writing to
  FTS5 costs most per transaction (it flushes a segment at each commit), so the documents are
  not written by the commits themselves: `catch_up` brings the rows whose `text_due` differs
  from `text_hash` (a partial index holds just those) in step in batches, every 100 ms and
  before every search, on the writer. A search therefore never reads an index that is behind
  a commit made before it, and the hot path stays one statement per row.

A search (`legato.search.SearchRequest`) compiles to one `WHERE` clause with bound parameters
only (`_Compiler`): every value, pattern and full-text query travels as a parameter (a match
is always a quoted FTS5 phrase, never FTS5 syntax from the user). The count and the page are
read in one read transaction; the page first selects ids (the sorter never carries
documents), then reads the documents of those ids.

PostgreSQL: the same columns and indexes; the text of `legato.search.documents` in a
`tsvector` (GIN) with phrase queries, ids compared exactly, text in `COLLATE "C"` order and
NULLs sorted first ascending, last descending (SQLite's order), so both answer alike.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from legato.errors import StorageError
from legato.model import Task, Workflow, WorkflowDef
from legato.search.documents import (
    TextDocument,
    task_text,
    task_text_hash,
    workflow_columns,
    workflow_text,
    workflow_text_hash,
)
from legato.search.fields import Absent, Field, Kind
from legato.search.nodes import And, Compare, HasTask, Match, Node, Not, Op
from legato.search.request import SearchPage, SearchRequest
from legato.store.snapshots import DefinitionCache

WORKFLOWS_FTS = "legato_workflows_fts"
TASKS_FTS = "legato_tasks_fts"


# --- the index, kept in step with each commit --------------------------------------------------
def workflow_columns_of(wf: Workflow) -> tuple[Any, ...]:
    """The search columns a workflow write sets: reason, event, failed_ref_names, classifier,
    text_due (the hash its full-text document is due to have)."""
    columns = workflow_columns(wf)
    return (
        columns.reason,
        columns.event,
        columns.failed_ref_names,
        columns.classifier,
        workflow_text_hash(wf),
    )


def task_columns_of(task: Task) -> tuple[Any, ...]:
    """The search columns a task write sets: workflow_type, correlation_id, scheduled_time,
    start_time, end_time, update_time, reason, text_due."""
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
class _Documents:
    rows: str
    key: str
    fts: str
    text: Callable[[dict[str, Any]], TextDocument]


_WORKFLOW_DOCUMENTS = _Documents("legato_workflows", "workflow_id", WORKFLOWS_FTS, workflow_text)
_TASK_DOCUMENTS = _Documents("legato_tasks", "task_id", TASKS_FTS, task_text)


def catch_up(conn: sqlite3.Connection, limit: int = 500) -> int:
    """Bring up to `limit` full-text documents that are behind their rows in step (found
    through the partial indexes `ix_*_text_behind`); how many there were. A write job."""
    done = 0
    for docs in (_WORKFLOW_DOCUMENTS, _TASK_DOCUMENTS):
        rows = conn.execute(
            f"SELECT {docs.key}, text_id, text_due, doc FROM {docs.rows}"
            " WHERE text_due IS NOT text_hash LIMIT ?",
            (limit - done,),
        ).fetchall()
        for owner, text_id, due, doc in rows:
            if due is None:  # no document any more
                if text_id is not None:
                    conn.execute(f"DELETE FROM {docs.fts} WHERE rowid = ?", (text_id,))
                text_id = None
            else:
                text = docs.text(orjson.loads(doc))
                values = (text.keys, text.input, text.output, text.reason)
                cur = None
                if text_id is not None:
                    cur = conn.execute(
                        f"UPDATE {docs.fts} SET keys = ?, input = ?, output = ?, reason = ?"
                        " WHERE rowid = ?",
                        (*values, text_id),
                    )
                if cur is None or cur.rowcount != 1:
                    cur = conn.execute(
                        f"INSERT INTO {docs.fts} (owner, keys, input, output, reason)"
                        " VALUES (?, ?, ?, ?, ?)",
                        (owner, *values),
                    )
                    text_id = cur.lastrowid
            conn.execute(
                f"UPDATE {docs.rows} SET text_id = ?, text_hash = text_due WHERE {docs.key} = ?",
                (text_id, owner),
            )
        done += len(rows)
        if done >= limit:
            break
    return done


def remove_task_text(conn: sqlite3.Connection, task_ids: Sequence[str]) -> None:
    """Delete the full-text documents of tasks about to be deleted."""
    conn.executemany(
        f"DELETE FROM {TASKS_FTS} WHERE rowid = (SELECT text_id FROM legato_tasks"
        " WHERE task_id = ?)",
        [(task_id,) for task_id in task_ids],
    )


def remove_workflow_text(conn: sqlite3.Connection, workflow_id: str) -> None:
    """Delete the full-text documents of a workflow and its tasks (before their rows go)."""
    conn.execute(
        f"DELETE FROM {TASKS_FTS} WHERE rowid IN (SELECT text_id FROM legato_tasks"
        " WHERE workflow_id = ? AND text_id IS NOT NULL)",
        (workflow_id,),
    )
    conn.execute(
        f"DELETE FROM {WORKFLOWS_FTS} WHERE rowid ="
        " (SELECT text_id FROM legato_workflows WHERE workflow_id = ?)",
        (workflow_id,),
    )


# --- compiling a search ------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Table:
    name: str
    alias: str
    key: str  # the id column
    fts: str
    columns: Mapping[str, str]  # field key -> SQL expression over `alias`
    exact: tuple[str, ...]  # ids a free-text word is compared with exactly (not in the text)


_WORKFLOWS = _Table(
    "legato_workflows",
    "w",
    "w.workflow_id",
    WORKFLOWS_FTS,
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
_TASKS = _Table(
    "legato_tasks",
    "t",
    "t.task_id",
    TASKS_FTS,
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


class _Compiler:
    """A node tree -> one SQL boolean expression over a table, its values in `params`.

    Every expression is two-valued (never NULL), so NOT means "everything else": a row where
    the field is absent does not match `field = x` and does match `NOT field = x`."""

    def __init__(self, *, text_driven: bool = True) -> None:
        self.params: list[Any] = []
        # False: a full-text hit list is only tested, never walked (see `_page_ids`).
        self.text_driven = text_driven
        self.text_queries: list[tuple[str, str]] = []  # (FTS table, query) of every match

    def where(self, node: Node | None, table: _Table) -> str:
        return "1" if node is None else self.node(node, table)

    def node(self, node: Node, table: _Table) -> str:
        if isinstance(node, Compare):
            return self.compare(node, table)
        if isinstance(node, Match):
            return self.match(node, table)
        if isinstance(node, Not):
            return f"NOT ({self.node(node.item, table)})"
        if isinstance(node, HasTask):
            inner = self.node(node.where, _TASKS)
            return f"{table.key} IN (SELECT t.workflow_id FROM legato_tasks AS t WHERE {inner})"
        joiner = " AND " if isinstance(node, And) else " OR "
        return "(" + joiner.join(self.node(item, table) for item in node.items) + ")"

    def match(self, node: Match, table: _Table) -> str:
        """One match: the rows whose document's rowid the FTS5 index answers (rowids only: no
        document is read), or, for a plain word, whose id is that word."""
        query = _fts_query(node)
        self.params.append(query)
        self.text_queries.append((table.fts, query))
        column = f"{'' if self.text_driven else '+'}{table.alias}.text_id"
        tests = [
            f"({column} IS NOT NULL AND {column} IN "
            f"(SELECT rowid FROM {table.fts} WHERE {table.fts} MATCH ?))"
        ]
        if node.column is None and _may_be_id(node):
            for column in table.exact:  # ids are not in the text: compare them exactly
                self.params.append(node.text)
                tests.append(f"{column} IS ?")
        return "(" + " OR ".join(tests) + ")"

    def compare(self, node: Compare, table: _Table) -> str:
        f, op = node.field, node.op
        col = table.columns[f.key]
        if op is Op.IS_NULL:
            return _absent(f, col)
        if op is Op.IS_NOT_NULL:
            return f"NOT {_absent(f, col)}"
        if f.kind is Kind.LIST:
            return self.list_compare(node, col)
        if op in (Op.NE, Op.NOT_LIKE):
            # Null-safe: rows without the field match `!=` (Elasticsearch's NOT field:value).
            if op is Op.NE:
                self.params.append(node.values[0])
                return f"({col} IS NOT ?)"
            self.params.append(_glob(str(node.values[0])))
            return f"NOT COALESCE({col} GLOB ?, 0)"
        if op in _COMPARISONS:
            self.params.append(node.values[0])
            test = f"{col} {_COMPARISONS[op]} ?"
        elif op is Op.IN:
            self.params.extend(node.values)
            test = f"{col} IN ({', '.join('?' * len(node.values))})"
        elif op is Op.BETWEEN:
            self.params.extend(node.values)
            test = f"{col} BETWEEN ? AND ?"
        elif op is Op.STARTS_WITH:
            self.params.append(_glob(str(node.values[0]), wildcards=False) + "*")
            test = f"{col} GLOB ?"
        elif op is Op.LIKE:
            self.params.append(_glob(str(node.values[0])))
            test = f"{col} GLOB ?"
        else:  # pragma: no cover - every operator is handled above
            raise AssertionError(op)
        present = _present(f, col)
        return f"({present} AND {test})" if present else f"({test})"

    def list_compare(self, node: Compare, col: str) -> str:
        tests = []
        for value in node.values:
            self.params.append(value)
            tests.append(f"instr(',' || {col} || ',', ',' || ? || ',') > 0")
        test = "(" + " OR ".join(tests) + ")"
        return f"NOT {test}" if node.op is Op.NE else test

    def order_by(self, request: SearchRequest, table: _Table) -> str:
        keys = [
            f"{table.columns[k.field.key]} {'DESC' if k.descending else 'ASC'}"
            for k in request.sort
        ]
        keys.append(f"{table.key} ASC")
        return ", ".join(keys)


def _absent(f: Field, col: str) -> str:
    return {
        Absent.NEVER: "0",
        Absent.NULL: f"({col} IS NULL)",
        Absent.EMPTY: f"({col} IS NULL OR {col} = '')",
        Absent.ZERO: f"({col} = 0)",
    }[f.absent]


def _present(f: Field, col: str) -> str:
    return {
        Absent.NEVER: "",
        Absent.NULL: f"{col} IS NOT NULL",
        Absent.EMPTY: f"{col} IS NOT NULL AND {col} <> ''",
        Absent.ZERO: f"{col} <> 0",
    }[f.absent]


def _glob(value: str, *, wildcards: bool = True) -> str:
    """A GLOB pattern matching `value` literally, its `*` as wildcards when `wildcards`."""
    out = []
    for ch in value:
        if ch == "*" and wildcards:
            out.append("*")
        elif ch in "*?[":
            out.append(f"[{ch}]")
        else:
            out.append(ch)
    return "".join(out)


def _may_be_id(node: Match) -> bool:
    """Whether a word may be an id (ids have digits: UUIDs, `wf-3`); a plain word like
    `charlie` is left to the index alone, which keeps its plan a single index lookup."""
    text = node.text
    return not node.prefix and " " not in text and any(ch.isdigit() for ch in text)


def _fts_query(node: Match) -> str:
    """One match as an FTS5 query: a quoted phrase (never FTS5 syntax from the user)."""
    phrase = '"' + node.text.replace('"', '""') + '"'
    if node.prefix:
        phrase += " *"
    return f"{node.column.value} : {phrase}" if node.column is not None else phrase


# --- reading ------------------------------------------------------------------------------------
def _page_ids(
    conn: sqlite3.Connection, request: SearchRequest, table: _Table
) -> tuple[int, list[str]]:
    compiler = _Compiler()
    where = compiler.where(request.where, table)
    params = compiler.params
    sql_from = f"FROM {table.name} AS {table.alias} WHERE {where}"
    (total,) = conn.execute(f"SELECT COUNT(*) {sql_from}", params).fetchone()
    if request.size == 0 or request.start >= total:
        return total, []
    if compiler.text_queries and _broad(conn, compiler.text_queries):
        # Many full-text hits: walking the sort order and testing each row against the hit
        # list finds a page sooner than sorting every hit (SQLite cannot know which is which).
        compiler = _Compiler(text_driven=False)
        where = compiler.where(request.where, table)
        params = compiler.params
        sql_from = f"FROM {table.name} AS {table.alias} WHERE {where}"
    order = compiler.order_by(request, table)
    rows = conn.execute(
        f"SELECT {table.key} {sql_from} ORDER BY {order} LIMIT ? OFFSET ?",
        [*params, request.size, request.start],
    ).fetchall()
    return total, [row[0] for row in rows]


_BROAD_HITS = 2000


def _broad(conn: sqlite3.Connection, queries: list[tuple[str, str]]) -> bool:
    """Whether every full-text match of a search has many hits (counting them reads doclists
    only: fast)."""
    for fts, query in queries:
        (hits,) = conn.execute(
            f"SELECT COUNT(*) FROM {fts} WHERE {fts} MATCH ?", (query,)
        ).fetchone()
        if hits <= _BROAD_HITS:
            return False
    return True


def _by_ids(conn: sqlite3.Connection, sql: str, ids: list[str]) -> Iterable[tuple[Any, ...]]:
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        yield from conn.execute(sql.format(marks=", ".join("?" * len(chunk))), chunk).fetchall()


def search_workflows(
    conn: sqlite3.Connection, request: SearchRequest, snapshots: DefinitionCache
) -> SearchPage[Workflow]:
    """Workflows (without their tasks) matching the request, one page, with the total."""
    conn.execute("BEGIN")
    try:
        total, ids = _page_ids(conn, request, _WORKFLOWS)
        rows = list(
            _by_ids(
                conn,
                "SELECT workflow_id, rev, next_wake_at, def_hash, doc FROM legato_workflows"
                " WHERE workflow_id IN ({marks})",
                ids,
            )
        )
        definitions = {
            def_hash: _definition(conn, def_hash, snapshots) for *_, def_hash, _doc in rows
        }
    finally:
        conn.execute("COMMIT")
    found: dict[str, Workflow] = {}
    for workflow_id, rev, next_wake_at, def_hash, doc in rows:
        wf = Workflow.from_doc(orjson.loads(doc), definitions[def_hash], [])
        wf.rev = rev
        wf.next_wake_at = next_wake_at
        found[workflow_id] = wf
    return SearchPage(total, [found[i] for i in ids if i in found])


def search_tasks(conn: sqlite3.Connection, request: SearchRequest) -> SearchPage[Task]:
    """Tasks matching the request, one page, with the total."""
    conn.execute("BEGIN")
    try:
        total, ids = _page_ids(conn, request, _TASKS)
        rows = list(
            _by_ids(conn, "SELECT task_id, doc FROM legato_tasks WHERE task_id IN ({marks})", ids)
        )
    finally:
        conn.execute("COMMIT")
    found = {task_id: Task.from_doc(orjson.loads(doc)) for task_id, doc in rows}
    return SearchPage(total, [found[i] for i in ids if i in found])


def _definition(conn: sqlite3.Connection, def_hash: str, snapshots: DefinitionCache) -> WorkflowDef:
    definition = snapshots.get(def_hash)
    if definition is None:
        row = conn.execute(
            "SELECT doc FROM legato_definition_snapshots WHERE hash = ?", (def_hash,)
        ).fetchone()
        if row is None:
            raise StorageError(f"Definition snapshot {def_hash} is missing")
        definition = WorkflowDef.model_validate_json(row[0])
        snapshots.put(def_hash, definition)
    return definition


def explain(conn: sqlite3.Connection, request: SearchRequest, *, tasks: bool = False) -> list[str]:
    """SQLite's plan of the page query of a search (for benchmarks and index tuning)."""
    table = _TASKS if tasks else _WORKFLOWS
    compiler = _Compiler()
    where = compiler.where(request.where, table)
    order = compiler.order_by(request, table)
    sql = (
        f"EXPLAIN QUERY PLAN SELECT {table.key} FROM {table.name} AS {table.alias}"
        f" WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?"
    )
    rows = conn.execute(sql, [*compiler.params, request.size, request.start]).fetchall()
    return [row[-1] for row in rows]
