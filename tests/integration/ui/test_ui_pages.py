"""The pages, rendered by the app in process: what they show, what they link, what they refuse."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from ui_factories import every_construct, register, simple, start, workflow_def

from legato.model import TaskResult
from legato.service.container import Services
from legato.ui.executions import Filters, quote
from legato.ui.live import LiveUpdates, workflow_stream

PAIR = workflow_def("ui_pair", [simple("one", "ui_t"), simple("two", "ui_u")])

DASH = "\u2013"  # the en dash of "1\u201325 of 30"


async def complete(services: Services, task_type: str, **output: object) -> None:
    (task,) = await services.tasks.poll(task_type, worker_id="w1")
    await services.tasks.update(
        TaskResult(
            workflow_instance_id=task.workflow_instance_id,
            task_id=task.task_id,
            status="COMPLETED",
            output_data=dict(output),
        )
    )


async def test_every_page_renders_as_html(client: httpx.AsyncClient, services: Services) -> None:
    await register(client, PAIR)
    wf = await start(client, "ui_pair", {"x": 1}, correlationId="c-1")
    for path, text in [
        ("/", "Overview"),
        ("/definitions", "ui_pair"),
        ("/definitions/ui_pair", "Start an execution"),
        ("/executions", wf),
        (f"/executions/{wf}", "RUNNING"),
        ("/analytics", "Analytics"),
        ("/queues", "ui_t"),
        ("/ui/fragments/queues", "ui_t"),
    ]:
        r = await client.get(path)
        assert r.status_code == 200, (path, r.text[:500])
        assert r.headers["content-type"].startswith("text/html"), path
        assert text in r.text, path


async def test_pages_load_nothing_from_outside_the_server(client: httpx.AsyncClient) -> None:
    await register(client, PAIR)
    for path in ("/", "/definitions/ui_pair", "/executions", "/analytics", "/queues"):
        html = (await client.get(path)).text
        for url in re.findall(r'(?:src|href)="([^"]+)"', html):
            assert not re.match(r"^(https?:)?//", url), (path, url)


async def test_the_ui_never_shadows_the_api(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health")).json()["healthy"] is True
    assert (await client.get("/docs")).status_code == 200
    schema = (await client.get("/openapi.json")).json()
    assert not [p for p in schema["paths"] if not p.startswith(("/api", "/health"))]
    # An unknown API path is still the API's JSON 404, not a page.
    r = await client.get("/api/nothing-here")
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/json")


async def test_static_files_are_served(client: httpx.AsyncClient) -> None:
    css = await client.get("/ui/static/legato.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    js = await client.get("/ui/static/legato.js")
    assert js.status_code == 200 and "EventSource" in js.text


async def test_unknown_definitions_and_executions_are_404_pages(
    client: httpx.AsyncClient,
) -> None:
    for path, text in [
        ("/definitions/nope", "No workflow definition nope"),
        ("/definitions/nope?version=3", "version 3"),
        ("/executions/00000000-0000-0000-0000-000000000000", "No execution"),
    ]:
        r = await client.get(path)
        assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
        assert text in r.text


async def test_a_definition_page_has_its_diagram_json_and_start_form(
    client: httpx.AsyncClient,
) -> None:
    child = workflow_def("ui_child", [simple("c1", "ui_t")])
    await register(
        client,
        child,
        every_construct(),
        {**every_construct(), "version": 2},
    )
    html = (await client.get("/definitions/shapes")).text
    assert 'id="decide"' in html and 'id="inside"' in html
    assert "v1" in html and "v2" in html  # the version picker
    assert 'id="lg-start-form"' in html and 'data-name="shapes"' in html
    assert "&#34;taskReferenceName&#34;: &#34;first&#34;" in html  # the JSON, escaped
    html1 = (await client.get("/definitions/shapes?version=1")).text
    assert '<option value="1" selected>' in html1


async def test_an_execution_page_shows_tasks_actions_and_links(
    client: httpx.AsyncClient, services: Services
) -> None:
    await register(client, PAIR)
    wf = await start(client, "ui_pair", {"x": 1}, correlationId="c-9")
    await complete(services, "ui_t", greeting="hello")
    html = (await client.get(f"/executions/{wf}")).text
    assert 'class="badge big status-running"' in html
    assert "status-completed" in html and "hello" in html  # task one done, its output
    assert re.search(r'data-action="pause"\s*>', html)  # enabled for a RUNNING execution
    assert re.search(r'data-action="resume"\s*disabled', html)
    assert '<option value="two">two</option>' not in html  # `two` is scheduled: not skippable
    assert 'href="/executions?correlationId=c-9"' in html
    assert "svg" in html and 'class="timeline"' in html


async def test_execution_search_filters_and_pages(
    client: httpx.AsyncClient, services: Services
) -> None:
    await register(client, PAIR, workflow_def("ui_other", [simple("o", "ui_t")]))
    ids = [await start(client, "ui_pair", {"n": i}, correlationId=f"k-{i}") for i in range(30)]
    other = await start(client, "ui_other")
    page1 = (await client.get("/executions", params={"workflowType": "ui_pair"})).text
    assert f"1{DASH}25 of 30 executions" in page1 and other not in page1
    assert "start=25" in page1  # the next page
    page2 = (await client.get("/executions", params={"workflowType": "ui_pair", "start": 25})).text
    assert f"26{DASH}30 of 30" in page2
    by_corr = (await client.get("/executions", params={"correlationId": "k-7"})).text
    assert ids[7] in by_corr and f"1{DASH}1 of 1" in by_corr
    none = (await client.get("/executions", params={"status": "FAILED"})).text
    assert "No executions found" in none
    free = (await client.get("/executions", params={"q": ids[3]})).text
    assert ids[3] in free and f"1{DASH}1 of 1" in free


async def test_a_bad_free_text_search_shows_the_search_error(client: httpx.AsyncClient) -> None:
    r = await client.get("/executions", params={"q": 'nosuchfield:"x'})
    assert r.status_code == 200
    assert 'class="error-box"' in r.text


def test_filters_become_a_conductor_query() -> None:
    f = Filters(
        workflow_type="order's",
        statuses=["FAILED", "TIMED_OUT"],
        start_from=1000,
        start_to=2000,
        correlation_id="c\\1",
    )
    assert f.query(now=5000) == (
        "workflowType = 'order\\'s' AND status IN (FAILED, TIMED_OUT) AND startTime >= 1000"
        " AND startTime < 2000 AND correlationId = 'c\\\\1'"
    )
    assert Filters(lookback="1h").query(now=10_000_000) == "startTime >= 6400000"
    assert Filters().query(now=0) == ""
    assert quote("a'b") == "'a\\'b'"


async def test_queues_flag_types_with_tasks_and_no_worker(
    client: httpx.AsyncClient, services: Services
) -> None:
    await register(client, PAIR)
    await start(client, "ui_pair")
    html = (await client.get("/queues")).text
    assert re.search(r'<tr id="queue-ui_t" class="flag"', html)
    assert "1 queue with tasks and no worker polling" in html
    await services.tasks.poll("ui_u", worker_id="worker-u")  # polls, gets nothing
    await complete(services, "ui_t")  # now ui_t has a recent poll and nothing waiting
    html = (await client.get("/queues")).text  # `two` waits on ui_u, whose worker polls
    assert "no worker polling" not in html
    assert re.search(r'<tr id="queue-ui_u" class=""', html) and "worker-u" in html


async def test_analytics_page_names_the_slowest_step(
    client: httpx.AsyncClient, services: Services
) -> None:
    await register(client, PAIR)
    for _ in range(3):
        await start(client, "ui_pair")
        await complete(services, "ui_t")
        await asyncio.sleep(0.05)  # `two` runs longest
        await complete(services, "ui_u")
    html = (await client.get("/analytics", params={"name": "ui_pair", "period": "1h"})).text
    assert re.search(r"Slowest step: <strong>two</strong>", html), html
    assert "3 executions of" in html and 'class="chart"' in html
    empty = (
        await client.get(
            "/analytics",
            params={"name": "ui_pair", "start": "2001-01-01T00:00", "end": "2001-01-02T00:00"},
        )
    ).text
    assert "No executions of ui_pair" in empty


async def test_the_live_stream_sends_the_state_then_each_change() -> None:
    live = LiveUpdates()
    versions = iter(["1", "1", "2"])

    async def snapshot() -> tuple[str, dict[str, object]] | None:
        version = next(versions, None)
        return None if version is None else (version, {"v": version})

    stream = workflow_stream(live, "wf", snapshot, max_stream_s=5, recheck_s=0.3)
    assert (await anext(stream)).startswith(b"retry: ")
    assert await anext(stream) == b'id: 1\nevent: update\ndata: {"v":"1"}\n\n'
    nxt = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0.05)
    assert live.watched == 1
    live.notify({"wf"})
    # Version 1 again is not sent; version 2 is.
    assert await nxt == b'id: 2\nevent: update\ndata: {"v":"2"}\n\n'
    assert await anext(stream) == b'event: gone\ndata: {"workflowId":"wf"}\n\n'
    with pytest.raises(StopAsyncIteration):
        await anext(stream)
    assert live.watched == 0


async def test_a_reconnecting_stream_sends_nothing_it_sent_before() -> None:
    live = LiveUpdates()

    async def snapshot() -> tuple[str, dict[str, object]] | None:
        return "7", {"v": 7}

    stream = workflow_stream(live, "wf", snapshot, last_event_id="7", max_stream_s=0.3)
    chunks = [chunk async for chunk in stream]
    assert chunks == [b"retry: 500\n\n"]
