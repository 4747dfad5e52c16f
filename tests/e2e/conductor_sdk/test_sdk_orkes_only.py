"""Orkes-only SDK calls Legato does not serve: each answers a clear 404 in Conductor's error
body, which the SDK raises as an ApiException (and which its worker task registration reads as
"no schema registry" and goes on without)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from conductor.client.configuration.configuration import Configuration
from conductor.client.http.models.schema_def import SchemaDef, SchemaType
from conductor.client.http.rest import ApiException
from conductor.client.orkes.orkes_schema_client import OrkesSchemaClient
from conductor.client.orkes.orkes_workflow_client import OrkesWorkflowClient


def assert_not_served(call: Callable[[], Any]) -> None:
    with pytest.raises(ApiException) as info:
        call()
    assert info.value.status == 404
    body = json.loads(info.value.body)
    assert body["status"] == 404
    assert "No such endpoint" in body["message"]


def test_orkes_only_calls_are_404(
    configuration: Configuration, workflow_client: OrkesWorkflowClient
) -> None:
    api = workflow_client.workflowResourceApi
    # POST /workflow/{id}/jump/{taskReferenceName}
    assert_not_served(lambda: api.jump_to_task({}, "some-workflow", task_reference_name="t"))
    # POST /workflow/execute/{name} ("execute workflow as API")
    assert_not_served(lambda: api.execute_workflow_as_api({}, "some_workflow"))
    schemas = OrkesSchemaClient(configuration)
    try:
        # GET /schema/{name}/{version}, POST /schema
        assert_not_served(lambda: schemas.get_schema("some_schema", 1))
        schema = SchemaDef(name="s", version=1, type=SchemaType.JSON, data={"type": "object"})
        assert_not_served(lambda: schemas.register_schema(schema))
    finally:
        schemas.api_client.rest_client.close()
