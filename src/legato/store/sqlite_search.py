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
from collections.abc import Iterable, Sequence
from typing import Any

import orjson

from legato.errors import StorageError
from legato.model import Task, Workflow, WorkflowDef
from legato.search.documents import task_text, workflow_text
from legato.search.nodes import Match
from legato.search.request import SearchPage, SearchRequest
from legato.store import search_sql
from legato.store.search_sql import task_columns_of as task_columns_of
from legato.store.search_sql import workflow_columns_of as workflow_columns_of
from legato.store.snapshots import DefinitionCache

WORKFLOWS_FTS = "legato_workflows_fts"
TASKS_FTS = "legato_tasks_fts"


# --- the index, kept in step with each commit --------------------------------------------------
_WORKFLOW_DOCUMENTS = search_sql.Documents(
    "legato_workflows", "workflow_id", WORKFLOWS_FTS, workflow_text
)
_TASK_DOCUMENTS = search_sql.Documents("legato_tasks", "task_id", TASKS_FTS, task_text)


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
                    conn.execute(f"DELETE FROM {docs.index} WHERE rowid = ?", (text_id,))
                text_id = None
            else:
                text = docs.text(orjson.loads(doc))
                values = (text.keys, text.input, text.output, text.reason)
                cur = None
                if text_id is not None:
                    cur = conn.execute(
                        f"UPDATE {docs.index} SET keys = ?, input = ?, output = ?, reason = ?"
                        " WHERE rowid = ?",
                        (*values, text_id),
                    )
                if cur is None or cur.rowcount != 1:
                    cur = conn.execute(
                        f"INSERT INTO {docs.index} (owner, keys, input, output, reason)"
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
_FTS = {"legato_workflows": WORKFLOWS_FTS, "legato_tasks": TASKS_FTS}


class _Compiler(search_sql.Compiler):
    """`search_sql.Compiler` in SQLite's dialect: FTS5 matches, GLOB patterns."""

    MARK = "?"
    TRUE = "1"
    FALSE = "0"
    IS = "IS"
    IS_NOT = "IS NOT"
    MATCHES = "GLOB"
    ANY = "*"
    POSITION = "instr"
    ASCENDING = "ASC"
    DESCENDING = "DESC"

    def __init__(self, *, text_driven: bool = True) -> None:
        super().__init__()
        # False: a full-text hit list is only tested, never walked (see `_page_ids`).
        self.text_driven = text_driven
        self.text_queries: list[tuple[str, str]] = []  # (FTS table, query) of every match

    def match(self, node: Match, table: search_sql.Table) -> str:
        """One match: the rows whose document's rowid the FTS5 index answers (rowids only: no
        document is read), or, for a plain word, whose id is that word."""
        fts = _FTS[table.name]
        query = _fts_query(node)
        self.params.append(query)
        self.text_queries.append((fts, query))
        column = f"{'' if self.text_driven else '+'}{table.alias}.text_id"
        tests = [
            f"({column} IS NOT NULL AND {column} IN (SELECT rowid FROM {fts} WHERE {fts} MATCH ?))"
        ]
        if node.column is None and _may_be_id(node):
            tests.extend(self.exact(node, table))
        return "(" + " OR ".join(tests) + ")"

    def text_order(self, col: str) -> str:
        """Text sorts bytewise already (SQLite's BINARY collation)."""
        return col

    def pattern(self, value: str, *, wildcards: bool = True) -> str:
        return _glob(value, wildcards=wildcards)


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
    conn: sqlite3.Connection, request: SearchRequest, table: search_sql.Table
) -> tuple[int, list[str]]:
    compiler = _Compiler()
    query = compiler.query(request, table)
    (total,) = conn.execute(query.count, query.count_params).fetchone()
    if request.size == 0 or request.start >= total:
        return total, []
    if compiler.text_queries and _broad(conn, compiler.text_queries):
        # Many full-text hits: walking the sort order and testing each row against the hit
        # list finds a page sooner than sorting every hit (SQLite cannot know which is which).
        query = _Compiler(text_driven=False).query(request, table)
    rows = conn.execute(query.page, query.page_params).fetchall()
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
        total, ids = _page_ids(conn, request, search_sql.WORKFLOWS)
        rows = list(
            _by_ids(conn, f"{search_sql.WORKFLOW_ROWS} WHERE workflow_id IN ({{marks}})", ids)
        )
        definitions = {
            def_hash: _definition(conn, def_hash, snapshots) for *_, def_hash, _doc in rows
        }
    finally:
        conn.execute("COMMIT")
    found = {
        workflow_id: search_sql.workflow_of(
            orjson.loads(doc), definitions[def_hash], rev, next_wake_at
        )
        for workflow_id, rev, next_wake_at, def_hash, doc in rows
    }
    return search_sql.page_of(total, ids, found)


def search_tasks(conn: sqlite3.Connection, request: SearchRequest) -> SearchPage[Task]:
    """Tasks matching the request, one page, with the total."""
    conn.execute("BEGIN")
    try:
        total, ids = _page_ids(conn, request, search_sql.TASKS)
        rows = list(_by_ids(conn, f"{search_sql.TASK_ROWS} WHERE task_id IN ({{marks}})", ids))
    finally:
        conn.execute("COMMIT")
    found = {task_id: Task.from_doc(orjson.loads(doc)) for task_id, doc in rows}
    return search_sql.page_of(total, ids, found)


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
    query = _Compiler().query(request, search_sql.TASKS if tasks else search_sql.WORKFLOWS)
    rows = conn.execute(f"EXPLAIN QUERY PLAN {query.page}", query.page_params).fetchall()
    return [row[-1] for row in rows]
