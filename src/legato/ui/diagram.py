"""Workflow diagrams as SVG, drawn from the layout (`layout`), optionally coloured by an
execution.

Every task node is an SVG `<g>` whose `id` is the task reference name. With `states` (from
`execution_state`: an execution's tasks folded per reference name) nodes carry their status as
a class and as text, link to the task's row in the task list (or a sub-workflow's execution),
and the edges of the path taken are marked.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from legato.engine.graph import graph_of
from legato.model import Task, TaskStatus, WorkflowDef
from legato.ui.layout import (
    MERGE_R,
    NODE_H,
    SWITCHES,
    TERM_R,
    Diagram,
    Edge,
    Node,
    clip_text,
    definition_layout,
    dynamic_ref,
    layout,
)

__all__ = [
    "NODE_H",
    "Diagram",
    "Node",
    "NodeState",
    "definition_layout",
    "execution_state",
    "layout",
    "render_svg",
]


# --------------------------------------------------------------------------- execution state
@dataclass(slots=True)
class NodeState:
    """What an execution did with one task of the definition (its latest attempt)."""

    status: TaskStatus
    task_id: str
    attempts: int = 1
    iterations: int = 0
    sub_workflow_id: str | None = None
    selected_case: str | None = None
    duration_ms: int = 0


def execution_state(definition: WorkflowDef, tasks: list[Task]) -> dict[str, NodeState]:
    """The state of each reference name (loop iterations and retries folded into one)."""
    known = {wt.task_reference_name for wt in definition.walk()}
    dynamic_forks = [
        wt.task_reference_name for wt in definition.walk() if wt.type == "FORK_JOIN_DYNAMIC"
    ]
    states: dict[str, NodeState] = {}
    dynamic: list[Task] = []
    for task in tasks:  # in seq order: the last one seen is the latest attempt
        ref = task.base_ref
        if ref not in known:
            dynamic.append(task)
            continue
        prev = states.get(ref)
        state = NodeState(
            status=task.status,
            task_id=task.task_id,
            attempts=task.retry_count + 1,
            iterations=max(task.iteration, prev.iterations if prev else 0),
            sub_workflow_id=task.sub_workflow_id,
            duration_ms=_duration(task),
        )
        if task.task_type in SWITCHES and task.status.terminal:
            case = task.output_data.get("selectedCase")
            if case is not None:
                wt = graph_of(definition).by_ref.get(ref)
                declared = wt is not None and str(case) in {str(c) for c in wt.decision_cases}
                state.selected_case = str(case) if declared else "default"
        states[ref] = state
    if dynamic and len(dynamic_forks) == 1:
        # The tasks a dynamic fork made at run time: shown on its placeholder lane.
        worst = _worst([t.status for t in dynamic])
        states[dynamic_ref(dynamic_forks[0])] = NodeState(
            status=worst, task_id="", attempts=len(dynamic)
        )
    return states


def _duration(task: Task) -> int:
    if task.start_time and task.end_time:
        return max(task.end_time - task.start_time, 0)
    return 0


_SEVERITY = [
    TaskStatus.FAILED_WITH_TERMINAL_ERROR,
    TaskStatus.FAILED,
    TaskStatus.TIMED_OUT,
    TaskStatus.CANCELED,
    TaskStatus.IN_PROGRESS,
    TaskStatus.SCHEDULED,
    TaskStatus.COMPLETED_WITH_ERRORS,
    TaskStatus.SKIPPED,
    TaskStatus.COMPLETED,
]


def _worst(statuses: list[TaskStatus]) -> TaskStatus:
    return min(statuses, key=_SEVERITY.index)


# --------------------------------------------------------------------------- SVG
def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _fmt_ms(ms: int) -> str:
    if ms < 1000:
        return f"{ms} ms"
    if ms < 60_000:
        return f"{ms / 1000:.1f} s"
    if ms < 3_600_000:
        return f"{ms / 60_000:.1f} min"
    return f"{ms / 3_600_000:.1f} h"


def render_svg(
    definition: WorkflowDef,
    states: dict[str, NodeState] | None = None,
    *,
    execution_href: Callable[[str], str] | None = None,
    label: str | None = None,
) -> str:
    """The SVG of a definition; with `states`, coloured by an execution's task statuses.

    `execution_href(workflow_id)` links sub-workflow nodes to their child execution.
    """
    diagram = definition_layout(definition)
    canvas = diagram.canvas
    live = states is not None
    states = states or {}
    out: list[str] = []
    title = label or f"Diagram of workflow {definition.name} version {definition.version}"
    out.append(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="diagram{" live" if live else ""}"'
        f' viewBox="0 0 {diagram.width:.0f} {diagram.height:.0f}"'
        f' width="{diagram.width:.0f}" height="{diagram.height:.0f}"'
        f' role="group" aria-label="{_e(title)}">'
    )
    out.append(
        '<defs><marker id="lg-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="9"'
        ' markerHeight="9" markerUnits="userSpaceOnUse" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"'
        ' class="arrow"/></marker></defs>'
    )
    for f in canvas.frames:
        cls = "frame"
        if f.ref in states:
            cls += " reached"
        out.append(
            f'<rect class="{cls}" x="{f.x:.1f}" y="{f.y:.1f}" width="{f.w:.1f}"'
            f' height="{f.h:.1f}" rx="10"/>'
        )
    for edge in canvas.edges:
        out.append(_edge_svg(edge, states, live))
    for x, y, ref in canvas.merges:
        cls = "merge reached" if ref in states else "merge"
        out.append(f'<circle class="{cls}" cx="{x:.1f}" cy="{y:.1f}" r="{MERGE_R}"/>')
    for node in canvas.nodes:
        out.append(_node_svg(node, states, live, execution_href))
    out.append("</svg>")
    return "".join(out)


def _taken(edge: Edge, states: dict[str, NodeState]) -> bool:
    if edge.case_of is not None:
        switch, case = edge.case_of
        state = states.get(switch)
        return state is not None and state.selected_case == case
    if edge.back:
        return edge.dst in states and states[edge.dst].iterations > 1
    if edge.src is None and edge.dst is None:
        return False
    return (edge.src is None or edge.src in states) and (edge.dst is None or edge.dst in states)


def _edge_svg(edge: Edge, states: dict[str, NodeState], live: bool) -> str:
    d = "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in edge.points)
    cls = "edge"
    if edge.back:
        cls += " back"
    if live and _taken(edge, states):
        cls += " taken"
    head = ' marker-end="url(#lg-arrow)"' if edge.dst is not None or edge.back else ""
    parts = [f'<path class="{cls}" d="{d}"{head}/>']
    if edge.label is not None and edge.label_at is not None:
        lx, ly = edge.label_at
        parts.append(
            f'<text class="case{" taken" if "taken" in cls else ""}" x="{lx:.1f}"'
            f' y="{ly:.1f}">{_e(clip_text(edge.label, 18))}</text>'
        )
    return "".join(parts)


def _node_svg(
    node: Node,
    states: dict[str, NodeState],
    live: bool,
    execution_href: Callable[[str], str] | None,
) -> str:
    if node.kind in ("start", "end"):
        cx, cy = node.x + node.w / 2, node.y + node.h / 2
        return (
            f'<g class="terminal {node.kind}"><circle cx="{cx:.1f}" cy="{cy:.1f}" r="{TERM_R}"/>'
            f'<text x="{cx + TERM_R + 6:.1f}" y="{cy + 4:.1f}">{node.kind}</text></g>'
        )
    state = states.get(node.state_key) if node.state_key is not None else None
    classes = ["node", f"kind-{node.kind}"]
    if live:
        classes.append(f"status-{state.status.value.lower()}" if state else "status-none")
    subtitle = node.subtitle
    if live:
        if state is None:
            subtitle = "not reached"
        else:
            bits = [state.status.value]
            if node.kind == "placeholder":
                bits = [f"{state.attempts} task{'s' if state.attempts != 1 else ''}", bits[0]]
            elif state.attempts > 1:
                bits.append(f"attempt {state.attempts}")
            if state.iterations > 1:
                bits.append(f"iteration {state.iterations}")
            if state.duration_ms and node.kind in ("task", "sub", "dynamic"):
                bits.append(_fmt_ms(state.duration_ms))
            subtitle = " · ".join(bits)
    shape = _shape(node)
    text_x = node.x + node.w / 2
    texts = (
        f'<text class="title" x="{text_x:.1f}" y="{node.y + 21:.1f}">{_e(clip_text(node.title))}</text>'
        f'<text class="sub" x="{text_x:.1f}" y="{node.y + 38:.1f}">'
        f"{_e(clip_text(subtitle, 34))}</text>"
    )
    tooltip = f"<title>{_e(node.title)}: {_e(subtitle)}</title>"
    href: str | None = None
    if node.kind == "placeholder":
        href = None
    elif live and node.ref is not None:
        if node.kind == "sub" and state is not None and state.sub_workflow_id and execution_href:
            href = execution_href(state.sub_workflow_id)
        elif state is not None:
            href = f"#task-{state.task_id}"
    elif node.href is not None:
        href = node.href
    inner = tooltip + shape + texts
    if href is not None:
        label = f"{node.title}, {subtitle}"
        inner = f'<a href="{_e(href)}" aria-label="{_e(label)}">{inner}</a>'
    else:
        inner = f'<g tabindex="0" aria-label="{_e(node.title)}, {_e(subtitle)}">{inner}</g>'
    ident = f' id="{_e(node.ref)}" data-ref="{_e(node.ref)}"' if node.ref is not None else ""
    return f'<g class="{" ".join(classes)}"{ident}>{inner}</g>'


def _shape(node: Node) -> str:
    x, y, w, h = node.x, node.y, node.w, node.h
    if node.kind == "switch":
        k = 14
        pts = [
            (x + k, y),
            (x + w - k, y),
            (x + w, y + h / 2),
            (x + w - k, y + h),
            (x + k, y + h),
            (x, y + h / 2),
        ]
        return (
            '<polygon class="box" points="' + " ".join(f"{a:.1f},{b:.1f}" for a, b in pts) + '"/>'
        )
    rx = {"join": 22, "fork": 4, "placeholder": 8}.get(node.kind, 8)
    box = f'<rect class="box" x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" rx="{rx}"/>'
    if node.kind == "sub":
        box += (
            f'<rect class="inner" x="{x + 4:.1f}" y="{y + 4:.1f}" width="{w - 8:.1f}"'
            f' height="{h - 8:.1f}" rx="5"/>'
        )
    elif node.kind == "fork":
        box += (
            f'<path class="inner" d="M{x + 10:.1f},{y + 6:.1f} L{x + 10:.1f},{y + h - 6:.1f}'
            f' M{x + w - 10:.1f},{y + 6:.1f} L{x + w - 10:.1f},{y + h - 6:.1f}"/>'
        )
    return box
