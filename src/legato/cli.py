"""The `legato` command: run the server, register definitions, start and inspect workflows.

Client commands talk to a running server over its Conductor REST API (`/api`), through one
small synchronous `Client` whose transport can be replaced (tests use `httpx.MockTransport`).
User mistakes end in a one-line `error: ...` on stderr and exit code 1; usage errors exit 2.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import quote

import httpx
import orjson

from legato import __version__

if TYPE_CHECKING:
    from legato.config import Settings

DEFAULT_SERVER = "http://127.0.0.1:8080"
TERMINAL_STATUSES = frozenset({"COMPLETED", "FAILED", "TIMED_OUT", "TERMINATED"})
LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")

DEF_RULE = """\
How a file is read: a JSON object with a "taskDefs" key holds a list of task definitions; any
other object is one definition, a workflow definition if it has a "tasks" key, else a task
definition; a JSON list holds definitions, each classified the same way. A directory registers
every *.json file in it (not recursively), all task definitions first."""


class CliError(Exception):
    """A user-facing failure: printed as `error: <first line>` plus detail lines, exit code 1."""

    def __init__(self, message: str, details: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.details = list(details)

    def render(self) -> str:
        return "\n".join([f"error: {self.message}", *self.details])


# --- HTTP ---------------------------------------------------------------------------------


def normalize_server(url: str) -> str:
    url = url.strip().rstrip("/")
    if "://" not in url:
        url = "http://" + url
    return url


def http_error(response: httpx.Response) -> CliError:
    """Conductor's error body `{status, message, validationErrors: [{path, message}]}` as text."""
    body: Any = None
    with contextlib.suppress(ValueError):
        body = response.json()
    message = ""
    details: list[str] = []
    if isinstance(body, dict):
        message = str(body.get("message") or "")
        for problem in body.get("validationErrors") or []:
            if isinstance(problem, dict):
                path = problem.get("path")
                text = problem.get("message") or ""
                details.append(f"  - {path}: {text}" if path else f"  - {text}")
    if not message:
        text = response.text.strip()
        message = text.splitlines()[0][:300] if text else response.reason_phrase
    return CliError(f"{response.status_code} {message}".rstrip(), details)


class Client:
    """A thin synchronous client for the REST API; raises `CliError` on every failure."""

    def __init__(
        self,
        server: str,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.server = normalize_server(server)
        self._http = httpx.Client(base_url=self.server, transport=transport, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
    ) -> httpx.Response:
        headers = {"Accept": "application/json, text/plain"}
        content = None
        if body is not None:
            content = orjson.dumps(body)
            headers["Content-Type"] = "application/json"
        try:
            response = self._http.request(
                method, path, params=params, content=content, headers=headers
            )
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise CliError(
                f"cannot reach Legato at {self.server}: is the server running? (legato server)"
            ) from exc
        except httpx.UnsupportedProtocol as exc:
            raise CliError(f"invalid server URL {self.server}: {exc}") from exc
        except httpx.TimeoutException as exc:
            raise CliError(f"Legato at {self.server} did not answer in time") from exc
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise CliError(f"request to {self.server} failed: {exc}") from exc
        if response.status_code >= 400:
            raise http_error(response)
        return response

    def get_json(self, path: str, *, params: dict[str, Any] | None = None) -> Any:
        response = self.request("GET", path, params=params)
        try:
            return response.json()
        except ValueError as exc:
            raise CliError(f"GET {path} did not answer with JSON") from exc


def response_text(response: httpx.Response) -> str:
    """A text/plain answer (such as a workflow id); tolerates a JSON-quoted string."""
    text = response.text.strip()
    if text.startswith('"'):
        try:
            value = json.loads(text)
        except ValueError:
            return text
        return str(value)
    return text


# --- input parsing ------------------------------------------------------------------------


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


# --- rendering ----------------------------------------------------------------------------


def format_table(
    headers: Sequence[str], rows: Sequence[Sequence[object]], *, right: Sequence[int] = ()
) -> str:
    """A plain-text table: header row, columns two spaces apart, `right` columns right-aligned."""
    cells = [[str(h) for h in headers]] + [
        ["-" if v is None or v == "" else str(v) for v in row] for row in rows
    ]
    widths = [max(len(line[i]) for line in cells) for i in range(len(headers))]
    lines = []
    for line in cells:
        parts = [
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
            for i, cell in enumerate(line)
        ]
        lines.append("  ".join(parts).rstrip())
    return "\n".join(lines)


def format_time(ms: Any, *, date: bool = True) -> str:
    """Epoch milliseconds as UTC (`2026-01-02 03:04:05.678Z`); `-` for none or zero."""
    if not isinstance(ms, int | float) or ms <= 0:
        return "-"
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    text = moment.strftime("%Y-%m-%d %H:%M:%S.%f" if date else "%H:%M:%S.%f")[:-3]
    return text + "Z" if date else text


def format_duration(ms: Any) -> str:
    if not isinstance(ms, int | float) or ms < 0:
        return "-"
    if ms < 1000:
        return f"{int(ms)} ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.2f} s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def _span(start: Any, end: Any) -> Any:
    if isinstance(start, int | float) and isinstance(end, int | float) and start > 0 and end > 0:
        return end - start
    return None


def _compact(value: Any, limit: int = 300) -> str:
    text = orjson.dumps(value).decode()
    return text if len(text) <= limit else text[: limit - 3] + "..."


def workflow_summary(wf: dict[str, Any]) -> str:
    name = wf.get("workflowName") or wf.get("workflowType") or "?"
    version = wf.get("workflowVersion", wf.get("version"))
    start = wf.get("startTime") or wf.get("createTime")
    end = wf.get("endTime")
    pairs: list[tuple[str, str]] = [
        ("Workflow", str(wf.get("workflowId", "?"))),
        ("Name", f"{name} v{version}" if version is not None else str(name)),
        ("Status", str(wf.get("status", "?"))),
        ("Started", format_time(start)),
        ("Ended", format_time(end)),
        ("Duration", format_duration(_span(start, end))),
    ]
    if wf.get("correlationId"):
        pairs.append(("Correlation", str(wf["correlationId"])))
    if wf.get("reasonForIncompletion"):
        pairs.append(("Reason", str(wf["reasonForIncompletion"])))
    if wf.get("output"):
        pairs.append(("Output", _compact(wf["output"])))
    return "\n".join(f"{k.ljust(11)}  {v}" for k, v in pairs)


def task_table(tasks: Sequence[dict[str, Any]]) -> str:
    if not tasks:
        return "(no tasks)"
    rows = [
        (
            t.get("referenceTaskName"),
            t.get("taskType"),
            t.get("status"),
            t.get("retryCount", 0),
            format_time(t.get("startTime"), date=False),
            format_time(t.get("endTime"), date=False),
            format_duration(_span(t.get("startTime"), t.get("endTime"))),
        )
        for t in tasks
    ]
    headers = ("REF", "TYPE", "STATUS", "RETRY", "START", "END", "DURATION")
    return format_table(headers, rows, right=(3, 6))


def print_json(value: Any) -> None:
    print(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode())


# --- commands -----------------------------------------------------------------------------


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


SERVER_FLAGS = ("host", "port", "db", "sqlite_synchronous", "log_level")


def server_settings(args: argparse.Namespace) -> Settings:
    """`Settings` from the environment, overridden by the `legato server` flags given."""
    import pydantic

    from legato.config import Settings

    overrides = {key: getattr(args, key) for key in SERVER_FLAGS if getattr(args, key) is not None}
    try:
        settings = Settings(**overrides)
    except pydantic.ValidationError as exc:
        problems = [f"  - {'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise CliError("invalid settings", problems) from exc
    if settings.log_level.lower() not in LOG_LEVELS:
        raise CliError(
            f"invalid log level {settings.log_level!r}: use one of {', '.join(LOG_LEVELS)}"
        )
    return settings


def cmd_server(args: argparse.Namespace) -> int:
    """Run the API server in this process (uvicorn, one worker, no access log)."""
    import asyncio
    import importlib.util

    import uvicorn

    settings = server_settings(args)
    try:
        from legato.api import app as api_app
    except ImportError as exc:
        raise CliError(f"the Legato server is not available: {exc}") from exc
    try:
        app = api_app.create_app(settings)
    except getattr(api_app, "UnsupportedDatabaseError", ValueError) as exc:
        raise CliError(str(exc)) from exc

    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        loop="uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
        http="httptools",
        access_log=False,
        workers=1,
        log_level=settings.log_level.lower(),
    )
    server = uvicorn.Server(config)

    async def announce() -> None:
        while not server.started:
            await asyncio.sleep(0.02)
        sockname = server.servers[0].sockets[0].getsockname()
        host = f"[{sockname[0]}]" if ":" in sockname[0] else sockname[0]
        print(
            f"Legato {__version__} listening on http://{host}:{sockname[1]} "
            f"(database {_url_without_password(settings.db)})",
            flush=True,
        )

    async def serve() -> int:
        announcer = asyncio.ensure_future(announce())
        try:
            await server.serve()
        except SystemExit as exc:  # uvicorn exits this way when it cannot start
            return 0 if exc.code in (0, None) else 1
        finally:
            announcer.cancel()
        return 0

    try:
        with asyncio.Runner(loop_factory=config.get_loop_factory()) as runner:
            code = runner.run(serve())
    except KeyboardInterrupt:
        return 0
    if code:
        raise CliError("the server did not start (see the log above)")
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    """Migrate the database to this Legato's schema (creating it in an empty database)."""
    from legato.config import Settings
    from legato.store import migrate

    url = args.db or Settings().db
    shown = _url_without_password(url)
    before = None
    try:
        before = migrate.current_revision(url)
        migrate.upgrade(url)
        after = migrate.current_revision(url)
    except Exception as exc:
        raise CliError(f"cannot upgrade the database {shown}: {exc}".splitlines()[0]) from exc
    if before == after:
        print(f"{shown} is at schema revision {after} already")
    else:
        print(f"{shown}: schema revision {before or '(none)'} -> {after}")
    return 0


def _url_without_password(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.password:
        return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")).geturl()
    return url


# --- parser -------------------------------------------------------------------------------


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


if __name__ == "__main__":
    sys.exit(main())
