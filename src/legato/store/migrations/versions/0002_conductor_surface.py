"""The whole Conductor surface: idempotent starts, search, event handlers, task-level controls.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27

One migration for the additions of the Conductor-surface work; each concern has its own
function below (upgrade and downgrade), called in order.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out here rather than imported from schema.py: a migration is frozen history.
DOCUMENT = sa.LargeBinary().with_variant(postgresql.JSONB(), "postgresql")
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


def upgrade() -> None:
    _idempotency_upgrade()
    _controls_upgrade()


def downgrade() -> None:
    _controls_downgrade()
    _idempotency_downgrade()
