"""Operator facts: pause, resume, retry, restart, rerun, skip a task, upgrade, reset callbacks.

Called from `Run.apply`; pure like the rest of the decider. The service checks that an
operation is allowed before deciding (`refusal` says why not, for a 4xx); an operation that no
longer applies when it is decided (another fact won a race) is `ignored`, never raised.

History stays readable:
- a retry adds a new attempt of each failed task (`retriedTaskId` points at the failed one,
  which stays in `tasks` with `retried: true`), as the engine's own retries do;
- a restart or a rerun first archives the run that ended (its Conductor Workflow JSON, tasks
  included) in `Decision.archived_runs`; the store keeps it and the API renders the archived
  runs as the workflow's `history`. Only then are superseded tasks dropped from the execution.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import orjson

from legato.engine.decision import ParentRevival
from legato.engine.facts import (
    ChildRevived,
    OperatorFact,
    Pause,
    Rerun,
    ResetCallbacks,
    Restart,
    Resume,
    Retry,
    SkipTask,
    Upgrade,
)
from legato.engine.graph import graph_of
from legato.model import Task, TaskStatus, TaskType, Workflow, WorkflowDef, WorkflowStatus
from legato.model.definitions import WorkflowTask
from legato.store.base import ArchivedRun, TaskLog
from legato.tasks import do_while

if TYPE_CHECKING:
    from legato.engine.decider import Run

UNSUCCESSFUL = frozenset(
    {
        TaskStatus.FAILED,
        TaskStatus.FAILED_WITH_TERMINAL_ERROR,
        TaskStatus.TIMED_OUT,
        TaskStatus.CANCELED,
    }
)
JOINS = frozenset({TaskType.JOIN.value, TaskType.EXCLUSIVE_JOIN.value})
# Retried where they stand (same task id) rather than as a new attempt: a join re-evaluates,
# a loop continues from its iteration.
IN_PLACE = JOINS | {TaskType.DO_WHILE.value}
# Skipping these would leave a fork without its join (or a join without its fork).
NOT_SKIPPABLE = frozenset(
    {
        TaskType.FORK_JOIN.value,
        TaskType.FORK_JOIN_DYNAMIC.value,
        TaskType.JOIN.value,
        TaskType.EXCLUSIVE_JOIN.value,
    }
)


def apply(run: Run, fact: OperatorFact) -> None:
    if isinstance(fact, Pause):
        pause(run)
    elif isinstance(fact, Resume):
        resume(run)
    elif isinstance(fact, Retry):
        retry(run)
    elif isinstance(fact, Restart):
        restart(run, fact)
    elif isinstance(fact, Rerun):
        rerun(run, fact)
    elif isinstance(fact, ChildRevived):
        child_revived(run, fact)
    elif isinstance(fact, SkipTask):
        skip(run, fact)
    elif isinstance(fact, Upgrade):
        upgrade(run, fact)
    elif isinstance(fact, ResetCallbacks):
        reset_callbacks(run)


# ---------------------------------------------------------------------------- refusals
def retriable_tasks(wf: Workflow) -> list[Task]:
    """The latest attempt of each reference name that ended unsuccessfully, in seq order."""
    latest: dict[str, Task] = {}
    for task in wf.tasks:
        if task.status in UNSUCCESSFUL:
            latest[task.reference_task_name] = task
        else:
            latest.pop(task.reference_task_name, None)
    return sorted(latest.values(), key=lambda t: t.seq)


def scheduled(wf: Workflow, ref: str) -> Task | None:
    """The current (not superseded) task with exactly this reference name."""
    for task in reversed(wf.tasks):
        if task.reference_task_name == ref and not task.retried:
            return task
    return None


def skip_refusal(wf: Workflow, ref: str) -> tuple[int, str] | None:
    """Why `ref` cannot be skipped now, as (HTTP status, message); None when it can."""
    wid = wf.workflow_id
    if wf.status != WorkflowStatus.RUNNING:
        return 409, (
            f"Workflow {wid} is {wf.status.value}: only a RUNNING workflow's tasks can be skipped"
        )
    graph = graph_of(wf.definition)
    wt = graph.by_ref.get(ref)
    if wt is None:
        return 404, f"No task {ref} in the definition of workflow {wid} ({wf.workflow_name})"
    if wt.type in NOT_SKIPPABLE:
        return 400, (
            f"Task {ref} is a {wt.type}: a fork and its join cannot be skipped; "
            "skip the tasks of its branches instead"
        )
    if ref in graph.loop_of:
        return 400, f"Task {ref} is inside the DO_WHILE {graph.loop_of[ref]}: it cannot be skipped"
    found = scheduled(wf, ref)
    if found is not None:
        return 409, (
            f"Task {ref} of workflow {wid} has been scheduled already "
            f"(status {found.status.value}); only a task not reached yet can be skipped"
        )
    return None


def upgrade_refusal(wf: Workflow, definition: WorkflowDef) -> str | None:
    """Why the execution cannot continue under `definition` (a 409 message); None when it can."""
    graph = graph_of(definition)
    orphans = sorted(
        t.reference_task_name
        for t in wf.tasks
        if not t.status.terminal and t.dynamic_task is None and t.base_ref not in graph.by_ref
    )
    if orphans:
        return (
            f"Workflow {wf.workflow_id} has tasks in progress that version {definition.version} "
            f"of {definition.name} does not have: {', '.join(orphans)}"
        )
    return None


# ---------------------------------------------------------------------------- pause, resume
def pause(run: Run) -> None:
    wf = run.wf
    if wf.status != WorkflowStatus.RUNNING:
        run.decision.ignored = f"Workflow {wf.workflow_id} is {wf.status.value}, not RUNNING"
        return
    wf.status = WorkflowStatus.PAUSED
    run.touch()


def resume(run: Run) -> None:
    wf = run.wf
    if wf.status != WorkflowStatus.PAUSED:
        run.decision.ignored = f"Workflow {wf.workflow_id} is {wf.status.value}, not PAUSED"
        return
    wf.status = WorkflowStatus.RUNNING
    wf.last_retried_time = run.now
    run.touch()


def reset_callbacks(run: Run) -> None:
    for task in run.wf.tasks:
        if (
            task.status == TaskStatus.SCHEDULED
            and task.callback_from_worker
            and task.callback_after_seconds > 0
        ):
            task.callback_after_seconds = 0
            run.dirty(task)
            run.enqueue(task)


# ---------------------------------------------------------------------------- retry
def retry(run: Run) -> None:
    wf = run.wf
    if not wf.status.terminal:
        run.decision.ignored = f"Workflow {wf.workflow_id} is {wf.status.value}"
        return
    failed = retriable_tasks(wf)
    if not failed and wf.status != WorkflowStatus.TIMED_OUT:
        run.decision.ignored = f"Workflow {wf.workflow_id} has no task to retry"
        return
    wf.status = WorkflowStatus.RUNNING
    wf.last_retried_time = run.now
    wf.reason_for_incompletion = None
    wf.end_time = 0
    run.touch()
    reattempt(run, failed)
    _revive_parent(run, "retried")


def reattempt(run: Run, tasks: list[Task]) -> None:
    """Give each task another go: a new attempt, or (joins, loops) a reset where it stands."""
    loops: list[Task] = []
    attempted: list[Task] = []
    for task in tasks:
        if task.task_type in IN_PLACE:
            _reset_in_place(run, task, retry_count=task.retry_count + 1)
            if task.task_type == TaskType.DO_WHILE.value:
                loops.append(task)
            continue
        wt = run.workflow_task(task)
        if wt is None:  # no longer in the definition (after an upgrade): nothing to retry
            continue
        task.retried = True
        task.executed = True
        run.dirty(task)
        before = len(run.wf.tasks)
        run.schedule(wt, task.iteration, retry_of=task)
        for new in run.wf.tasks[before:]:
            if new.retried_task_id == task.task_id:
                # A manual retry starts the task's total-timeout clock afresh.
                new.first_scheduled_time = run.now
                attempted.append(new)
    for loop in loops:
        # A loop whose failure was its own (its condition) re-checks the iteration it was in.
        if not _body_pending(run, loop):
            do_while.iteration_done(run, loop)


def _body_pending(run: Run, loop: Task) -> bool:
    body = set(run.graph.loop_body.get(loop.base_ref, ()))
    return any(
        t.base_ref in body
        and t.iteration == loop.iteration
        and not t.retried
        and (not t.status.terminal or not t.executed)
        for t in run.wf.tasks
    )


def _reset_in_place(run: Run, task: Task, *, retry_count: int | None = None) -> None:
    task.status = TaskStatus.IN_PROGRESS
    task.executed = False
    task.retried = False
    task.end_time = 0
    task.reason_for_incompletion = None
    task.update_time = run.now
    if retry_count is not None:
        task.retry_count = retry_count
    run.dirty(task)
    run.invalidate_scope()


# ---------------------------------------------------------------------------- restart, rerun
def restart(run: Run, fact: Restart) -> None:
    wf = run.wf
    if not wf.status.terminal:
        run.decision.ignored = f"Workflow {wf.workflow_id} is {wf.status.value}"
        return
    archive(run)
    _remove(run, list(wf.tasks))
    if fact.definition is not None:
        _switch_definition(run, fact.definition)
    wf.create_time = run.now
    wf.last_retried_time = 0
    wf.variables = copy.deepcopy(wf.definition.variables)
    _run_again(run)
    run.schedule(wf.definition.tasks[0], 0)
    _revive_parent(run, "restarted")


def rerun(run: Run, fact: Rerun) -> None:
    wf = run.wf
    if not wf.status.terminal:
        run.decision.ignored = f"Workflow {wf.workflow_id} is {wf.status.value}"
        return
    target = run.find_task(fact.task_id) if fact.task_id is not None else None
    wt = run.workflow_task(target) if target is not None else None
    if fact.task_id is not None and (target is None or wt is None):
        run.decision.ignored = f"No task {fact.task_id} in workflow {wf.workflow_id}"
        return
    archive(run)
    mine = fact.overrides_for in (None, wf.workflow_id)
    if mine:
        _override(wf, fact.workflow_input, fact.correlation_id)
    wf.last_retried_time = run.now
    if target is None or wt is None:
        _remove(run, list(wf.tasks))
        _run_again(run)
        run.schedule(wf.definition.tasks[0], 0)
    else:
        _rerun_from(run, target, wt, task_input=fact.task_input)
    _revive_parent(
        run,
        "reran",
        workflow_input=fact.workflow_input,
        correlation_id=fact.correlation_id,
        overrides_for=None if mine else fact.overrides_for,
    )


def _rerun_from(
    run: Run,
    target: Task,
    wt: WorkflowTask,
    *,
    task_input: dict[str, Any] | None = None,
    keep_target: bool = False,
) -> None:
    """Drop the target and every task scheduled after it, then carry on from the target (which
    is scheduled afresh, or with `keep_target` waits again where it stands: a SUB_WORKFLOW task
    whose sub-workflow runs again)."""
    wf = run.wf
    first_dropped = target.seq + 1 if keep_target else target.seq
    _remove(run, [t for t in wf.tasks if t.seq >= first_dropped])
    _run_again(run)
    # Loops around the target go back to the target's iteration.
    rewound: dict[str, int] = {}
    loop_ref = run.graph.loop_of.get(target.base_ref)
    while loop_ref is not None:
        loop = run.latest_exact(loop_ref)
        if loop is not None:
            _rewind_loop(run, loop, target.iteration)
            rewound[loop_ref] = target.iteration
        loop_ref = run.graph.loop_of.get(loop_ref)
    if keep_target:
        _reset_in_place(run, target)
    else:
        if task_input is not None:
            run.input_overrides[target.reference_task_name] = dict(task_input)
        run.schedule(wt, target.iteration)
    # What had failed before the target runs again (as a retry would), joins wait again ...
    reattempt(run, retriable_tasks(wf))
    for task in wf.tasks:
        if task.task_type in JOINS and task.status.terminal and not task.retried:
            _reset_in_place(run, task)
    # ... and every task that had ended well schedules its successors again: those dropped with
    # the target come back (scheduling skips what is there already).
    for task in wf.tasks:
        if not (task.status.terminal and task.status.successful and task.executed):
            continue
        if task.retried or task.task_type == TaskType.TERMINATE.value:
            continue
        loop_of = run.graph.loop_of.get(task.base_ref)
        if loop_of is not None and rewound.get(loop_of) != task.iteration:
            continue  # an earlier iteration of a loop: its successors ran in that iteration
        task.executed = False
        run.dirty(task)


def _rewind_loop(run: Run, loop: Task, iteration: int) -> None:
    _reset_in_place(run, loop)
    loop.iteration = iteration
    for key in [k for k in loop.output_data if k.isdigit() and int(k) >= iteration]:
        del loop.output_data[key]
    loop.output_data["iteration"] = iteration
    items = loop.input_data.get("_items")
    if isinstance(items, list) and 0 <= iteration - 1 < len(items):
        loop.output_data["loopIndex"] = iteration - 1
        loop.output_data["loopItem"] = items[iteration - 1]


def archive(run: Run) -> None:
    """Keep the run as it ended readable: the store files it under the workflow's `history`."""
    wf = run.wf
    doc = wf.to_json(include_tasks=True, task_lookup=lambda _wf, t: run.workflow_task(t))
    doc.pop("workflowDefinition", None)
    wf.archived_runs += 1
    run.decision.archived_runs.append(
        # A copy: the execution's dicts are changed in place by what follows.
        ArchivedRun(
            run=wf.archived_runs, doc=orjson.loads(orjson.dumps(doc)), archived_time=run.now
        )
    )
    run.touch()


def _remove(run: Run, tasks: list[Task]) -> None:
    ids = {t.task_id for t in tasks}
    if not ids:
        return
    run.wf.tasks = [t for t in run.wf.tasks if t.task_id not in ids]
    decision = run.decision
    for task_id in ids:
        decision.updated_tasks.pop(task_id, None)
    decision.removed_tasks.extend(t.task_id for t in tasks)
    decision.enqueue = [e for e in decision.enqueue if e.task_id not in ids]
    decision.dequeue = [d for d in decision.dequeue if d not in ids]
    run.invalidate_scope()
    run.touch()


def _run_again(run: Run) -> None:
    wf = run.wf
    wf.status = WorkflowStatus.RUNNING
    wf.end_time = 0
    wf.output = {}
    wf.reason_for_incompletion = None
    wf.failed_reference_task_names = []
    wf.failed_task_names = []
    run.invalidate_scope()
    run.touch()


def _override(
    wf: Workflow, workflow_input: dict[str, Any] | None, correlation_id: str | None
) -> None:
    if workflow_input is not None:
        wf.input = dict(workflow_input)
    if correlation_id is not None:
        wf.correlation_id = correlation_id


def _switch_definition(run: Run, definition: WorkflowDef) -> None:
    wf = run.wf
    wf.definition = definition
    wf.workflow_version = definition.version
    run.graph = graph_of(definition)
    run.decision.definition_changed = True
    run.invalidate_scope()
    run.touch()


# ---------------------------------------------------------------------------- parents
def _revive_parent(
    run: Run,
    operation: str,
    *,
    workflow_input: dict[str, Any] | None = None,
    correlation_id: str | None = None,
    overrides_for: str | None = None,
) -> None:
    wf = run.wf
    if wf.parent_workflow_id and wf.parent_workflow_task_id:
        run.decision.revive_parent = ParentRevival(
            parent_workflow_id=wf.parent_workflow_id,
            parent_task_id=wf.parent_workflow_task_id,
            child_id=wf.workflow_id,
            operation=operation,
            workflow_input=workflow_input if overrides_for else None,
            correlation_id=correlation_id if overrides_for else None,
            overrides_for=overrides_for,
        )


def child_revived(run: Run, fact: ChildRevived) -> None:
    wf = run.wf
    task = run.find_task(fact.task_id)
    if task is None or task.retried or task.sub_workflow_id != fact.child_id:
        run.decision.ignored = (
            f"Task {fact.task_id} of workflow {wf.workflow_id} no longer waits for "
            f"sub-workflow {fact.child_id}"
        )
        return
    wt = run.workflow_task(task)
    if wt is None or (wt.optional and task.status.terminal):
        run.decision.ignored = f"Task {task.reference_task_name} is optional and has ended"
        return
    done = task.status.terminal and task.status.successful
    if done and not wf.status.terminal:
        run.decision.ignored = (
            f"Workflow {wf.workflow_id} has gone on from task {task.reference_task_name}"
        )
        return
    if wf.status.terminal and (done or fact.operation == "reran"):
        # What followed the task ran on the sub-workflow's earlier result: the parent runs
        # again from the task, as a rerun from it would, keeping the task and its child.
        archive(run)
        wf.last_retried_time = run.now
        _rerun_from(run, task, wt, keep_target=True)
    elif wf.status.terminal:
        canceled = [
            t
            for t in retriable_tasks(wf)
            if t.status == TaskStatus.CANCELED and t.task_id != task.task_id
        ]
        wf.status = WorkflowStatus.RUNNING
        wf.reason_for_incompletion = None
        wf.end_time = 0
        wf.failed_reference_task_names = []
        wf.failed_task_names = []
        wf.last_retried_time = run.now
        run.touch()
        reattempt(run, canceled)
    if task.status.terminal:  # (the rerun above has reset it already)
        _reset_in_place(run, task)
    run.decision.logs.append(
        TaskLog(task.task_id, f"Sub workflow {fact.child_id} {fact.operation}.", run.now)
    )
    if fact.overrides_for == wf.workflow_id:
        _override(wf, fact.workflow_input, fact.correlation_id)
        run.touch()
    _revive_parent(
        run,
        fact.operation,
        workflow_input=fact.workflow_input,
        correlation_id=fact.correlation_id,
        overrides_for=fact.overrides_for if fact.overrides_for != wf.workflow_id else None,
    )


# ---------------------------------------------------------------------------- skip, upgrade
def skip(run: Run, fact: SkipTask) -> None:
    refusal = skip_refusal(run.wf, fact.ref)
    if refusal is not None:
        run.decision.ignored = refusal[1]
        return
    _skip_marker(run, run.graph.by_ref[fact.ref], fact.task_input, fact.task_output)


def _skip_marker(
    run: Run, wt: WorkflowTask, task_input: dict[str, Any], task_output: dict[str, Any]
) -> Task:
    """A SKIPPED task standing in for `wt`; the workflow passes over it when it gets there."""
    task = run.new_task(wt, 0, status=TaskStatus.SKIPPED, input_data=dict(task_input))
    task.output_data = dict(task_output)
    task.end_time = run.now
    task.callback_after_seconds = 0
    task.executed = True
    return task


def pass_over(run: Run, marker: Task) -> None:
    """The workflow reached a skipped task: go on to what follows it."""
    run.schedule_next_after(marker)


def upgrade(run: Run, fact: Upgrade) -> None:
    wf = run.wf
    if wf.status.terminal:
        run.decision.ignored = f"Workflow {wf.workflow_id} is {wf.status.value}"
        return
    _switch_definition(run, fact.definition)
    if fact.workflow_input:
        wf.input = {**wf.input, **fact.workflow_input}
    reached = {t.base_ref for t in wf.tasks}
    top = fact.definition.tasks
    subtrees = [_refs_under(wt) for wt in top]
    furthest = max((i for i, refs in enumerate(subtrees) if refs & reached), default=-1)
    for wt, refs in zip(top[:furthest], subtrees, strict=False):
        if not refs & reached:
            ref = wt.task_reference_name
            _skip_marker(run, wt, {}, fact.task_output.get(ref) or {})


def _refs_under(wt: WorkflowTask) -> set[str]:
    refs = {wt.task_reference_name}
    for branch in wt.children():
        for child in branch:
            refs |= _refs_under(child)
    return refs
