"""The SDK's exception tree, rooted in `legato.errors.LegatoError`.

```
LegatoError
├── ApiError                      the server answered with an error (status_code, message, problems)
│   ├── BadRequestError           400  (also a legato.errors.ValidationError)
│   ├── NotFoundError             404  (also a legato.errors.NotFoundError)
│   ├── ConflictError             409  (also a legato.errors.ConflictError)
│   ├── PayloadTooLargeError      413  (also a legato.errors.PayloadTooLargeError)
│   ├── TooManyRequestsError      429
│   └── ServerError               5xx
│       └── ServiceUnavailableError  503
├── TransportError                the server could not be reached or did not answer in time
└── WaitTimeoutError              a workflow did not end within the time a wait allowed
```

The HTTP status alone picks the class; the message, the validation problems and `retryable`
come from Conductor's error body `{"status", "message", "retryable", "validationErrors"}`.
`error_from_response` is pure (no I/O) and shared by the sync and async clients.
"""

from __future__ import annotations

from typing import Any

import orjson

from legato import errors as _errors
from legato.errors import FieldProblem, LegatoError

__all__ = [
    "ApiError",
    "BadRequestError",
    "ConflictError",
    "NotFoundError",
    "PayloadTooLargeError",
    "ServerError",
    "ServiceUnavailableError",
    "TooManyRequestsError",
    "TransportError",
    "WaitTimeoutError",
    "error_for_status",
    "error_from_response",
]


class ApiError(LegatoError):
    """The server answered a request with an error status."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        problems: list[FieldProblem] | None = None,
        retryable: bool | None = None,
        method: str = "",
        path: str = "",
        body: Any = None,
    ) -> None:
        LegatoError.__init__(self, message)
        self.status_code = status_code
        self.problems = problems or []
        if retryable is not None:
            self.retryable = retryable
        self.method = method
        self.path = path
        self.body = body

    def __str__(self) -> str:
        where = f" ({self.method} {self.path})" if self.method else ""
        text = f"{self.status_code} {self.message}{where}"
        for p in self.problems:
            text += f"\n  - {p.path}: {p.message}" if p.path else f"\n  - {p.message}"
        return text


class BadRequestError(ApiError, _errors.ValidationError):
    http_status = 400


class NotFoundError(ApiError, _errors.NotFoundError):
    http_status = 404


class ConflictError(ApiError, _errors.ConflictError):
    http_status = 409


class PayloadTooLargeError(ApiError, _errors.PayloadTooLargeError):
    http_status = 413


class TooManyRequestsError(ApiError):
    http_status = 429
    retryable = True


class ServerError(ApiError):
    http_status = 500


class ServiceUnavailableError(ServerError):
    http_status = 503
    retryable = True


class TransportError(LegatoError):
    """No answer: the connection failed, broke, or timed out. Retrying later may succeed."""

    http_status = 503
    retryable = True


class WaitTimeoutError(LegatoError):
    """A workflow was still running when a wait for its end gave up; `workflow` is the last
    state seen (a `legato.client.Workflow`)."""

    http_status = 408

    def __init__(self, message: str, workflow: Any = None) -> None:
        super().__init__(message)
        self.workflow = workflow


_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequestError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    429: TooManyRequestsError,
    503: ServiceUnavailableError,
}


def error_from_response(status_code: int, content: bytes, method: str, path: str) -> ApiError:
    """The exception for an error answer, with the server's own message."""
    body: Any = None
    try:
        body = orjson.loads(content) if content else None
    except orjson.JSONDecodeError:
        body = None
    message = ""
    problems: list[FieldProblem] = []
    retryable: bool | None = None
    if isinstance(body, dict):
        message = str(body.get("message") or body.get("error") or "")
        if isinstance(body.get("retryable"), bool):
            retryable = body["retryable"]
        for item in body.get("validationErrors") or []:
            if isinstance(item, dict):
                problems.append(
                    FieldProblem(
                        str(item.get("path") or ""),
                        str(item.get("message") or ""),
                        item.get("invalidValue"),
                    )
                )
    if not message:
        text = content.decode("utf-8", "replace").strip()
        message = text.splitlines()[0][:300] if text else f"HTTP {status_code}"
    cls = _BY_STATUS.get(status_code)
    if cls is None:
        cls = ServerError if status_code >= 500 else ApiError
    return cls(
        message,
        status_code=status_code,
        problems=problems,
        retryable=retryable,
        method=method,
        path=path,
        body=body,
    )


def error_for_status(
    status_code: int, message: str, problems: list[FieldProblem] | None = None
) -> ApiError:
    """The exception a server error of this status maps to (for in-process transports)."""
    cls = _BY_STATUS.get(status_code) or (ServerError if status_code >= 500 else ApiError)
    return cls(message, status_code=status_code, problems=problems)
