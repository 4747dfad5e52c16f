"""The web UI in headless Chromium against a real server: what a developer, a product person and
support do with it. Each test leaves a screenshot of its page (see conftest)."""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from ui_seed import Workers, start, wait_status

pytestmark = pytest.mark.timeout(120)

# `page` is a playwright.sync_api.Page; typed loosely so the module imports without Playwright.
Page = Any

DASH = "\u2013"  # the en dash of "1\u201325 of 30"


def expect(target: Any) -> Any:
    from playwright.sync_api import expect as pw_expect

    return pw_expect(target)


def shot(page: Page, screenshots: Path, name: str, *, full: bool = True) -> None:
    page.screenshot(path=str(screenshots / f"{name}.png"), full_page=full)


def test_definition_shows_its_diagram(page: Page, workers: Workers, screenshots: Path) -> None:
    page.goto("/definitions")
    expect(page.get_by_role("link", name="ui_order", exact=True)).to_be_visible()
    shot(page, screenshots, "definitions")

    page.get_by_role("link", name="ui_order", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("ui_order")
    diagram = page.locator("#lg-diagram svg")
    expect(diagram).to_be_visible()
    # One node per task reference name, the structure drawn: switch, fork + join, loop, sub-workflow.
    for ref in (
        "validate",
        "route",
        "fraud_check",
        "prepare",
        "pack",
        "invoice",
        "prepared",
        "notify_loop",
        "notify",
        "shipping",
    ):
        expect(diagram.locator(f"g.node[id='{ref}']")).to_be_visible()
    expect(diagram.locator("g.node.kind-switch#route")).to_have_count(1)
    expect(diagram.locator("g.node.kind-fork#prepare")).to_have_count(1)
    expect(diagram.locator("g.node.kind-loop#notify_loop")).to_have_count(1)
    expect(diagram.locator("text.case", has_text="big")).to_be_visible()
    # The sub-workflow node links to its definition.
    expect(diagram.locator("g#shipping a")).to_have_attribute(
        "href", "/definitions/ui_ship?version=1"
    )
    # Lanes sit side by side: pack and invoice at one height, left and right of the fork.
    pack = diagram.locator("g#pack").bounding_box()
    invoice = diagram.locator("g#invoice").bounding_box()
    assert pack and invoice and abs(pack["y"] - invoice["y"]) < 1 and pack["x"] != invoice["x"]
    # Keyboard: the JSON section opens from the keyboard.
    page.locator("summary", has_text="JSON").focus()
    page.keyboard.press("Enter")
    expect(page.locator("pre.json")).to_contain_text('"taskReferenceName": "validate"')
    page.locator("summary", has_text="JSON").click()
    page.evaluate("document.activeElement.blur()")
    shot(page, screenshots, "definition")


def test_start_from_the_form_and_watch_it_complete_live(
    page: Page, api: httpx.Client, workers: Workers, screenshots: Path
) -> None:
    page.goto("/definitions/ui_approval")
    expect(page.locator("#lg-diagram g.node#approve")).to_be_visible()
    # A broken input is refused in the page, with the reason.
    page.get_by_label("Input (JSON object)").fill("{not json")
    page.get_by_role("button", name="Start execution").click()
    expect(page.locator("#lg-start-error")).to_contain_text("not valid JSON")

    page.get_by_label("Input (JSON object)").fill('{"request": "a new laptop"}')
    page.get_by_label("Correlation id").fill("ui-live-1")
    page.get_by_role("button", name="Start execution").click()
    page.wait_for_url(re.compile(r"/executions/[0-9a-f-]{36}$"))
    workflow_id = page.url.rsplit("/", 1)[1]
    status = page.locator("#lg-status")
    expect(status).to_have_text("RUNNING")
    expect(page.locator("#lg-diagram g#approve")).to_have_class(re.compile("status-scheduled"))
    expect(page.locator("#lg-live")).to_contain_text("Live")

    # Someone approves through the API: the open page follows, without a reload.
    r = api.post(f"/api/tasks/{workflow_id}/approve/COMPLETED", json={"approved": True})
    assert r.status_code == 200, r.text
    expect(status).to_have_text("COMPLETED")
    expect(page.locator("#lg-diagram g#approve")).to_have_class(re.compile("status-completed"))
    expect(page.locator("#lg-live")).to_contain_text("COMPLETED")
    page.get_by_role("tab", name="Input / output").click()
    expect(page.locator("#lg-wf-output")).to_contain_text('"approved": true')
    page.get_by_role("tab", name="Diagram").click()

    # An action the API refuses shows the API's reason (this definition is not restartable).
    page.get_by_role("button", name="Restart").click()
    page.locator("dialog#lg-confirm").get_by_role("button", name="Restart").click()
    expect(page.locator("#lg-action-error")).to_contain_text("409")
    expect(page.locator("#lg-action-error")).to_contain_text("not restartable")
    expect(status).to_have_text("COMPLETED")


def test_find_a_failed_execution_and_retry_it(
    page: Page, api: httpx.Client, workers: Workers, screenshots: Path
) -> None:
    correlation = f"ui-fail-{uuid.uuid4().hex[:6]}"
    workflow_id = start(
        api, "ui_order", {"orderId": "F-1", "total": 5000, "fail": True}, correlation
    )
    wait_status(api, workflow_id, "FAILED")

    # Support: search failed executions of the type, narrowed by correlation id.
    page.goto("/executions")
    page.get_by_label("Workflow type").select_option("ui_order")
    page.get_by_label("FAILED", exact=True).check()
    page.get_by_label("Correlation id").fill(correlation)
    page.get_by_role("button", name="Search").click()
    row = page.locator(f"tr[data-workflow-id='{workflow_id}']")
    expect(row).to_be_visible()
    expect(row.locator(".badge")).to_have_text("FAILED")
    expect(page.locator("#lg-result-count")).to_contain_text(f"1{DASH}1 of 1")

    row.get_by_role("link", name=workflow_id).click()
    expect(page.locator("#lg-status")).to_have_text("FAILED")
    expect(page.locator(".reason").first).to_contain_text("card declined")
    expect(page.locator("#lg-diagram g#validate")).to_have_class(re.compile("status-failed"))
    # The failed task's details: input, output, logs.
    page.locator("#lg-diagram g#validate a").click()
    details = page.locator("details.task[data-ref='validate']").first
    expect(details).to_have_attribute("open", "")
    expect(details.locator(".logs")).to_contain_text("ui_validate handled validate")
    expect(details).to_contain_text('"fail": true')
    page.get_by_role("tab", name="Diagram").click()
    shot(page, screenshots, "execution-failed")

    # Retry, confirmed in a dialog; the page follows the execution to the end.
    page.get_by_role("button", name="Retry").click()
    dialog = page.locator("dialog#lg-confirm")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Retry this execution?")
    dialog.get_by_role("button", name="Retry").click()
    expect(page.locator("#lg-status")).to_have_text("COMPLETED", timeout=15_000)
    expect(page.locator("#lg-diagram g#shipping")).to_have_class(re.compile("status-completed"))
    assert wait_status(api, workflow_id, "COMPLETED") == "COMPLETED"
    page.get_by_role("tab", name="Timeline").click()
    expect(page.locator("svg.timeline")).to_be_visible()
    shot(page, screenshots, "execution-timeline")

    expect(page.get_by_role("button", name="Retry")).to_be_disabled()  # nothing to retry now

    # The sub-workflow is a link away, and links back to its parent.
    page.locator("a.sub-link", has_text="shipping").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("ui_ship")
    expect(page.locator("#lg-parent-link")).to_have_attribute("href", f"/executions/{workflow_id}")


def test_bulk_terminate_from_search_results(
    page: Page, api: httpx.Client, workers: Workers, screenshots: Path
) -> None:
    correlation = f"ui-bulk-{uuid.uuid4().hex[:6]}"
    ids = [start(api, "ui_approval", {"request": f"r{i}"}, correlation) for i in range(2)]
    page.goto(f"/executions?correlationId={correlation}")
    expect(page.locator("#lg-results tbody tr")).to_have_count(2)
    page.get_by_label("Select all executions on this page").check()
    expect(page.locator("#lg-selected")).to_have_text("2 selected")
    page.get_by_role("button", name="Terminate…").click()
    dialog = page.locator("dialog#lg-confirm")
    dialog.get_by_label("Reason (optional)").fill("duplicate requests")
    dialog.get_by_role("button", name="Terminate").click()
    expect(page.locator("#lg-bulk-result")).to_contain_text("2 succeeded, 0 failed")
    for workflow_id in ids:
        assert wait_status(api, workflow_id, "TERMINATED") == "TERMINATED"


def test_analytics_names_the_slowest_step(
    page: Page, api: httpx.Client, workers: Workers, screenshots: Path
) -> None:
    ids = [start(api, "ui_order", {"orderId": f"A-{i}", "total": 100 * i}) for i in range(6)]
    for workflow_id in ids:
        wait_status(api, workflow_id, "COMPLETED")
    page.goto("/executions?workflowType=ui_order")
    expect(page.locator("#lg-results tbody tr").first).to_be_visible()
    shot(page, screenshots, "executions")
    page.goto("/analytics?name=ui_order&period=1h")
    expect(page.locator("#slowest-step")).to_contain_text("Slowest step: pack")
    expect(page.locator("svg.chart").first).to_be_visible()
    expect(page.locator("#steps-table tr.highlight th")).to_have_text("pack")
    shot(page, screenshots, "analytics")


def test_queues_flag_task_types_nobody_polls(
    page: Page, api: httpx.Client, workers: Workers, screenshots: Path
) -> None:
    start(api, "ui_approval", {"request": "waits for a person"})
    time.sleep(0.3)  # the workers poll at least once
    page.goto("/queues")
    manual = page.locator("tr[data-queue='ui_manual']")
    expect(manual).to_contain_text("no worker polling")
    expect(manual).to_have_class(re.compile("flag"))
    expect(page.locator("tr[data-queue='ui_pack']")).to_contain_text("test-ui_pack")
    expect(page.locator("tr[data-queue='ui_pack']")).to_contain_text("served")
    shot(page, screenshots, "queues")
    page.goto("/")
    expect(
        page.get_by_role("heading", name="Queues with tasks and no worker polling")
    ).to_be_visible()
    expect(page.locator("main")).to_contain_text("ui_manual")
    shot(page, screenshots, "overview")
