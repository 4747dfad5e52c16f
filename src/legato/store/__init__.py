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
    """The backend for a database URL (not opened yet): `sqlite:///...` for now."""
    scheme = url.partition("://")[0].split("+", 1)[0]
    if scheme == "sqlite":
        return SqliteStore(url, **options)
    raise ValueError(f"no store backend for {url!r} (supported: sqlite:///path.db)")


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
