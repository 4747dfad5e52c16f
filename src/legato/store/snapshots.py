"""Parsed definition snapshots, shared by every workflow started from the same definition.

A running workflow refers to the snapshot of the definition it started with by hash. Parsing a
WorkflowDef is costly (pydantic, the whole task tree), so a store parses each snapshot once per
process and hands the same object to every load: callers must treat it as read-only.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from legato.model import WorkflowDef


class DefinitionCache:
    """A small thread-safe LRU map from snapshot hash to parsed WorkflowDef."""

    def __init__(self, capacity: int = 1024) -> None:
        self._capacity = capacity
        self._items: OrderedDict[str, WorkflowDef] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> WorkflowDef | None:
        with self._lock:
            definition = self._items.get(key)
            if definition is not None:
                self._items.move_to_end(key)
            return definition

    def __contains__(self, key: str) -> bool:
        with self._lock:
            return key in self._items

    def put(self, key: str, definition: WorkflowDef) -> None:
        with self._lock:
            self._items[key] = definition
            self._items.move_to_end(key)
            while len(self._items) > self._capacity:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
