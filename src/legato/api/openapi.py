"""The OpenAPI document: Conductor's models as named component schemas.

Bodies are parsed by hand (see `bodies`), so routes describe them with `openapi_extra`
(`json_body`) and their responses with `responses=` (`json_response`), both pointing at the
components installed here.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic.json_schema import models_json_schema

from legato.model import StartWorkflowRequest, TaskDef, TaskExecLog, TaskResult, WorkflowDef

REF = "#/components/schemas/{model}"
_MODELS = (WorkflowDef, TaskDef, StartWorkflowRequest, TaskResult, TaskExecLog)
_OBJECT: dict[str, Any] = {"type": "object", "additionalProperties": True}

# Execution shapes are dataclasses rendered by hand; described loosely, with their key fields.
_HAND_WRITTEN: dict[str, dict[str, Any]] = {
    "Task": {
        **_OBJECT,
        "properties": {
            "taskId": {"type": "string"},
            "taskType": {"type": "string"},
            "status": {"type": "string"},
            "referenceTaskName": {"type": "string"},
            "workflowInstanceId": {"type": "string"},
            "inputData": _OBJECT,
            "outputData": _OBJECT,
        },
    },
    "Workflow": {
        **_OBJECT,
        "properties": {
            "workflowId": {"type": "string"},
            "workflowName": {"type": "string"},
            "workflowVersion": {"type": "integer"},
            "status": {"type": "string"},
            "input": _OBJECT,
            "output": _OBJECT,
            "tasks": {"type": "array", "items": {"$ref": REF.format(model="Task")}},
        },
    },
    "WorkflowStatus": {
        "type": "object",
        "properties": {
            "workflowId": {"type": "string"},
            "correlationId": {"type": "string"},
            "status": {"type": "string"},
            "output": _OBJECT,
            "variables": _OBJECT,
        },
    },
    "SearchResultTask": {
        "type": "object",
        "properties": {
            "totalHits": {"type": "integer"},
            "results": {"type": "array", "items": {"$ref": REF.format(model="Task")}},
        },
    },
    "BulkResponse": {
        "type": "object",
        "properties": {
            "bulkSuccessfulResults": {"type": "array", "items": {"type": "string"}},
            "bulkErrorResults": {"type": "object", "additionalProperties": {"type": "string"}},
            "message": {"type": "string"},
        },
    },
    "WorkflowDefSummary": {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "version": {"type": "integer"},
            "createTime": {"type": "integer"},
        },
    },
    "PollData": {
        "type": "object",
        "properties": {
            "queueName": {"type": "string"},
            "domain": {"type": "string"},
            "workerId": {"type": "string"},
            "lastPollTime": {"type": "integer"},
        },
    },
    "HealthCheckStatus": {
        "type": "object",
        "properties": {
            "healthy": {"type": "boolean"},
            "healthResults": {"type": "array", "items": _OBJECT},
            "suppressedHealthResults": {"type": "array", "items": _OBJECT},
        },
    },
    "ErrorResponse": {
        "type": "object",
        "properties": {
            "status": {"type": "integer"},
            "message": {"type": "string"},
            "instance": {"type": "string"},
            "retryable": {"type": "boolean"},
            "validationErrors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "path": {"type": "string"},
                        "message": {"type": "string"},
                        "invalidValue": {},
                    },
                },
            },
        },
    },
}


def ref(model: str) -> dict[str, Any]:
    return {"$ref": REF.format(model=model)}


def array_of(model: str) -> dict[str, Any]:
    return {"type": "array", "items": ref(model)}


def json_body(schema: dict[str, Any] | str, *, required: bool = True) -> dict[str, Any]:
    """`openapi_extra` declaring a JSON request body."""
    if isinstance(schema, str):
        schema = ref(schema)
    return {
        "requestBody": {"required": required, "content": {"application/json": {"schema": schema}}}
    }


def text_body() -> dict[str, Any]:
    return {
        "requestBody": {"required": True, "content": {"text/plain": {"schema": {"type": "string"}}}}
    }


def json_response(schema: dict[str, Any] | str, description: str = "OK") -> dict[int | str, Any]:
    if isinstance(schema, str):
        schema = ref(schema)
    return {200: {"description": description, "content": {"application/json": {"schema": schema}}}}


def text_response(description: str) -> dict[int | str, Any]:
    return {
        200: {"description": description, "content": {"text/plain": {"schema": {"type": "string"}}}}
    }


ERRORS: dict[int | str, Any] = {
    status: {"description": text, "content": {"application/json": {"schema": ref("ErrorResponse")}}}
    for status, text in (
        (400, "Invalid request"),
        (404, "Not found"),
        (409, "Conflict"),
        (413, "Request body too large"),
    )
}


def install_openapi(app: FastAPI) -> None:
    """Generate the document once, with the model components merged in."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        _, top = models_json_schema([(m, "validation") for m in _MODELS], ref_template=REF)
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        # Invalid requests answer 400 with an ErrorResponse, never FastAPI's 422.
        for operations in document.get("paths", {}).values():
            for operation in operations.values():
                answers = operation.get("responses", {})
                if answers.pop("422", None) is not None:
                    answers.setdefault("400", ERRORS[400])
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
        for name, schema in top.get("$defs", {}).items():
            schemas.setdefault(name, schema)
        for name, schema in _HAND_WRITTEN.items():
            schemas.setdefault(name, schema)
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]
