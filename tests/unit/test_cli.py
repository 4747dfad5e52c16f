"""The `legato` CLI without a server: parsing, input files, rendering, errors (httpx.MockTransport)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from legato import cli
from legato.config import Settings
from legato.demo import DEMO_DIR
from legato.model import TaskDef, WorkflowDef

ROOT = Path(__file__).resolve().parents[2]

Handler = Callable[[httpx.Request], httpx.Response]


class Recorder:
    """A MockTransport that records requests and answers from a handler."""

    def __init__(self, handler: Handler) -> None:
        self.requests: list[httpx.Request] = []
        self._handler = handler
        self.transport = httpx.MockTransport(self._handle)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self._handler(request)

    def bodies(self) -> list[Any]:
        return [json.loads(r.content) if r.content else None for r in self.requests]


def run(
    argv: list[str], handler: Handler, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str, Recorder]:
    recorder = Recorder(handler)
    code = cli.main(argv, transport=recorder.transport)
    out, err = capsys.readouterr()
    return code, out, err, recorder


def ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200)


def workflow(status: str = "COMPLETED", **extra: Any) -> dict[str, Any]:
    return {
        "workflowId": "wf-1",
        "workflowName": "tour",
        "workflowVersion": 1,
        "status": status,
        "startTime": 1_767_225_600_000,
        "endTime": 1_767_225_601_250 if status != "RUNNING" else 0,
        "output": {"message": "HELLO, ADA!"},
        **extra,
    }


# --- argument parsing ---------------------------------------------------------------------


def test_parse_workflow_start_defaults() -> None:
    args = cli.build_parser().parse_args(["workflow", "start", "tour"])
    assert args.name == "tour"
    assert args.version is None
    assert args.input is None
    assert args.correlation_id is None
    assert args.wait is False
    assert args.timeout == 60.0
    assert not hasattr(args, "server")  # resolved later: flag, then $LEGATO_SERVER


def test_parse_workflow_start_all_options() -> None:
    args = cli.build_parser().parse_args(
        [
            "workflow",
            "start",
            "tour",
            "--version",
            "3",
            "--input",
            '{"a": 1}',
            "--correlation-id",
            "c-1",
            "--wait",
            "--timeout",
            "2.5",
        ]
    )
    assert (args.version, args.input, args.correlation_id, args.wait, args.timeout) == (
        3,
        '{"a": 1}',
        "c-1",
        True,
        2.5,
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["--server", "http://x:1", "--json", "workflow", "get", "abc"],
        ["workflow", "get", "abc", "--server", "http://x:1", "--json"],
        ["--json", "workflow", "get", "--server", "http://x:1", "abc"],
    ],
)
def test_global_options_go_before_or_after_the_command(argv: list[str]) -> None:
    args = cli.build_parser().parse_args(argv)
    assert args.server == "http://x:1"
    assert args.json is True
    assert args.workflow_id == "abc"


def test_parse_server_flags() -> None:
    args = cli.build_parser().parse_args(
        ["server", "--port", "9000", "--sqlite-synchronous", "full", "--log-level", "DEBUG"]
    )
    assert (args.port, args.sqlite_synchronous, args.log_level) == (9000, "FULL", "debug")
    assert args.host is None and args.db is None


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["workflow"],
        ["workflow", "start"],
        ["workflow", "start", "x", "--version", "abc"],
        ["server", "--sqlite-synchronous", "OFF"],
        ["server", "--port", "eighty"],
        ["def", "register"],
        ["nonsense"],
    ],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert "usage: legato" in err
    assert "error: " in err
    assert "Traceback" not in err


def test_version_and_help_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == "legato 0.1.0"
    assert cli.main(["def", "register", "--help"]) == 0
    assert '"taskDefs"' in capsys.readouterr().out


def test_server_settings_flags_override_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEGATO_PORT", "9100")
    monkeypatch.setenv("LEGATO_DB", "sqlite:///env.db")
    monkeypatch.setenv("LEGATO_LOG_LEVEL", "WARNING")
    args = cli.build_parser().parse_args(["server", "--port", "9200"])
    settings = cli.server_settings(args)
    assert settings.port == 9200  # flag wins
    assert settings.db == "sqlite:///env.db"  # environment kept where no flag
    assert settings.log_level == "WARNING"
    assert settings.host == "127.0.0.1"  # default


def test_server_settings_invalid_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    args = cli.build_parser().parse_args(["server", "--port", "70000"])
    with pytest.raises(cli.CliError) as info:
        cli.server_settings(args)
    assert info.value.message == "invalid settings"
    assert info.value.details[0].startswith("  - port: ")
    monkeypatch.setenv("LEGATO_LOG_LEVEL", "loud")
    with pytest.raises(cli.CliError, match="invalid log level 'loud'"):
        cli.server_settings(cli.build_parser().parse_args(["server"]))


# --- --input ------------------------------------------------------------------------------


def test_parse_input_inline_file_and_empty(tmp_path: Path) -> None:
    assert cli.parse_input('{"name": "Ada", "n": [1, 2]}') == {"name": "Ada", "n": [1, 2]}
    assert cli.parse_input(None) == {}
    assert cli.parse_input("  ") == {}
    path = tmp_path / "in.json"
    path.write_text('{"from": "file"}', encoding="utf-8")
    assert cli.parse_input(f"@{path}") == {"from": "file"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{bad", r"^--input is not valid JSON: Expecting property name"),
        ("[1, 2]", r"^--input must be a JSON object, not a list$"),
        ('"text"', r"^--input must be a JSON object, not a string$"),
        ("3", r"^--input must be a JSON object, not a number$"),
        ("@/no/such/file.json", r"^cannot read --input file /no/such/file.json: "),
    ],
)
def test_parse_input_errors(text: str, message: str) -> None:
    with pytest.raises(cli.CliError) as info:
        cli.parse_input(text)
    assert re.search(message, info.value.message)


def test_bad_input_is_reported_before_any_request(capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err, rec = run(["workflow", "start", "tour", "--input", "{x"], ok, capsys)
    assert code == 1
    assert err.startswith("error: --input is not valid JSON: ")
    assert len(err.strip().splitlines()) == 1
    assert rec.requests == []


# --- definition files ---------------------------------------------------------------------

WF = {"name": "wf", "version": 2, "tasks": [{"name": "a", "taskReferenceName": "a"}]}
TD = {"name": "a", "retryCount": 1}


def test_classify_one_workflow_def() -> None:
    defs = cli.classify_definitions(WF)
    assert defs.workflow_defs == [WF]
    assert defs.task_defs == []


def test_classify_list_of_workflow_defs() -> None:
    other = {**WF, "name": "wf2"}
    defs = cli.classify_definitions([WF, other])
    assert defs.workflow_defs == [WF, other]


def test_classify_task_defs_wrapper_and_list() -> None:
    assert cli.classify_definitions({"taskDefs": [TD, {"name": "b"}]}).task_defs == [
        TD,
        {"name": "b"},
    ]
    assert cli.classify_definitions([TD, {"name": "b"}]).task_defs == [TD, {"name": "b"}]
    # one object without "tasks" is one task definition
    assert cli.classify_definitions(TD).task_defs == [TD]


def test_classify_mixed_list_by_tasks_key() -> None:
    defs = cli.classify_definitions([TD, WF])
    assert defs.task_defs == [TD]
    assert defs.workflow_defs == [WF]


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ("text", "f.json: expected a definition object or a list, not a string"),
        ([1], "f.json: item 0 is a number, not a definition object"),
        ([TD, {"tasks": []}], 'f.json: item 1 has no "name"'),
        ({"taskDefs": {"name": "a"}}, 'f.json: "taskDefs" must be a list of task definitions'),
        ({"taskDefs": [TD, "b"]}, "f.json: taskDefs item 1 is a string, not a definition object"),
        ({"name": ""}, 'f.json has no "name"'),
    ],
)
def test_classify_errors(doc: Any, message: str) -> None:
    with pytest.raises(cli.CliError) as info:
        cli.classify_definitions(doc, "f.json")
    assert info.value.message == message


def test_load_directory_reads_json_files_in_name_order(tmp_path: Path) -> None:
    (tmp_path / "b_workflow.json").write_text(json.dumps(WF))
    (tmp_path / "a_tasks.json").write_text(json.dumps({"taskDefs": [TD]}))
    (tmp_path / "c_more.json").write_text(json.dumps([{"name": "c"}]))
    (tmp_path / "notes.txt").write_text("not json")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "x.json").write_text(json.dumps({"name": "ignored"}))
    defs = cli.load_definitions(tmp_path)
    assert [d["name"] for d in defs.task_defs] == ["a", "c"]
    assert [d["name"] for d in defs.workflow_defs] == ["wf"]


def test_load_errors(tmp_path: Path) -> None:
    with pytest.raises(cli.CliError, match="no such file or directory"):
        cli.load_definitions(tmp_path / "missing.json")
    with pytest.raises(cli.CliError, match=r"no \*\.json files in"):
        cli.load_definitions(tmp_path)
    bad = tmp_path / "bad.json"
    bad.write_text("{oops")
    with pytest.raises(cli.CliError, match=r"bad\.json is not valid JSON: "):
        cli.load_definitions(bad)
    bad.write_text("[]")
    with pytest.raises(cli.CliError, match="no definitions in"):
        cli.load_definitions(bad)


def test_demo_definitions_are_valid_conductor_json() -> None:
    defs = cli.load_definitions(DEMO_DIR)
    names = {d["name"] for d in defs.task_defs}
    assert names == {
        "demo_validate_order",
        "demo_fraud_check",
        "demo_charge_payment",
        "demo_ship_order",
    }
    for raw in defs.task_defs:
        td = TaskDef.model_validate(raw)
        assert (td.retry_count, td.retry_delay_seconds) == (2, 1)
        assert (td.response_timeout_seconds, td.timeout_seconds) == (30, 120)
    [raw_wf] = defs.workflow_defs
    wf = WorkflowDef.model_validate(raw_wf)
    types = {t.name: t.type for t in wf.walk()}
    assert types["route_by_size"] == "SWITCH"
    assert types["summarize"] == "INLINE"
    assert types["no_fraud_check"] == "NOOP"
    assert {n for n, t in types.items() if t == "SIMPLE"} == names
    assert wf.output_parameters


# --- rendering ----------------------------------------------------------------------------


def test_format_table_aligns_columns() -> None:
    text = cli.format_table(
        ("REF", "STATUS", "RETRY"),
        [("validate", "COMPLETED", 0), ("charge", None, 12)],
        right=(2,),
    )
    assert text.splitlines() == [
        "REF       STATUS     RETRY",
        "validate  COMPLETED      0",
        "charge    -             12",
    ]


def test_format_table_has_no_trailing_spaces() -> None:
    text = cli.format_table(("A", "B"), [("long value", ""), ("x", "y")])
    assert all(line == line.rstrip() for line in text.splitlines())
    assert text.splitlines()[1] == "long value  -"


@pytest.mark.parametrize(
    ("ms", "text"),
    [(0, "0 ms"), (None, "-"), (-5, "-"), (7, "7 ms"), (999, "999 ms"), (1250, "1.25 s"),
     (125_000, "2m 05s"), (3_725_000, "1h 02m")],
)  # fmt: skip
def test_format_duration(ms: Any, text: str) -> None:
    assert cli.format_duration(ms) == text


def test_format_time_is_utc() -> None:
    assert cli.format_time(1_767_225_600_123) == "2026-01-01 00:00:00.123Z"
    assert cli.format_time(1_767_225_600_123, date=False) == "00:00:00.123"
    assert cli.format_time(0) == "-"


def test_workflow_summary_and_task_table() -> None:
    wf = workflow(
        "FAILED",
        correlationId="c-1",
        reasonForIncompletion="Task t1 failed",
        tasks=[
            {
                "referenceTaskName": "greet",
                "taskType": "tour_greet",
                "status": "FAILED",
                "retryCount": 1,
                "startTime": 1_767_225_600_100,
                "endTime": 1_767_225_600_142,
            },
            {"referenceTaskName": "shout", "taskType": "tour_shout", "status": "SCHEDULED"},
        ],
    )
    summary = cli.workflow_summary(wf).splitlines()
    assert summary[:3] == [
        "Workflow     wf-1",
        "Name         tour v1",
        "Status       FAILED",
    ]
    assert "Duration     1.25 s" in summary
    assert "Correlation  c-1" in summary
    assert "Reason       Task t1 failed" in summary
    assert 'Output       {"message":"HELLO, ADA!"}' in summary
    table = cli.task_table(wf["tasks"]).splitlines()
    assert table[0].split() == ["REF", "TYPE", "STATUS", "RETRY", "START", "END", "DURATION"]
    assert table[1].split() == [
        "greet",
        "tour_greet",
        "FAILED",
        "1",
        "00:00:00.100",
        "00:00:00.142",
        "42",
        "ms",
    ]
    assert table[2].split() == ["shout", "tour_shout", "SCHEDULED", "0", "-", "-", "-"]
    assert cli.task_table([]) == "(no tasks)"


# --- errors -------------------------------------------------------------------------------


def test_http_error_renders_message_and_validation_errors() -> None:
    response = httpx.Response(
        400,
        json={
            "status": 400,
            "message": "Validation failed for workflow definition tour",
            "validationErrors": [
                {"path": "tasks[0].name", "message": "must not be blank", "invalidValue": ""},
                {"message": "no path here"},
            ],
        },
    )
    assert cli.http_error(response).render().splitlines() == [
        "error: 400 Validation failed for workflow definition tour",
        "  - tasks[0].name: must not be blank",
        "  - no path here",
    ]


def test_http_error_without_json_body() -> None:
    assert cli.http_error(httpx.Response(502, text="Bad gateway\nmore")).render() == (
        "error: 502 Bad gateway"
    )
    assert cli.http_error(httpx.Response(503)).render() == "error: 503 Service Unavailable"


def test_connection_refused(capsys: pytest.CaptureFixture[str]) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    code, _, err, _ = run(["workflow", "get", "x", "--server", "http://h:1/"], refuse, capsys)
    assert code == 1
    assert err == (
        "error: cannot reach Legato at http://h:1: is the server running? (legato server)\n"
    )


def test_read_timeout_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    code, _, err, _ = run(["workflow", "get", "x"], slow, capsys)
    assert code == 1
    assert err == "error: Legato at http://127.0.0.1:8080 did not answer in time\n"


def test_http_error_from_a_command(capsys: pytest.CaptureFixture[str]) -> None:
    def missing(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"status": 404, "message": "No such workflow: x"})

    code, out, err, _ = run(["workflow", "get", "x"], missing, capsys)
    assert (code, out, err) == (1, "", "error: 404 No such workflow: x\n")


def test_server_url_from_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LEGATO_SERVER", "legato.internal:9000")
    _, _, _, rec = run(["workflow", "get", "x", "--json"], lambda r: httpx.Response(200), capsys)
    assert str(rec.requests[0].url).startswith("http://legato.internal:9000/api/workflow/x")
    _, _, _, rec = run(
        ["workflow", "get", "x", "--server", "http://other:1"],
        lambda r: httpx.Response(404),
        capsys,
    )
    assert rec.requests[0].url.host == "other"


# --- commands -----------------------------------------------------------------------------


def test_workflow_start_sends_a_start_request(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err, rec = run(
        [
            "workflow",
            "start",
            "tour",
            "--version",
            "2",
            "--input",
            '{"name": "Ada"}',
            "--correlation-id",
            "c-9",
        ],
        lambda r: httpx.Response(200, text="wf-1", headers={"content-type": "text/plain"}),
        capsys,
    )
    assert (code, out, err) == (0, "wf-1\n", "")
    [request] = rec.requests
    assert (request.method, request.url.path) == ("POST", "/api/workflow")
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.content) == {
        "name": "tour",
        "input": {"name": "Ada"},
        "version": 2,
        "correlationId": "c-9",
    }


def test_workflow_start_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _, _ = run(
        ["workflow", "start", "tour", "--json"], lambda r: httpx.Response(200, text="wf-1"), capsys
    )
    assert code == 0
    assert json.loads(out) == {"workflowId": "wf-1"}


def wait_handler(statuses: list[str]) -> Handler:
    remaining = list(statuses)

    def handle(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(200, text="wf-1")
        assert request.url.path == "/api/workflow/wf-1"
        assert request.url.params["includeTasks"] == "false"
        status = remaining.pop(0) if len(remaining) > 1 else remaining[0]
        return httpx.Response(200, json=workflow(status))

    return handle


def test_workflow_start_wait_completed(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _, rec = run(
        ["workflow", "start", "tour", "--wait"],
        wait_handler(["RUNNING", "RUNNING", "COMPLETED"]),
        capsys,
    )
    assert code == 0
    lines = out.splitlines()
    assert lines[:2] == ["wf-1", "COMPLETED in 1.25 s"]
    assert json.loads("\n".join(lines[2:])) == {"message": "HELLO, ADA!"}
    assert len(rec.requests) == 4


def test_workflow_start_wait_failed_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(200, text="wf-1")
        return httpx.Response(200, json=workflow("FAILED", reasonForIncompletion="boom"))

    code, out, _, _ = run(["workflow", "start", "tour", "--wait"], handle, capsys)
    assert code == 1
    assert out.splitlines()[1] == "FAILED in 1.25 s: boom"


def test_workflow_start_wait_json_prints_the_workflow(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _, _ = run(
        ["workflow", "start", "tour", "--wait", "--json"], wait_handler(["COMPLETED"]), capsys
    )
    assert code == 0
    assert json.loads(out)["status"] == "COMPLETED"


def test_workflow_start_wait_times_out(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err, rec = run(
        ["workflow", "start", "tour", "--wait", "--timeout", "0.05"],
        wait_handler(["RUNNING"]),
        capsys,
    )
    assert code == 1
    assert out == "wf-1\n"
    assert err.startswith("error: workflow wf-1 is still RUNNING after 0.05 s\n")
    assert 2 <= len(rec.requests) <= 6  # backoff from 20 ms


def test_workflow_get_with_tasks(capsys: pytest.CaptureFixture[str]) -> None:
    task = {"referenceTaskName": "greet", "taskType": "tour_greet", "status": "COMPLETED"}
    code, out, _, rec = run(
        ["workflow", "get", "wf-1", "--tasks"],
        lambda r: httpx.Response(200, json=workflow(tasks=[task])),
        capsys,
    )
    assert code == 0
    assert rec.requests[0].url.params["includeTasks"] == "true"
    assert "Status       COMPLETED" in out
    assert re.search(r"^greet\s+tour_greet\s+COMPLETED\s+0", out, re.MULTILINE)


def test_workflow_get_json_is_the_raw_body(capsys: pytest.CaptureFixture[str]) -> None:
    body = json.dumps(workflow())
    code, out, _, rec = run(
        ["workflow", "get", "wf-1", "--json"], lambda r: httpx.Response(200, text=body), capsys
    )
    assert (code, out) == (0, body + "\n")
    assert rec.requests[0].url.params["includeTasks"] == "false"


def test_workflow_terminate(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _, rec = run(
        ["workflow", "terminate", "wf 1", "--reason", "no longer needed"], ok, capsys
    )
    assert (code, out) == (0, "terminated wf 1\n")
    [request] = rec.requests
    assert request.method == "DELETE"
    assert request.url.raw_path == b"/api/workflow/wf%201?reason=no+longer+needed"


def test_def_register_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a_workflow.json").write_text(json.dumps(WF))
    (tmp_path / "b_tasks.json").write_text(json.dumps([TD, {"name": "b"}]))
    code, out, _, rec = run(["def", "register", str(tmp_path)], ok, capsys)
    assert code == 0
    assert out.splitlines() == [
        "registered task def a",
        "registered task def b",
        "registered workflow def wf v2",
    ]
    first, second = rec.requests
    assert (first.method, first.url.path) == ("POST", "/api/metadata/taskdefs")
    assert json.loads(first.content) == [TD, {"name": "b"}]
    assert (second.method, second.url.path) == ("POST", "/api/metadata/workflow")
    assert second.url.params["overwrite"] == "false"
    assert json.loads(second.content) == WF


def test_def_register_overwrite_and_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "wf.json"
    path.write_text(json.dumps([WF, {**WF, "name": "other", "version": None}]))
    code, out, _, rec = run(["def", "register", str(path), "--overwrite", "--json"], ok, capsys)
    assert code == 0
    assert [r.url.params["overwrite"] for r in rec.requests] == ["true", "true"]
    assert json.loads(out) == {
        "taskDefs": [],
        "workflowDefs": [{"name": "wf", "version": 2}, {"name": "other", "version": 1}],
    }


def test_def_register_conflict_suggests_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "wf.json"
    path.write_text(json.dumps(WF))

    def conflict(request: httpx.Request) -> httpx.Response:
        return httpx.Response(409, json={"status": 409, "message": "wf version 2 exists"})

    code, _, err, _ = run(["def", "register", str(path)], conflict, capsys)
    assert code == 1
    assert err.splitlines() == [
        "error: workflow def wf v2: 409 wf version 2 exists",
        "  (use --overwrite to replace existing definitions)",
    ]


# --- README -------------------------------------------------------------------------------


def test_readme_documents_every_setting() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in Settings.model_fields:
        assert f"`LEGATO_{name.upper()}`" in readme, name
