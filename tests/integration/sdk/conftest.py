"""SDK integration tests: a real Legato app on a local socket (`sdk_server.ThreadedServer`)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from sdk_server import ThreadedServer

import pg_testdb
from legato.api.app import create_app
from legato.config import Settings

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="module", params=BACKENDS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ThreadedServer]:
    """One server per test module (tests use their own definition names)."""
    if request.param == "postgresql":
        db = pg_testdb.fresh_database(migrated=True, per_test=False)
    else:
        assert request.param == "sqlite"
        directory: Path = tmp_path_factory.mktemp("sdk")
        db = f"sqlite:///{directory / 'sdk.db'}"
    settings = Settings(db=db, timer_interval_ms=20)
    running = ThreadedServer(create_app(settings))
    running.start()
    yield running
    running.stop()
    if request.param == "postgresql":
        pg_testdb.release_database(db)


@pytest.fixture(autouse=True)
def no_errors_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Nothing logs an error in normal operation; a test expecting one calls `caplog.clear()`."""
    yield
    errors = [
        f"{r.name}: {r.getMessage()}"
        for phase in ("setup", "call")
        for r in caplog.get_records(phase)  # type: ignore[arg-type]
        if r.levelno >= logging.ERROR and r.name.startswith("legato")
    ]
    assert not errors, errors
