"""DO_WHILE: run the loop body, then loop while the JavaScript condition holds (or items remain)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from legato.expr.javascript import ScriptError, truthy
from legato.model import TaskStatus, TaskType
from legato.tasks.base import Handler

if TYPE_CHECKING:
    from legato.engine.decider import Run
    from legato.model import Task, WorkflowTask


def _items(run: Run, wt: WorkflowTask, task: Task) -> list[Any] | None:
    if wt.items:
        value = run.resolve(wt.items, task.task_id)
    elif "_items" in task.input_data:
        value = task.input_data["_items"]
    else:
        return None
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def schedule(
    run: Run, wt: WorkflowTask, iteration: int, retry_of: Task | None, delay_ms: int
) -> None:
    task = run.new_task(wt, 0, task_type=TaskType.DO_WHILE.value, status=TaskStatus.IN_PROGRESS)
    items = _items(run, wt, task)
    if items is not None:
        task.input_data["_items"] = items
        if not items:
            task.output_data = {"iteration": 0}
            run.set_status(task, TaskStatus.COMPLETED)
            return
    _start_iteration(run, wt, task, 1)


def _start_iteration(run: Run, wt: WorkflowTask, task: Task, n: int) -> None:
    task.iteration = n
    task.output_data["iteration"] = n
    items = task.input_data.get("_items")
    if isinstance(items, list) and n - 1 < len(items):
        task.output_data["loopIndex"] = n - 1
        task.output_data["loopItem"] = items[n - 1]
    run.dirty(task)
    run.invalidate_scope()
    if wt.loop_over:
        run.schedule(wt.loop_over[0], n)


def iteration_done(run: Run, task: Task) -> None:
    """The body of iteration `task.iteration` has finished: record it and loop or stop."""
    wt = run.workflow_task(task)
    if wt is None:
        return
    n = task.iteration
    body = set(run.graph.loop_body.get(task.base_ref, ()))
    outputs: dict[str, Any] = {}
    for t in run.wf.tasks:
        if t.iteration == n and not t.retried and t.base_ref in body:
            outputs[t.base_ref] = t.output_data
    task.output_data[str(n)] = outputs
    task.output_data["iteration"] = n
    keep = task.input_data.get("keepLastN")
    if isinstance(keep, int) and keep > 0:
        for old in range(1, n - keep + 1):
            task.output_data.pop(str(old), None)
    run.dirty(task)
    run.invalidate_scope()

    items = task.input_data.get("_items")
    go_on = True
    if isinstance(items, list):
        go_on = n < len(items)
    if go_on and wt.loop_condition:
        bindings: dict[str, Any] = {**task.input_data, task.base_ref: task.output_data, **outputs}
        if isinstance(items, list):
            bindings["loopIndex"] = n - 1
            bindings["loopItem"] = items[n - 1] if n - 1 < len(items) else None
        try:
            go_on = truthy(run.ctx.scripts.evaluate(wt.loop_condition, bindings))
        except ScriptError as exc:
            task.reason_for_incompletion = f"Error evaluating the loop condition: {exc}"
            run.set_status(task, TaskStatus.FAILED_WITH_TERMINAL_ERROR)
            return
    if go_on:
        _start_iteration(run, wt, task, n + 1)
    else:
        run.set_status(task, TaskStatus.COMPLETED)


HANDLER = Handler(schedule=schedule)
