"""What the client commands print: plain-text tables, UTC times and durations, the summary of
a workflow and the table of its tasks, and indented JSON.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson


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
