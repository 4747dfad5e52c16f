"""Navigation of a workflow definition: where each task sits and what comes after it."""

from __future__ import annotations

from dataclasses import dataclass

from legato.model import TaskType, WorkflowDef, WorkflowTask

_SWITCHES = frozenset({TaskType.SWITCH.value, TaskType.DECISION.value})


@dataclass(slots=True, frozen=True)
class Place:
    """A task's position: the list it is in, its index there, and the task owning that list."""

    siblings: list[WorkflowTask]
    index: int
    parent: WorkflowTask | None


@dataclass(slots=True, frozen=True)
class Next:
    """What follows a task: another task, the end of a loop body, a fork branch end, or the end."""

    task: WorkflowTask | None = None
    loop_end: WorkflowTask | None = None
    branch_end: bool = False

    @property
    def end(self) -> bool:
        return self.task is None and self.loop_end is None and not self.branch_end


END = Next()
BRANCH_END = Next(branch_end=True)


class DefinitionGraph:
    """Index of a definition, built once per definition object and cached on it."""

    def __init__(self, definition: WorkflowDef) -> None:
        self.by_ref: dict[str, WorkflowTask] = {}
        self.places: dict[str, Place] = {}
        self.loop_of: dict[str, str] = {}  # ref -> innermost DO_WHILE ref containing it
        self.loop_body: dict[str, list[str]] = {}  # DO_WHILE ref -> every ref inside its body
        self.has_scripts = False
        self._index(definition.tasks, None, None)

    def _index(
        self, tasks: list[WorkflowTask], parent: WorkflowTask | None, loop: str | None
    ) -> None:
        for i, wt in enumerate(tasks):
            ref = wt.task_reference_name
            self.by_ref[ref] = wt
            self.places[ref] = Place(tasks, i, parent)
            if loop is not None:
                self.loop_of[ref] = loop
                self.loop_body[loop].append(ref)
            if wt.type in ("INLINE", "LAMBDA", "DO_WHILE", "JSON_JQ_TRANSFORM") or (
                wt.type in _SWITCHES
                and (wt.evaluator_type not in (None, "value-param") or wt.case_expression)
            ):
                self.has_scripts = True
            inner_loop = loop
            if wt.type == TaskType.DO_WHILE.value:
                inner_loop = ref
                self.loop_body[ref] = []
            for branch in wt.children():
                self._index(branch, wt, inner_loop)

    def next_after(self, ref: str) -> Next:
        place = self.places.get(ref)
        if place is None:
            return END
        if place.index + 1 < len(place.siblings):
            return Next(task=place.siblings[place.index + 1])
        parent = place.parent
        if parent is None:
            return END
        if parent.type in _SWITCHES:
            return self.next_after(parent.task_reference_name)
        if parent.type == TaskType.DO_WHILE.value:
            return Next(loop_end=parent)
        return BRANCH_END  # end of a FORK_JOIN branch: the JOIN takes over


def graph_of(definition: WorkflowDef) -> DefinitionGraph:
    return definition.derived("graph", DefinitionGraph)
