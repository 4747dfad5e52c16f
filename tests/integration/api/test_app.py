"""The app itself: health, version, OpenAPI, lifespan, and the error mapping."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from api_helpers import assert_error, simple, task_def, workflow_def
from conftest import ClientFactory

from legato import __version__
from legato.api.app import UnsupportedDatabaseError, create_app
from legato.config import Settings
from legato.errors import StorageError


async def test_health(client: httpx.AsyncClient) -> None:
    for path in ("/health", "/api/health"):
        r = await client.get(path)
        assert r.status_code == 200
        assert r.json() == {"healthy": True, "healthResults": [], "suppressedHealthResults": []}


async def test_health_is_503_when_the_store_fails(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = client._transport.app  # type: ignore[attr-defined]

    async def broken() -> None:
        raise StorageError("database is gone")

    monkeypatch.setattr(app.state.services.store, "ping", broken)
    r = await client.get("/health")
    assert r.status_code == 503
    body = r.json()
    assert body["healthy"] is False
    assert "database is gone" in str(body["healthResults"])


async def test_version_is_text(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/version")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    assert r.text == __version__


async def test_openapi_and_docs(client: httpx.AsyncClient) -> None:
    r = await client.get("/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert "/api/tasks/poll/batch/{tasktype}" in doc["paths"]
    assert "/api/metadata/workflow" in doc["paths"]
    schemas = doc["components"]["schemas"]
    assert {
        "WorkflowDef",
        "WorkflowTask",
        "TaskDef",
        "TaskResult",
        "StartWorkflowRequest",
        "ErrorResponse",
    } <= set(schemas)
    assert "taskReferenceName" in schemas["WorkflowTask"]["properties"]
    body = doc["paths"]["/api/metadata/workflow"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/WorkflowDef"
    }
    batch = doc["paths"]["/api/tasks/poll/batch/{tasktype}"]["get"]
    assert {p["name"] for p in batch["parameters"]} == {
        "tasktype",
        "workerid",
        "domain",
        "count",
        "timeout",
    }
    assert "422" not in batch["responses"]
    r = await client.get("/docs")
    assert r.status_code == 200
    assert "swagger" in r.text.lower()


async def test_unknown_route_is_a_json_404(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/api/no/such/thing"), 404, "/api/no/such/thing")


async def test_wrong_method_is_a_json_405(client: httpx.AsyncClient) -> None:
    assert_error(await client.patch("/api/metadata/taskdefs"), 405, "PATCH")


async def test_unexpected_exception_is_a_generic_500_and_logged(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    app = client._transport.app  # type: ignore[attr-defined]

    def explode() -> list[object]:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(app.state.services.definitions, "list_task_defs", explode)
    with caplog.at_level(logging.ERROR, logger="legato.api"):
        r = await client.get("/api/metadata/taskdefs")
    body = assert_error(r, 500)
    assert "secret internals" not in body["message"]
    assert any("secret internals" in (rec.exc_text or "") or rec.exc_info for rec in caplog.records)
    caplog.clear()


async def test_storage_errors_are_retryable_503(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    app = client._transport.app  # type: ignore[attr-defined]

    async def down(*args: object, **kwargs: object) -> None:
        raise StorageError("database is locked")

    monkeypatch.setattr(app.state.services.store, "load_task", down)
    body = assert_error(await client.get("/api/tasks/some-task"), 503, "locked")
    assert body["retryable"] is True
    assert "database is locked" in caplog.text  # server-side failures are logged
    caplog.clear()


async def test_error_body_shape(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/api/metadata/workflow", json=workflow_def("shape", [simple("a"), simple("a")])
    )
    body = assert_error(r, 400)
    assert set(body) == {"status", "message", "instance", "retryable", "validationErrors"}
    assert body["retryable"] is False
    for error in body["validationErrors"]:
        assert set(error) <= {"path", "message", "invalidValue"}
        assert error["message"]
    r = await client.get("/api/metadata/taskdefs/none")
    assert "validationErrors" not in r.json()  # omitted when there are none


# ------------------------------------------------------------------------------ payload size
async def test_declared_oversize_body_is_413(make_client: ClientFactory) -> None:
    async with make_client(max_payload_bytes=2048) as client:
        big = [task_def(f"t{i}", description="x" * 100) for i in range(40)]
        body = assert_error(await client.post("/api/metadata/taskdefs", json=big), 413, "2048")
        assert "max_payload_bytes" in body["message"]
        ok = await client.post("/api/metadata/taskdefs", json=[task_def("small")])
        assert ok.status_code == 200


async def test_streamed_oversize_body_is_413(make_client: ClientFactory) -> None:
    async with make_client(max_payload_bytes=2048) as client:

        async def chunks() -> AsyncIterator[bytes]:
            yield b"["
            for i in range(40):
                yield (b'{"name": "t%d", "description": "' % i) + b"x" * 100 + b'"},'
            yield b'{"name": "last"}]'

        r = await client.post(
            "/api/metadata/taskdefs", content=chunks(), headers={"content-type": "application/json"}
        )
        assert "content-length" not in r.request.headers
        assert_error(r, 413, "2048")
        assert (await client.get("/api/metadata/taskdefs")).json() == []


async def test_oversize_task_result_is_413(make_client: ClientFactory) -> None:
    async with make_client(max_payload_bytes=1024) as client:
        r = await client.post(
            "/api/tasks",
            json={
                "workflowInstanceId": "w",
                "taskId": "t",
                "status": "COMPLETED",
                "outputData": {"blob": "y" * 5000},
            },
        )
        assert_error(r, 413, "1024")


# ------------------------------------------------------------------------------ wiring
def test_unsupported_database_url_is_a_clear_startup_error() -> None:
    with pytest.raises(UnsupportedDatabaseError, match="mysql://db/legato"):
        create_app(Settings(db="mysql://db/legato"))
    with pytest.raises(UnsupportedDatabaseError, match="memory"):
        create_app(Settings(db="sqlite:///:memory:"))


async def test_lifespan_opens_and_closes_the_services(tmp_path: Path) -> None:
    app = create_app(Settings(db=f"sqlite:///{tmp_path / 'life.db'}", timer_interval_ms=20))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            r = await client.post("/api/metadata/taskdefs", json=[task_def("kept")])
            assert r.status_code == 200
    # Definitions survive a restart on the same database.
    app = create_app(Settings(db=f"sqlite:///{tmp_path / 'life.db'}"))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            r = await client.get("/api/metadata/taskdefs/kept")
            assert r.status_code == 200
