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
from typing import Any

import psycopg

from legato.model import Task, Workflow
from legato.search.documents import task_text, workflow_text
from legato.search.fields import TextColumn
from legato.search.nodes import Match
from legato.search.request import SearchPage, SearchRequest
from legato.store import search_sql
from legato.store.postgres_reads import definition_of
from legato.store.snapshots import DefinitionCache

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
    """The search columns of a workflow row about to be written, by name: reason, event,
    failed_ref_names, classifier and text_due (the hash its document is due to have)."""
    return dict(
        zip(search_sql.WORKFLOW_SEARCH_COLUMNS, search_sql.workflow_columns_of(wf), strict=True)
    )


def task_search_values(task: Task) -> dict[str, Any]:
    """The search columns of a task row about to be written, by name (text_due: None until it
    ended)."""
    return dict(zip(search_sql.TASK_SEARCH_COLUMNS, search_sql.task_columns_of(task), strict=True))


_WORKFLOW_DOCUMENTS = search_sql.Documents(
    "legato_workflows", "workflow_id", "legato_workflows_text", workflow_text
)
_TASK_DOCUMENTS = search_sql.Documents("legato_tasks", "task_id", "legato_tasks_text", task_text)

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
                    f"DELETE FROM {docs.index} WHERE {docs.key} = ANY(%s::text[])", (gone,)
                )
            if present:
                await conn.cursor().executemany(
                    f"INSERT INTO {docs.index} ({docs.key}, document) VALUES (%(owner)s, {_TSV})"
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
class _Compiler(search_sql.Compiler):
    """`search_sql.Compiler` in PostgreSQL's dialect: `tsvector` matches, LIKE patterns, text in
    `COLLATE "C"` order and NULLs sorted as SQLite sorts them."""

    MARK = "%s"
    TRUE = "true"
    FALSE = "false"
    IS = "IS NOT DISTINCT FROM"
    IS_NOT = "IS DISTINCT FROM"
    MATCHES = "LIKE"
    ANY = "%"
    POSITION = "strpos"
    ASCENDING = "ASC NULLS FIRST"
    DESCENDING = "DESC NULLS LAST"

    def match(self, node: Match, table: search_sql.Table) -> str:
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
            tests.extend(self.exact(node, table))
        return "(" + " OR ".join(tests) + ")" if tests else "false"

    def text_order(self, col: str) -> str:
        return f'{col} COLLATE "C"'

    def pattern(self, value: str, *, wildcards: bool = True) -> str:
        return _like(value, wildcards=wildcards)


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
async def _page_ids(
    conn: Conn, request: SearchRequest, table: search_sql.Table
) -> tuple[int, list[str]]:
    query = _Compiler().query(request, table)
    cur = await conn.execute(query.count, query.count_params)
    row = await cur.fetchone()
    total = int(row[0]) if row else 0
    if request.size == 0 or request.start >= total:
        return total, []
    cur = await conn.execute(query.page, query.page_params)
    return total, [r[0] for r in await cur.fetchall()]


async def search_workflows(
    conn: Conn, request: SearchRequest, snapshots: DefinitionCache
) -> SearchPage[Workflow]:
    """Workflows (without their tasks) matching the request, one page, with the total."""
    async with conn.transaction():
        await conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        total, ids = await _page_ids(conn, request, search_sql.WORKFLOWS)
        cur = await conn.execute(
            f"{search_sql.WORKFLOW_ROWS} WHERE workflow_id = ANY(%s::text[])", (ids,)
        )
        found: dict[str, Workflow] = {}
        for workflow_id, rev, next_wake_at, def_hash, doc in await cur.fetchall():
            definition = await definition_of(conn, def_hash, snapshots)
            found[workflow_id] = search_sql.workflow_of(doc, definition, rev, next_wake_at)
    return search_sql.page_of(total, ids, found)


async def search_tasks(conn: Conn, request: SearchRequest) -> SearchPage[Task]:
    """Tasks matching the request, one page, with the total."""
    async with conn.transaction():
        await conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        total, ids = await _page_ids(conn, request, search_sql.TASKS)
        cur = await conn.execute(f"{search_sql.TASK_ROWS} WHERE task_id = ANY(%s::text[])", (ids,))
        found = {task_id: Task.from_doc(doc) for task_id, doc in await cur.fetchall()}
    return search_sql.page_of(total, ids, found)
