"""The timeline (Gantt) of an execution's tasks, as SVG: one row per attempt, in `seq` order.

Each row shows the time the attempt waited in its queue (scheduled to started, pale) and the
time it ran (started to ended, in its status colour). Unfinished bars run to `now`.
"""

from __future__ import annotations

import html

from legato.model import Task
from legato.ui.render import fmt_duration, fmt_time

LABEL_W = 190
CHART_W = 700
ROW_H = 22
BAR_H = 14
AXIS_H = 24
RIGHT = 70
MAX_ROWS = 400


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _ticks(span: int, count: int = 6) -> list[int]:
    """Round tick steps (1, 2, 5 x 10^n ms) covering [0, span]."""
    if span <= 0:
        return [0]
    raw = span / count
    step = 1
    while step * 10 <= raw:
        step *= 10
    for m in (1, 2, 5, 10):
        if step * m >= raw:
            step *= m
            break
    return list(range(0, span + 1, step))


def render_timeline(tasks: list[Task], now: int) -> str:
    shown = tasks[:MAX_ROWS]
    if not shown:
        return '<p class="empty">No tasks yet.</p>'
    starts = [t.scheduled_time or t.start_time for t in shown if t.scheduled_time or t.start_time]
    if not starts:
        return '<p class="empty">No task has been scheduled yet.</p>'
    origin = min(starts)
    ends = [t.end_time if t.end_time else now for t in shown]
    end = max([*ends, origin + 1])
    span = max(end - origin, 1)
    scale = CHART_W / span

    def x(ms: int) -> float:
        return LABEL_W + (ms - origin) * scale

    height = AXIS_H + ROW_H * len(shown) + 6
    width = LABEL_W + CHART_W + RIGHT
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" viewBox="0 0 {width} {height}"'
        f' width="{width}" height="{height}" role="img"'
        f' aria-label="Timeline of {len(shown)} task attempts over {_e(fmt_duration(span))}">'
    ]
    for tick in _ticks(span):
        tx = LABEL_W + tick * scale
        out.append(
            f'<line class="tick" x1="{tx:.1f}" y1="{AXIS_H - 6}" x2="{tx:.1f}" y2="{height}"/>'
            f'<text class="tick" x="{tx:.1f}" y="{AXIS_H - 10}">+{_e(fmt_duration(tick))}</text>'
        )
    for i, t in enumerate(shown):
        y = AXIS_H + i * ROW_H
        status = t.status.value
        scheduled = t.scheduled_time or t.start_time
        started = t.start_time
        ended = t.end_time or now
        label = t.reference_task_name + (f" #{t.retry_count + 1}" if t.retry_count else "")
        wait = (started or ended) - scheduled if scheduled else 0
        run = ended - started if started else 0
        tip = (
            f"{t.reference_task_name} ({t.task_type}) {status}; attempt {t.retry_count + 1};"
            f" scheduled {fmt_time(t.scheduled_time)}; waited {fmt_duration(wait)};"
            f" ran {fmt_duration(run)}"
        )
        out.append(f'<g class="row status-{status.lower()}"><title>{_e(tip)}</title>')
        if i % 2:
            out.append(f'<rect class="stripe" x="0" y="{y}" width="{width}" height="{ROW_H}"/>')
        out.append(f'<text class="label" x="{LABEL_W - 8}" y="{y + 15}">{_e(_clip(label))}</text>')
        top = y + (ROW_H - BAR_H) / 2
        if scheduled:
            wait_end = started or ended
            out.append(
                f'<rect class="wait" x="{x(scheduled):.1f}" y="{top:.1f}"'
                f' width="{max((wait_end - scheduled) * scale, 1):.1f}" height="{BAR_H}"/>'
            )
        if started:
            out.append(
                f'<rect class="run" x="{x(started):.1f}" y="{top:.1f}"'
                f' width="{max((ended - started) * scale, 2):.1f}" height="{BAR_H}"/>'
            )
        total = ended - scheduled if scheduled else 0
        out.append(
            f'<text class="dur" x="{x(ended) + 5:.1f}" y="{y + 15}">{_e(fmt_duration(total))}</text>'
        )
        out.append("</g>")
    out.append("</svg>")
    more = ""
    if len(tasks) > MAX_ROWS:
        more = f'<p class="muted">The first {MAX_ROWS} of {len(tasks)} task attempts.</p>'
    legend = (
        '<p class="legend"><span class="key wait"></span> waiting in queue'
        ' <span class="key run"></span> running (colour = status)</p>'
    )
    return legend + "".join(out) + more


def _clip(text: str, limit: int = 28) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
