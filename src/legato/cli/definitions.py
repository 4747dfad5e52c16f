"""`legato def register`: reading task and workflow definitions from JSON files and
directories (the rule is `DEF_RULE`), then registering them, task definitions first.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from legato.cli.client import Client, CliError
from legato.cli.render import print_json

DEF_RULE = """\
How a file is read: a JSON object with a "taskDefs" key holds a list of task definitions; any
other object is one definition, a workflow definition if it has a "tasks" key, else a task
definition; a JSON list holds definitions, each classified the same way. A directory registers
every *.json file in it (not recursively), all task definitions first."""


def _json_kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "null" if value is None else "a number"
    )


@dataclass
class Definitions:
    task_defs: list[dict[str, Any]] = field(default_factory=list)
    workflow_defs: list[dict[str, Any]] = field(default_factory=list)

    def extend(self, other: Definitions) -> None:
        self.task_defs.extend(other.task_defs)
        self.workflow_defs.extend(other.workflow_defs)


def classify_definitions(doc: Any, source: str = "input") -> Definitions:
    """Sort one parsed JSON document into task and workflow definitions (rule: `DEF_RULE`)."""
    out = Definitions()
    if isinstance(doc, dict) and "taskDefs" in doc:
        items = doc["taskDefs"]
        if not isinstance(items, list):
            raise CliError(f'{source}: "taskDefs" must be a list of task definitions')
        for i, item in enumerate(items):
            out.task_defs.append(_definition(item, f"{source}: taskDefs item {i}"))
        return out
    if isinstance(doc, dict):
        items, where = [doc], [source]
    elif isinstance(doc, list):
        items, where = doc, [f"{source}: item {i}" for i in range(len(doc))]
    else:
        raise CliError(f"{source}: expected a definition object or a list, not {_json_kind(doc)}")
    for item, place in zip(items, where, strict=True):
        definition = _definition(item, place)
        (out.workflow_defs if "tasks" in definition else out.task_defs).append(definition)
    return out


def _definition(item: Any, place: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise CliError(f"{place} is {_json_kind(item)}, not a definition object")
    name = item.get("name")
    if not isinstance(name, str) or not name.strip():
        raise CliError(f'{place} has no "name"')
    return item


def load_definitions(path: Path) -> Definitions:
    """Every definition in a file, or in each `*.json` file of a directory (by file name)."""
    if path.is_dir():
        files = sorted(p for p in path.glob("*.json") if p.is_file())
        if not files:
            raise CliError(f"no *.json files in {path}")
    elif path.exists():
        files = [path]
    else:
        raise CliError(f"no such file or directory: {path}")
    out = Definitions()
    for file in files:
        try:
            doc = json.loads(file.read_bytes())
        except OSError as exc:
            raise CliError(f"cannot read {file}: {exc.strerror or exc}") from exc
        except ValueError as exc:
            raise CliError(f"{file} is not valid JSON: {exc}") from exc
        out.extend(classify_definitions(doc, str(file)))
    if not out.task_defs and not out.workflow_defs:
        raise CliError(f"no definitions in {path}")
    return out


def cmd_def_register(args: argparse.Namespace, client: Client) -> int:
    defs = load_definitions(Path(args.path))
    registered: dict[str, list[Any]] = {"taskDefs": [], "workflowDefs": []}
    if defs.task_defs:
        client.request("POST", "/api/metadata/taskdefs", body=defs.task_defs)
        for td in defs.task_defs:
            registered["taskDefs"].append(td["name"])
            if not args.json:
                print(f"registered task def {td['name']}")
    overwrite = "true" if args.overwrite else "false"
    for wd in defs.workflow_defs:
        version = wd.get("version")
        version = 1 if version is None else version  # Conductor's default
        label = f"{wd['name']} v{version}"
        try:
            client.request(
                "POST", "/api/metadata/workflow", params={"overwrite": overwrite}, body=wd
            )
        except CliError as exc:
            if exc.message.startswith("409") and not args.overwrite:
                exc.details.append("  (use --overwrite to replace existing definitions)")
            exc.message = f"workflow def {label}: {exc.message}"
            raise
        registered["workflowDefs"].append({"name": wd["name"], "version": version})
        if not args.json:
            print(f"registered workflow def {label}")
    if args.json:
        print_json(registered)
    return 0
