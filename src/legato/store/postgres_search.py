"""Search on PostgreSQL: the index kept in step with each commit, searches compiled to SQL.

The same index as SQLite's (`sqlite_search`), in PostgreSQL's terms:
- the filterable columns are the same columns of `legato_workflows` / `legato_tasks`, with the
  same btree indexes;
- the full-text document of a row (`legato.search.documents`) is two `tsvector` columns of the
  row itself with GIN indexes: `search_text` (keys weighted A, input B), written when the row
  is created, and `search_result` (output C, reason D), written when it ends. A write sends
  the text with each part's hash; the database tokenizes it only when the hash differs from
  the stored one.

Words are what SQLite's FTS5 `unicode61 remove_diacritics 2` tokenizer makes of the text:
runs of letters and digits, lower-cased, diacritics removed. `words()` does that in Python
for the text written and for the words searched, and PostgreSQL's `simple` configuration then
takes them as they are. A match is a phrase (`<->`) whose words all carry the weight of one
column, so a phrase never spans two columns (as in FTS5). Ids are compared exactly, text
sorts in `COLLATE "C"` (bytewise) order, NULLs first ascending and last descending: SQLite's
answers, row for row.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg

from legato.model import Task, Workflow
from legato.search.documents import (
    TextDocument,
    task_text,
    task_text_hash,
    workflow_columns,
    workflow_text,
    workflow_text_hash,
)
from legato.search.fields import Absent, Field, Kind, TextColumn
from legato.search.nodes import And, Compare, HasTask, Match, Node, Not, Op
from legato.search.request import SearchPage, SearchRequest
from legato.store.postgres_reads import definition_of
from legato.store.snapshots import DefinitionCache

# The column mappings are SQLite's (portable SQL): one catalogue for both backends.
from legato.store.sqlite_search import _TASKS as TASKS
from legato.store.sqlite_search import _WORKFLOWS as WORKFLOWS
from legato.store.sqlite_search import _Table as Table

Conn = psycopg.AsyncConnection[Any]

_WEIGHTS = {
    TextColumn.KEYS: "A",
    TextColumn.INPUT: "B",
    TextColumn.OUTPUT: "C",
    TextColumn.REASON: "D",
}
_TEXT_TABLES = {
    "legato_workflows": ("legato_workflows_text", "workflow_id"),
    "legato_tasks": ("legato_tasks_text", "task_id"),
}


# --- the index, brought in step with the rows -------------------------------------------------
def workflow_search_values(wf: Workflow) -> dict[str, Any]:
    """The search columns of a workflow row about to be written: reason, event,
    failed_ref_names, classifier and text_due (the hash its document is due to have)."""
    columns = workflow_columns(wf)
    return {
        "reason": columns.reason,
        "event": columns.event,
        "failed_ref_names": columns.failed_ref_names,
        "classifier": columns.classifier,
        "text_due": workflow_text_hash(wf),
    }


def task_search_values(task: Task) -> dict[str, Any]:
    """The search columns of a task row about to be written (text_due: None until it ended)."""
    return {
        "workflow_type": task.workflow_type,
        "correlation_id": task.correlation_id,
        "scheduled_time": task.scheduled_time,
        "start_time": task.start_time,
        "end_time": task.end_time,
        "update_time": task.update_time,
        "reason": task.reason_for_incompletion,
        "text_due": task_text_hash(task),
    }


@dataclass(frozen=True, slots=True)
class _Documents:
    rows: str
    key: str
    texts: str
    text: Callable[[dict[str, Any]], TextDocument]


_WORKFLOW_DOCUMENTS = _Documents(
    "legato_workflows", "workflow_id", "legato_workflows_text", workflow_text
)
_TASK_DOCUMENTS = _Documents("legato_tasks", "task_id", "legato_tasks_text", task_text)

_TSV = (
    "setweight(to_tsvector('simple', %(keys)s::text), 'A')"
    " || setweight(to_tsvector('simple', %(input)s::text), 'B')"
    " || setweight(to_tsvector('simple', %(output)s::text), 'C')"
    " || setweight(to_tsvector('simple', %(reason)s::text), 'D')"
)


async def catch_up(conn: Conn, limit: int, wait: bool = False) -> int:
    """Bring up to `limit` documents that are behind their rows in step (found through the
    partial indexes `ix_*_text_behind`); how many there were. Rows another node is bringing in
    step, or a commit is changing, are skipped unless `wait` (a search waits for them)."""
    lock = "FOR UPDATE" if wait else "FOR UPDATE SKIP LOCKED"
    done = 0
    async with conn.transaction():
        for docs in (_WORKFLOW_DOCUMENTS, _TASK_DOCUMENTS):
            cur = await conn.execute(
                f"SELECT {docs.key}, text_due, doc FROM {docs.rows}"
                " WHERE text_due IS DISTINCT FROM text_hash"
                f" LIMIT %s {lock}",
                (limit - done,),
            )
            rows = await cur.fetchall()
            gone = [owner for owner, due, _doc in rows if due is None]
            present = []
            for owner, due, doc in rows:
                if due is not None:
                    text = docs.text(doc)
                    present.append(
                        {
                            "owner": owner,
                            "keys": words(text.keys),
                            "input": words(text.input),
                            "output": words(text.output),
                            "reason": words(text.reason),
                        }
                    )
            if gone:
                await conn.execute(
                    f"DELETE FROM {docs.texts} WHERE {docs.key} = ANY(%s::text[])", (gone,)
                )
            if present:
                await conn.cursor().executemany(
                    f"INSERT INTO {docs.texts} ({docs.key}, document) VALUES (%(owner)s, {_TSV})"
                    f" ON CONFLICT ({docs.key}) DO UPDATE SET document = excluded.document",
                    present,
                )
            if rows:
                await conn.execute(
                    f"UPDATE {docs.rows} SET text_hash = text_due"
                    f" WHERE {docs.key} = ANY(%s::text[])",
                    ([owner for owner, _due, _doc in rows],),
                )
            done += len(rows)
            if done >= limit:
                break
    return done


DELETE_TASK_TEXT = "DELETE FROM legato_tasks_text WHERE task_id = ANY(%s::text[])"
DELETE_TASKS_TEXT_OF = (
    "DELETE FROM legato_tasks_text"
    " WHERE task_id IN (SELECT task_id FROM legato_tasks WHERE workflow_id = %s)"
)
DELETE_WORKFLOW_TEXT = "DELETE FROM legato_workflows_text WHERE workflow_id = %s"

_SEPARATORS = re.compile(r"[\W_]+")


def words(text: str) -> str:
    """The words of `text` as FTS5's unicode61 tokenizer sees them, space-separated."""
    if not text.isascii():
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SEPARATORS.sub(" ", text).lower().strip()


# --- compiling a search ------------------------------------------------------------------------
_COMPARISONS = {Op.EQ: "=", Op.GT: ">", Op.GE: ">=", Op.LT: "<", Op.LE: "<="}
_TEXT_KINDS = (Kind.KEYWORD, Kind.LIST, Kind.TEXT)


class _Compiler:
    """A node tree -> one SQL boolean expression over a table, its values in `params`
    (SQLite's `_Compiler`, in PostgreSQL's dialect). Every expression is two-valued."""

    def __init__(self) -> None:
        self.params: list[Any] = []

    def where(self, node: Node | None, table: Table) -> str:
        return "true" if node is None else self.node(node, table)

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

    def match(self, node: Match, table: Table) -> str:
        tokens = words(node.text).split()
        tests: list[str] = []
        if tokens:
            text_columns = [node.column] if node.column is not None else list(_WEIGHTS)
            phrases = []
            for text_column in text_columns:
                weight = _WEIGHTS[text_column]
                terms = [f"'{t}':{weight}" for t in tokens]
                if node.prefix:
                    terms[-1] = f"'{tokens[-1]}':*{weight}"
                phrases.append("(" + " <-> ".join(terms) + ")")
            # One phrase per column: its words all in that column (as an FTS5 phrase).
            self.params.append(" | ".join(phrases))
            texts, key = _TEXT_TABLES[table.name]
            tests.append(
                f"{table.key} IN (SELECT x.{key} FROM {texts} AS x"
                " WHERE x.document @@ to_tsquery('simple', %s))"
            )
        if node.column is None and not node.prefix and " " not in node.text:
            for column in table.exact:  # ids are not in the text: compare them exactly
                self.params.append(node.text)
                tests.append(f"{column} IS NOT DISTINCT FROM %s")
        return "(" + " OR ".join(tests) + ")" if tests else "false"

    def compare(self, node: Compare, table: Table) -> str:
        f, op = node.field, node.op
        col = table.columns[f.key]
        if op is Op.IS_NULL:
            return _absent(f, col)
        if op is Op.IS_NOT_NULL:
            return f"NOT {_absent(f, col)}"
        if f.kind is Kind.LIST:
            return self.list_compare(node, col)
        text = f.kind in _TEXT_KINDS
        ordered = f'{col} COLLATE "C"' if text else col
        if op in (Op.NE, Op.NOT_LIKE):
            if op is Op.NE:
                self.params.append(node.values[0])
                return f"({col} IS DISTINCT FROM %s)"
            self.params.append(_like(str(node.values[0])))
            return f"NOT COALESCE({col} LIKE %s, false)"
        if op in _COMPARISONS:
            self.params.append(node.values[0])
            test = f"{ordered if op is not Op.EQ else col} {_COMPARISONS[op]} %s"
        elif op is Op.IN:
            self.params.extend(node.values)
            test = f"{col} IN ({', '.join(['%s'] * len(node.values))})"
        elif op is Op.BETWEEN:
            self.params.extend(node.values)
            test = f"{ordered} BETWEEN %s AND %s"
        elif op is Op.STARTS_WITH:
            self.params.append(_like(str(node.values[0]), wildcards=False) + "%")
            test = f"{col} LIKE %s"
        elif op is Op.LIKE:
            self.params.append(_like(str(node.values[0])))
            test = f"{col} LIKE %s"
        else:  # pragma: no cover - every operator is handled above
            raise AssertionError(op)
        present = _present(f, col)
        return f"({present} AND {test})" if present else f"({test})"

    def list_compare(self, node: Compare, col: str) -> str:
        tests = []
        for value in node.values:
            self.params.append(value)
            tests.append(f"strpos(',' || {col} || ',', ',' || %s || ',') > 0")
        test = "(" + " OR ".join(tests) + ")"
        return f"NOT {test}" if node.op is Op.NE else test

    def order_by(self, request: SearchRequest, table: Table) -> str:
        keys = []
        for k in request.sort:
            col = table.columns[k.field.key]
            if k.field.kind in _TEXT_KINDS:
                col = f'{col} COLLATE "C"'
            keys.append(f"{col} DESC NULLS LAST" if k.descending else f"{col} ASC NULLS FIRST")
        keys.append(f'{table.key} COLLATE "C" ASC')
        return ", ".join(keys)


def _absent(f: Field, col: str) -> str:
    return {
        Absent.NEVER: "false",
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


def _like(value: str, *, wildcards: bool = True) -> str:
    """A LIKE pattern matching `value` literally, its `*` as `%` when `wildcards` (what
    SQLite's GLOB pattern of the same value matches)."""
    out = []
    for ch in value:
        if ch == "*" and wildcards:
            out.append("%")
        elif ch in "%_\\":
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


# --- reading ------------------------------------------------------------------------------------
async def _page_ids(conn: Conn, request: SearchRequest, table: Table) -> tuple[int, list[str]]:
    compiler = _Compiler()
    where = compiler.where(request.where, table)
    params = compiler.params
    sql_from = f"FROM {table.name} AS {table.alias} WHERE {where}"
    cur = await conn.execute(f"SELECT COUNT(*) {sql_from}", params)
    row = await cur.fetchone()
    total = int(row[0]) if row else 0
    if request.size == 0 or request.start >= total:
        return total, []
    order = compiler.order_by(request, table)
    cur = await conn.execute(
        f"SELECT {table.key} {sql_from} ORDER BY {order} LIMIT %s OFFSET %s",
        [*params, request.size, request.start],
    )
    return total, [r[0] for r in await cur.fetchall()]


async def search_workflows(
    conn: Conn, request: SearchRequest, snapshots: DefinitionCache
) -> SearchPage[Workflow]:
    """Workflows (without their tasks) matching the request, one page, with the total."""
    async with conn.transaction():
        await conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        total, ids = await _page_ids(conn, request, WORKFLOWS)
        cur = await conn.execute(
            "SELECT workflow_id, rev, next_wake_at, def_hash, doc FROM legato_workflows"
            " WHERE workflow_id = ANY(%s::text[])",
            (ids,),
        )
        rows = await cur.fetchall()
        found: dict[str, Workflow] = {}
        for workflow_id, rev, next_wake_at, def_hash, doc in rows:
            definition = await definition_of(conn, def_hash, snapshots)
            wf = Workflow.from_doc(doc, definition, [])
            wf.rev = rev
            wf.next_wake_at = next_wake_at
            found[workflow_id] = wf
    return SearchPage(total, [found[i] for i in ids if i in found])


async def search_tasks(conn: Conn, request: SearchRequest) -> SearchPage[Task]:
    """Tasks matching the request, one page, with the total."""
    async with conn.transaction():
        await conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        total, ids = await _page_ids(conn, request, TASKS)
        cur = await conn.execute(
            "SELECT task_id, doc FROM legato_tasks WHERE task_id = ANY(%s::text[])", (ids,)
        )
        found = {task_id: Task.from_doc(doc) for task_id, doc in await cur.fetchall()}
    return SearchPage(total, [found[i] for i in ids if i in found])
