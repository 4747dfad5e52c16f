"""What a handler reaches through the request: the node's `Services`."""

from __future__ import annotations

from fastapi import Request

from legato.service.container import Services


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services
