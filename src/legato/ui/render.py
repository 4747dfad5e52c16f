"""Templates (Jinja2, autoescaped) and the formatting every page shares."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
import orjson
from fastapi import Request
from fastapi.responses import HTMLResponse

from legato import __version__

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
STATIC_PREFIX = "/ui/static"

WORKFLOW_STATUSES = ("RUNNING", "PAUSED", "COMPLETED", "FAILED", "TIMED_OUT", "TERMINATED")


def fmt_time(ms: int | None) -> str:
    """Epoch milliseconds as `2026-11-27 11:32:48.322` (UTC); empty for 0 / None."""
    if not ms:
        return ""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def iso_time(ms: int | None) -> str:
    if not ms:
        return ""
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")


def fmt_duration(ms: int | float | None) -> str:
    """A duration, short: `850 ms`, `12.4 s`, `3.2 min`, `5.1 h`, `2.3 d`."""
    if ms is None:
        return ""
    ms = max(float(ms), 0.0)
    if ms < 1000:
        return f"{ms:.0f} ms"
    if ms < 60_000:
        return f"{ms / 1000:.1f} s"
    if ms < 3_600_000:
        return f"{ms / 60_000:.1f} min"
    if ms < 86_400_000:
        return f"{ms / 3_600_000:.1f} h"
    return f"{ms / 86_400_000:.1f} d"


def fmt_ago(ms: int | None, now: int | None = None) -> str:
    if not ms:
        return "never"
    now = now if now is not None else int(time.time() * 1000)
    return f"{fmt_duration(max(now - ms, 0))} ago"


def pretty_json(value: Any, *, sort_keys: bool = True) -> str:
    option = orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS
    if sort_keys:
        option |= orjson.OPT_SORT_KEYS
    return orjson.dumps(value, option=option).decode()


def status_class(status: Any) -> str:
    return f"status-{str(status).lower()}"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("legato.ui", "templates"),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        time=fmt_time,
        iso=iso_time,
        duration=fmt_duration,
        ago=fmt_ago,
        pretty=pretty_json,
        status_class=status_class,
    )
    env.globals.update(
        static=lambda name: f"{STATIC_PREFIX}/{name}?v={__version__}",
        version=__version__,
        WORKFLOW_STATUSES=WORKFLOW_STATUSES,
    )
    return env


ENV = _environment()


def render(template: str, **context: Any) -> str:
    return ENV.get_template(template).render(**context)


def page(
    request: Request, template: str, *, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """A whole page; `nav` marks the current section in the header."""
    context.setdefault("nav", "")
    context.setdefault("title", "Legato")
    html = render(template, request_path=request.url.path, **context)
    return HTMLResponse(html, status_code=status_code)


def error_page(request: Request, status_code: int, message: str) -> HTMLResponse:
    return page(request, "error.html", status_code=status_code, title="Not found", message=message)
