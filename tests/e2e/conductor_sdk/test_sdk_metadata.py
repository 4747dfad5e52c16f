"""MetadataClient (and WorkflowExecutor.register_workflow): task and workflow definitions,
Orkes tags, and a client configured with keys."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from conductor.client.configuration.configuration import Configuration
from conductor.client.configuration.settings.authentication_settings import (
    AuthenticationSettings,
)
from conductor.client.http.models import TaskDef, WorkflowDef, WorkflowTask
from conductor.client.http.models.tag_object import TagObject
from conductor.client.http.rest import ApiException
from conductor.client.orkes.models.metadata_tag import MetadataTag
from conductor.client.orkes.orkes_metadata_client import OrkesMetadataClient
from conductor.client.workflow.executor.workflow_executor import WorkflowExecutor


def simple_def(
    name: str, version: int, task: str, *, description: str | None = None
) -> WorkflowDef:
    return WorkflowDef(
        name=name,
        version=version,
        description=description,
        tasks=[
            WorkflowTask(
                name=task,
                task_reference_name="step",
                type="SIMPLE",
                input_parameters={"x": "${workflow.input.x}"},
            )
        ],
        output_parameters={"y": "${step.output.y}"},
        schema_version=2,
        timeout_seconds=0,
        owner_email="sdk@example.com",
    )


def error_body(exc: ApiException) -> dict[str, object]:
    body = json.loads(exc.body)
    assert isinstance(body, dict)
    return body


def test_task_def_register_get_update_unregister(
    metadata_client: OrkesMetadataClient, names: Callable[[str], str]
) -> None:
    name = names("task")
    metadata_client.register_task_def(
        TaskDef(
            name=name,
            description="first",
            retry_count=2,
            retry_logic="FIXED",
            retry_delay_seconds=1,
            timeout_seconds=30,
            response_timeout_seconds=10,
            timeout_policy="RETRY",
            input_keys=["a"],
            owner_email="sdk@example.com",
        )
    )
    got = metadata_client.get_task_def(name)
    assert isinstance(got, TaskDef)
    assert (got.name, got.description, got.retry_count) == (name, "first", 2)
    assert (got.timeout_seconds, got.response_timeout_seconds) == (30, 10)
    assert (got.retry_logic, got.timeout_policy, got.input_keys) == ("FIXED", "RETRY", ["a"])
    assert got.create_time and got.create_time > 0
    assert name in [d.name for d in metadata_client.get_all_task_defs()]

    got.description = "second"
    got.retry_count = 5
    metadata_client.update_task_def(got)
    updated = metadata_client.get_task_def(name)
    assert (updated.description, updated.retry_count) == ("second", 5)
    assert updated.create_time == got.create_time

    metadata_client.unregister_task_def(name)
    with pytest.raises(ApiException) as info:
        metadata_client.get_task_def(name)
    assert info.value.status == 404
    assert name in str(error_body(info.value)["message"])
    assert name not in [d.name for d in metadata_client.get_all_task_defs()]


def test_workflow_def_versions(
    metadata_client: OrkesMetadataClient,
    executor: WorkflowExecutor,
    names: Callable[[str], str],
) -> None:
    name, task = names("wf"), names("task")
    metadata_client.register_task_def(TaskDef(name=task, owner_email="sdk@example.com"))
    metadata_client.register_workflow_def(simple_def(name, 1, task, description="v1"), False)
    metadata_client.register_workflow_def(simple_def(name, 2, task, description="v2"), False)

    latest = metadata_client.get_workflow_def(name)
    assert isinstance(latest, WorkflowDef)
    assert (latest.name, latest.version, latest.description) == (name, 2, "v2")
    assert latest.tasks[0].task_reference_name == "step"
    assert latest.tasks[0].input_parameters == {"x": "${workflow.input.x}"}
    assert latest.output_parameters == {"y": "${step.output.y}"}
    first = metadata_client.get_workflow_def(name, version=1)
    assert (first.version, first.description) == (1, "v1")
    versions = sorted(d.version for d in metadata_client.get_all_workflow_defs() if d.name == name)
    assert versions == [1, 2]

    # The same name and version again without overwrite: 409, with Conductor's error body.
    with pytest.raises(ApiException) as info:
        metadata_client.register_workflow_def(simple_def(name, 1, task), overwrite=False)
    assert info.value.status == 409
    assert error_body(info.value)["status"] == 409

    # update_workflow_def: PUT /metadata/workflow with a list (create or update).
    metadata_client.update_workflow_def(simple_def(name, 1, task, description="v1 again"))
    assert metadata_client.get_workflow_def(name, version=1).description == "v1 again"
    # register with overwrite=True replaces in place.
    metadata_client.register_workflow_def(simple_def(name, 2, task, description="v2 again"), True)
    assert metadata_client.get_workflow_def(name).description == "v2 again"
    # WorkflowExecutor.register_workflow: the same PUT, with ?overwrite.
    executor.register_workflow(simple_def(name, 3, task, description="v3"), overwrite=True)
    assert metadata_client.get_workflow_def(name).version == 3

    metadata_client.unregister_workflow_def(name, 3)
    assert metadata_client.get_workflow_def(name).version == 2
    with pytest.raises(ApiException) as info:
        metadata_client.get_workflow_def(name, version=3)
    assert info.value.status == 404
    metadata_client.unregister_workflow_def(name, 1)
    metadata_client.unregister_workflow_def(name, 2)
    with pytest.raises(ApiException) as info:
        metadata_client.get_workflow_def(name)
    assert info.value.status == 404
    assert name in str(error_body(info.value)["message"])


def test_invalid_definitions_are_400_with_validation_errors(
    metadata_client: OrkesMetadataClient, names: Callable[[str], str]
) -> None:
    name = names("wf")
    bad = WorkflowDef(
        name=name,
        version=1,
        tasks=[WorkflowTask(name="x", task_reference_name="x", type="SWITCH")],
        schema_version=2,
    )
    with pytest.raises(ApiException) as info:
        metadata_client.register_workflow_def(bad, overwrite=True)
    assert info.value.status == 400
    body = error_body(info.value)
    assert body["status"] == 400
    assert body["validationErrors"]
    with pytest.raises(ApiException) as info:
        metadata_client.unregister_workflow_def(name, 1)
    assert info.value.status == 404
    with pytest.raises(ApiException) as info:
        metadata_client.unregister_task_def(names("missing"))
    assert info.value.status == 404


def test_tags_and_rate_limit_tags(
    metadata_client: OrkesMetadataClient, names: Callable[[str], str]
) -> None:
    # Orkes' tag endpoints, served by Legato's compat router (stored, not acted on).
    name, task = names("wf"), names("task")
    metadata_client.register_task_def(TaskDef(name=task, owner_email="sdk@example.com"))
    metadata_client.register_workflow_def(simple_def(name, 1, task), overwrite=True)
    assert metadata_client.get_workflow_tags(name) == []

    metadata_client.add_workflow_tag(MetadataTag("team", "payments"), name)
    metadata_client.add_workflow_tag(MetadataTag("tier", "gold"), name)
    tags = metadata_client.get_workflow_tags(name)
    assert all(isinstance(t, TagObject) for t in tags)
    assert [(t.key, t.type, t.value) for t in tags] == [
        ("team", "METADATA", "payments"),
        ("tier", "METADATA", "gold"),
    ]
    metadata_client.delete_workflow_tag(MetadataTag("tier", "gold"), name)
    assert [t.key for t in metadata_client.get_workflow_tags(name)] == ["team"]
    metadata_client.set_workflow_tags([MetadataTag("owner", "ops")], name)
    assert [(t.key, t.value) for t in metadata_client.get_workflow_tags(name)] == [("owner", "ops")]

    assert metadata_client.getWorkflowRateLimit(name) is None
    metadata_client.setWorkflowRateLimit(5, name)
    metadata_client.setWorkflowRateLimit(7, name)  # replaces the 5
    assert metadata_client.getWorkflowRateLimit(name) == 7
    metadata_client.removeWorkflowRateLimit(name)
    assert metadata_client.getWorkflowRateLimit(name) is None
    assert [t.key for t in metadata_client.get_workflow_tags(name)] == ["owner"]

    metadata_client.addTaskTag(MetadataTag("kind", "io"), task)
    metadata_client.setTaskTags([MetadataTag("kind", "cpu"), MetadataTag("x", "y")], task)
    metadata_client.deleteTaskTag(MetadataTag("x", "y"), task)
    assert [(t.key, t.value) for t in metadata_client.getTaskTags(task)] == [("kind", "cpu")]
    everywhere = metadata_client.tagsApi.get_tags1()
    assert {("owner", "ops"), ("kind", "cpu")} <= {(t.key, t.value) for t in everywhere}

    with pytest.raises(ApiException) as info:
        metadata_client.get_workflow_tags(names("missing"))
    assert info.value.status == 404


def test_client_with_keys_runs_open_against_legato(
    configuration: Configuration, names: Callable[[str], str]
) -> None:
    # With a key and secret the SDK first asks POST /api/token; Legato, like Conductor OSS,
    # has no such endpoint, and on its 404 the SDK goes on without authentication.
    keyed = Configuration(
        server_api_url=configuration.host,
        authentication_settings=AuthenticationSettings(key_id="id", key_secret="secret"),
    )
    client = OrkesMetadataClient(keyed)
    try:
        assert keyed.authentication_settings is None
        name = names("task")
        client.register_task_def(TaskDef(name=name, owner_email="sdk@example.com"))
        assert client.get_task_def(name).name == name
    finally:
        client.api_client.rest_client.close()
