"""Every error the API answers, mapped in one place to Conductor's `ErrorResponse` body.

`{"status", "message", "instance", "retryable", "validationErrors": [{path, message, invalidValue}]}`
with nulls omitted. `LegatoError`s map by their `http_status`; FastAPI's request validation and
malformed JSON become 400 with Conductor-style paths; unknown routes 404; bodies above
`max_payload_bytes` 413 (checked by `RequestGuard`, which also turns any unexpected exception
into a logged 500 with a generic message).
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterable, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from legato.api.responses import dumps
from legato.errors import FieldProblem, LegatoError, PayloadTooLargeError, ValidationError

log = logging.getLogger("legato.api")

INSTANCE = socket.gethostname()
INTERNAL_ERROR = "Internal server error; the failure was logged on the server"
_REQUEST_INVALID = "Validation failed, check below errors for detail."


# ------------------------------------------------------------------------------ the body
def error_body(
    status: int,
    message: str,
    problems: Iterable[FieldProblem] = (),
    *,
    retryable: bool = False,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "status": status,
        "message": message,
        "instance": INSTANCE,
        "retryable": retryable,
    }
    errors = []
    for p in problems:
        item: dict[str, Any] = {"path": p.path, "message": p.message}
        if p.invalid_value is not None:
            item["invalidValue"] = p.invalid_value
        errors.append(item)
    if errors:
        body["validationErrors"] = errors
    return body


def error_response(
    status: int,
    message: str,
    problems: Iterable[FieldProblem] = (),
    *,
    retryable: bool = False,
    headers: dict[str, str] | None = None,
) -> Response:
    return Response(
        dumps(error_body(status, message, problems, retryable=retryable)),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


def legato_error_response(exc: LegatoError) -> Response:
    problems = exc.problems if isinstance(exc, ValidationError) else ()
    return error_response(exc.http_status, exc.message, problems, retryable=exc.retryable)


# ------------------------------------------------------------------------------ translation
def conductor_path(loc: Sequence[int | str]) -> str:
    """`("body", "tasks", 0, "name")` -> `tasks[0].name`; `("query", "count")` -> `count`."""
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path = f"{path}.{part}" if path else str(part)
    return path


def _scalar(value: Any) -> object:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return None


def request_problems(exc: RequestValidationError) -> list[FieldProblem]:
    problems = []
    for err in exc.errors():
        problems.append(
            FieldProblem(
                conductor_path(err.get("loc", ())),
                str(err.get("msg", "is invalid")),
                _scalar(err.get("input")),
            )
        )
    return problems


def problems_message(problems: Sequence[FieldProblem]) -> str:
    """A one-line summary naming the fields, for clients that only show `message`."""
    shown = "; ".join(f"{p.path or 'body'}: {p.message}" for p in problems[:3])
    more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
    return f"{_REQUEST_INVALID} {shown}{more}" if shown else _REQUEST_INVALID


# ------------------------------------------------------------------------------ handlers
async def _on_legato_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LegatoError)
    if exc.http_status >= 500:
        log.error("%s %s failed: %s", request.method, request.url.path, exc.message)
    return legato_error_response(exc)


async def _on_request_invalid(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = request_problems(exc)
    return error_response(400, problems_message(problems), problems)


async def _on_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        message = f"No such endpoint: {request.method} {request.url.path}"
    elif exc.status_code == 405:
        message = f"Method {request.method} is not allowed on {request.url.path}"
    else:
        message = str(exc.detail)
    headers = dict(exc.headers) if exc.headers else None
    if exc.status_code in (204, 304):
        return Response(status_code=exc.status_code, headers=headers)
    return error_response(exc.status_code, message, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(LegatoError, _on_legato_error)
    app.add_exception_handler(RequestValidationError, _on_request_invalid)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)


# ------------------------------------------------------------------------------ middleware
def drop_empty_params(query: bytes) -> bytes:
    """`?start=&size=10` means `?size=10`: like Conductor (Spring's `defaultValue`), an empty
    query parameter takes its default. Conductor's SDKs send unset arguments that way."""
    return b"&".join(p for p in query.split(b"&") if p and not p.endswith(b"="))


class RequestGuard:
    """Pure ASGI middleware: the request-size limit and the last-resort 500.

    A declared Content-Length above the limit is refused before the body is read; a streamed
    body is counted as it arrives and the read fails with `PayloadTooLargeError` (rendered as
    413 by the handler above, or here if it escapes). Any other exception escaping the app
    becomes a logged 500 with a generic body, unless the response had started already.
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    def _too_large(self) -> PayloadTooLargeError:
        return PayloadTooLargeError(
            f"Request body is larger than the limit of {self.max_body_bytes} bytes"
            " (setting max_payload_bytes)"
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query = scope.get("query_string", b"")
        if query and (query.endswith(b"=") or b"=&" in query):
            scope = {**scope, "query_string": drop_empty_params(query)}
        limit = self.max_body_bytes
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > limit:
                    await legato_error_response(self._too_large())(scope, receive, send)
                    return
                break

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise self._too_large()
            return message

        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except LegatoError as exc:
            if started:
                raise
            await legato_error_response(exc)(scope, receive, send)
        except Exception:
            log.exception("unexpected error in %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            await error_response(500, INTERNAL_ERROR)(scope, receive, send)
