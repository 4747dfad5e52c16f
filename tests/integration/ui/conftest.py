"""Server-side tests of the web UI: pages rendered by the app in process, behind httpx.

`client` runs a real app (real services, a fresh database of each backend) and `services` is its
`Services`, for seeding without HTTP round trips. No browser here: tests/e2e/ui has those.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

import pg_testdb
from legato.api.app import create_app
from legato.config import Settings
from legato.service.container import Services

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(params=BACKENDS)
def app(request: pytest.FixtureRequest, tmp_path: Path) -> FastAPI:
    if request.param == "postgresql":
        db = pg_testdb.fresh_database(migrated=True)
    else:
        db = f"sqlite:///{tmp_path / 'ui.db'}"
    return create_app(Settings(db=db, timer_interval_ms=20))


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://legato.test", timeout=30
        ) as c:
            yield c


@pytest.fixture
def services(app: FastAPI, client: httpx.AsyncClient) -> Services:
    s: Services = app.state.services
    return s
