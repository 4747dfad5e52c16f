"""Small SVG charts drawn on the server: horizontal bars, stacked, with optional markers."""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, field

from legato.ui.timeline import _ticks

LABEL_W = 200
CHART_W = 560
VALUE_W = 190
ROW_H = 26
BAR_H = 16
AXIS_H = 22


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


@dataclass(slots=True)
class Bar:
    label: str
    segments: list[tuple[float, str]]  # (value, css class), stacked left to right
    note: str = ""  # printed right of the bar
    markers: list[tuple[float, str]] = field(default_factory=list)  # (value, css class)
    highlight: bool = False
    row_id: str | None = None


def bar_chart(
    bars: list[Bar],
    *,
    label: str,
    fmt: Callable[[float], str],
    axis: bool = True,
    label_w: int = LABEL_W,
    chart_w: int = CHART_W,
    value_w: int = VALUE_W,
) -> str:
    """Stacked horizontal bars on one shared scale; `fmt` formats axis values."""
    if not bars:
        return '<p class="empty">No data.</p>'
    top = max(
        max([sum(v for v, _ in b.segments), *(v for v, _ in b.markers)], default=0) for b in bars
    )
    top = top or 1
    scale = chart_w / top
    head = AXIS_H if axis else 4
    height = head + ROW_H * len(bars) + 4
    width = label_w + chart_w + value_w
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}"'
        f' width="{width}" height="{height}" role="img" aria-label="{_e(label)}">'
    ]
    if axis:
        for tick in _ticks(int(top), 5):
            x = label_w + tick * scale
            out.append(
                f'<line class="tick" x1="{x:.1f}" y1="{head - 4}" x2="{x:.1f}" y2="{height}"/>'
                f'<text class="tick" x="{x:.1f}" y="{head - 8}">{_e(fmt(tick))}</text>'
            )
    for i, bar in enumerate(bars):
        y = head + i * ROW_H
        cls = "bar-row highlight" if bar.highlight else "bar-row"
        ident = f' id="{_e(bar.row_id)}"' if bar.row_id else ""
        out.append(f'<g class="{cls}"{ident}><title>{_e(bar.label)}: {_e(bar.note)}</title>')
        if bar.highlight:
            out.append(f'<rect class="hl" x="0" y="{y}" width="{width}" height="{ROW_H}"/>')
        out.append(
            f'<text class="label" x="{label_w - 8}" y="{y + 17}">{_e(_clip(bar.label))}</text>'
        )
        x = float(label_w)
        by = y + (ROW_H - BAR_H) / 2
        for value, seg_cls in bar.segments:
            w = value * scale
            if w > 0:
                out.append(
                    f'<rect class="seg {seg_cls}" x="{x:.1f}" y="{by:.1f}" width="{max(w, 1):.1f}"'
                    f' height="{BAR_H}"/>'
                )
            x += w
        for value, mark_cls in bar.markers:
            mx = label_w + value * scale
            out.append(
                f'<line class="marker {mark_cls}" x1="{mx:.1f}" y1="{by - 3:.1f}" x2="{mx:.1f}"'
                f' y2="{by + BAR_H + 3:.1f}"/>'
            )
        end = max([x, *(label_w + v * scale for v, _ in bar.markers)])
        out.append(f'<text class="value" x="{end + 6:.1f}" y="{y + 17}">{_e(bar.note)}</text>')
        out.append("</g>")
    out.append("</svg>")
    return "".join(out)


def _clip(text: str, limit: int = 28) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
