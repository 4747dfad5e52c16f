"""The whole Conductor surface: idempotent starts, search, event handlers, task-level controls.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27

One migration for the additions of the Conductor-surface work; each concern has its own
function below (upgrade and downgrade), called in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out here rather than imported from schema.py: a migration is frozen history.
# PostgreSQL: `json`, which keeps a document's text as written (key order included), as SQLite
# does; `jsonb` would reorder object keys, and key order shows in Conductor's renderings.
DOCUMENT = sa.LargeBinary().with_variant(postgresql.JSON(), "postgresql")
ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _idempotency_upgrade() -> None:
    with op.batch_alter_table("legato_workflows") as batch:
        batch.add_column(sa.Column("idempotency_key", sa.Text(), nullable=True))
    key = sa.column("idempotency_key", sa.Text())
    op.create_index(
        "ix_legato_workflows_idempotency",
        "legato_workflows",
        ["name", "idempotency_key"],
        sqlite_where=key.is_not(None),
        postgresql_where=key.is_not(None),
    )


def _idempotency_downgrade() -> None:
    op.drop_index("ix_legato_workflows_idempotency", table_name="legato_workflows")
    with op.batch_alter_table("legato_workflows") as batch:
        batch.drop_column("idempotency_key")


def _controls_upgrade() -> None:
    op.create_index("ix_legato_tasks_def_status", "legato_tasks", ["task_def_name", "status"])
    op.create_table(
        "legato_task_handouts",
        sa.Column("id", ROW_ID, nullable=False, autoincrement=True),
        sa.Column("task_def_name", sa.Text(), nullable=False),
        sa.Column("handed_out_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_legato_task_handouts"),
    )
    op.create_index(
        "ix_legato_task_handouts_def_time",
        "legato_task_handouts",
        ["task_def_name", "handed_out_at"],
    )


def _controls_downgrade() -> None:
    op.drop_index("ix_legato_task_handouts_def_time", table_name="legato_task_handouts")
    op.drop_table("legato_task_handouts")
    op.drop_index("ix_legato_tasks_def_status", table_name="legato_tasks")


def _events_upgrade() -> None:
    op.create_table(
        "legato_event_messages",
        sa.Column("message_id", sa.Text(), nullable=False),
        sa.Column("queue_name", sa.Text(), nullable=False),
        sa.Column("payload", DOCUMENT, nullable=False),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.Column("visible_at", sa.BigInteger(), nullable=False),
        sa.Column("deliveries", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("message_id", name="pk_legato_event_messages"),
    )
    op.create_index("ix_legato_event_messages_visible_at", "legato_event_messages", ["visible_at"])
    op.create_table(
        "legato_event_handlers",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("event", sa.Text(), nullable=False),
        sa.Column("doc", DOCUMENT, nullable=False),
        sa.Column("create_time", sa.BigInteger(), nullable=False),
        sa.Column("update_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_legato_event_handlers"),
    )
    op.create_table(
        "legato_event_executions",
        sa.Column("handler_name", sa.Text(), nullable=False),
        sa.Column("execution_id", sa.Text(), nullable=False),
        sa.Column("message_id", sa.Text(), nullable=False),
        sa.Column("event", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.Column("doc", DOCUMENT, nullable=False),
        sa.PrimaryKeyConstraint("handler_name", "execution_id", name="pk_legato_event_executions"),
    )
    op.create_index(
        "ix_legato_event_executions_message_id", "legato_event_executions", ["message_id"]
    )


def _events_downgrade() -> None:
    op.drop_index("ix_legato_event_executions_message_id", table_name="legato_event_executions")
    op.drop_table("legato_event_executions")
    op.drop_table("legato_event_handlers")
    op.drop_index("ix_legato_event_messages_visible_at", table_name="legato_event_messages")
    op.drop_table("legato_event_messages")


def _ui_upgrade() -> None:
    op.create_index(
        "ix_legato_workflows_analytics",
        "legato_workflows",
        ["name", "create_time", "status", "end_time"],
    )


def _ui_downgrade() -> None:
    op.drop_index("ix_legato_workflows_analytics", table_name="legato_workflows")


# Search (legato.search): filterable columns, indexes and the full-text index (SQLite FTS5).
_SEARCH_WORKFLOW_COLUMNS = (
    ("reason", sa.Text(), True, None),
    ("event", sa.Text(), True, None),
    ("failed_ref_names", sa.Text(), False, ""),
    ("classifier", sa.Text(), False, "workflow"),
    ("text_id", sa.BigInteger(), True, None),
    ("text_hash", sa.BigInteger(), True, None),
    ("text_due", sa.BigInteger(), True, None),
)
_SEARCH_TASK_COLUMNS = (
    ("workflow_type", sa.Text(), False, ""),
    ("correlation_id", sa.Text(), True, None),
    ("scheduled_time", sa.BigInteger(), False, "0"),
    ("start_time", sa.BigInteger(), False, "0"),
    ("end_time", sa.BigInteger(), False, "0"),
    ("update_time", sa.BigInteger(), False, "0"),
    ("reason", sa.Text(), True, None),
    ("text_id", sa.BigInteger(), True, None),
    ("text_hash", sa.BigInteger(), True, None),
    ("text_due", sa.BigInteger(), True, None),
)
_SEARCH_INDEXES = (
    ("ix_legato_workflows_status_create_time", "legato_workflows", ["status", "create_time"]),
    ("ix_legato_workflows_create_time", "legato_workflows", ["create_time"]),
    ("ix_legato_workflows_end_time", "legato_workflows", ["end_time"]),
    ("ix_legato_tasks_status_scheduled_time", "legato_tasks", ["status", "scheduled_time"]),
    ("ix_legato_tasks_task_type_scheduled_time", "legato_tasks", ["task_type", "scheduled_time"]),
)
_SEARCH_FTS = ("legato_workflows_fts", "legato_tasks_fts")


def _search_upgrade() -> None:
    for table, columns in (
        ("legato_workflows", _SEARCH_WORKFLOW_COLUMNS),
        ("legato_tasks", _SEARCH_TASK_COLUMNS),
    ):
        with op.batch_alter_table(table) as batch:
            for name, type_, nullable, default in columns:
                batch.add_column(sa.Column(name, type_, nullable=nullable, server_default=default))
    for name, table, keys in _SEARCH_INDEXES:
        op.create_index(name, table, keys)
    for table in ("legato_workflows", "legato_tasks"):
        op.create_index(
            f"ix_{table}_text_id",
            table,
            ["text_id"],
            sqlite_where=sa.text("text_id IS NOT NULL"),
            postgresql_where=sa.text("text_id IS NOT NULL"),
        )
        op.create_index(
            f"ix_{table}_text_behind",
            table,
            ["text_due"],
            sqlite_where=sa.text("text_due IS NOT text_hash"),
            postgresql_where=sa.text("text_due IS DISTINCT FROM text_hash"),
        )
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for name in _SEARCH_FTS:
            op.execute(
                f"CREATE VIRTUAL TABLE {name} USING fts5(owner UNINDEXED, keys, input, output, "
                "reason, "
                "tokenize = 'unicode61 remove_diacritics 2', columnsize = 0)"
            )
    _search_backfill(bind)


def _search_backfill(bind: sa.Connection) -> None:
    """Fill the new columns for existing executions with the search code of this release
    (`legato.search.documents`); `text_due` marks every full-text document as behind, and the
    store brings them in step (in batches, before its first search)."""
    import orjson

    from legato.model import Task, Workflow, WorkflowDef
    from legato.search import documents as d

    def load(doc: Any) -> dict[str, Any]:
        loaded = doc if isinstance(doc, dict) else orjson.loads(bytes(doc))
        assert isinstance(loaded, dict)
        return loaded

    definitions: dict[str, WorkflowDef] = {}
    last = ""
    while True:
        rows = bind.execute(
            sa.text(
                "SELECT workflow_id, def_hash, doc FROM legato_workflows"
                " WHERE workflow_id > :last ORDER BY workflow_id LIMIT 500"
            ),
            {"last": last},
        ).fetchall()
        if not rows:
            break
        for workflow_id, def_hash, doc in rows:
            definition = definitions.get(def_hash)
            if definition is None:
                snapshot = bind.execute(
                    sa.text("SELECT doc FROM legato_definition_snapshots WHERE hash = :h"),
                    {"h": def_hash},
                ).scalar_one()
                definition = definitions[def_hash] = WorkflowDef.model_validate(load(snapshot))
            wf = Workflow.from_doc(load(doc), definition, [])
            columns = d.workflow_columns(wf)
            bind.execute(
                sa.text(
                    "UPDATE legato_workflows SET reason = :reason, event = :event,"
                    " failed_ref_names = :failed, classifier = :classifier, text_due = :due"
                    " WHERE workflow_id = :id"
                ),
                {
                    "id": workflow_id,
                    "reason": columns.reason,
                    "event": columns.event,
                    "failed": columns.failed_ref_names,
                    "classifier": columns.classifier,
                    "due": d.workflow_text_hash(wf),
                },
            )
        last = rows[-1][0]

    last = ""
    while True:
        rows = bind.execute(
            sa.text(
                "SELECT task_id, doc FROM legato_tasks WHERE task_id > :last"
                " ORDER BY task_id LIMIT 500"
            ),
            {"last": last},
        ).fetchall()
        if not rows:
            break
        for task_id, doc in rows:
            task = Task.from_doc(load(doc))
            bind.execute(
                sa.text(
                    "UPDATE legato_tasks SET workflow_type = :workflow_type,"
                    " correlation_id = :correlation_id, scheduled_time = :scheduled_time,"
                    " start_time = :start_time, end_time = :end_time,"
                    " update_time = :update_time, reason = :reason, text_due = :due"
                    " WHERE task_id = :id"
                ),
                {
                    "id": task_id,
                    "workflow_type": task.workflow_type,
                    "correlation_id": task.correlation_id,
                    "scheduled_time": task.scheduled_time,
                    "start_time": task.start_time,
                    "end_time": task.end_time,
                    "update_time": task.update_time,
                    "reason": task.reason_for_incompletion,
                    "due": d.task_text_hash(task),
                },
            )
        last = rows[-1][0]


def _search_downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in reversed(_SEARCH_FTS):
            op.execute(f"DROP TABLE {name}")
    for table in ("legato_tasks", "legato_workflows"):
        op.drop_index(f"ix_{table}_text_behind", table_name=table)
        op.drop_index(f"ix_{table}_text_id", table_name=table)
    for name, table, _columns in reversed(_SEARCH_INDEXES):
        op.drop_index(name, table_name=table)
    for table, columns in (
        ("legato_tasks", _SEARCH_TASK_COLUMNS),
        ("legato_workflows", _SEARCH_WORKFLOW_COLUMNS),
    ):
        with op.batch_alter_table(table) as batch:
            for name, *_rest in reversed(columns):
                batch.drop_column(name)


def _history_upgrade() -> None:
    op.create_table(
        "legato_workflow_history",
        sa.Column("workflow_id", sa.Text(), nullable=False),
        sa.Column("run", sa.Integer(), nullable=False),
        sa.Column("archived_time", sa.BigInteger(), nullable=False),
        sa.Column("doc", DOCUMENT, nullable=False),
        sa.PrimaryKeyConstraint("workflow_id", "run", name="pk_legato_workflow_history"),
    )


def _history_downgrade() -> None:
    op.drop_table("legato_workflow_history")


# Search on PostgreSQL: the full-text document of each workflow and task as a tsvector (keys
# A, input B, output C, reason D) in a table of its own with a GIN index, brought in step with
# `text_due` by PostgresStore (rows whose `text_hash` differs are behind).
_PG_TEXT_TABLES = (("legato_workflows_text", "workflow_id"), ("legato_tasks_text", "task_id"))


def _pg_search_upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, key in _PG_TEXT_TABLES:
        op.execute(
            f"CREATE TABLE {table} ({key} text NOT NULL, document tsvector NOT NULL,"
            f" CONSTRAINT pk_{table} PRIMARY KEY ({key}))"
        )
        op.execute(f"CREATE INDEX ix_{table}_document ON {table} USING gin (document)")


def _pg_search_downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, _key in reversed(_PG_TEXT_TABLES):
        op.execute(f"DROP TABLE {table}")


def upgrade() -> None:
    _idempotency_upgrade()
    _controls_upgrade()
    _events_upgrade()
    _ui_upgrade()
    _search_upgrade()
    _pg_search_upgrade()
    _history_upgrade()


def downgrade() -> None:
    _history_downgrade()
    _pg_search_downgrade()
    _search_downgrade()
    _ui_downgrade()
    _events_downgrade()
    _controls_downgrade()
    _idempotency_downgrade()
