"""Diagram layout: a small layered layout of a workflow definition, computed on the server.

Conductor definitions are structured: a sequence of tasks in which a SWITCH opens branches
that meet again, a FORK_JOIN opens lanes that its JOIN closes, and a DO_WHILE wraps a body.
So the layout is recursive, not a general graph layout. Each construct becomes a block that
knows its width and height; blocks stack top to bottom (the layers) and branches sit side by
side, every block centred on its parent's axis. Edges are orthogonal polylines.

- sequence: children stacked, a straight edge between each pair;
- SWITCH / DECISION: the switch node, its cases side by side (labelled edges), a merge dot;
- FORK_JOIN (+ the JOIN after it): the fork node, its lanes side by side, lanes ending in the
  JOIN node; FORK_JOIN_DYNAMIC gets one lane standing for the tasks made at run time;
- DO_WHILE: a frame around the loop node and its body, with an edge back up to the loop node;
- SUB_WORKFLOW: a node linking to the child definition.

`diagram` draws the result as SVG.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote

from legato.model import WorkflowDef, WorkflowTask

NODE_W = 208
NODE_H = 50
GAP_Y = 34
GAP_X = 26
MARGIN = 20
PAD = 14  # inside a loop frame
BACK = 18  # room for a loop's back edge
TERM_R = 13  # start / end circles
MERGE_R = 5
EMPTY_H = 26
LABEL_MAX = 26

SWITCHES = frozenset({"SWITCH", "DECISION"})
_FORKS = frozenset({"FORK_JOIN", "FORK_JOIN_DYNAMIC"})
_JOINS = frozenset({"JOIN", "EXCLUSIVE_JOIN"})


def dynamic_ref(fork_ref: str) -> str:
    """The state key of a dynamic fork's placeholder lane (not a reference name)."""
    return f"{fork_ref}.dynamic"


# --------------------------------------------------------------------------- drawing primitives
@dataclass(slots=True)
class Node:
    ref: str | None  # None for pseudo nodes (start, end, placeholders)
    kind: str  # task, switch, fork, join, loop, sub, dynamic, start, end, placeholder
    x: float
    y: float
    w: float
    h: float
    title: str = ""
    subtitle: str = ""
    href: str | None = None
    task_type: str = ""
    state_key: str | None = None  # the execution state shown (the ref, or a placeholder's key)


@dataclass(slots=True)
class Edge:
    points: list[tuple[float, float]]
    src: str | None
    dst: str | None
    label: str | None = None
    label_at: tuple[float, float] | None = None
    case_of: tuple[str, str] | None = None  # (switch ref, case) for a switch's branch edge
    back: bool = False


@dataclass(slots=True)
class Frame:
    x: float
    y: float
    w: float
    h: float
    ref: str


@dataclass(slots=True)
class Canvas:
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    frames: list[Frame] = field(default_factory=list)
    merges: list[tuple[float, float, str | None]] = field(default_factory=list)


# --------------------------------------------------------------------------- blocks
class Block(ABC):
    """A laid-out piece of the diagram: entry at the top centre, exit at the bottom centre."""

    width: float
    height: float

    @abstractmethod
    def place(self, canvas: Canvas, cx: float, top: float) -> tuple[str | None, str | None]:
        """Draw at (centre x, top y); the refs of the first and last node (for edge marks)."""


class Leaf(Block):
    def __init__(self, node: Node) -> None:
        self.node = node
        self.width = node.w
        self.height = node.h

    def place(self, canvas: Canvas, cx: float, top: float) -> tuple[str | None, str | None]:
        n = self.node
        n.x, n.y = cx - n.w / 2, top
        canvas.nodes.append(n)
        return n.ref, n.ref


class Empty(Block):
    """An empty switch case: a straight line through."""

    def __init__(self) -> None:
        self.width = NODE_W / 2
        self.height = EMPTY_H

    def place(self, canvas: Canvas, cx: float, top: float) -> tuple[str | None, str | None]:
        canvas.edges.append(Edge([(cx, top), (cx, top + self.height)], None, None))
        return None, None


class Sequence(Block):
    def __init__(self, blocks: list[Block]) -> None:
        self.blocks = blocks
        self.width = max((b.width for b in blocks), default=0)
        self.height = sum(b.height for b in blocks) + GAP_Y * max(len(blocks) - 1, 0)

    def place(self, canvas: Canvas, cx: float, top: float) -> tuple[str | None, str | None]:
        first: str | None = None
        last: str | None = None
        y = top
        for i, block in enumerate(self.blocks):
            link: Edge | None = None
            if i:
                link = Edge([(cx, y - GAP_Y), (cx, y)], last, None)
                canvas.edges.append(link)
            entry, exit_ = block.place(canvas, cx, y)
            if link is not None:
                link.dst = entry
            else:
                first = entry
            last = exit_
            y += block.height + GAP_Y
        return first, last


class Branches(Block):
    """A node opening side-by-side branches that meet again (SWITCH cases, FORK lanes)."""

    def __init__(
        self,
        head: Node,
        branches: list[tuple[str | None, Block]],
        tail: Node | None,
        switch_ref: str | None,
    ) -> None:
        self.head = head
        self.branches = branches
        self.tail = tail  # the JOIN closing a fork, or None: a merge dot
        self.switch_ref = switch_ref
        inner = sum(b.width for _, b in branches) + GAP_X * max(len(branches) - 1, 0)
        self.width = max(head.w, inner, tail.w if tail else 0)
        self.inner = inner
        self.branch_h = max((b.height for _, b in branches), default=0)
        tail_h = tail.h if tail else 2 * MERGE_R
        self.height = head.h + GAP_Y + self.branch_h + GAP_Y + tail_h

    def place(self, canvas: Canvas, cx: float, top: float) -> tuple[str | None, str | None]:
        head_ref, _ = Leaf(self.head).place(canvas, cx, top)
        split_y = top + self.head.h + GAP_Y / 2
        branch_top = top + self.head.h + GAP_Y
        meet_y = branch_top + self.branch_h + GAP_Y / 2
        tail_top = branch_top + self.branch_h + GAP_Y
        if self.tail is not None:
            tail_ref, _ = Leaf(self.tail).place(canvas, cx, tail_top)
            tail_entry_y = tail_top
        else:
            tail_ref = self.switch_ref
            canvas.merges.append((cx, tail_top + MERGE_R, self.switch_ref))
            tail_entry_y = tail_top
        x = cx - self.inner / 2
        for label, block in self.branches:
            bcx = x + block.width / 2
            down = Edge(
                [(cx, top + self.head.h), (cx, split_y), (bcx, split_y), (bcx, branch_top)],
                head_ref,
                None,
            )
            if label is not None and self.switch_ref is not None:
                down.label = label
                down.label_at = (bcx + 5, branch_top - 5)
                down.case_of = (self.switch_ref, label)
            canvas.edges.append(down)
            first, last = block.place(canvas, bcx, branch_top)
            down.dst = first
            end_y = branch_top + block.height
            up = Edge(
                [(bcx, end_y), (bcx, meet_y), (cx, meet_y), (cx, tail_entry_y)],
                last,
                tail_ref if self.tail is not None else None,
            )
            if label is not None and self.switch_ref is not None:
                up.case_of = (self.switch_ref, label)
            canvas.edges.append(up)
            x += block.width + GAP_X
        return head_ref, tail_ref


class Loop(Block):
    """A DO_WHILE: a frame holding the loop node and its body, with a back edge."""

    def __init__(self, head: Node, body: Block) -> None:
        self.head = head
        self.body = body
        self.width = max(head.w, body.width) + 2 * PAD + 2 * BACK
        self.height = PAD + head.h + GAP_Y + body.height + GAP_Y / 2 + PAD

    def place(self, canvas: Canvas, cx: float, top: float) -> tuple[str | None, str | None]:
        assert self.head.ref is not None
        canvas.frames.append(
            Frame(cx - self.width / 2, top, self.width, self.height, self.head.ref)
        )
        head_top = top + PAD
        head_ref, _ = Leaf(self.head).place(canvas, cx, head_top)
        body_top = head_top + self.head.h + GAP_Y
        into = Edge([(cx, head_top + self.head.h), (cx, body_top)], head_ref, None)
        canvas.edges.append(into)
        first, last = self.body.place(canvas, cx, body_top)
        into.dst = first
        bottom = body_top + self.body.height
        turn_y = bottom + GAP_Y / 4
        right = cx + self.width / 2 - BACK
        head_mid = head_top + self.head.h / 2
        canvas.edges.append(
            Edge(
                [
                    (cx, bottom),
                    (cx, turn_y),
                    (right, turn_y),
                    (right, head_mid),
                    (cx + self.head.w / 2, head_mid),
                ],
                last,
                head_ref,
                back=True,
            )
        )
        return head_ref, head_ref


# --------------------------------------------------------------------------- building
def clip_text(text: str, limit: int = LABEL_MAX) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _node_for(wt: WorkflowTask, sub_href: Callable[[WorkflowTask], str | None]) -> Node:
    kind = {
        "SWITCH": "switch",
        "DECISION": "switch",
        "FORK_JOIN": "fork",
        "FORK_JOIN_DYNAMIC": "fork",
        "JOIN": "join",
        "EXCLUSIVE_JOIN": "join",
        "DO_WHILE": "loop",
        "SUB_WORKFLOW": "sub",
        "START_WORKFLOW": "sub",
        "DYNAMIC": "dynamic",
        "TERMINATE": "terminate",
    }.get(wt.type, "task")
    subtitle = wt.type
    if wt.type in ("SUB_WORKFLOW",) and wt.sub_workflow_param is not None:
        name = wt.sub_workflow_param.name
        if name:
            subtitle = f"SUB_WORKFLOW → {name}"
    elif wt.name != wt.task_reference_name and wt.type in ("SIMPLE", "HTTP"):
        subtitle = f"{wt.type} · {wt.name}"
    return Node(
        ref=wt.task_reference_name,
        kind=kind,
        x=0,
        y=0,
        w=NODE_W,
        h=NODE_H,
        title=wt.task_reference_name,
        subtitle=subtitle,
        href=sub_href(wt) if kind == "sub" else None,
        task_type=wt.type,
        state_key=wt.task_reference_name,
    )


def _sequence(tasks: list[WorkflowTask], sub_href: Callable[[WorkflowTask], str | None]) -> Block:
    blocks: list[Block] = []
    i = 0
    while i < len(tasks):
        wt = tasks[i]
        head = _node_for(wt, sub_href)
        if wt.type in SWITCHES:
            branches: list[tuple[str | None, Block]] = [
                (str(case), _branch(branch, sub_href)) for case, branch in wt.decision_cases.items()
            ]
            branches.append(("default", _branch(wt.default_case, sub_href)))
            blocks.append(Branches(head, branches, None, wt.task_reference_name))
        elif wt.type in _FORKS:
            lanes: list[tuple[str | None, Block]] = [
                (None, _branch(lane, sub_href)) for lane in wt.fork_tasks
            ]
            if wt.type == "FORK_JOIN_DYNAMIC":
                placeholder = Node(
                    ref=None,
                    kind="placeholder",
                    x=0,
                    y=0,
                    w=NODE_W,
                    h=NODE_H,
                    title="tasks made at run time",
                    subtitle="dynamic fork",
                )
                placeholder.state_key = dynamic_ref(wt.task_reference_name)
                lanes.append((None, Leaf(placeholder)))
            tail: Node | None = None
            if i + 1 < len(tasks) and tasks[i + 1].type in _JOINS:
                tail = _node_for(tasks[i + 1], sub_href)
                i += 1
            blocks.append(Branches(head, lanes, tail, None))
        elif wt.type == "DO_WHILE":
            blocks.append(Loop(head, _branch(wt.loop_over, sub_href)))
        else:
            blocks.append(Leaf(head))
        i += 1
    return Sequence(blocks)


def _branch(tasks: list[WorkflowTask], sub_href: Callable[[WorkflowTask], str | None]) -> Block:
    return _sequence(tasks, sub_href) if tasks else Empty()


def _definition_sub_href(wt: WorkflowTask) -> str | None:
    params = wt.sub_workflow_param
    if params is None or not params.name:
        name = wt.input_parameters.get("startWorkflow", {})
        name = name.get("name") if isinstance(name, dict) else None
        if not isinstance(name, str) or "${" in name:
            return None
        return f"/definitions/{_url(name)}"
    if "${" in params.name:
        return None
    suffix = f"?version={params.version}" if params.version else ""
    return f"/definitions/{_url(params.name)}{suffix}"


def _url(text: str) -> str:
    return quote(text, safe="")


@dataclass(slots=True)
class Diagram:
    width: float
    height: float
    canvas: Canvas


def layout(definition: WorkflowDef) -> Diagram:
    """Lay a definition out: node positions, edges, loop frames and merge dots."""
    start = Node(None, "start", 0, 0, 2 * TERM_R, 2 * TERM_R, title="start")
    end = Node(None, "end", 0, 0, 2 * TERM_R, 2 * TERM_R, title="end")
    body = _sequence(definition.tasks, _definition_sub_href)
    whole = Sequence([Leaf(start), body, Leaf(end)])
    canvas = Canvas()
    width = max(whole.width, NODE_W) + 2 * MARGIN
    whole.place(canvas, width / 2, MARGIN)
    return Diagram(width, whole.height + 2 * MARGIN, canvas)


def definition_layout(definition: WorkflowDef) -> Diagram:
    """The layout of a definition, computed once per definition object."""
    return definition.derived("ui.diagram", layout)
