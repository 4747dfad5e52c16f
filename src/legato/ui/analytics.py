"""Analytics per workflow type over a period: counts by status, end-to-end duration
percentiles, and per step the median and p95 time waiting in queue and running, so the
slowest step stands out. The numbers come from one store read (`Store.workflow_analytics`)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from legato.api.context import services_of
from legato.store.base import StepTimes, WorkflowAnalytics
from legato.ui.charts import Bar, bar_chart
from legato.ui.render import WORKFLOW_STATUSES, fmt_duration, page

router = APIRouter(include_in_schema=False)

PERIODS: dict[str, tuple[str, int]] = {
    "1h": ("last hour", 3_600_000),
    "24h": ("last 24 hours", 86_400_000),
    "7d": ("last 7 days", 7 * 86_400_000),
    "30d": ("last 30 days", 30 * 86_400_000),
    "90d": ("last 90 days", 90 * 86_400_000),
}
DEFAULT_PERIOD = "7d"
HALF_LABEL_W, HALF_CHART_W, HALF_VALUE_W = 110, 360, 110  # a chart in a half-width panel
SAMPLE = 5_000
PERCENTILES = (50, 90, 95, 99)
# Steps whose time is other steps' time (a JOIN waits for its lanes, a loop for its body):
# shown in the table, left out of the chart and of the choice of the slowest step.
CONTAINERS = frozenset(
    {
        "JOIN",
        "EXCLUSIVE_JOIN",
        "DO_WHILE",
        "FORK",
        "FORK_JOIN",
        "FORK_JOIN_DYNAMIC",
        "SWITCH",
        "DECISION",
    }
)


def percentile(sorted_values: list[int], q: float) -> float:
    """The q-th percentile (0..100) of sorted values, linearly interpolated; 0 when empty."""
    if not sorted_values:
        return 0.0
    if len(sorted_values) == 1:
        return float(sorted_values[0])
    rank = (len(sorted_values) - 1) * q / 100
    lo = math.floor(rank)
    hi = min(lo + 1, len(sorted_values) - 1)
    frac = rank - lo
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * frac


@dataclass(slots=True)
class StepStats:
    ref: str
    task_type: str
    attempts: int
    wait_p50: float
    wait_p95: float
    run_p50: float
    run_p95: float

    @property
    def container(self) -> bool:
        return self.task_type in CONTAINERS

    @property
    def total_p50(self) -> float:
        return self.wait_p50 + self.run_p50

    @property
    def total_p95(self) -> float:
        return self.wait_p95 + self.run_p95


def step_stats(step: StepTimes) -> StepStats:
    waits = sorted(step.queue_wait_ms)
    runs = sorted(step.run_ms)
    return StepStats(
        ref=step.ref_name,
        task_type=step.task_type,
        attempts=max(len(waits), len(runs)),
        wait_p50=percentile(waits, 50),
        wait_p95=percentile(waits, 95),
        run_p50=percentile(runs, 50),
        run_p95=percentile(runs, 95),
    )


def slowest(steps: list[StepStats]) -> StepStats | None:
    """The step with the longest median time (queue wait + run); p95 breaks ties. Containers
    (joins, loops, forks, switches) do not count: their time is their children's."""
    timed = [s for s in steps if s.attempts and not s.container]
    if not timed:
        return None
    return max(timed, key=lambda s: (s.total_p50, s.total_p95))


def _period(
    period: str | None, start: str | None, end: str | None, now: int
) -> tuple[int, int, str]:
    """(since, until, description) from a named period or a custom UTC range."""
    if start or end:
        since = _parse_utc(start) if start else 0
        until = _parse_utc(end) if end else now + 1
        return since, until, f"{start or 'the beginning'} to {end or 'now'} (UTC)"
    key = period if period in PERIODS else DEFAULT_PERIOD
    text, span = PERIODS[key]
    return now - span, now + 1, text


def _parse_utc(text: str) -> int:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return 0
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp() * 1000)


def build_view(data: WorkflowAnalytics, step_order: list[str]) -> dict[str, Any]:
    """Everything the analytics template shows, from one WorkflowAnalytics."""
    total = sum(data.status_counts.values())
    durations = sorted(data.durations_ms)
    duration_pcts = [(q, percentile(durations, q)) for q in PERCENTILES]
    order = {ref: i for i, ref in enumerate(step_order)}
    steps = sorted(
        (step_stats(s) for s in data.steps),
        key=lambda s: (order.get(s.ref, len(order)), s.ref),
    )
    worst = slowest(steps)
    statuses = [s for s in WORKFLOW_STATUSES if data.status_counts.get(s)]
    statuses += sorted(s for s in data.status_counts if s not in WORKFLOW_STATUSES)
    status_chart = bar_chart(
        [
            Bar(
                s,
                [(data.status_counts[s], f"status-{s.lower()}")],
                note=f"{data.status_counts[s]} ({100 * data.status_counts[s] / total:.0f}%)",
            )
            for s in statuses
        ],
        label="Executions by status",
        fmt=lambda v: f"{v:.0f}",
        label_w=HALF_LABEL_W,
        chart_w=HALF_CHART_W,
        value_w=HALF_VALUE_W,
    )
    duration_chart = (
        bar_chart(
            [
                *(Bar(f"p{q}", [(v, "run")], note=fmt_duration(v)) for q, v in duration_pcts),
                Bar(
                    "max",
                    [(durations[-1] if durations else 0, "run")],
                    note=fmt_duration(durations[-1] if durations else 0),
                ),
            ],
            label="End-to-end duration percentiles of completed executions",
            fmt=fmt_duration,
            label_w=HALF_LABEL_W,
            chart_w=HALF_CHART_W,
            value_w=HALF_VALUE_W,
        )
        if durations
        else ""
    )
    step_chart = bar_chart(
        [
            Bar(
                s.ref,
                [(s.wait_p50, "wait"), (s.run_p50, "run")],
                note=f"{fmt_duration(s.total_p50)} (p95 {fmt_duration(s.total_p95)})",
                markers=[(s.total_p95, "p95")],
                highlight=worst is not None and s.ref == worst.ref,
                row_id=f"step-{s.ref}",
            )
            for s in steps
            if not s.container
        ],
        label="Median time per step, waiting in queue then running, with the p95 marked",
        fmt=fmt_duration,
    )
    return {
        "total": total,
        "counts": [(s, data.status_counts[s]) for s in statuses],
        "sampled": data.sampled,
        "completed": len(durations),
        "duration_pcts": duration_pcts,
        "duration_max": durations[-1] if durations else 0,
        "steps": steps,
        "slowest": worst,
        "status_chart": status_chart,
        "duration_chart": duration_chart,
        "step_chart": step_chart,
    }


@router.get("/analytics", response_class=HTMLResponse)
async def analytics_page(
    request: Request,
    name: str | None = None,
    period: str | None = None,
    start: str | None = None,
    end: str | None = None,
) -> Response:
    services = services_of(request)
    names = sorted({d.name for d in services.definitions.list_workflow_defs()})
    if not name and names:
        name = names[0]
    now = int(time.time() * 1000)
    since, until, period_text = _period(period, start, end, now)
    view: dict[str, Any] | None = None
    if name:
        data = await services.store.workflow_analytics(name, since, until, sample=SAMPLE)
        definition = services.definitions.workflow_def(name)
        order = (
            [wt.task_reference_name for wt in definition.walk()] if definition is not None else []
        )
        view = build_view(data, order)
    return page(
        request,
        "analytics.html",
        nav="analytics",
        title=f"Analytics · {name}" if name else "Analytics",
        names=names,
        name=name or "",
        period=period if period in PERIODS else ("" if start or end else DEFAULT_PERIOD),
        periods=PERIODS,
        start=start or "",
        end=end or "",
        period_text=period_text,
        since=since,
        until=until,
        sample_limit=SAMPLE,
        view=view,
    )
