"""`legato workflow start|get|terminate`, with the parsing of the `--input` value and the
wait for a started workflow to end (`--wait`).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from legato.cli.client import Client, CliError, response_text
from legato.cli.definitions import _json_kind
from legato.cli.render import _span, format_duration, print_json, task_table, workflow_summary

TERMINAL_STATUSES = frozenset({"COMPLETED", "FAILED", "TIMED_OUT", "TERMINATED"})


def parse_input(text: str | None) -> dict[str, Any]:
    """The `--input` value: inline JSON or `@path/to/file.json`; must be a JSON object."""
    if text is None or not text.strip():
        return {}
    if text.startswith("@"):
        path = Path(text[1:])
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise CliError(f"cannot read --input file {path}: {exc.strerror or exc}") from exc
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise CliError(f"--input is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise CliError(f"--input must be a JSON object, not {_json_kind(value)}")
    return value


def cmd_workflow_start(args: argparse.Namespace, client: Client) -> int:
    request: dict[str, Any] = {"name": args.name, "input": parse_input(args.input)}
    if args.version is not None:
        request["version"] = args.version
    if args.correlation_id is not None:
        request["correlationId"] = args.correlation_id
    workflow_id = response_text(client.request("POST", "/api/workflow", body=request))
    if not args.wait:
        if args.json:
            print_json({"workflowId": workflow_id})
        else:
            print(workflow_id)
        return 0
    if not args.json:
        print(workflow_id, flush=True)
    wf = wait_for_workflow(client, workflow_id, args.timeout)
    if args.json:
        print_json(wf)
    else:
        status = wf.get("status")
        line = f"{status} in {format_duration(_span(wf.get('startTime'), wf.get('endTime')))}"
        if wf.get("reasonForIncompletion"):
            line += f": {wf['reasonForIncompletion']}"
        print(line)
        print_json(wf.get("output") or {})
    return 0 if wf.get("status") == "COMPLETED" else 1


def wait_for_workflow(client: Client, workflow_id: str, timeout: float) -> dict[str, Any]:
    """Poll until the workflow is terminal, backing off from 20 ms to 500 ms."""
    deadline = time.monotonic() + timeout
    delay = 0.02
    path = f"/api/workflow/{quote(workflow_id, safe='')}"
    while True:
        wf = client.get_json(path, params={"includeTasks": "false"})
        status = wf.get("status") if isinstance(wf, dict) else None
        if status in TERMINAL_STATUSES:
            return dict(wf)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise CliError(
                f"workflow {workflow_id} is still {status} after {timeout:g} s",
                [f"  (see it with: legato workflow get {workflow_id} --tasks)"],
            )
        time.sleep(min(delay, remaining))
        delay = min(delay * 2, 0.5)


def cmd_workflow_get(args: argparse.Namespace, client: Client) -> int:
    path = f"/api/workflow/{quote(args.workflow_id, safe='')}"
    params = {"includeTasks": "true" if args.tasks else "false"}
    if args.json:
        print(client.request("GET", path, params=params).text)
        return 0
    wf = client.get_json(path, params=params)
    if not isinstance(wf, dict):
        raise CliError(f"GET {path} did not answer with a workflow")
    print(workflow_summary(wf))
    if args.tasks:
        print()
        print(task_table(wf.get("tasks") or []))
    return 0


def cmd_workflow_terminate(args: argparse.Namespace, client: Client) -> int:
    params = {"reason": args.reason} if args.reason else None
    client.request("DELETE", f"/api/workflow/{quote(args.workflow_id, safe='')}", params=params)
    if args.json:
        print_json({"workflowId": args.workflow_id, "terminated": True})
    else:
        print(f"terminated {args.workflow_id}")
    return 0
