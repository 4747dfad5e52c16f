"""The diagram layout and its SVG: node ids are reference names, blocks never overlap,
branches sit side by side, loops wrap their body; executions colour it."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ui_factories import every_construct, simple, workflow_def

from legato.model import Task, TaskStatus, WorkflowDef
from legato.ui.diagram import (
    NODE_H,
    Node,
    definition_layout,
    execution_state,
    layout,
    render_svg,
)

SVG = "{http://www.w3.org/2000/svg}"


def shapes() -> WorkflowDef:
    return WorkflowDef.model_validate(every_construct())


def nodes_by_ref(definition: WorkflowDef) -> dict[str, Node]:
    return {n.ref: n for n in layout(definition).canvas.nodes if n.ref is not None}


def svg_nodes(svg: str) -> dict[str, ET.Element]:
    root = ET.fromstring(svg)
    return {
        g.attrib["id"]: g
        for g in root.iter(f"{SVG}g")
        if "node" in g.attrib.get("class", "").split() and "id" in g.attrib
    }


def test_every_task_is_a_node_whose_id_is_its_reference_name() -> None:
    definition = shapes()
    refs = {wt.task_reference_name for wt in definition.walk()}
    assert set(svg_nodes(render_svg(definition))) == refs


def test_no_two_nodes_overlap() -> None:
    nodes = layout(shapes()).canvas.nodes
    for i, a in enumerate(nodes):
        for b in nodes[i + 1 :]:
            apart = a.x + a.w <= b.x or b.x + b.w <= a.x or a.y + a.h <= b.y or b.y + b.h <= a.y
            assert apart, (a.ref or a.kind, b.ref or b.kind)


def test_switch_cases_sit_side_by_side_below_the_switch() -> None:
    n = nodes_by_ref(shapes())
    assert n["a1"].y == n["b1"].y > n["decide"].y + NODE_H
    assert n["a1"].x < n["b1"].x
    assert n["a2"].y > n["a1"].y and n["a2"].x == n["a1"].x
    # The sequence continues below the longest case.
    assert n["fork"].y > n["a2"].y + NODE_H


def test_fork_lanes_end_in_their_join() -> None:
    n = nodes_by_ref(shapes())
    assert n["left"].y == n["right"].y > n["fork"].y
    assert n["left"].x < n["right"].x
    assert n["join"].y > n["left"].y
    # The join is centred under the fork.
    assert n["join"].x + n["join"].w / 2 == n["fork"].x + n["fork"].w / 2


def test_a_loop_frame_holds_its_body_and_an_edge_goes_back_up() -> None:
    diagram = layout(shapes())
    frame = next(f for f in diagram.canvas.frames if f.ref == "loop")
    inside = nodes_by_ref(shapes())["inside"]
    assert frame.x < inside.x and inside.x + inside.w < frame.x + frame.w
    assert frame.y < inside.y and inside.y + inside.h < frame.y + frame.h
    back = [e for e in diagram.canvas.edges if e.back]
    assert len(back) == 1 and back[0].dst == "loop"
    assert back[0].points[-1][1] < back[0].points[0][1]  # it goes up


def test_sub_workflows_link_to_their_definition_and_dynamic_forks_get_a_lane() -> None:
    svg = render_svg(shapes())
    child = svg_nodes(svg)["child"]
    link = child.find(f"{SVG}a")
    assert link is not None and link.attrib["href"] == "/definitions/ui_child?version=1"
    assert "tasks made at run time" in svg


def test_text_is_escaped_and_the_svg_is_well_formed() -> None:
    definition = WorkflowDef.model_validate(
        workflow_def("odd", [simple('a"<&>b', "ui_t"), simple("b'c", "ui_t")])
    )
    svg = render_svg(definition)
    assert set(svg_nodes(svg)) == {'a"<&>b', "b'c"}


def test_the_layout_is_computed_once_per_definition_object() -> None:
    definition = shapes()
    assert definition_layout(definition) is definition_layout(definition)


def _task(ref: str, status: TaskStatus, seq: int, **overrides: object) -> Task:
    fields: dict[str, object] = {
        "task_id": f"{ref}-{seq}",
        "workflow_instance_id": "wf",
        "task_type": "SIMPLE",
        "task_def_name": "ui_t",
        "reference_task_name": ref,
        "status": status,
        "seq": seq,
        **overrides,
    }
    return Task(**fields)  # type: ignore[arg-type]


def test_an_execution_colours_nodes_and_marks_the_path_taken() -> None:
    definition = shapes()
    tasks = [
        _task("first", TaskStatus.FAILED, 1, retry_count=0),
        _task("first", TaskStatus.COMPLETED, 2, retry_count=1, start_time=10, end_time=30),
        _task(
            "decide",
            TaskStatus.COMPLETED,
            3,
            task_type="SWITCH",
            output_data={"selectedCase": "b"},
        ),
        _task("b1", TaskStatus.IN_PROGRESS, 4),
    ]
    states = execution_state(definition, tasks)
    assert states["first"].status is TaskStatus.COMPLETED and states["first"].attempts == 2
    assert states["decide"].selected_case == "b"
    svg = render_svg(definition, states)
    nodes = svg_nodes(svg)
    assert "status-completed" in nodes["first"].attrib["class"]
    assert "status-in_progress" in nodes["b1"].attrib["class"]
    assert "status-none" in nodes["a1"].attrib["class"]
    # The node of a task links to its row in the task list; its text says its status.
    link = nodes["first"].find(f"{SVG}a")
    assert link is not None and link.attrib["href"] == "#task-first-2"
    assert "attempt 2" in ET.tostring(nodes["first"], encoding="unicode")
    root = ET.fromstring(svg)
    taken_cases = [t.text for t in root.iter(f"{SVG}text") if t.attrib.get("class") == "case taken"]
    assert taken_cases == ["b"]


def test_an_unknown_case_takes_the_default_branch_and_loops_fold_iterations() -> None:
    definition = shapes()
    tasks = [
        _task(
            "decide",
            TaskStatus.COMPLETED,
            1,
            task_type="SWITCH",
            output_data={"selectedCase": "zzz"},
        ),
        _task("loop", TaskStatus.COMPLETED, 2, task_type="DO_WHILE", iteration=2),
        _task("inside__1", TaskStatus.COMPLETED, 3, iteration=1),
        _task("inside__2", TaskStatus.COMPLETED, 4, iteration=2),
        _task("x1", TaskStatus.COMPLETED, 5, task_def_name="x"),  # made by the dynamic fork
    ]
    states = execution_state(definition, tasks)
    assert states["decide"].selected_case == "default"
    assert states["inside"].iterations == 2 and states["inside"].task_id == "inside__2-4"
    assert states["dyn.dynamic"].attempts == 1
    assert "iteration 2" in render_svg(definition, states)
