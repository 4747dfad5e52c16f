"""Initial schema: definitions, snapshots, workflows, tasks, queue, task logs, poll data.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out here rather than imported from schema.py: a migration is frozen history.
# PostgreSQL: `json`, which keeps a document's text as written (key order included), as SQLite
# does; `jsonb` would reorder object keys, and key order shows in Conductor's renderings.
DOCUMENT = sa.LargeBinary().with_variant(postgresql.JSON(), "postgresql")
ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "legato_task_defs",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("doc", DOCUMENT, nullable=False),
        sa.Column("create_time", sa.BigInteger(), nullable=False),
        sa.Column("update_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_legato_task_defs"),
    )
    op.create_table(
        "legato_workflow_defs",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("doc", DOCUMENT, nullable=False),
        sa.Column("create_time", sa.BigInteger(), nullable=False),
        sa.Column("update_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", "version", name="pk_legato_workflow_defs"),
    )
    op.create_table(
        "legato_definition_snapshots",
        sa.Column("hash", sa.Text(), nullable=False),
        sa.Column("doc", DOCUMENT, nullable=False),
        sa.PrimaryKeyConstraint("hash", name="pk_legato_definition_snapshots"),
    )

    op.create_table(
        "legato_workflows",
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
        sa.PrimaryKeyConstraint("workflow_id", name="pk_legato_workflows"),
    )
    op.create_index(
        "ix_legato_workflows_next_wake_at",
        "legato_workflows",
        ["next_wake_at"],
        sqlite_where=sa.text("next_wake_at IS NOT NULL"),
        postgresql_where=sa.text("next_wake_at IS NOT NULL"),
    )
    op.create_index(
        "ix_legato_workflows_search",
        "legato_workflows",
        ["status", "name", "create_time"],
    )
    op.create_index("ix_legato_workflows_correlation_id", "legato_workflows", ["correlation_id"])
    op.create_index(
        "ix_legato_workflows_parent_workflow_id", "legato_workflows", ["parent_workflow_id"]
    )

    op.create_table(
        "legato_tasks",
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
    op.create_index("ix_legato_tasks_workflow_id_seq", "legato_tasks", ["workflow_id", "seq"])

    op.create_table(
        "legato_queue",
        sa.Column("task_id", sa.Text(), nullable=False),
        sa.Column("queue_name", sa.Text(), nullable=False),
        sa.Column("workflow_id", sa.Text(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("visible_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("task_id", name="pk_legato_queue"),
    )
    op.create_index(
        "ix_legato_queue_claim",
        "legato_queue",
        ["queue_name", "visible_at", sa.text("priority DESC")],
    )

    op.create_table(
        "legato_task_logs",
        sa.Column("id", ROW_ID, nullable=False, autoincrement=True),
        sa.Column("task_id", sa.Text(), nullable=False),
        sa.Column("log", sa.Text(), nullable=False),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_legato_task_logs"),
    )
    op.create_index("ix_legato_task_logs_task_id", "legato_task_logs", ["task_id"])

    op.create_table(
        "legato_poll_data",
        sa.Column("queue_name", sa.Text(), nullable=False),
        sa.Column("domain", sa.Text(), nullable=False),
        sa.Column("worker_id", sa.Text(), nullable=False),
        sa.Column("last_poll_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("queue_name", "domain", "worker_id", name="pk_legato_poll_data"),
    )


def downgrade() -> None:
    op.drop_table("legato_poll_data")
    op.drop_index("ix_legato_task_logs_task_id", table_name="legato_task_logs")
    op.drop_table("legato_task_logs")
    op.drop_index("ix_legato_queue_claim", table_name="legato_queue")
    op.drop_table("legato_queue")
    op.drop_index("ix_legato_tasks_workflow_id_seq", table_name="legato_tasks")
    op.drop_table("legato_tasks")
    op.drop_index("ix_legato_workflows_parent_workflow_id", table_name="legato_workflows")
    op.drop_index("ix_legato_workflows_correlation_id", table_name="legato_workflows")
    op.drop_index("ix_legato_workflows_search", table_name="legato_workflows")
    op.drop_index("ix_legato_workflows_next_wake_at", table_name="legato_workflows")
    op.drop_table("legato_workflows")
    op.drop_table("legato_definition_snapshots")
    op.drop_table("legato_workflow_defs")
    op.drop_table("legato_task_defs")
