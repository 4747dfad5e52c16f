"""The canonical schema, as SQLAlchemy Core metadata.

This is the schema the Alembic migrations build (a test checks that they agree); backends query
these tables with SQLAlchemy Core or, on measured hot paths, raw SQL naming the same tables.

Portability: times are epoch milliseconds in BIGINT columns; documents (`doc`) are the orjson
encoding of a model's storage form, a BLOB on SQLite and JSONB on PostgreSQL (the `DOCUMENT`
type). Every constraint and index has an explicit name so migrations can refer to it.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# An orjson-encoded document: bytes on SQLite, JSONB on PostgreSQL.
DOCUMENT = sa.LargeBinary().with_variant(postgresql.JSONB(), "postgresql")
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
    sa.PrimaryKeyConstraint("task_id", name="pk_legato_tasks"),
)
sa.Index("ix_legato_tasks_workflow_id_seq", tasks.c.workflow_id, tasks.c.seq)
# Added by 0002: counts IN_PROGRESS tasks of a definition for concurrentExecLimit.
sa.Index("ix_legato_tasks_def_status", tasks.c.task_def_name, tasks.c.status)

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
