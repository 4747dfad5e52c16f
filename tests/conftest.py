"""Fixtures for every test: throwaway PostgreSQL databases are dropped after each test."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

import pg_testdb


@pytest.fixture(autouse=True)
def _drop_test_databases() -> Iterator[None]:
    yield
    if os.environ.get(pg_testdb.ENV):
        pg_testdb.release()
