"""The HTTP side of the client commands: `Client`, a thin synchronous client for the REST API
that turns every failure into a `CliError`, the user-facing error each command raises, and the
reading of the server's answers (error bodies, plain-text ids).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from typing import Any

import httpx
import orjson

DEFAULT_SERVER = "http://127.0.0.1:8080"


class CliError(Exception):
    """A user-facing failure: printed as `error: <first line>` plus detail lines, exit code 1."""

    def __init__(self, message: str, details: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.details = list(details)

    def render(self) -> str:
        return "\n".join([f"error: {self.message}", *self.details])


def normalize_server(url: str) -> str:
    url = url.strip().rstrip("/")
    if "://" not in url:
        url = "http://" + url
    return url


def http_error(response: httpx.Response) -> CliError:
    """Conductor's error body `{status, message, validationErrors: [{path, message}]}` as text."""
    body: Any = None
    with contextlib.suppress(ValueError):
        body = response.json()
    message = ""
    details: list[str] = []
    if isinstance(body, dict):
        message = str(body.get("message") or "")
        for problem in body.get("validationErrors") or []:
            if isinstance(problem, dict):
                path = problem.get("path")
                text = problem.get("message") or ""
                details.append(f"  - {path}: {text}" if path else f"  - {text}")
    if not message:
        text = response.text.strip()
        message = text.splitlines()[0][:300] if text else response.reason_phrase
    return CliError(f"{response.status_code} {message}".rstrip(), details)


class Client:
    """A thin synchronous client for the REST API; raises `CliError` on every failure."""

    def __init__(
        self,
        server: str,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.server = normalize_server(server)
        self._http = httpx.Client(base_url=self.server, transport=transport, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
    ) -> httpx.Response:
        headers = {"Accept": "application/json, text/plain"}
        content = None
        if body is not None:
            content = orjson.dumps(body)
            headers["Content-Type"] = "application/json"
        try:
            response = self._http.request(
                method, path, params=params, content=content, headers=headers
            )
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise CliError(
                f"cannot reach Legato at {self.server}: is the server running? (legato server)"
            ) from exc
        except httpx.UnsupportedProtocol as exc:
            raise CliError(f"invalid server URL {self.server}: {exc}") from exc
        except httpx.TimeoutException as exc:
            raise CliError(f"Legato at {self.server} did not answer in time") from exc
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise CliError(f"request to {self.server} failed: {exc}") from exc
        if response.status_code >= 400:
            raise http_error(response)
        return response

    def get_json(self, path: str, *, params: dict[str, Any] | None = None) -> Any:
        response = self.request("GET", path, params=params)
        try:
            return response.json()
        except ValueError as exc:
            raise CliError(f"GET {path} did not answer with JSON") from exc


def response_text(response: httpx.Response) -> str:
    """A text/plain answer (such as a workflow id); tolerates a JSON-quoted string."""
    text = response.text.strip()
    if text.startswith('"'):
        try:
            value = json.loads(text)
        except ValueError:
            return text
        return str(value)
    return text
