"""Factories for the SDK unit tests: task JSON, workflow JSON, a recording mock server."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import httpx
import orjson

_ids = itertools.count(1)


def task_json(task_type: str = "t", **overrides: Any) -> dict[str, Any]:
    n = next(_ids)
    return {
        "taskId": f"task-{n}",
        "workflowInstanceId": f"wf-{n}",
        "taskType": task_type,
        "referenceTaskName": task_type,
        "status": "IN_PROGRESS",
        "inputData": {},
        "retryCount": 0,
        "pollCount": 1,
        "responseTimeoutSeconds": 3600,
        **overrides,
    }


def workflow_json(status: str = "COMPLETED", **overrides: Any) -> dict[str, Any]:
    return {
        "workflowId": "wf-1",
        "workflowName": "flow",
        "workflowVersion": 1,
        "status": status,
        "input": {},
        "output": {},
        "tasks": [],
        **overrides,
    }


class Recorder:
    """An httpx MockTransport handler that records requests and answers from a function."""

    def __init__(self, answer: Callable[[httpx.Request], httpx.Response] | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.answer = answer or (lambda request: httpx.Response(200))

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answer(request)

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]

    def body(self, index: int = -1) -> Any:
        return orjson.loads(self.requests[index].content)


def json_response(value: Any, status: int = 200) -> httpx.Response:
    return httpx.Response(
        status, content=orjson.dumps(value), headers={"content-type": "application/json"}
    )


def text_response(value: str, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(status, text=value, headers={"content-type": "text/plain", **headers})
