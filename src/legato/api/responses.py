"""Response helpers: orjson JSON, Conductor's plain-text ids, empty 200s and 204s.

Handlers return these directly, so FastAPI never runs `jsonable_encoder` on a body.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.responses import JSONResponse, Response

JSON = "application/json"
TEXT = "text/plain; charset=utf-8"
_OPTIONS = orjson.OPT_NON_STR_KEYS


class OrjsonResponse(JSONResponse):
    """The default response class: JSON rendered by orjson."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=_OPTIONS)


def dumps(content: Any) -> bytes:
    return orjson.dumps(content, option=_OPTIONS)


def json(content: Any, status_code: int = 200) -> Response:
    """Pre-rendered JSON (no validation, no encoder pass)."""
    return Response(dumps(content), status_code=status_code, media_type=JSON)


def text(value: str) -> Response:
    """Conductor's `text/plain` bodies: a bare string, no quotes."""
    return Response(value.encode(), media_type=TEXT)


def empty() -> Response:
    """Conductor's `void` endpoints: 200 with no body."""
    return Response(status_code=200)


def no_content() -> Response:
    return Response(status_code=204)
