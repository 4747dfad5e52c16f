"""Persistence: the Store protocol and its backends."""

from __future__ import annotations

from typing import Any

from legato.store.base import (
    Changeset,
    ClaimedTask,
    QueueEntry,
    Store,
    TaskLog,
    WorkflowWrite,
)
from legato.store.sqlite import SqliteStore


def store_for_url(url: str, **options: Any) -> Store:
    """The backend for a database URL (not opened yet): `sqlite:///path.db` or
    `postgresql://user@host/database`. Options are the backend's keyword arguments."""
    scheme = url.partition("://")[0].split("+", 1)[0].lower()
    if scheme == "sqlite":
        return SqliteStore(url, **options)
    if scheme in ("postgresql", "postgres"):
        from legato.store.postgres import PostgresStore  # psycopg only when asked for

        return PostgresStore(url, **options)
    raise ValueError(
        f"no store backend for {url!r} (supported: sqlite:///path.db, postgresql://...)"
    )


__all__ = [
    "Changeset",
    "ClaimedTask",
    "QueueEntry",
    "SqliteStore",
    "Store",
    "TaskLog",
    "WorkflowWrite",
    "store_for_url",
]
