"""Store contract tests run on every backend through the `store` fixture.

To add a backend: add its name to BACKENDS and teach `database_url` to make a fresh, empty
database for it (skip when the server is not available); every contract test then runs on it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

import pg_testdb
from legato.store import Store, store_for_url

BACKENDS = ["sqlite", "postgresql"]


def _fresh_url(backend: str, directory: Path, name: str) -> str:
    if backend == "sqlite":
        return f"sqlite:///{directory / name}.db"
    if backend == "postgresql":
        return pg_testdb.fresh_database(migrated=False)
    raise NotImplementedError(backend)  # pragma: no cover


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, tmp_path: Path) -> str:
    """A fresh, empty database of the backend under test."""
    return _fresh_url(backend, tmp_path, "legato")


@pytest.fixture
def other_database_url(backend: str, tmp_path: Path) -> str:
    """A second fresh database of the same backend (to compare schemas)."""
    return _fresh_url(backend, tmp_path, "other")


@pytest.fixture
def make_store(database_url: str) -> Callable[..., Store]:
    """A new, unopened store on the test's database (open two in turn to test durability)."""

    def make(**options: Any) -> Store:
        return store_for_url(database_url, **options)

    return make


@pytest.fixture
async def store(make_store: Callable[..., Store]) -> AsyncIterator[Store]:
    s = make_store()
    await s.open()
    try:
        yield s
    finally:
        await s.close()
