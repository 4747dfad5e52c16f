"""Health (`/health`, `/api/health`) and version (`/api/version`)."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response

from legato import __version__
from legato.api import responses
from legato.api.context import services_of
from legato.api.openapi import json_response, text_response

router = APIRouter(tags=["health"])
log = logging.getLogger("legato.api")


@router.get(
    "/health",
    summary="Whether this node and its database are healthy (503 when not)",
    responses=json_response("HealthCheckStatus"),
)
@router.get("/api/health", include_in_schema=False)
async def health(request: Request) -> Response:
    try:
        await services_of(request).store.ping()
    except Exception as exc:  # any failure means unhealthy, never a 500
        log.warning("health check failed: %s", exc)
        body = {
            "healthy": False,
            "healthResults": [
                {"name": "database", "healthy": False, "details": {"error": str(exc)}}
            ],
            "suppressedHealthResults": [],
        }
        return responses.json(body, status_code=503)
    return responses.json({"healthy": True, "healthResults": [], "suppressedHealthResults": []})


@router.get("/api/version", summary="The server version", responses=text_response("Version"))
async def version() -> Response:
    return responses.text(__version__)
