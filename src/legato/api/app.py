"""`create_app`: the FastAPI application of one Legato node, wired explicitly.

The ASGI lifespan opens the services, runs the background loops (timer loop, HTTP task
runner) and on shutdown cancels them and closes the services. Nothing is global: tests build
apps with the same factory, optionally around their own `Services`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

from fastapi import FastAPI
from starlette.routing import Route

from legato import __version__
from legato.api.errors import RequestGuard, install_error_handlers
from legato.api.openapi import install_openapi
from legato.api.responses import OrjsonResponse
from legato.api.routers import (
    admin,
    bulk,
    compat,
    events,
    health,
    metadata,
    queue,
    search,
    signals,
    tasks,
    workflows,
)
from legato.config import Settings
from legato.runners.events import EventRunner
from legato.runners.http import HttpTaskRunner
from legato.runners.timers import TimerLoop
from legato.service.container import Services
from legato.store import Store, store_for_url
from legato.ui import install_ui

log = logging.getLogger("legato.api")

DESCRIPTION = (
    "Durable workflow orchestration, wire-compatible with Conductor's REST API and JSON DSL."
)


class UnsupportedDatabaseError(ValueError):
    """The database URL names a backend this Legato cannot open."""


def build_store(settings: Settings) -> Store:
    """The store a database URL names: `sqlite:///path.db` or `postgresql://...`."""
    url = settings.db
    scheme = url.partition(":")[0].split("+", 1)[0].lower()
    options: dict[str, Any]
    if scheme == "sqlite":
        options = {"synchronous": settings.sqlite_synchronous}
    elif scheme in ("postgresql", "postgres"):
        options = {"pool_size": settings.pg_pool_size}
    else:
        raise UnsupportedDatabaseError(
            f"Unsupported database URL {url!r}: this Legato supports sqlite:///path.db"
            " and postgresql://user@host/database"
        )
    try:
        return store_for_url(url, **options)
    except ValueError as exc:
        raise UnsupportedDatabaseError(f"Invalid database URL {url!r}: {exc}") from exc


def _report_stopped(loop: asyncio.Task[None]) -> None:
    """A background loop must run until shutdown; say so loudly if one dies."""
    if not loop.cancelled() and loop.exception() is not None:
        log.error("background loop %s stopped", loop.get_name(), exc_info=loop.exception())


def create_app(settings: Settings, *, services: Services | None = None) -> FastAPI:
    if services is None:
        services = Services(build_store(settings), settings)
    background: list[tuple[str, Callable[[], Coroutine[Any, Any, None]]]] = [
        ("timers", TimerLoop(services, settings.timer_interval_ms).run),
        ("http-tasks", HttpTaskRunner(services, settings.system_task_workers).run),
        ("events", EventRunner(services).run),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await services.open()
        loops = [asyncio.create_task(run(), name=f"legato-{name}") for name, run in background]
        for loop in loops:
            loop.add_done_callback(_report_stopped)
        try:
            yield
        finally:
            for loop in loops:
                loop.cancel()
            await asyncio.gather(*loops, return_exceptions=True)
            await services.close()

    app = FastAPI(
        title="Legato",
        version=__version__,
        description=DESCRIPTION,
        default_response_class=OrjsonResponse,
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
        # FastAPI's built-in OpenTelemetry hooks cost a few percent per request on the hot
        # worker endpoints; Legato's own observability is configured separately.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.services = services
    app.state.settings = settings
    install_error_handlers(app)
    app.add_middleware(RequestGuard, max_body_bytes=settings.max_payload_bytes)
    # compat (SDK extras) first: `DELETE .../workflow/{name}/tags` is not a version.
    app.include_router(compat.router)
    # search first: `/api/workflow/search` must not be taken for a workflow id.
    # bulk and signals before workflows and tasks: `/api/workflow/bulk/pause` must not be taken
    # for a workflow id, nor `/api/tasks/{id}/COMPLETED/signal` for a task reference name.
    for module in (metadata, search, bulk, workflows, signals, tasks, health, admin, events, queue):
        app.include_router(module.router)
    for path, endpoint, methods in reversed(tasks.HOT_ROUTES):
        app.router.routes.insert(0, Route(path, endpoint, methods=methods))
    install_ui(app, services)  # the web UI at `/` (after the API: never shadows it)
    install_openapi(app)
    return app
