"""The `legato` command: run the server, register definitions, start and inspect workflows.

Client commands talk to a running server over its Conductor REST API (`/api`), through one
small synchronous `Client` whose transport can be replaced (tests use `httpx.MockTransport`).
User mistakes end in a one-line `error: ...` on stderr and exit code 1; usage errors exit 2.

The commands live in submodules, one per group: `definitions` (``legato def``), `workflows`
(``legato workflow``), `server` (``legato server`` and ``legato db``); `client` holds the HTTP
client and `CliError`, `render` the tables and times, `parser` the argument parser, and this
module `main`. ``legato worker`` comes from `legato.worker.command`.
"""

from __future__ import annotations

import os
import sys

import httpx

from legato.cli.client import (
    DEFAULT_SERVER,
    Client,
    CliError,
    http_error,
    normalize_server,
    response_text,
)
from legato.cli.definitions import (
    DEF_RULE,
    Definitions,
    classify_definitions,
    cmd_def_register,
    load_definitions,
)
from legato.cli.parser import build_parser
from legato.cli.render import (
    format_duration,
    format_table,
    format_time,
    print_json,
    task_table,
    workflow_summary,
)
from legato.cli.server import (
    LOG_LEVELS,
    SERVER_FLAGS,
    cmd_db_upgrade,
    cmd_server,
    server_settings,
)
from legato.cli.workflows import (
    TERMINAL_STATUSES,
    cmd_workflow_get,
    cmd_workflow_start,
    cmd_workflow_terminate,
    parse_input,
    wait_for_workflow,
)

__all__ = [
    "DEFAULT_SERVER",
    "DEF_RULE",
    "LOG_LEVELS",
    "SERVER_FLAGS",
    "TERMINAL_STATUSES",
    "CliError",
    "Client",
    "Definitions",
    "build_parser",
    "classify_definitions",
    "cmd_db_upgrade",
    "cmd_def_register",
    "cmd_server",
    "cmd_workflow_get",
    "cmd_workflow_start",
    "cmd_workflow_terminate",
    "format_duration",
    "format_table",
    "format_time",
    "http_error",
    "load_definitions",
    "main",
    "normalize_server",
    "parse_input",
    "print_json",
    "response_text",
    "server_settings",
    "task_table",
    "wait_for_workflow",
    "workflow_summary",
]


def main(argv: list[str] | None = None, *, transport: httpx.BaseTransport | None = None) -> int:
    """Run one command; returns the exit code. `transport` replaces the network (tests)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2
    args.json = getattr(args, "json", False)
    try:
        if not args.client:
            return int(args.handler(args))
        server = getattr(args, "server", None) or os.environ.get("LEGATO_SERVER") or DEFAULT_SERVER
        with Client(server, transport=transport) as client:
            return int(args.handler(args, client))
    except CliError as exc:
        sys.stdout.flush()
        print(exc.render(), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
