"""`/api/metadata`: task and workflow definitions."""

from __future__ import annotations

import httpx
from api_helpers import assert_error, simple, task_def, workflow_def


# ------------------------------------------------------------------------------ task defs
async def test_task_defs_register_list_get_update_delete(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/api/metadata/taskdefs", json=[task_def("t1"), task_def("t2", retryCount=2)]
    )
    assert r.status_code == 200
    assert r.content == b""

    r = await client.get("/api/metadata/taskdefs")
    assert r.status_code == 200
    names = [d["name"] for d in r.json()]
    assert names == ["t1", "t2"]

    r = await client.get("/api/metadata/taskdefs/t2")
    assert r.status_code == 200
    body = r.json()
    assert body["retryCount"] == 2
    assert body["responseTimeoutSeconds"] == 600
    assert isinstance(body["createTime"], int)
    assert "description" not in body  # nulls are omitted

    r = await client.put("/api/metadata/taskdefs", json=task_def("t2", description="changed"))
    assert r.status_code == 200 and r.content == b""
    r = await client.get("/api/metadata/taskdefs/t2")
    assert r.json()["description"] == "changed"
    assert r.json()["createTime"] == body["createTime"]

    r = await client.delete("/api/metadata/taskdefs/t2")
    assert r.status_code == 200 and r.content == b""
    assert_error(await client.get("/api/metadata/taskdefs/t2"), 404, "t2")


async def test_task_def_unknown_is_404(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/api/metadata/taskdefs/nope"), 404, "nope")
    assert_error(await client.delete("/api/metadata/taskdefs/nope"), 404, "nope")


async def test_task_def_defaults_are_filled(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/metadata/taskdefs", json=[{"name": "bare"}])
    assert r.status_code == 200, r.text
    body = (await client.get("/api/metadata/taskdefs/bare")).json()
    assert body["retryCount"] == 3
    assert body["timeoutPolicy"] == "TIME_OUT_WF"
    assert body["retryLogic"] == "FIXED"


# ------------------------------------------------------------------------------ workflow defs
async def test_workflow_def_create_get_and_conflict(client: httpx.AsyncClient) -> None:
    definition = workflow_def("wf_a", [simple("a")], description="first")
    r = await client.post("/api/metadata/workflow", json=definition)
    assert r.status_code == 200 and r.content == b""

    r = await client.get("/api/metadata/workflow/wf_a")
    assert r.status_code == 200
    body = r.json()
    assert body["name"] == "wf_a" and body["version"] == 1
    assert body["tasks"][0]["taskReferenceName"] == "a"
    assert body["description"] == "first"

    assert_error(await client.post("/api/metadata/workflow", json=definition), 409, "wf_a")

    changed = {**definition, "description": "second"}
    r = await client.post("/api/metadata/workflow", params={"overwrite": "true"}, json=changed)
    assert r.status_code == 200
    assert (await client.get("/api/metadata/workflow/wf_a")).json()["description"] == "second"


async def test_workflow_def_versions(client: httpx.AsyncClient) -> None:
    for version in (1, 2):
        r = await client.post(
            "/api/metadata/workflow", json=workflow_def("wf_v", [simple("a")], version=version)
        )
        assert r.status_code == 200
    r = await client.post("/api/metadata/workflow", json=workflow_def("wf_other", [simple("b")]))
    assert r.status_code == 200

    assert (await client.get("/api/metadata/workflow/wf_v")).json()["version"] == 2
    assert (await client.get("/api/metadata/workflow/wf_v", params={"version": 1})).json()[
        "version"
    ] == 1
    assert_error(
        await client.get("/api/metadata/workflow/wf_v", params={"version": 9}), 404, "wf_v"
    )
    assert_error(await client.get("/api/metadata/workflow/unknown_wf"), 404, "unknown_wf")

    r = await client.get("/api/metadata/workflow")
    assert r.status_code == 200
    assert [(d["name"], d["version"]) for d in r.json()] == [
        ("wf_other", 1),
        ("wf_v", 1),
        ("wf_v", 2),
    ]

    r = await client.get("/api/metadata/workflow/latest-versions")
    assert [(d["name"], d["version"]) for d in r.json()] == [("wf_other", 1), ("wf_v", 2)]

    r = await client.get("/api/metadata/workflow/names")
    assert r.json() == ["wf_other", "wf_v"]

    r = await client.get("/api/metadata/workflow/names-and-versions")
    body = r.json()
    assert set(body) == {"wf_other", "wf_v"}
    assert [s["version"] for s in body["wf_v"]] == [1, 2]
    assert body["wf_v"][0]["name"] == "wf_v" and isinstance(body["wf_v"][0]["createTime"], int)

    r = await client.get("/api/metadata/workflow/wf_v/versions")
    assert r.status_code == 200
    assert [s["version"] for s in r.json()] == [1, 2]
    assert_error(await client.get("/api/metadata/workflow/unknown_wf/versions"), 404, "unknown_wf")

    r = await client.delete("/api/metadata/workflow/wf_v/2")
    assert r.status_code == 200 and r.content == b""
    assert (await client.get("/api/metadata/workflow/wf_v")).json()["version"] == 1
    assert_error(await client.delete("/api/metadata/workflow/wf_v/2"), 404, "wf_v")


async def test_validate_does_not_store(client: httpx.AsyncClient) -> None:
    definition = workflow_def("wf_checked", [simple("a")])
    r = await client.post("/api/metadata/workflow/validate", json=definition)
    assert r.status_code == 200 and r.content == b""
    assert_error(await client.get("/api/metadata/workflow/wf_checked"), 404)

    bad = workflow_def("wf_checked", [simple("a"), simple("a")])
    body = assert_error(
        await client.post("/api/metadata/workflow/validate", json=bad), 400, "taskReferenceName"
    )
    assert body["validationErrors"]


async def test_put_workflow_defs_is_bulk_create_or_update(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/api/metadata/workflow", json=workflow_def("bulk_a", [simple("a")], description="old")
    )
    assert r.status_code == 200
    r = await client.put(
        "/api/metadata/workflow",
        json=[
            workflow_def("bulk_a", [simple("a")], description="new"),
            workflow_def("bulk_b", [simple("b")]),
        ],
    )
    assert r.status_code == 200, r.text
    assert r.json() == {
        "bulkSuccessfulResults": ["bulk_a", "bulk_b"],
        "bulkErrorResults": {},
        "message": "Bulk Request has been processed.",
    }
    assert (await client.get("/api/metadata/workflow/bulk_a")).json()["description"] == "new"
    assert (await client.get("/api/metadata/workflow/bulk_b")).status_code == 200


async def test_put_workflow_defs_rejects_an_invalid_member_with_its_index(
    client: httpx.AsyncClient,
) -> None:
    r = await client.put(
        "/api/metadata/workflow",
        json=[workflow_def("ok_one", [simple("a")]), {"name": "broken"}],
    )
    body = assert_error(r, 400, "[1].tasks")
    assert body["validationErrors"][0]["path"].startswith("[1]")
    assert_error(await client.get("/api/metadata/workflow/ok_one"), 404)
    assert_error(await client.put("/api/metadata/workflow", json={"name": "x"}), 400, "array")
