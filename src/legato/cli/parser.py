"""The argument parser of the `legato` command: every command and its options, the handler
that runs it and whether that handler needs a `Client`; usage errors exit with code 2.
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from legato import __version__
from legato.cli.client import DEFAULT_SERVER
from legato.cli.definitions import DEF_RULE, cmd_def_register
from legato.cli.server import LOG_LEVELS, cmd_db_upgrade, cmd_server
from legato.cli.workflows import cmd_workflow_get, cmd_workflow_start, cmd_workflow_terminate


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"error: {message}\n")


def _client_options() -> _Parser:
    """`--server` and `--json` for every client command (also accepted before the command)."""
    common = _Parser(add_help=False)
    common.add_argument(
        "--server",
        default=argparse.SUPPRESS,
        metavar="URL",
        help=f"Legato server (default: $LEGATO_SERVER, else {DEFAULT_SERVER})",
    )
    common.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print the server's JSON instead of tables",
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    common = _client_options()
    parser = _Parser(
        prog="legato",
        description="Legato: durable workflow orchestration, Conductor-compatible.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"legato {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    server = commands.add_parser(
        "server",
        help="run the server",
        description="Run the Legato server. Each flag overrides its LEGATO_* environment variable.",
    )
    server.add_argument("--host", help="address to listen on (LEGATO_HOST, default 127.0.0.1)")
    server.add_argument("--port", type=int, help="HTTP port (LEGATO_PORT, default 8080)")
    server.add_argument("--db", metavar="URL", help="database URL (LEGATO_DB)")
    server.add_argument(
        "--sqlite-synchronous",
        type=str.upper,
        choices=("NORMAL", "FULL"),
        help="SQLite durability (LEGATO_SQLITE_SYNCHRONOUS, default NORMAL)",
    )
    server.add_argument(
        "--log-level",
        type=str.lower,
        choices=LOG_LEVELS,
        help="log level (LEGATO_LOG_LEVEL, default info)",
    )
    server.set_defaults(handler=cmd_server, client=False)

    db = commands.add_parser("db", help="manage the database schema")
    db_commands = db.add_subparsers(dest="db_command", metavar="COMMAND", required=True)
    upgrade = db_commands.add_parser(
        "upgrade",
        help="migrate the database to this Legato's schema",
        description="Migrate the database to this Legato's schema (SQLite or PostgreSQL);"
        " a server refuses to start on an older schema until this has run.",
    )
    upgrade.add_argument("--db", metavar="URL", help="database URL (LEGATO_DB)")
    upgrade.set_defaults(handler=cmd_db_upgrade, client=False)

    defs = commands.add_parser("def", help="manage definitions")
    def_commands = defs.add_subparsers(dest="def_command", metavar="COMMAND", required=True)
    register = def_commands.add_parser(
        "register",
        parents=[common],
        help="register task and workflow definitions from JSON files",
        description="Register task and workflow definitions. " + DEF_RULE,
    )
    register.add_argument("path", metavar="FILE|DIR")
    register.add_argument(
        "--overwrite",
        action="store_true",
        help="replace workflow definitions that exist already (same name and version)",
    )
    register.set_defaults(handler=cmd_def_register, client=True)

    workflow = commands.add_parser("workflow", help="start and inspect workflows")
    wf_commands = workflow.add_subparsers(dest="workflow_command", metavar="COMMAND", required=True)
    start = wf_commands.add_parser("start", parents=[common], help="start a workflow")
    start.add_argument("name", metavar="NAME")
    start.add_argument("--version", type=int, help="definition version (default: latest)")
    start.add_argument("--input", metavar="JSON|@FILE", help="workflow input, a JSON object")
    start.add_argument("--correlation-id", metavar="ID")
    start.add_argument("--wait", action="store_true", help="wait until the workflow ends")
    start.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="how long --wait waits (default 60)",
    )
    start.set_defaults(handler=cmd_workflow_start, client=True)

    get = wf_commands.add_parser("get", parents=[common], help="show a workflow")
    get.add_argument("workflow_id", metavar="ID")
    get.add_argument("--tasks", action="store_true", help="also list its tasks")
    get.set_defaults(handler=cmd_workflow_get, client=True)

    terminate = wf_commands.add_parser("terminate", parents=[common], help="terminate a workflow")
    terminate.add_argument("workflow_id", metavar="ID")
    terminate.add_argument("--reason", metavar="TEXT")
    terminate.set_defaults(handler=cmd_workflow_terminate, client=True)

    from legato.worker.command import add_parser as add_worker_parser

    add_worker_parser(commands)
    return parser
