"""API tests: a real app (real services, real store on a fresh database) behind httpx.

`make_client(**settings)` builds an app with the given settings overrides, runs its lifespan
and yields an `httpx.AsyncClient` talking to it in process. `client` is the default one.
Backends: add a name to BACKENDS and teach `_fresh_url` to make an empty database for it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

import pg_testdb
from legato.api.app import create_app
from legato.config import Settings

BACKENDS = ["sqlite", "postgresql"]

# Fast timers so WAIT and retries resolve within a test.
DEFAULTS: dict[str, Any] = {"timer_interval_ms": 20}

ClientFactory = Callable[..., contextlib.AbstractAsyncContextManager[httpx.AsyncClient]]


def _fresh_url(backend: str, directory: Path, name: str) -> str:
    if backend == "sqlite":
        return f"sqlite:///{directory / name}.db"
    if backend == "postgresql":
        return pg_testdb.fresh_database(migrated=True)
    raise NotImplementedError(backend)  # pragma: no cover


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@contextlib.asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's lifespan around an in-process client."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://legato.test", timeout=30
        ) as client:
            yield client


@pytest.fixture
def make_client(backend: str, tmp_path: Path) -> ClientFactory:
    counter = iter(range(1_000_000))

    def factory(
        **overrides: Any,
    ) -> contextlib.AbstractAsyncContextManager[httpx.AsyncClient]:
        db = _fresh_url(backend, tmp_path, f"legato{next(counter)}")
        settings = Settings(**{"db": db, **DEFAULTS, **overrides})
        return serve(create_app(settings))

    return factory


@pytest.fixture
async def client(make_client: ClientFactory) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client() as c:
        yield c


@pytest.fixture(autouse=True)
def no_server_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Nothing logs an error in normal operation; a test expecting one calls `caplog.clear()`."""
    yield
    errors = [
        f"{r.name}: {r.getMessage()}"
        for phase in ("setup", "call")
        for r in caplog.get_records(phase)  # type: ignore[arg-type]
        if r.levelno >= logging.ERROR and r.name.startswith("legato")
    ]
    assert not errors, errors
