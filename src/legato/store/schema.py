"""The canonical schema, as SQLAlchemy Core metadata.

This is the schema the Alembic migrations build (a test checks that they agree); backends query
these tables with SQLAlchemy Core or, on measured hot paths, raw SQL naming the same tables.

Portability: times are epoch milliseconds in BIGINT columns; documents (`doc`) are the orjson
encoding of a model's storage form, a BLOB on SQLite and JSON on PostgreSQL (the `DOCUMENT`
type). Every constraint and index has an explicit name so migrations can refer to it.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# An orjson-encoded document: bytes on SQLite, `json` on PostgreSQL (its text as written, key
# order included: `jsonb` would reorder object keys, which shows in Conductor's renderings).
DOCUMENT = sa.LargeBinary().with_variant(postgresql.JSON(), "postgresql")
# A 64-bit surrogate key that is SQLite's rowid alias (BIGINT PRIMARY KEY would not be).
ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

metadata = sa.MetaData(
    naming_convention={
        "pk": "pk_%(table_name)s",
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)

task_defs = sa.Table(
    "legato_task_defs",
    metadata,
    sa.Column("name", sa.Text(), nullable=False),
    sa.Column("doc", DOCUMENT, nullable=False),
    sa.Column("create_time", sa.BigInteger(), nullable=False),
    sa.Column("update_time", sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint("name", name="pk_legato_task_defs"),
)

workflow_defs = sa.Table(
    "legato_workflow_defs",
    metadata,
    sa.Column("name", sa.Text(), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("doc", DOCUMENT, nullable=False),
    sa.Column("create_time", sa.BigInteger(), nullable=False),
    sa.Column("update_time", sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint("name", "version", name="pk_legato_workflow_defs"),
)

# The definition a workflow started with, shared by every workflow with the same definition.
definition_snapshots = sa.Table(
    "legato_definition_snapshots",
    metadata,
    sa.Column("hash", sa.Text(), nullable=False),
    sa.Column("doc", DOCUMENT, nullable=False),
    sa.PrimaryKeyConstraint("hash", name="pk_legato_definition_snapshots"),
)

workflows = sa.Table(
    "legato_workflows",
    metadata,
    sa.Column("workflow_id", sa.Text(), nullable=False),
    sa.Column("name", sa.Text(), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("status", sa.Text(), nullable=False),
    sa.Column("correlation_id", sa.Text(), nullable=True),
    sa.Column("parent_workflow_id", sa.Text(), nullable=True),
    sa.Column("priority", sa.Integer(), nullable=False),
    sa.Column("create_time", sa.BigInteger(), nullable=False),
    sa.Column("update_time", sa.BigInteger(), nullable=False),
    sa.Column("end_time", sa.BigInteger(), nullable=False),
    sa.Column("rev", sa.Integer(), nullable=False),
    sa.Column("next_wake_at", sa.BigInteger(), nullable=True),
    sa.Column("def_hash", sa.Text(), nullable=False),
    sa.Column("doc", DOCUMENT, nullable=False),
    # Added by 0002.
    sa.Column("idempotency_key", sa.Text(), nullable=True),
    # Added by 0002 (search): filterable fields kept out of `doc`, and the row's full-text
    # document: its rowid in legato_workflows_fts, the hash of the text it holds and the hash
    # of the text it is due to hold (`legato.search.documents`; behind while they differ).
    sa.Column("reason", sa.Text(), nullable=True),
    sa.Column("event", sa.Text(), nullable=True),
    sa.Column("failed_ref_names", sa.Text(), nullable=False, server_default=""),
    sa.Column("classifier", sa.Text(), nullable=False, server_default="workflow"),
    sa.Column("text_id", sa.BigInteger(), nullable=True),
    sa.Column("text_hash", sa.BigInteger(), nullable=True),
    sa.Column("text_due", sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint("workflow_id", name="pk_legato_workflows"),
)
_wake = workflows.c.next_wake_at
sa.Index(
    "ix_legato_workflows_next_wake_at",
    _wake,
    sqlite_where=_wake.is_not(None),
    postgresql_where=_wake.is_not(None),
)
sa.Index(
    "ix_legato_workflows_search",
    workflows.c.status,
    workflows.c.name,
    workflows.c.create_time,
)
sa.Index("ix_legato_workflows_correlation_id", workflows.c.correlation_id)
sa.Index("ix_legato_workflows_parent_workflow_id", workflows.c.parent_workflow_id)
_idem = workflows.c.idempotency_key
sa.Index(
    "ix_legato_workflows_idempotency",
    workflows.c.name,
    _idem,
    sqlite_where=_idem.is_not(None),
    postgresql_where=_idem.is_not(None),
)
# Added by 0002 (web UI): analytics per workflow type over a period, a covering range scan.
sa.Index(
    "ix_legato_workflows_analytics",
    workflows.c.name,
    workflows.c.create_time,
    workflows.c.status,
    workflows.c.end_time,
)
# Added by 0002 (search): first pages of searches by status, by start and by end time.
sa.Index("ix_legato_workflows_status_create_time", workflows.c.status, workflows.c.create_time)
sa.Index("ix_legato_workflows_create_time", workflows.c.create_time)
sa.Index("ix_legato_workflows_end_time", workflows.c.end_time)
# The rows whose full-text document is behind (few at any time: they are brought in step in
# batches), as for tasks below.
_BEHIND = "text_due IS NOT text_hash"
_BEHIND_PG = "text_due IS DISTINCT FROM text_hash"
# Full-text hits (FTS5 rowids) back to their rows; set when a document is first made.
_HAS_TEXT = "text_id IS NOT NULL"
sa.Index(
    "ix_legato_workflows_text_id",
    workflows.c.text_id,
    sqlite_where=sa.text(_HAS_TEXT),
    postgresql_where=sa.text(_HAS_TEXT),
)
sa.Index(
    "ix_legato_workflows_text_behind",
    workflows.c.text_due,
    sqlite_where=sa.text(_BEHIND),
    postgresql_where=sa.text(_BEHIND_PG),
)

tasks = sa.Table(
    "legato_tasks",
    metadata,
    sa.Column("task_id", sa.Text(), nullable=False),
    sa.Column("workflow_id", sa.Text(), nullable=False),
    sa.Column("seq", sa.Integer(), nullable=False),
    sa.Column("ref_name", sa.Text(), nullable=False),
    sa.Column("task_def_name", sa.Text(), nullable=False),
    sa.Column("task_type", sa.Text(), nullable=False),
    sa.Column("status", sa.Text(), nullable=False),
    sa.Column("doc", DOCUMENT, nullable=False),
    # Added by 0002 (search): filterable fields kept out of `doc`, and the row's full-text
    # document (once the task has ended), as for workflows.
    sa.Column("workflow_type", sa.Text(), nullable=False, server_default=""),
    sa.Column("correlation_id", sa.Text(), nullable=True),
    sa.Column("scheduled_time", sa.BigInteger(), nullable=False, server_default="0"),
    sa.Column("start_time", sa.BigInteger(), nullable=False, server_default="0"),
    sa.Column("end_time", sa.BigInteger(), nullable=False, server_default="0"),
    sa.Column("update_time", sa.BigInteger(), nullable=False, server_default="0"),
    sa.Column("reason", sa.Text(), nullable=True),
    sa.Column("text_id", sa.BigInteger(), nullable=True),
    sa.Column("text_hash", sa.BigInteger(), nullable=True),
    sa.Column("text_due", sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint("task_id", name="pk_legato_tasks"),
)
sa.Index("ix_legato_tasks_workflow_id_seq", tasks.c.workflow_id, tasks.c.seq)
# Added by 0002: counts IN_PROGRESS tasks of a definition for concurrentExecLimit.
sa.Index("ix_legato_tasks_def_status", tasks.c.task_def_name, tasks.c.status)
# Added by 0002 (search): first pages of task searches by status or by type.
sa.Index("ix_legato_tasks_status_scheduled_time", tasks.c.status, tasks.c.scheduled_time)
sa.Index("ix_legato_tasks_task_type_scheduled_time", tasks.c.task_type, tasks.c.scheduled_time)
sa.Index(
    "ix_legato_tasks_text_id",
    tasks.c.text_id,
    sqlite_where=sa.text(_HAS_TEXT),
    postgresql_where=sa.text(_HAS_TEXT),
)
sa.Index(
    "ix_legato_tasks_text_behind",
    tasks.c.text_due,
    sqlite_where=sa.text(_BEHIND),
    postgresql_where=sa.text(_BEHIND_PG),
)

# Added by 0002: hand-outs of rate-limited task definitions, for the sliding window of
# rateLimitPerFrequency / rateLimitFrequencyInSeconds. Rows older than the window are pruned.
task_handouts = sa.Table(
    "legato_task_handouts",
    metadata,
    sa.Column("id", ROW_ID, nullable=False, autoincrement=True),
    sa.Column("task_def_name", sa.Text(), nullable=False),
    sa.Column("handed_out_at", sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint("id", name="pk_legato_task_handouts"),
)
sa.Index(
    "ix_legato_task_handouts_def_time", task_handouts.c.task_def_name, task_handouts.c.handed_out_at
)

queue = sa.Table(
    "legato_queue",
    metadata,
    sa.Column("task_id", sa.Text(), nullable=False),
    sa.Column("queue_name", sa.Text(), nullable=False),
    sa.Column("workflow_id", sa.Text(), nullable=False),
    sa.Column("priority", sa.Integer(), nullable=False),
    sa.Column("visible_at", sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint("task_id", name="pk_legato_queue"),
)
# Serves the claim query exactly: WHERE queue_name = ? AND visible_at <= ?
# ORDER BY visible_at, priority DESC LIMIT ? (an index range scan, no sort).
sa.Index(
    "ix_legato_queue_claim",
    queue.c.queue_name,
    queue.c.visible_at,
    queue.c.priority.desc(),
)

task_logs = sa.Table(
    "legato_task_logs",
    metadata,
    sa.Column("id", ROW_ID, nullable=False, autoincrement=True),
    sa.Column("task_id", sa.Text(), nullable=False),
    sa.Column("log", sa.Text(), nullable=False),
    sa.Column("created_time", sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint("id", name="pk_legato_task_logs"),
)
sa.Index("ix_legato_task_logs_task_id", task_logs.c.task_id)

poll_data = sa.Table(
    "legato_poll_data",
    metadata,
    sa.Column("queue_name", sa.Text(), nullable=False),
    sa.Column("domain", sa.Text(), nullable=False),  # '' when the poll named no domain
    sa.Column("worker_id", sa.Text(), nullable=False),
    sa.Column("last_poll_time", sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint("queue_name", "domain", "worker_id", name="pk_legato_poll_data"),
)

# Added by 0002: the built-in `conductor` event queue. A row is a message published by an EVENT
# task (or the queue update API) that the event processor has not acknowledged yet; a claim
# leases it by moving `visible_at` forward, an acknowledgement deletes it.
event_messages = sa.Table(
    "legato_event_messages",
    metadata,
    sa.Column("message_id", sa.Text(), nullable=False),
    sa.Column("queue_name", sa.Text(), nullable=False),  # the event key, `conductor:<wf>:<q>`
    sa.Column("payload", DOCUMENT, nullable=False),
    sa.Column("created_time", sa.BigInteger(), nullable=False),
    sa.Column("visible_at", sa.BigInteger(), nullable=False),
    sa.Column("deliveries", sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint("message_id", name="pk_legato_event_messages"),
)
sa.Index("ix_legato_event_messages_visible_at", event_messages.c.visible_at)

# Added by 0002: event handlers (`doc` is Conductor's EventHandler JSON).
event_handlers = sa.Table(
    "legato_event_handlers",
    metadata,
    sa.Column("name", sa.Text(), nullable=False),
    sa.Column("event", sa.Text(), nullable=False),
    sa.Column("doc", DOCUMENT, nullable=False),
    sa.Column("create_time", sa.BigInteger(), nullable=False),
    sa.Column("update_time", sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint("name", name="pk_legato_event_handlers"),
)

# Added by 0002: what each handler action did with each message (`doc` is its output). The key
# makes a redelivered message's actions recognisable.
event_executions = sa.Table(
    "legato_event_executions",
    metadata,
    sa.Column("handler_name", sa.Text(), nullable=False),
    sa.Column("execution_id", sa.Text(), nullable=False),  # `<messageId>_<actionIndex>`
    sa.Column("message_id", sa.Text(), nullable=False),
    sa.Column("event", sa.Text(), nullable=False),
    sa.Column("action", sa.Text(), nullable=True),
    sa.Column("status", sa.Text(), nullable=False),
    sa.Column("created_time", sa.BigInteger(), nullable=False),
    sa.Column("doc", DOCUMENT, nullable=False),
    sa.PrimaryKeyConstraint("handler_name", "execution_id", name="pk_legato_event_executions"),
)
sa.Index("ix_legato_event_executions_message_id", event_executions.c.message_id)

# Added by 0002: earlier runs of restarted and rerun workflows (Conductor's `history`), each the
# run's Workflow JSON as it ended, numbered from 1 per workflow.
workflow_history = sa.Table(
    "legato_workflow_history",
    metadata,
    sa.Column("workflow_id", sa.Text(), nullable=False),
    sa.Column("run", sa.Integer(), nullable=False),
    sa.Column("archived_time", sa.BigInteger(), nullable=False),
    sa.Column("doc", DOCUMENT, nullable=False),
    sa.PrimaryKeyConstraint("workflow_id", "run", name="pk_legato_workflow_history"),
)


# Added by 0002 (search): the full-text index of workflows and tasks, SQLite FTS5 tables (what
# they hold: `legato.search.documents`): one row per workflow and per ended task, its rowid in
# the row's `text_id`; `owner` is the workflow / task id, the other columns those of
# `legato.search.fields.TextColumn`. SQLAlchemy cannot declare virtual tables, so they live
# outside `metadata`: the migration creates them, `metadata.create_all` does through the DDL
# event below, and `is_search_table` tells schema comparisons (and Alembic's autogenerate,
# through its `include_name` hook) to leave them, and the shadow tables FTS5 keeps for each,
# alone. PostgreSQL indexes the same text with its own full-text search instead.
SQLITE_FTS_TABLES: dict[str, str] = {
    name: f"CREATE VIRTUAL TABLE {name} USING fts5("
    "owner UNINDEXED, keys, input, output, reason, "
    "tokenize = 'unicode61 remove_diacritics 2', columnsize = 0)"
    for name in ("legato_workflows_fts", "legato_tasks_fts")
}
_FTS_SHADOWS = ("_data", "_idx", "_content", "_docsize", "_config")


def is_search_table(name: str) -> bool:
    """Whether `name` is one of the FTS5 tables (or one of their shadow tables), or one of
    PostgreSQL's full-text tables (`POSTGRES_TEXT_TABLES` below)."""
    if name in ("legato_workflows_text", "legato_tasks_text"):
        return True
    return any(name == t or name in {t + s for s in _FTS_SHADOWS} for t in SQLITE_FTS_TABLES)


# Added by 0002 (search on PostgreSQL): the same documents as `tsvector`s (keys weighted A,
# input B, output C, reason D), in a table of their own per kind of row with a GIN index,
# brought in step with `text_due` in batches like the FTS5 tables, so that the frequent updates
# of workflow and task rows never touch a GIN index. PostgreSQL only, so outside `metadata`
# like the FTS5 tables: the migration and the DDL event below make them, `is_search_table`
# covers them. See `store/postgres_search.py`.
POSTGRES_TEXT_TABLES: dict[str, str] = {
    "legato_workflows_text": "workflow_id",
    "legato_tasks_text": "task_id",
}


def postgres_text_ddl() -> list[str]:
    out = []
    for table, key in POSTGRES_TEXT_TABLES.items():
        out.append(
            f"CREATE TABLE {table} ({key} text NOT NULL, document tsvector NOT NULL,"
            f" CONSTRAINT pk_{table} PRIMARY KEY ({key}))"
        )
        out.append(f"CREATE INDEX ix_{table}_document ON {table} USING gin (document)")
    return out


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic's `include_name` hook: everything but the FTS5 tables (and PostgreSQL's
    full-text tables)."""
    if type_ == "table" and name is not None and name in POSTGRES_TEXT_TABLES:
        return False
    return not (type_ == "table" and name is not None and is_search_table(name))


def _create_postgres_search(target: sa.MetaData, connection: sa.Connection, **kw: object) -> None:
    if connection.dialect.name == "postgresql":
        for ddl in postgres_text_ddl():
            connection.exec_driver_sql(ddl)


sa.event.listen(metadata, "after_create", _create_postgres_search)


def _create_search_tables(target: sa.MetaData, connection: sa.Connection, **kw: object) -> None:
    if connection.dialect.name == "sqlite":
        for ddl in SQLITE_FTS_TABLES.values():
            connection.exec_driver_sql(ddl)


sa.event.listen(metadata, "after_create", _create_search_tables)
