"""The web UI: server-rendered pages at `/`, live updates over server-sent events.

`install_ui(app, services)` mounts the pages, the event streams (`/ui/events/...`) and the static
files (`/ui/static/...`) on the API's app, and subscribes the live updates to the workflow
service. Nothing here changes state: pages read through the services, and the repair actions
in the pages' JavaScript call the REST API.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from legato.service.container import Services
from legato.ui import analytics, definitions, execution, executions, home, queues
from legato.ui.live import LiveUpdates
from legato.ui.render import STATIC_DIR, STATIC_PREFIX

__all__ = ["install_ui"]


def install_ui(app: FastAPI, services: Services) -> None:
    live = LiveUpdates()
    services.workflows.listeners.append(live.notify)
    app.state.ui_live = live
    for module in (home, definitions, executions, execution, analytics, queues):
        app.include_router(module.router)
    app.mount(STATIC_PREFIX, StaticFiles(directory=STATIC_DIR), name="ui-static")
